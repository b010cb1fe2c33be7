//! The embedding model against candle's BERT (fidelity) and across backends (determinism),
//! with the real all-MiniLM-L6-v2 weights from the cache `scripts/setup.sh` fills.

mod backends;
mod fidelity;

use concord_model::Model;

/// The default model, loaded once per test.
pub fn model() -> Model {
    std::env::set_var("XDG_RUNTIME_DIR", "/tmp");
    let dir = Model::default_dir();
    Model::load(&dir).unwrap_or_else(|e| {
        panic!(
            "{e}\nthe model is missing from {}: run scripts/setup.sh",
            dir.display()
        )
    })
}

/// The test sentences (short, long, non-English, punctuation, code; paraphrase pairs).
pub fn sentences() -> Vec<String> {
    include_str!("../data/sentences.txt")
        .lines()
        .map(str::to_string)
        .collect()
}
