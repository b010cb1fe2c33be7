//! Random instruction sequences against both programs, with the invariants checked after every
//! step. `CONCORD_PROPERTY_SEQUENCES` sets how many (default 200; the long mode runs 10,000),
//! `CONCORD_PROPERTY_SEED` the base seed. A failure is shrunk and saved as a regression.
use concord_tests::property::{random_sequence, run, shrink, Regression, Stats};

const STEPS: usize = 40;

fn regressions_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("regressions")
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Runs sequences `first..first+count` (seeds `base + i`) and returns the merged statistics;
/// a failure is shrunk, saved, and reported as a panic.
fn run_sequences(base: u64, first: u64, count: u64, done: &std::sync::atomic::AtomicU64) -> Stats {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut stats = Stats::default();
        for i in first..first + count {
            let seed = base.wrapping_add(i);
            let actions = random_sequence(seed, STEPS);
            let failure = match run(&actions).await {
                Ok(s) => {
                    stats.merge(&s);
                    None
                }
                Err(f) => Some(f),
            };
            if let Some(failure) = failure {
                let shrunk = shrink(actions[..=failure.step].to_vec()).await;
                let regression = Regression { seed, note: failure.message.clone(), actions: shrunk };
                std::fs::create_dir_all(regressions_dir()).unwrap();
                let path = regressions_dir().join(format!("seed-{seed}.json"));
                std::fs::write(&path, serde_json::to_string_pretty(&regression).unwrap()).unwrap();
                panic!(
                    "sequence {i} (seed {seed}) broke an invariant at step {}: {}\nshrunk to {} steps, saved in {}",
                    failure.step,
                    failure.message,
                    regression.actions.len(),
                    path.display()
                );
            }
            let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            if n.is_multiple_of(500) {
                println!("{n} sequences, 0 invariant violations so far");
            }
        }
        stats
    })
}

#[test]
fn random_sequences_keep_every_invariant() {
    let sequences = env_u64("CONCORD_PROPERTY_SEQUENCES", 200);
    let base = env_u64("CONCORD_PROPERTY_SEED", 0xC0C0_2026);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get() as u64);
    let threads = env_u64("CONCORD_PROPERTY_THREADS", cores).clamp(1, sequences.max(1));
    let done = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let per = sequences.div_ceil(threads);
    let workers: Vec<_> = (0..threads)
        .map(|t| {
            let (first, done) = (t * per, done.clone());
            let count = per.min(sequences.saturating_sub(first));
            std::thread::spawn(move || run_sequences(base, first, count, &done))
        })
        .collect();
    let mut stats = Stats::default();
    for w in workers {
        match w.join() {
            Ok(s) => stats.merge(&s),
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }
    let steps = sequences * STEPS as u64;
    println!("{sequences} sequences, {steps} steps, 0 invariant violations");
    println!("accepted / refused per action: {:?}", stats.0);
    // The sequences must reach every part of a job's life, or the invariants prove little.
    if sequences >= 50 {
        for kind in [
            "create_job",
            "claim",
            "commit",
            "reveal",
            "settle",
            "cancel",
            "refund",
            "close",
            "deposit",
            "unbond",
        ] {
            assert!(
                stats.accepted(kind) > 0,
                "no {kind} was ever accepted: the generator is too weak"
            );
        }
        assert_eq!(stats.accepted("garbage"), 0);
    }
}

#[tokio::test]
async fn saved_regressions_still_hold() {
    let mut replayed = 0;
    for entry in std::fs::read_dir(regressions_dir()).expect("tests/regressions") {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            let r: Regression =
                serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            if let Err(f) = run(&r.actions).await.map(|_| ()) {
                panic!(
                    "{} fails again at step {}: {}",
                    path.display(),
                    f.step,
                    f.message
                );
            }
            replayed += 1;
        }
    }
    assert!(replayed > 0, "no regression sequence to replay");
}
