//! Concord's embeddings of 201 varied sentences against candle's BERT (f32 on the CPU, the same
//! weights and token ids, mean pooling and L2 normalisation as sentence-transformers does):
//! mean cosine ≥ 0.999, minimum ≥ 0.995, top-1 nearest neighbour the same for ≥ 98 %.

use std::time::Instant;

use concord_compute::executor::{AdapterSelector, Backend, GpuDevice};
use concord_model::candle_reference::{cosine as dot, CandleBert};
use concord_model::Model;

/// Index of each row's nearest other row (cosine; rows are unit length).
fn nearest(rows: &[Vec<f32>]) -> Vec<usize> {
    (0..rows.len())
        .map(|i| {
            (0..rows.len())
                .filter(|&j| j != i)
                .max_by(|&a, &b| dot(&rows[i], &rows[a]).total_cmp(&dot(&rows[i], &rows[b])))
                .unwrap()
        })
        .collect()
}

#[test]
fn embeddings_match_candle_bert() {
    let model = model_and_check();
    let sentences = crate::sentences();
    let tokens = model.tokenize(&sentences).unwrap();
    let longest = tokens.longest();
    let count = tokens.count();
    assert!(
        longest >= 100,
        "the set has a long sentence ({longest} tokens)"
    );

    let job = model.job(&tokens, 600_000).unwrap();
    let device = GpuDevice::open(&AdapterSelector::backend(Backend::Vulkan)).unwrap();
    let started = Instant::now();
    let run = device.run_metered(&job, &mut || {}).unwrap();
    let concord_secs = started.elapsed().as_secs_f64();
    assert!(run
        .gas
        .as_ref()
        .is_some_and(|g| !g.passes.iter().any(|p| p.out_of_budget)));
    let ours = model.embeddings(&run.outputs[0]);

    let started = Instant::now();
    let reference = CandleBert::load(&model)
        .unwrap()
        .embed(&tokens.sentences)
        .unwrap();
    let candle_secs = started.elapsed().as_secs_f64();

    assert_eq!(ours.len(), sentences.len());
    let cosines: Vec<f64> = ours
        .iter()
        .zip(&reference)
        .map(|(a, b)| dot(a, b))
        .collect();
    let mean = cosines.iter().sum::<f64>() / cosines.len() as f64;
    let (worst, worst_at) = cosines
        .iter()
        .enumerate()
        .map(|(i, c)| (*c, i))
        .min_by(|a, b| a.0.total_cmp(&b.0))
        .unwrap();
    let ours_nn = nearest(&ours);
    let ref_nn = nearest(&reference);
    let agree = ours_nn.iter().zip(&ref_nn).filter(|(a, b)| a == b).count();
    let agreement = agree as f64 / ours.len() as f64;
    println!(
        "fidelity: {} sentences, {count} tokens (longest {longest}): mean cosine {mean:.7}, \
         minimum {worst:.7} (sentence {worst_at}: {:?}), nearest neighbour agreement \
         {agree}/{} ({:.1} %); Concord on {} {concord_secs:.1} s ({:.1} sentences/s), candle \
         on the CPU {candle_secs:.1} s ({:.1} sentences/s)",
        sentences.len(),
        sentences[worst_at],
        ours.len(),
        agreement * 100.0,
        device.adapter(),
        sentences.len() as f64 / concord_secs,
        sentences.len() as f64 / candle_secs,
    );
    assert!(mean >= 0.999, "mean cosine {mean}");
    assert!(worst >= 0.995, "minimum cosine {worst}");
    assert!(agreement >= 0.98, "nearest neighbour agreement {agreement}");
}

fn model_and_check() -> Model {
    let model = crate::model();
    assert_eq!(
        model.shape,
        concord_compute::kernels::transformer::encoder::BertShape::MINILM_L6
    );
    model
}
