//! Integration tests of concord-compute, one binary: the executor on real wgpu devices
//! (lavapipe, llvmpipe) with invalid and runaway jobs, and the kernel library against its CPU
//! references, and the gas meter.
mod bad_inputs;
mod kernels_gpu;
mod meter;
