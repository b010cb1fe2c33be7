//! `concord-idl`: builds the IDL of both programs natively (through Anchor's `idl-build`
//! feature, no SBF toolchain needed) and writes `idl/<program>.json`; with `--check`, fails
//! when a checked-in IDL differs from the programs' source.
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anchor_lang_idl::build::IdlBuilder;
use anyhow::{Context, Result};

const PROGRAMS: [(&str, &str); 2] = [
    ("programs/staking", "concord_staking"),
    ("programs/market", "concord_market"),
];

/// The workspace this run builds: `cargo run` sets `CARGO_MANIFEST_DIR` for the process (the
/// path compiled in may name another clone that shared the target dir, or none).
fn workspace_root() -> PathBuf {
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    manifest_dir
        .join("../..")
        .canonicalize()
        .expect("workspace root")
}

/// The IDL build compiles with its own features and RUSTFLAGS; a separate target dir keeps
/// it from invalidating the main build's artifacts.
fn use_idl_target_dir(root: &Path) {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
        .join("idl-build");
    std::env::set_var("CARGO_TARGET_DIR", &target);
    // anchor-lang-idl 0.1.4 turns RUSTUP_TOOLCHAIN (set by `cargo run`) into a literal
    // "+{toolchain}" argument; the toolchain is the workspace's anyway.
    std::env::remove_var("RUSTUP_TOOLCHAIN");
}

fn build(root: &Path, program_dir: &str) -> Result<String> {
    let idl = IdlBuilder::new()
        .program_path(root.join(program_dir))
        .skip_lint(false)
        .build()
        .with_context(|| format!("building the IDL of {program_dir}"))?;
    Ok(serde_json::to_string_pretty(&idl)? + "\n")
}

fn run(check: bool) -> Result<bool> {
    let root = workspace_root();
    use_idl_target_dir(&root);
    let mut fresh = true;
    for (dir, name) in PROGRAMS {
        let json = build(&root, dir)?;
        let path = root.join("idl").join(format!("{name}.json"));
        if check {
            let current = std::fs::read_to_string(&path).unwrap_or_default();
            if current != json {
                eprintln!(
                    "{} is stale: run ./scripts/idl.sh and commit it",
                    path.display()
                );
                fresh = false;
            } else {
                println!("{} is up to date", path.display());
            }
        } else {
            std::fs::create_dir_all(path.parent().expect("idl dir"))?;
            std::fs::write(&path, json)?;
            println!("wrote {}", path.display());
        }
    }
    Ok(fresh)
}

fn main() -> ExitCode {
    let check = std::env::args().any(|a| a == "--check");
    match run(check) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("concord-idl: {e:#}");
            ExitCode::from(2)
        }
    }
}
