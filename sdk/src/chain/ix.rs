//! Instruction builders for both programs, from the Anchor-generated account and data types,
//! plus the two helper instructions clients need (associated token account, priority fee).
use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use anchor_lang::{system_program, InstructionData, ToAccountMetas};
use concord_market::instructions::CreateJobArgs;
use concord_market::MarketParams;
use concord_staking::instructions::ProviderUpdate;
use concord_staking::{ConfigParams, HardwareProfile};

use super::pda;

use concord_market::accounts as ma;
use concord_market::instruction as mi;
use concord_staking::accounts as sa;
use concord_staking::instruction as si;

fn build(
    program: Pubkey,
    accounts: impl ToAccountMetas,
    data: impl InstructionData,
) -> Instruction {
    Instruction {
        program_id: program,
        accounts: accounts.to_account_metas(None),
        data: data.data(),
    }
}

fn staking(accounts: impl ToAccountMetas, data: impl InstructionData) -> Instruction {
    build(concord_staking::ID, accounts, data)
}

fn market(accounts: impl ToAccountMetas, data: impl InstructionData) -> Instruction {
    build(concord_market::ID, accounts, data)
}

/// The SlotHashes sysvar, which seeds the draws.
pub const SLOT_HASHES: Pubkey = anchor_lang::pubkey!("SysvarS1otHashes111111111111111111111111111");

fn staking_events() -> Pubkey {
    pda::event_authority(&concord_staking::ID)
}

fn market_events() -> Pubkey {
    pda::event_authority(&concord_market::ID)
}

/// Replaces every occurrence of `old` in the instruction's accounts (for attack tests).
pub fn replace_account(ix: &mut Instruction, old: &Pubkey, new: &Pubkey) {
    for meta in ix.accounts.iter_mut().filter(|m| m.pubkey == *old) {
        meta.pubkey = *new;
    }
}

/// Creates `wallet`'s associated token account for `mint` if it does not exist yet.
pub fn create_associated_token_idempotent(
    payer: &Pubkey,
    wallet: &Pubkey,
    mint: &Pubkey,
    token_program: &Pubkey,
) -> Instruction {
    use anchor_lang::solana_program::instruction::AccountMeta;
    Instruction {
        program_id: pda::ASSOCIATED_TOKEN_PROGRAM,
        accounts: vec![
            AccountMeta::new(*payer, true),
            AccountMeta::new(pda::associated_token(wallet, mint, token_program), false),
            AccountMeta::new_readonly(*wallet, false),
            AccountMeta::new_readonly(*mint, false),
            AccountMeta::new_readonly(system_program::ID, false),
            AccountMeta::new_readonly(*token_program, false),
        ],
        data: vec![1],
    }
}

/// The compute budget program.
pub const COMPUTE_BUDGET_PROGRAM: Pubkey =
    anchor_lang::pubkey!("ComputeBudget111111111111111111111111111111");

/// Sets a priority fee of `micro_lamports` per compute unit for the transaction.
pub fn set_compute_unit_price(micro_lamports: u64) -> Instruction {
    let mut data = vec![3u8];
    data.extend_from_slice(&micro_lamports.to_le_bytes());
    Instruction {
        program_id: COMPUTE_BUDGET_PROGRAM,
        accounts: vec![],
        data,
    }
}

// ---- staking ----

/// `initialize_config` of staking; `trust_freeze_authority` declares the stake mint's freeze
/// authority trusted (required when it has one).
pub fn initialize_staking(
    admin: &Pubkey,
    stake_mint: &Pubkey,
    params: ConfigParams,
    market_authority: Pubkey,
    trust_freeze_authority: bool,
) -> Instruction {
    staking(
        sa::InitializeConfig {
            admin: *admin,
            config: pda::staking_config(),
            stake_mint: *stake_mint,
            system_program: system_program::ID,
            event_authority: staking_events(),
            program: concord_staking::ID,
        },
        si::InitializeConfig {
            params,
            market_authority,
            trust_freeze_authority,
        },
    )
}

pub fn update_staking_config(admin: &Pubkey, params: ConfigParams) -> Instruction {
    staking(
        sa::UpdateConfig {
            admin: *admin,
            config: pda::staking_config(),
            event_authority: staking_events(),
            program: concord_staking::ID,
        },
        si::UpdateConfig { params },
    )
}

pub fn register_provider(
    authority: &Pubkey,
    stake_mint: &Pubkey,
    token_program: &Pubkey,
    hardware: HardwareProfile,
    metadata_uri: &str,
) -> Instruction {
    let provider = pda::provider(authority);
    staking(
        sa::RegisterProvider {
            authority: *authority,
            config: pda::staking_config(),
            provider,
            stake_vault: pda::stake_vault(&provider),
            stake_mint: *stake_mint,
            token_program: *token_program,
            system_program: system_program::ID,
            event_authority: staking_events(),
            program: concord_staking::ID,
        },
        si::RegisterProvider {
            hardware,
            metadata_uri: metadata_uri.to_string(),
        },
    )
}

pub fn update_provider(authority: &Pubkey, update: ProviderUpdate) -> Instruction {
    staking(
        sa::UpdateProvider {
            authority: *authority,
            provider: pda::provider(authority),
            event_authority: staking_events(),
            program: concord_staking::ID,
        },
        si::UpdateProvider { update },
    )
}

pub fn deposit_stake(
    authority: &Pubkey,
    source: &Pubkey,
    stake_mint: &Pubkey,
    token_program: &Pubkey,
    amount: u64,
) -> Instruction {
    let provider = pda::provider(authority);
    staking(
        sa::DepositStake {
            authority: *authority,
            config: pda::staking_config(),
            provider,
            stake_vault: pda::stake_vault(&provider),
            source: *source,
            stake_mint: *stake_mint,
            token_program: *token_program,
            event_authority: staking_events(),
            program: concord_staking::ID,
        },
        si::DepositStake { amount },
    )
}

/// `request_unbond`; fails (`UnbondingPeriodAboveBound`) if the config's unbonding period is
/// longer than `max_unbonding_period` seconds (pass the period you read).
pub fn request_unbond(authority: &Pubkey, amount: u64, max_unbonding_period: i64) -> Instruction {
    staking(
        sa::RequestUnbond {
            authority: *authority,
            config: pda::staking_config(),
            provider: pda::provider(authority),
            event_authority: staking_events(),
            program: concord_staking::ID,
        },
        si::RequestUnbond {
            amount,
            max_unbonding_period,
        },
    )
}

pub fn withdraw_stake(
    authority: &Pubkey,
    destination: &Pubkey,
    stake_mint: &Pubkey,
    token_program: &Pubkey,
) -> Instruction {
    let provider = pda::provider(authority);
    staking(
        sa::WithdrawStake {
            authority: *authority,
            config: pda::staking_config(),
            provider,
            stake_vault: pda::stake_vault(&provider),
            destination: *destination,
            stake_mint: *stake_mint,
            token_program: *token_program,
            event_authority: staking_events(),
            program: concord_staking::ID,
        },
        si::WithdrawStake {},
    )
}

pub fn close_provider(
    authority: &Pubkey,
    destination: &Pubkey,
    stake_mint: &Pubkey,
    token_program: &Pubkey,
) -> Instruction {
    let provider = pda::provider(authority);
    staking(
        sa::CloseProvider {
            authority: *authority,
            config: pda::staking_config(),
            provider,
            stake_vault: pda::stake_vault(&provider),
            destination: *destination,
            stake_mint: *stake_mint,
            token_program: *token_program,
            event_authority: staking_events(),
            program: concord_staking::ID,
        },
        si::CloseProvider {},
    )
}

/// `lock_collateral` as someone other than the market would send it (attack tests).
pub fn lock_collateral(signer: &Pubkey, provider_authority: &Pubkey, amount: u64) -> Instruction {
    staking(
        sa::LockCollateral {
            config: pda::staking_config(),
            market_authority: *signer,
            provider: pda::provider(provider_authority),
            event_authority: staking_events(),
            program: concord_staking::ID,
        },
        si::LockCollateral { amount },
    )
}

/// `unlock_collateral` as someone other than the market would send it (attack tests).
pub fn unlock_collateral(signer: &Pubkey, provider_authority: &Pubkey, amount: u64) -> Instruction {
    staking(
        sa::UnlockCollateral {
            config: pda::staking_config(),
            market_authority: *signer,
            provider: pda::provider(provider_authority),
            event_authority: staking_events(),
            program: concord_staking::ID,
        },
        si::UnlockCollateral { amount, paid: 0 },
    )
}

/// `slash` as someone other than the market would send it (attack tests).
pub fn slash(
    signer: &Pubkey,
    provider_authority: &Pubkey,
    destination: &Pubkey,
    stake_mint: &Pubkey,
    token_program: &Pubkey,
    amount: u64,
) -> Instruction {
    let provider = pda::provider(provider_authority);
    staking(
        sa::Slash {
            config: pda::staking_config(),
            market_authority: *signer,
            provider,
            stake_vault: pda::stake_vault(&provider),
            destination: *destination,
            stake_mint: *stake_mint,
            token_program: *token_program,
            event_authority: staking_events(),
            program: concord_staking::ID,
        },
        si::Slash { amount },
    )
}

// ---- market ----

/// `create_account` of the draw set: `draw_set` (a fresh keypair, signing) gets
/// `DrawSet::SPACE` zeroed bytes owned by the market program, funded with `lamports` (its
/// rent exemption). `initialize_market` takes it in the same transaction or later.
pub fn create_draw_set(payer: &Pubkey, draw_set: &Pubkey, lamports: u64) -> Instruction {
    anchor_lang::solana_program::system_instruction::create_account(
        payer,
        draw_set,
        lamports,
        concord_market::DrawSet::SPACE as u64,
        &concord_market::ID,
    )
}

pub fn initialize_market(
    admin: &Pubkey,
    payment_mint: &Pubkey,
    token_program: &Pubkey,
    treasury: &Pubkey,
    draw_set: &Pubkey,
    params: MarketParams,
    draw_epoch_slots: u64,
) -> Instruction {
    market(
        ma::InitializeMarket {
            admin: *admin,
            config: pda::market_config(),
            market_authority: pda::market_authority(),
            staking_config: pda::staking_config(),
            payment_mint: *payment_mint,
            treasury: *treasury,
            fee_vault: pda::fee_vault(),
            draw_set: *draw_set,
            token_program: *token_program,
            system_program: system_program::ID,
            event_authority: market_events(),
            program: concord_market::ID,
        },
        mi::InitializeMarket {
            params,
            draw_epoch_slots,
        },
    )
}

pub fn update_market(admin: &Pubkey, treasury: &Pubkey, params: MarketParams) -> Instruction {
    market(
        ma::UpdateMarket {
            admin: *admin,
            config: pda::market_config(),
            treasury: *treasury,
            event_authority: market_events(),
            program: concord_market::ID,
        },
        mi::UpdateMarket { params },
    )
}

pub fn set_paused(admin: &Pubkey, paused: bool) -> Instruction {
    market(
        ma::SetPaused {
            admin: *admin,
            config: pda::market_config(),
            event_authority: market_events(),
            program: concord_market::ID,
        },
        mi::SetPaused { paused },
    )
}

pub fn create_job(
    buyer: &Pubkey,
    buyer_token: &Pubkey,
    payment_mint: &Pubkey,
    token_program: &Pubkey,
    args: CreateJobArgs,
) -> Instruction {
    let job = pda::job(buyer, args.job_id);
    market(
        ma::CreateJob {
            buyer: *buyer,
            config: pda::market_config(),
            job,
            vault: pda::job_vault(&job),
            buyer_token: *buyer_token,
            payment_mint: *payment_mint,
            token_program: *token_program,
            system_program: system_program::ID,
            event_authority: market_events(),
            program: concord_market::ID,
        },
        mi::CreateJob { args },
    )
}

fn staking_accounts() -> ma::StakingAccounts {
    ma::StakingAccounts {
        market_authority: pda::market_authority(),
        staking_config: pda::staking_config(),
        staking_event_authority: staking_events(),
        staking_program: concord_staking::ID,
    }
}

/// `join_draws`: the provider `provider_authority` (registered in staking) joins the draws.
pub fn join_draws(provider_authority: &Pubkey, draw_set: &Pubkey) -> Instruction {
    market(
        ma::JoinDraws {
            provider_authority: *provider_authority,
            config: pda::market_config(),
            draw_set: *draw_set,
            draw_entry: pda::draw_entry(provider_authority),
            provider: pda::provider(provider_authority),
            system_program: system_program::ID,
            event_authority: market_events(),
            program: concord_market::ID,
        },
        mi::JoinDraws {},
    )
}

/// `sync_draw_weight` of the provider `provider_authority` (anyone may send it).
pub fn sync_draw_weight(provider_authority: &Pubkey, draw_set: &Pubkey) -> Instruction {
    market(
        ma::SyncDrawWeight {
            config: pda::market_config(),
            draw_set: *draw_set,
            draw_entry: pda::draw_entry(provider_authority),
            provider: pda::provider(provider_authority),
            event_authority: market_events(),
            program: concord_market::ID,
        },
        mi::SyncDrawWeight {},
    )
}

pub fn claim_slot(provider_authority: &Pubkey, job: &Pubkey, draw_set: &Pubkey) -> Instruction {
    market(
        ma::ClaimSlot {
            provider_authority: *provider_authority,
            config: pda::market_config(),
            draw_set: *draw_set,
            draw_entry: pda::draw_entry(provider_authority),
            slot_hashes: SLOT_HASHES,
            job: *job,
            provider: pda::provider(provider_authority),
            staking: staking_accounts(),
            event_authority: market_events(),
            program: concord_market::ID,
        },
        mi::ClaimSlot {},
    )
}

/// `redraw`: a new draw round for `job`'s free slots (anyone may send it).
pub fn redraw(job: &Pubkey, draw_set: &Pubkey) -> Instruction {
    market(
        ma::Redraw {
            config: pda::market_config(),
            job: *job,
            draw_set: *draw_set,
            slot_hashes: SLOT_HASHES,
            event_authority: market_events(),
            program: concord_market::ID,
        },
        mi::Redraw {},
    )
}

/// `audit` (anyone): decides `job`'s hidden audit once its seed slot was produced, or drops an
/// audit nobody came to serve.
pub fn audit(job: &Pubkey) -> Instruction {
    market(
        ma::Audit {
            config: pda::market_config(),
            job: *job,
            slot_hashes: SLOT_HASHES,
            event_authority: market_events(),
            program: concord_market::ID,
        },
        mi::Audit {},
    )
}

pub fn commit_result(
    provider_authority: &Pubkey,
    job: &Pubkey,
    commitment: [u8; 32],
) -> Instruction {
    market(
        ma::CommitResult {
            provider_authority: *provider_authority,
            job: *job,
            event_authority: market_events(),
            program: concord_market::ID,
        },
        mi::CommitResult { commitment },
    )
}

pub fn reveal_result(
    provider_authority: &Pubkey,
    job: &Pubkey,
    result_hash: [u8; 32],
    salt: [u8; 32],
) -> Instruction {
    market(
        ma::RevealResult {
            provider_authority: *provider_authority,
            job: *job,
            event_authority: market_events(),
            program: concord_market::ID,
        },
        mi::RevealResult { result_hash, salt },
    )
}

/// The accounts that hold and move one job's deposit.
#[derive(Clone, Copy, Debug)]
pub struct EscrowKeys {
    pub job: Pubkey,
    pub buyer_token: Pubkey,
    pub payment_mint: Pubkey,
    pub token_program: Pubkey,
}

impl EscrowKeys {
    fn accounts(&self) -> ma::JobEscrow {
        ma::JobEscrow {
            config: pda::market_config(),
            job: self.job,
            vault: pda::job_vault(&self.job),
            buyer_token: self.buyer_token,
            payment_mint: self.payment_mint,
            token_program: self.token_program,
        }
    }
}

fn writable(
    keys: impl IntoIterator<Item = Pubkey>,
) -> Vec<anchor_lang::solana_program::instruction::AccountMeta> {
    keys.into_iter()
        .map(|k| anchor_lang::solana_program::instruction::AccountMeta::new(k, false))
        .collect()
}

/// The per-slot accounts `settle` and `cancel_job` take: for each (holder authority, payout
/// token account), the holder's `Provider`, the payout account and its stake vault.
fn slot_metas(
    slots: &[(Pubkey, Pubkey)],
) -> Vec<anchor_lang::solana_program::instruction::AccountMeta> {
    writable(slots.iter().flat_map(|(authority, payout)| {
        let provider = pda::provider(authority);
        [provider, *payout, pda::stake_vault(&provider)]
    }))
}

/// `settle`; `slots` lists each replica slot's holder (authority) and its payout token
/// account, in order.
pub fn settle(escrow: &EscrowKeys, slots: &[(Pubkey, Pubkey)]) -> Instruction {
    with_settle_accounts(escrow, slots, mi::Settle {})
}

/// `settle_referees`; `referees` lists each referee slot's holder (authority) and its payout
/// token account, in order.
pub fn settle_referees(escrow: &EscrowKeys, referees: &[(Pubkey, Pubkey)]) -> Instruction {
    with_settle_accounts(escrow, referees, mi::SettleReferees {})
}

/// An instruction over `settle`'s accounts (both halves of a settlement take them), with
/// `slots`' per-slot accounts after them.
fn with_settle_accounts(
    escrow: &EscrowKeys,
    slots: &[(Pubkey, Pubkey)],
    data: impl InstructionData,
) -> Instruction {
    let mut ix = market(
        ma::Settle {
            escrow: escrow.accounts(),
            staking: staking_accounts(),
            event_authority: market_events(),
            program: concord_market::ID,
        },
        data,
    );
    ix.accounts.extend(slot_metas(slots));
    ix
}

/// `cancel_job`; `slots` lists each claimed slot's holder (authority) and its payout token
/// account, in order (claimed slots are compensated).
pub fn cancel_job(buyer: &Pubkey, escrow: &EscrowKeys, slots: &[(Pubkey, Pubkey)]) -> Instruction {
    let mut ix = market(
        ma::CancelJob {
            escrow: escrow.accounts(),
            buyer: *buyer,
            staking: staking_accounts(),
            event_authority: market_events(),
            program: concord_market::ID,
        },
        mi::CancelJob {},
    );
    ix.accounts.extend(slot_metas(slots));
    ix
}

/// `refund_unfilled`; `slot_holders` lists the authorities of the claimed slots, in order.
pub fn refund_unfilled(escrow: &EscrowKeys, slot_holders: &[Pubkey]) -> Instruction {
    let mut ix = market(
        ma::RefundUnfilled {
            escrow: escrow.accounts(),
            staking: staking_accounts(),
            event_authority: market_events(),
            program: concord_market::ID,
        },
        mi::RefundUnfilled {},
    );
    ix.accounts
        .extend(writable(slot_holders.iter().map(pda::provider)));
    ix
}

/// `close_job`. The payment mint is passed writable: closing burns the job's slashed
/// collateral.
pub fn close_job(escrow: &EscrowKeys, buyer: &Pubkey) -> Instruction {
    let mut ix = market(
        ma::CloseJob {
            escrow: escrow.accounts(),
            buyer: *buyer,
            fee_vault: pda::fee_vault(),
            event_authority: market_events(),
            program: concord_market::ID,
        },
        mi::CloseJob {},
    );
    for meta in ix
        .accounts
        .iter_mut()
        .filter(|m| m.pubkey == escrow.payment_mint)
    {
        meta.is_writable = true;
    }
    ix
}

/// `withdraw_fees`: the fee vault's balance to `treasury` (the config's).
pub fn withdraw_fees(
    admin: &Pubkey,
    treasury: &Pubkey,
    payment_mint: &Pubkey,
    token_program: &Pubkey,
) -> Instruction {
    market(
        ma::WithdrawFees {
            admin: *admin,
            config: pda::market_config(),
            fee_vault: pda::fee_vault(),
            treasury: *treasury,
            payment_mint: *payment_mint,
            token_program: *token_program,
            event_authority: market_events(),
            program: concord_market::ID,
        },
        mi::WithdrawFees {},
    )
}
