//! Optimizers (lesson 02): being written.
