//! Normalization layers (lesson 03): being written.
