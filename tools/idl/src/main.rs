//! `concord-idl`: builds the IDL of both programs natively (through Anchor's `idl-build`
//! feature, no SBF toolchain needed) and writes `idl/<program>.json`; with `--check`, fails
//! when a checked-in IDL differs from the programs' source. The accounts `#[event_cpi]` adds
//! (`event_authority`, `program`) get the seeds and address the IDL build cannot evaluate
//! (Anchor 1.2 declares them by `address = <expression>`), so clients derive them from the IDL.
//! Accounts an instruction writes through a struct it shares with read-only uses
//! ([`WRITABLE_IN`]) are marked writable for that instruction.
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anchor_lang_idl::build::IdlBuilder;
use anchor_lang_idl::types::{Idl, IdlInstructionAccountItem, IdlPda, IdlSeed, IdlSeedConst};
use anyhow::{Context, Result};

/// The seed of an Anchor program's event authority (`emit_cpi!`'s signer).
const EVENT_AUTHORITY_SEED: &[u8] = b"__event_authority";

/// Fills in what `#[event_cpi]`'s accounts lack: `event_authority` is the program's PDA of
/// `"__event_authority"`, `program` is the program itself.
fn complete_event_cpi_accounts(idl: &mut Idl) {
    let program = idl.address.clone();
    for ix in &mut idl.instructions {
        for item in &mut ix.accounts {
            let IdlInstructionAccountItem::Single(account) = item else {
                continue;
            };
            if account.address.is_some() || account.pda.is_some() {
                continue;
            }
            match account.name.as_str() {
                "event_authority" => {
                    account.pda = Some(IdlPda {
                        seeds: vec![IdlSeed::Const(IdlSeedConst {
                            value: EVENT_AUTHORITY_SEED.to_vec(),
                        })],
                        program: None,
                    })
                }
                "program" => account.address = Some(program.clone()),
                _ => {}
            }
        }
    }
}

/// (instruction, account path) pairs an instruction writes although the account struct it
/// shares declares them read-only: `close_job` burns slashed collateral from the payment mint
/// (`JobEscrow::payment_mint` stays read-only so no hot instruction write-locks the mint; see
/// programs/market/src/instructions/close_job.rs).
const WRITABLE_IN: [(&str, &[&str]); 1] = [("close_job", &["escrow", "payment_mint"])];

/// Marks [`WRITABLE_IN`]'s accounts writable in their instruction.
fn mark_writable(idl: &mut Idl) {
    fn find<'a>(
        items: &'a mut [IdlInstructionAccountItem],
        path: &[&str],
    ) -> Option<&'a mut anchor_lang_idl::types::IdlInstructionAccount> {
        let (first, rest) = path.split_first()?;
        items.iter_mut().find_map(|item| match item {
            IdlInstructionAccountItem::Single(a) if rest.is_empty() && a.name == *first => Some(a),
            IdlInstructionAccountItem::Composite(c) if !rest.is_empty() && c.name == *first => {
                find(&mut c.accounts, rest)
            }
            _ => None,
        })
    }
    for (name, path) in WRITABLE_IN {
        if let Some(ix) = idl.instructions.iter_mut().find(|ix| ix.name == name) {
            let account = find(&mut ix.accounts, path)
                .unwrap_or_else(|| panic!("{name} has no account {}", path.join(".")));
            account.writable = true;
        }
    }
}

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
    let mut idl = idl;
    complete_event_cpi_accounts(&mut idl);
    mark_writable(&mut idl);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn accounts(
        item: &IdlInstructionAccountItem,
        out: &mut Vec<anchor_lang_idl::types::IdlInstructionAccount>,
    ) {
        match item {
            IdlInstructionAccountItem::Single(a) => out.push(a.clone()),
            IdlInstructionAccountItem::Composite(c) => {
                c.accounts.iter().for_each(|i| accounts(i, out))
            }
        }
    }

    /// The checked-in IDLs give clients every event authority's seeds (the staking program's
    /// too, with its program) and every program account's address: what Anchor's TypeScript
    /// client and Codama need to resolve them without the caller passing them.
    #[test]
    fn every_event_authority_and_program_account_is_resolvable() {
        let root = workspace_root();
        let staking: Idl = serde_json::from_str(
            &std::fs::read_to_string(root.join("idl/concord_staking.json")).unwrap(),
        )
        .unwrap();
        let staking_id: Vec<u8> = bs58::decode(&staking.address).into_vec().unwrap();
        for (_, name) in PROGRAMS {
            let idl: Idl = serde_json::from_str(
                &std::fs::read_to_string(root.join(format!("idl/{name}.json"))).unwrap(),
            )
            .unwrap();
            let mut checked = 0;
            for ix in &idl.instructions {
                let mut all = vec![];
                ix.accounts.iter().for_each(|i| accounts(i, &mut all));
                for a in all {
                    let seed = |pda: &IdlPda| match &pda.seeds[..] {
                        [IdlSeed::Const(c)] => c.value.clone(),
                        other => panic!("{}.{}: seeds {other:?}", ix.name, a.name),
                    };
                    match a.name.as_str() {
                        "event_authority" => {
                            let pda = a.pda.as_ref().unwrap_or_else(|| {
                                panic!("{name}.{}: event_authority has no seeds", ix.name)
                            });
                            assert_eq!(seed(pda), EVENT_AUTHORITY_SEED);
                            assert_eq!(pda.program, None, "the program's own");
                            checked += 1;
                        }
                        "staking_event_authority" => {
                            let pda = a.pda.as_ref().unwrap_or_else(|| {
                                panic!("{name}.{}: staking_event_authority has no seeds", ix.name)
                            });
                            assert_eq!(seed(pda), EVENT_AUTHORITY_SEED);
                            assert_eq!(
                                pda.program,
                                Some(IdlSeed::Const(IdlSeedConst {
                                    value: staking_id.clone()
                                }))
                            );
                            checked += 1;
                        }
                        "program" => {
                            assert_eq!(a.address.as_deref(), Some(idl.address.as_str()));
                        }
                        _ => {}
                    }
                }
            }
            assert!(checked > 0, "{name}: no event authority found");
        }
    }

    /// `close_job` takes the payment mint writable (it burns slashed collateral); every other
    /// instruction that shares the escrow accounts takes it read-only.
    #[test]
    fn only_close_job_writes_the_payment_mint() {
        let idl: Idl = serde_json::from_str(
            &std::fs::read_to_string(workspace_root().join("idl/concord_market.json")).unwrap(),
        )
        .unwrap();
        let mut seen = 0;
        for ix in &idl.instructions {
            let Some(IdlInstructionAccountItem::Composite(escrow)) = ix.accounts.iter().find(
                |i| matches!(i, IdlInstructionAccountItem::Composite(c) if c.name == "escrow"),
            ) else {
                continue;
            };
            let mut all = vec![];
            escrow.accounts.iter().for_each(|i| accounts(i, &mut all));
            let mint = all
                .iter()
                .find(|a| a.name == "payment_mint")
                .expect("payment_mint");
            assert_eq!(mint.writable, ix.name == "close_job", "{}", ix.name);
            seen += 1;
        }
        assert!(seen >= 5, "{seen} instructions with the escrow accounts");
    }
}
