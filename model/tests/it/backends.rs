//! The all-MiniLM-L6-v2 job gives the same result hash on Vulkan (lavapipe), GL (llvmpipe) and
//! the CPU reference (the devices opened in the test's process; the worker process is the
//! executor's own tests' business).

use concord_compute::executor::{AdapterSelector, Backend, GpuDevice};
use concord_compute::kernels::transformer::encoder;
use concord_protocol::result_hash;

#[test]
fn the_embedding_job_has_one_hash_on_every_backend() {
    let model = crate::model();
    let tokens = model.tokenize(&concord_model::SAMPLE_SENTENCES).unwrap();
    let job = model.job(&tokens, 600_000).unwrap();
    assert_eq!(job.manifest.version, 3);
    let reference = encoder::reference(&model.shape, &model.weights_f32(), &tokens).unwrap();
    let reference = concord_compute::kernels::f32_bytes(&reference);
    let expected = result_hash(std::slice::from_ref(&reference));
    for backend in [Backend::Vulkan, Backend::Gl] {
        let device = GpuDevice::open(&AdapterSelector::backend(backend)).unwrap();
        let run = device.run_metered(&job, &mut || {}).unwrap();
        assert!(run
            .gas
            .is_some_and(|g| !g.passes.iter().any(|p| p.out_of_budget)));
        assert!(run.outputs[0] == reference, "{backend:?}: output differs");
        assert_eq!(result_hash(&run.outputs), expected, "{backend:?}");
    }
    println!("all-MiniLM-L6-v2, 3 sentences: result hash {expected} on Vulkan, GL and the CPU");
}
