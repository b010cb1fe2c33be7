//! A deployed market in a bank: both configs initialized with known parameters, and helpers
//! for the actors (providers with stake, buyers with tokens) and each step of a job's life.
//! Tracks every token account it creates so tests can check conservation to the unit.
use anchor_lang::prelude::Pubkey;
use concord_market::instructions::CreateJobArgs;
use concord_market::{commitment_hash, Job, JobRequirements, MarketParams};
use concord_staking::{backend, ConfigParams, HardwareProfile};
use solana_sdk::signature::Keypair;
use solana_sdk::signer::Signer;

use crate::bank::{Bank, TxError, TxOutput};
use crate::ix::{self, EscrowKeys};
use crate::pda;

pub const PRICE: u64 = 1_000_000;
pub const COLLATERAL: u64 = 2_000_000;
pub const FEE_BPS: u16 = 500;
pub const MIN_STAKE: u64 = 1_000_000;
pub const STAKE: u64 = 10_000_000;
pub const UNBONDING_PERIOD: i64 = 7 * 24 * 3600;
pub const WINDOW: i64 = 600;

pub fn market_params() -> MarketParams {
    MarketParams {
        fee_bps: FEE_BPS,
        min_replicas: 3,
        max_replicas: 5,
        min_price_per_replica: 1_000,
        max_price_per_replica: 1_000_000_000,
        min_collateral_per_replica: 1_000,
        min_window: 10,
        max_window: 7 * 24 * 3600,
    }
}

pub fn staking_params() -> ConfigParams {
    ConfigParams {
        min_stake: MIN_STAKE,
        unbonding_period: UNBONDING_PERIOD,
    }
}

pub fn gpu() -> HardwareProfile {
    HardwareProfile {
        gpu_name: "llvmpipe (LLVM 15.0.6, 256 bits)".into(),
        memory_mib: 8_192,
        backend: backend::VULKAN,
        features: 0b1011,
    }
}

/// A 3-replica, quorum-2 job at [`PRICE`] per replica with [`COLLATERAL`] per slot.
pub fn job_args(job_id: u64) -> CreateJobArgs {
    CreateJobArgs {
        job_id,
        manifest_hash: [7; 32],
        manifest_uri: "file:///tmp/concord/manifest.json".into(),
        requirements: JobRequirements {
            min_memory_mib: 1_024,
            required_features: 0b0001,
            backends: backend::VULKAN | backend::METAL,
        },
        replicas: 3,
        quorum: 2,
        price_per_replica: PRICE,
        collateral_per_replica: COLLATERAL,
        claim_window: WINDOW,
        exec_window: WINDOW,
        reveal_window: WINDOW,
        max_fee_bps: FEE_BPS,
    }
}

/// Each holder's wallet and token account, the per-slot pairs `settle` and `cancel_job` take.
pub fn payouts(holders: &[&Actor]) -> Vec<(Pubkey, Pubkey)> {
    holders.iter().map(|p| (p.key(), p.token)).collect()
}

pub struct Actor {
    pub wallet: Keypair,
    /// Payment-mint (= stake-mint) token account.
    pub token: Pubkey,
}

impl Actor {
    pub fn key(&self) -> Pubkey {
        self.wallet.pubkey()
    }
}

pub struct Market {
    pub bank: Bank,
    pub admin: Keypair,
    pub treasury: Pubkey,
    tracked: Vec<Pubkey>,
}

impl Market {
    /// A market paid in a classic SPL Token mint.
    pub async fn new() -> Market {
        Self::with_token_program(anchor_spl::token::ID).await
    }

    pub async fn with_token_program(token_program: Pubkey) -> Market {
        let mut bank = Bank::start(token_program).await;
        let admin = bank.new_wallet().await;
        let treasury_owner = Keypair::new();
        let treasury = bank.token_account(&treasury_owner.pubkey(), 0).await;
        let mint = bank.mint;
        bank.send(
            &[
                ix::initialize_staking(
                    &admin.pubkey(),
                    &mint,
                    staking_params(),
                    pda::market_authority(),
                    false,
                ),
                ix::initialize_market(
                    &admin.pubkey(),
                    &mint,
                    &bank.token_program,
                    &treasury,
                    market_params(),
                ),
            ],
            &[&admin],
        )
        .await
        .expect("initialize configs");
        Market {
            bank,
            admin,
            treasury,
            tracked: vec![treasury, pda::fee_vault()],
        }
    }

    /// A market with `providers` staked providers ([`STAKE`] each) and a buyer holding `funds`.
    pub async fn with_actors(providers: usize, funds: u64) -> (Market, Actor, Vec<Actor>) {
        let mut m = Market::new().await;
        let mut ps = Vec::new();
        for _ in 0..providers {
            ps.push(m.provider(STAKE).await);
        }
        let buyer = m.actor(funds).await;
        (m, buyer, ps)
    }

    /// Creates [`job_args`]`(id)` for `buyer` and has every provider of `ps` claim it.
    pub async fn running_job(&mut self, buyer: &Actor, ps: &[Actor], id: u64) -> Pubkey {
        let job = self
            .create_job(buyer, job_args(id))
            .await
            .expect("create job");
        for p in ps {
            self.claim(p, &job).await.expect("claim");
        }
        job
    }

    /// Remembers a token account for [`Market::total_tokens`].
    pub fn track(&mut self, account: Pubkey) {
        if !self.tracked.contains(&account) {
            self.tracked.push(account);
        }
    }

    /// A wallet with a payment-mint token account holding `tokens`.
    pub async fn actor(&mut self, tokens: u64) -> Actor {
        let wallet = self.bank.new_wallet().await;
        let token = self.bank.token_account(&wallet.pubkey(), tokens).await;
        self.track(token);
        Actor { wallet, token }
    }

    /// A registered provider with `stake` deposited (its wallet token account ends empty).
    pub async fn provider(&mut self, stake: u64) -> Actor {
        let p = self.actor(stake).await;
        self.register_as_provider(&p, stake).await;
        p
    }

    /// Registers an existing actor (a buyer, say) as a provider and deposits `stake` from its
    /// token account.
    pub async fn register_as_provider(&mut self, p: &Actor, stake: u64) {
        let (mint, program) = (self.bank.mint, self.bank.token_program);
        let mut ixs = vec![ix::register_provider(
            &p.key(),
            &mint,
            &program,
            gpu(),
            "https://example.org/p.json",
        )];
        if stake > 0 {
            ixs.push(ix::deposit_stake(
                &p.key(),
                &p.token,
                &mint,
                &program,
                stake,
            ));
        }
        self.bank
            .send(&ixs, &[&p.wallet])
            .await
            .expect("register provider");
        self.track(pda::stake_vault(&pda::provider(&p.key())));
    }

    pub fn escrow(&self, buyer: &Actor, job: &Pubkey) -> EscrowKeys {
        EscrowKeys {
            job: *job,
            buyer_token: buyer.token,
            payment_mint: self.bank.mint,
            token_program: self.bank.token_program,
        }
    }

    pub async fn create_job(
        &mut self,
        buyer: &Actor,
        args: CreateJobArgs,
    ) -> Result<Pubkey, TxError> {
        let job = pda::job(&buyer.key(), args.job_id);
        let (mint, program) = (self.bank.mint, self.bank.token_program);
        self.bank
            .send(
                &[ix::create_job(
                    &buyer.key(),
                    &buyer.token,
                    &mint,
                    &program,
                    args,
                )],
                &[&buyer.wallet],
            )
            .await?;
        self.track(pda::job_vault(&job));
        // Claims land only after the creation slot.
        self.bank.next_slot().await;
        Ok(job)
    }

    pub async fn claim(&mut self, p: &Actor, job: &Pubkey) -> Result<TxOutput, TxError> {
        self.bank
            .send(&[ix::claim_slot(&p.key(), job)], &[&p.wallet])
            .await
    }

    pub async fn commit(
        &mut self,
        p: &Actor,
        job: &Pubkey,
        result: [u8; 32],
        salt: [u8; 32],
    ) -> Result<TxOutput, TxError> {
        let c = commitment_hash(job, &p.key(), &result, &salt);
        self.bank
            .send(&[ix::commit_result(&p.key(), job, c)], &[&p.wallet])
            .await
    }

    pub async fn reveal(
        &mut self,
        p: &Actor,
        job: &Pubkey,
        result: [u8; 32],
        salt: [u8; 32],
    ) -> Result<TxOutput, TxError> {
        self.bank
            .send(
                &[ix::reveal_result(&p.key(), job, result, salt)],
                &[&p.wallet],
            )
            .await
    }

    /// Commits then (once all committed) reveals `results[i]` for `providers[i]`.
    pub async fn commit_and_reveal(
        &mut self,
        job: &Pubkey,
        providers: &[&Actor],
        results: &[[u8; 32]],
    ) {
        for (i, (p, r)) in providers.iter().zip(results).enumerate() {
            self.commit(p, job, *r, [i as u8 + 1; 32])
                .await
                .expect("commit");
        }
        for (i, (p, r)) in providers.iter().zip(results).enumerate() {
            self.reveal(p, job, *r, [i as u8 + 1; 32])
                .await
                .expect("reveal");
        }
    }

    /// Settles `job`, passing each slot holder in order (from the job account).
    pub async fn settle(
        &mut self,
        buyer: &Actor,
        job: &Pubkey,
        holders: &[&Actor],
    ) -> Result<TxOutput, TxError> {
        let slots = payouts(holders);
        let escrow = self.escrow(buyer, job);
        self.bank.send(&[ix::settle(&escrow, &slots)], &[]).await
    }

    pub async fn close(&mut self, buyer: &Actor, job: &Pubkey) -> Result<TxOutput, TxError> {
        let escrow = self.escrow(buyer, job);
        self.bank
            .send(&[ix::close_job(&escrow, &buyer.key())], &[])
            .await
    }

    /// Cancels `job` as its buyer; `holders` are the claimed slots' holders, in order.
    pub async fn cancel(
        &mut self,
        buyer: &Actor,
        job: &Pubkey,
        holders: &[&Actor],
    ) -> Result<TxOutput, TxError> {
        let slots = payouts(holders);
        let escrow = self.escrow(buyer, job);
        self.bank
            .send(
                &[ix::cancel_job(&buyer.key(), &escrow, &slots)],
                &[&buyer.wallet],
            )
            .await
    }

    /// Moves the fee vault's balance to the treasury (as the admin).
    pub async fn withdraw_fees(&mut self) -> Result<TxOutput, TxError> {
        let ix = ix::withdraw_fees(
            &self.admin.pubkey(),
            &self.treasury,
            &self.bank.mint,
            &self.bank.token_program,
        );
        let admin = self.admin.insecure_clone();
        self.bank.send(&[ix], &[&admin]).await
    }

    pub async fn job(&mut self, job: &Pubkey) -> Job {
        self.bank.account::<Job>(job).await.expect("job account")
    }

    pub async fn provider_state(&mut self, p: &Actor) -> concord_staking::Provider {
        self.bank
            .account::<concord_staking::Provider>(&pda::provider(&p.key()))
            .await
            .expect("provider account")
    }

    /// Sum of the balances of every token account this market created or touched.
    pub async fn total_tokens(&mut self) -> u64 {
        let mut total = 0;
        for account in self.tracked.clone() {
            total += self.bank.balance(&account).await;
        }
        total
    }

    /// Asserts that every token of the mint is in a tracked account (nothing created or lost).
    pub async fn assert_conserved(&mut self) {
        let supply = self.bank.supply().await;
        assert_eq!(self.total_tokens().await, supply, "token conservation");
    }
}
