//! Every library kernel on lavapipe (Vulkan) and llvmpipe (GL) equals its CPU reference
//! bit for bit, run through the real executor and worker process.
#![cfg(feature = "gpu")]

use concord_client::executor::{AdapterSelector, Backend, Execution, Executor};
use concord_client::kernels::{library, Size};
use concord_client::result_hash;

fn executor(backend: Backend) -> Executor {
    std::env::set_var("XDG_RUNTIME_DIR", "/tmp");
    Executor::new(
        env!("CARGO_BIN_EXE_concord-worker"),
        AdapterSelector::backend(backend),
    )
}

fn check_backend(backend: Backend) {
    let exec = executor(backend);
    for case in library(Size::Test) {
        let expected = case.cpu_reference();
        match exec.execute(&case.job) {
            Ok(Execution::Completed {
                outputs,
                result_hash: h,
                adapter,
                ..
            }) => {
                assert_eq!(adapter.backend, backend);
                assert!(
                    outputs == expected,
                    "{} on {}: GPU output differs from the CPU reference",
                    case.name,
                    adapter
                );
                assert_eq!(h, result_hash(&expected));
            }
            other => panic!("{} on {:?}: {:?}", case.name, backend, other),
        }
    }
}

#[test]
fn library_kernels_match_cpu_reference_on_vulkan() {
    check_backend(Backend::Vulkan);
}

#[test]
fn library_kernels_match_cpu_reference_on_gl() {
    check_backend(Backend::Gl);
}
