//! Calls into the staking program (lock / unlock / slash), signed by the market authority PDA,
//! and the staking accounts those calls need.
use anchor_lang::prelude::*;
use concord_staking::cpi::accounts::{LockCollateral, Slash, UnlockCollateral};
use concord_staking::program::ConcordStaking;

use crate::state::{AUTHORITY_SEED, EVENT_AUTHORITY_SEED};

#[derive(Accounts)]
pub struct StakingAccounts<'info> {
    /// CHECK: the market authority PDA; it only signs collateral CPIs.
    #[account(seeds = [AUTHORITY_SEED], bump)]
    pub market_authority: UncheckedAccount<'info>,
    #[account(
        seeds = [concord_staking::CONFIG_SEED],
        bump = staking_config.bump,
        seeds::program = concord_staking::ID
    )]
    pub staking_config: Box<Account<'info, concord_staking::StakingConfig>>,
    /// CHECK: the staking program's event authority (its `emit_cpi!` signer), checked here by
    /// its seeds so clients can derive it from the IDL; the staking program checks it too.
    #[account(seeds = [EVENT_AUTHORITY_SEED], bump, seeds::program = concord_staking::ID)]
    pub staking_event_authority: UncheckedAccount<'info>,
    pub staking_program: Program<'info, ConcordStaking>,
}

impl<'info> StakingAccounts<'info> {
    /// A signer for collateral CPIs; `bump` is the market authority's bump.
    pub fn cpi(&self, bump: u8) -> StakingCpi<'info> {
        StakingCpi {
            staking_program: self.staking_program.to_account_info(),
            staking_config: self.staking_config.to_account_info(),
            staking_event_authority: self.staking_event_authority.to_account_info(),
            market_authority: self.market_authority.to_account_info(),
            authority_bump: bump,
        }
    }
}

pub struct StakingCpi<'info> {
    staking_program: AccountInfo<'info>,
    staking_config: AccountInfo<'info>,
    staking_event_authority: AccountInfo<'info>,
    market_authority: AccountInfo<'info>,
    authority_bump: u8,
}

impl<'info> StakingCpi<'info> {
    fn signed<T: ToAccountMetas + ToAccountInfos<'info>>(
        &self,
        accounts: T,
        f: impl FnOnce(CpiContext<'_, '_, '_, 'info, T>) -> Result<()>,
    ) -> Result<()> {
        let bump = [self.authority_bump];
        let seeds: [&[u8]; 2] = [AUTHORITY_SEED, &bump];
        f(CpiContext::new_with_signer(
            concord_staking::ID,
            accounts,
            &[&seeds],
        ))
    }

    pub fn lock(&self, provider: &AccountInfo<'info>, amount: u64) -> Result<()> {
        let accounts = LockCollateral {
            config: self.staking_config.clone(),
            market_authority: self.market_authority.clone(),
            provider: provider.clone(),
            event_authority: self.staking_event_authority.clone(),
            program: self.staking_program.clone(),
        };
        self.signed(accounts, |ctx| {
            concord_staking::cpi::lock_collateral(ctx, amount)
        })
    }

    pub fn unlock(&self, provider: &AccountInfo<'info>, amount: u64, paid: u64) -> Result<()> {
        let accounts = UnlockCollateral {
            config: self.staking_config.clone(),
            market_authority: self.market_authority.clone(),
            provider: provider.clone(),
            event_authority: self.staking_event_authority.clone(),
            program: self.staking_program.clone(),
        };
        self.signed(accounts, |ctx| {
            concord_staking::cpi::unlock_collateral(ctx, amount, paid)
        })
    }

    /// Slashes `amount` of the provider's locked collateral into `destination` (stake mint).
    pub fn slash(
        &self,
        provider: &AccountInfo<'info>,
        stake_vault: &AccountInfo<'info>,
        destination: &AccountInfo<'info>,
        stake_mint: &AccountInfo<'info>,
        token_program: &AccountInfo<'info>,
        amount: u64,
    ) -> Result<()> {
        let accounts = Slash {
            config: self.staking_config.clone(),
            market_authority: self.market_authority.clone(),
            provider: provider.clone(),
            stake_vault: stake_vault.clone(),
            destination: destination.clone(),
            stake_mint: stake_mint.clone(),
            token_program: token_program.clone(),
            event_authority: self.staking_event_authority.clone(),
            program: self.staking_program.clone(),
        };
        self.signed(accounts, |ctx| concord_staking::cpi::slash(ctx, amount))
    }
}
