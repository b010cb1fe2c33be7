//! Integration tests of the `concord` binary, one test binary: offline commands (kernels,
//! store) and the chain commands against a real in-process local validator.
mod chain;
mod offline;
