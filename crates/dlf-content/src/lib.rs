//! dlf-content
