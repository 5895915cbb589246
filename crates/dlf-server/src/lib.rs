//! dlf-server
