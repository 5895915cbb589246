//! dlf-widgets
