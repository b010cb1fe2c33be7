//! `create_job`: the buyer describes a job, and escrows `replicas × price_per_replica` in the
//! job's own vault. Every bound of the market config is checked here.
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{self, Mint, TokenAccount, TokenInterface, TransferChecked};

use crate::errors::MarketError;
use crate::events::{DrawRoundBegun, JobCreated};
use crate::state::*;

/// What the buyer asks for.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct CreateJobArgs {
    /// Any number the buyer has not used for another open job (part of the job's address).
    pub job_id: u64,
    pub manifest_hash: [u8; 32],
    pub manifest_uri: String,
    pub requirements: JobRequirements,
    pub replicas: u8,
    pub quorum: u8,
    pub price_per_replica: u64,
    pub collateral_per_replica: u64,
    /// Seconds from creation during which slots can be claimed.
    pub claim_window: i64,
    /// Seconds from the last claim during which results can be committed.
    pub exec_window: i64,
    /// Seconds after the execution deadline during which results can be revealed.
    pub reveal_window: i64,
    /// The highest protocol fee the buyer accepts: `create_job` fails if the market's fee is
    /// above it (the admin cannot raise the fee in front of the buyer's transaction).
    pub max_fee_bps: u16,
}

impl CreateJobArgs {
    pub fn validate(&self, p: &MarketParams) -> Result<()> {
        require!(
            self.manifest_uri.len() <= MAX_MANIFEST_URI_LEN,
            MarketError::StringTooLong
        );
        require!(
            self.manifest_hash != [0; 32],
            MarketError::EmptyManifestHash
        );
        require!(
            (p.min_replicas..=p.max_replicas).contains(&self.replicas),
            MarketError::ReplicasOutOfBounds
        );
        require!(
            self.quorum >= 1
                && self.quorum < self.replicas
                && u16::from(self.quorum) * 2 > u16::from(self.replicas),
            MarketError::InvalidQuorum
        );
        require!(
            p.fee_bps <= self.max_fee_bps,
            MarketError::FeeAboveBuyerBound
        );
        require!(
            (p.min_price_per_replica..=p.max_price_per_replica).contains(&self.price_per_replica),
            MarketError::PriceOutOfBounds
        );
        require!(
            self.collateral_per_replica > 0
                && self.collateral_per_replica >= p.min_collateral_per_replica,
            MarketError::CollateralTooLow
        );
        let window_ok = |w: i64| (p.min_window..=p.max_window).contains(&w);
        require!(
            window_ok(self.claim_window)
                && window_ok(self.exec_window)
                && window_ok(self.reveal_window),
            MarketError::WindowOutOfBounds
        );
        Ok(())
    }
}

#[event_cpi]
#[derive(Accounts)]
#[instruction(args: CreateJobArgs)]
pub struct CreateJob<'info> {
    #[account(mut)]
    pub buyer: Signer<'info>,
    #[account(seeds = [CONFIG_SEED], bump = config.bump)]
    pub config: Box<Account<'info, MarketConfig>>,
    #[account(
        init,
        payer = buyer,
        space = 8 + Job::INIT_SPACE,
        seeds = [JOB_SEED, buyer.key().as_ref(), args.job_id.to_le_bytes().as_ref()],
        bump
    )]
    pub job: Box<Account<'info, Job>>,
    #[account(
        init,
        payer = buyer,
        seeds = [VAULT_SEED, job.key().as_ref()],
        bump,
        token::mint = payment_mint,
        token::authority = job,
        token::token_program = token_program
    )]
    pub vault: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(
        mut,
        token::mint = payment_mint,
        token::authority = buyer,
        token::token_program = token_program
    )]
    pub buyer_token: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(address = config.payment_mint @ MarketError::MintMismatch)]
    pub payment_mint: Box<InterfaceAccount<'info, Mint>>,
    pub token_program: Interface<'info, TokenInterface>,
    pub system_program: Program<'info, System>,
}

pub fn handler(ctx: Context<CreateJob>, args: CreateJobArgs) -> Result<()> {
    let params = ctx.accounts.config.params;
    require!(!ctx.accounts.config.paused, MarketError::MarketPaused);
    args.validate(&params)?;
    let deposit = Job::deposit_for(args.price_per_replica, args.replicas, params.audit_bps)
        .ok_or(MarketError::MathOverflow)?;
    let fee = u64::try_from(
        u128::from(args.price_per_replica) * u128::from(params.fee_bps)
            / u128::from(BPS_DENOMINATOR),
    )
    .map_err(|_| MarketError::MathOverflow)?;
    let clock = Clock::get()?;
    let now = clock.unix_timestamp;
    let claim_deadline = now
        .checked_add(args.claim_window)
        .ok_or(MarketError::MathOverflow)?;

    token_interface::transfer_checked(
        CpiContext::new(
            ctx.accounts.token_program.key(),
            TransferChecked {
                from: ctx.accounts.buyer_token.to_account_info(),
                mint: ctx.accounts.payment_mint.to_account_info(),
                to: ctx.accounts.vault.to_account_info(),
                authority: ctx.accounts.buyer.to_account_info(),
            },
        ),
        deposit,
        ctx.accounts.payment_mint.decimals,
    )?;

    let job = &mut ctx.accounts.job;
    job.buyer = ctx.accounts.buyer.key();
    job.job_id = args.job_id;
    job.manifest_hash = args.manifest_hash;
    job.manifest_uri = args.manifest_uri;
    job.requirements = args.requirements;
    job.replicas = args.replicas;
    job.quorum = args.quorum;
    job.audit_bps = params.audit_bps;
    job.price_per_replica = args.price_per_replica;
    job.fee_per_replica = fee;
    job.collateral_per_replica = args.collateral_per_replica;
    job.created_at = now;
    job.created_slot = clock.slot;
    job.claim_deadline = claim_deadline;
    job.exec_window = args.exec_window;
    job.reveal_window = args.reveal_window;
    job.state = JobState::Open;
    job.escrow_owed = deposit;
    job.bump = ctx.bumps.job;
    job.vault_bump = ctx.bumps.vault;
    job.begin_round(clock.slot, now)?;
    job.invariant()?;
    emit_cpi!(JobCreated {
        job: job.key(),
        buyer: job.buyer,
        job_id: job.job_id,
        manifest_hash: job.manifest_hash,
        replicas: job.replicas,
        quorum: job.quorum,
        price_per_replica: job.price_per_replica,
        deposit,
        claim_deadline,
    });
    emit_cpi!(DrawRoundBegun {
        job: job.key(),
        round: 0,
        seed_slot: job.seed_slot,
        slots: job.round_slots,
    });
    Ok(())
}
