//! dlf-engine
