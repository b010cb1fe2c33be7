//! Entry wrappers and the list of Concord builtins (name, program id, registerer).
use anchor_lang::prelude::{AccountInfo, Pubkey};
use anchor_lang::solana_program::entrypoint::ProgramResult;
use solana_program_runtime::invoke_context::BuiltinFunctionRegisterer;
use solana_program_test::processor;

type AnchorEntry =
    for<'info> fn(&'info Pubkey, &'info [AccountInfo<'info>], &'info [u8]) -> ProgramResult;

/// Anchor's entry ties the program id, the accounts slice and the data to the account infos'
/// lifetime; the builtin signature does not. The runtime keeps all of them alive for the whole
/// call and nothing is kept after it, so unifying the lifetimes is sound.
fn call(
    entry: AnchorEntry,
    program_id: &Pubkey,
    accounts: &[AccountInfo],
    data: &[u8],
) -> ProgramResult {
    // `msg!` lines (the program's and Anchor's "Instruction:" and error logs) go to the
    // transaction's log collector, through the same stubs as `sol_log_data`, not to stdout.
    let _logs = solana_msg::set_log_hook(sysvar_v4::program_stubs::sol_log);
    // SAFETY: every reference outlives the call to `entry`, which is the only use made of them.
    unsafe {
        let accounts = std::mem::transmute::<&[AccountInfo], &[AccountInfo]>(accounts);
        let program_id = &*(program_id as *const Pubkey);
        let data = &*(data as *const [u8]);
        entry(program_id, accounts, data)
    }
}

pub fn staking_entry(program_id: &Pubkey, accounts: &[AccountInfo], data: &[u8]) -> ProgramResult {
    call(concord_staking::entry, program_id, accounts, data)
}

pub fn market_entry(program_id: &Pubkey, accounts: &[AccountInfo], data: &[u8]) -> ProgramResult {
    call(concord_market::entry, program_id, accounts, data)
}

/// A program to add to a bank as a native builtin.
pub struct Builtin {
    pub name: &'static str,
    pub program_id: Pubkey,
    pub registerer: BuiltinFunctionRegisterer,
}

/// Both Concord programs, ready for `ProgramTest::add_builtin_program` or `Bank::add_builtin`.
pub fn builtins() -> [Builtin; 2] {
    [
        Builtin {
            name: "concord_staking",
            program_id: concord_staking::ID,
            registerer: processor!(staking_entry).expect("processor! yields a registerer"),
        },
        Builtin {
            name: "concord_market",
            program_id: concord_market::ID,
            registerer: processor!(market_entry).expect("processor! yields a registerer"),
        },
    ]
}
