//! Small built-in corpora (being written).
