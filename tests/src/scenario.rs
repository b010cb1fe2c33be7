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
/// Seconds a draw round has to fill before `redraw` may begin another.
pub const TAKE_WINDOW: i64 = 30;
/// Slots per draw epoch in the test markets.
pub const DRAW_EPOCH_SLOTS: u64 = 16;

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
        take_window: TAKE_WINDOW,
        // Audits are off in the bank's market but where a test turns them on
        // (`disputes::audit_*`): the other tests count exact deposits without the reserve.
        audit_bps: 0,
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

    /// The same actor again (its wallet key copied), for tests that hold it apart from the
    /// market it acts in.
    pub fn clone_actor(&self) -> Actor {
        Actor {
            wallet: self.wallet.insecure_clone(),
            token: self.token,
        }
    }
}

pub struct Market {
    pub bank: Bank,
    pub admin: Keypair,
    pub treasury: Pubkey,
    /// The draw set account.
    pub draw_set: Pubkey,
    tracked: Vec<Pubkey>,
    /// The draw epoch of the last draw-weight edit (jobs are created in a later epoch, so the
    /// weights edited count).
    edited_epoch: Option<u64>,
}

/// The instructions that create the draw set account `draw_set` and initialize a market with
/// it (the test markets' parameters otherwise given).
pub fn initialize_market_ixs(
    admin: &Pubkey,
    mint: &Pubkey,
    token_program: &Pubkey,
    treasury: &Pubkey,
    draw_set: &Pubkey,
    params: MarketParams,
) -> Vec<anchor_lang::solana_program::instruction::Instruction> {
    let rent =
        anchor_lang::prelude::Rent::default().minimum_balance(concord_market::DrawSet::SPACE);
    vec![
        ix::create_draw_set(admin, draw_set, rent),
        ix::initialize_market(
            admin,
            mint,
            token_program,
            treasury,
            draw_set,
            params,
            DRAW_EPOCH_SLOTS,
        ),
    ]
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
        let draw_set = Keypair::new();
        let mut ixs = vec![ix::initialize_staking(
            &admin.pubkey(),
            &mint,
            staking_params(),
            pda::market_authority(),
            false,
        )];
        ixs.extend(initialize_market_ixs(
            &admin.pubkey(),
            &mint,
            &bank.token_program,
            &treasury,
            &draw_set.pubkey(),
            market_params(),
        ));
        bank.send(&ixs, &[&admin, &draw_set])
            .await
            .expect("initialize configs");
        Market {
            bank,
            admin,
            treasury,
            draw_set: draw_set.pubkey(),
            tracked: vec![treasury, pda::fee_vault()],
            edited_epoch: None,
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

    /// Creates [`job_args`]`(id)` for `buyer` and has every provider of `ps` claim it (each
    /// drawn by a ground seed, see [`Market::claim`]).
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

    /// `n` registered providers with [`STAKE`] each.
    pub async fn providers(&mut self, n: usize) -> Vec<Actor> {
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(self.provider(STAKE).await);
        }
        out
    }

    /// Registers an existing actor (a buyer, say) as a provider, deposits `stake` from its
    /// token account and joins the draws.
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
        ixs.push(ix::join_draws(&p.key(), &self.draw_set));
        self.bank
            .send(&ixs, &[&p.wallet])
            .await
            .expect("register provider");
        self.draw_weights_edited().await;
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

    /// Notes that draw weights changed now: the next job is created in a later draw epoch.
    pub async fn draw_weights_edited(&mut self) {
        let slot = self.bank.clock().await.slot;
        self.edited_epoch = Some(slot / DRAW_EPOCH_SLOTS);
    }

    /// Sends `sync_draw_weight` for `p` (after its stake changed).
    pub async fn sync_draw_weight(&mut self, p: &Actor) -> Result<TxOutput, TxError> {
        let r = self
            .bank
            .send(&[ix::sync_draw_weight(&p.key(), &self.draw_set)], &[])
            .await;
        self.draw_weights_edited().await;
        r
    }

    /// Sends `redraw` for `job` (anyone may).
    pub async fn redraw(&mut self, job: &Pubkey) -> Result<TxOutput, TxError> {
        let ix_ = ix::redraw(job, &self.draw_set);
        self.bank.send(&[ix_], &[]).await
    }

    /// Moves the clock into the draw epoch after the last weight edit, if it is not there yet.
    pub async fn next_draw_epoch(&mut self) {
        let slot = self.bank.clock().await.slot;
        if let Some(edited) = self.edited_epoch {
            let start = (edited + 1) * DRAW_EPOCH_SLOTS;
            if slot < start {
                self.bank.advance_slots(start - slot).await;
            }
        }
    }

    /// Moves the clock past `job`'s seed slot (the slot hash that seeds its round exists).
    pub async fn past_seed_slot(&mut self, job: &Pubkey) {
        let Some(state) = self.bank.account::<Job>(job).await else {
            return;
        };
        let seed_slot = state.seed_slot;
        let slot = self.bank.clock().await.slot;
        if slot <= seed_slot {
            self.bank.advance_slots(seed_slot + 1 - slot).await;
        }
    }

    /// The draw set as the bank holds it.
    pub async fn draw_set_state(&mut self) -> Box<concord_market::DrawSet> {
        let account = self
            .bank
            .raw_account(&self.draw_set)
            .await
            .expect("draw set account");
        concord_sdk::chain::decode_draw_set(&self.draw_set, &account.data).expect("draw set")
    }

    /// The providers (authorities) `job`'s current round drew, by the program's own rule.
    pub async fn drawn(&mut self, job: &Pubkey) -> Vec<Pubkey> {
        let state = self.job(job).await;
        let set = self.draw_set_state().await;
        let data = self.bank.slot_hashes_data();
        state
            .drawn(job, &set, &data)
            .map(|cs| {
                cs.iter()
                    .map(|c| set.authorities[c.index as usize])
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Grinds the bank hash of `job`'s seed slot, as only a test (or that slot's leader) can,
    /// until the current round draws every provider of `wanted`; false when 5,000 tries found
    /// none (nobody could draw them: not joined, no weight, the buyer, a closed round).
    pub async fn grind_draw(&mut self, job: &Pubkey, wanted: &[Pubkey]) -> bool {
        self.grind_seed(job, |set, drawn| {
            wanted.iter().all(|w| {
                drawn
                    .iter()
                    .any(|c| set.authorities[c.index as usize] == *w)
            })
        })
        .await
    }

    /// Grinds the bank hash of `job`'s seed slot until `accept` holds for the round's draw
    /// (`Job::drawn`); false when 5,000 tries found none, or the job or its seed slot is gone.
    pub async fn grind_seed(
        &mut self,
        job: &Pubkey,
        accept: impl Fn(&concord_market::DrawSet, &[concord_market::draw::Candidate]) -> bool,
    ) -> bool {
        self.past_seed_slot(job).await;
        let Some(state) = self.bank.account::<Job>(job).await else {
            return false;
        };
        let set = self.draw_set_state().await;
        let mut data = self.bank.slot_hashes_data();
        let Ok((seed_slot, _)) = concord_market::draw::seed_entry(&data, state.seed_slot) else {
            return false;
        };
        let at = (0..(data.len() - 8) / 40)
            .find(|i| data[8 + i * 40..16 + i * 40] == seed_slot.to_le_bytes())
            .expect("the seed slot's entry");
        for attempt in 0u32..5_000 {
            let hash =
                solana_sha256_hasher::hashv(&[b"grind", job.as_ref(), &attempt.to_le_bytes()])
                    .to_bytes();
            data[16 + at * 40..48 + at * 40].copy_from_slice(&hash);
            if accept(&set, &state.drawn(job, &set, &data).unwrap_or_default()) {
                self.bank.set_slot_hash(seed_slot, hash);
                return true;
            }
        }
        false
    }

    pub async fn create_job(
        &mut self,
        buyer: &Actor,
        args: CreateJobArgs,
    ) -> Result<Pubkey, TxError> {
        self.next_draw_epoch().await;
        let job = self.send_create_job(buyer, args).await?;
        // Claims land only after the creation slot, and once the seed slot is produced.
        self.past_seed_slot(&job).await;
        Ok(job)
    }

    /// Sends `create_job` as the clock stands (no draw epoch or seed slot moved).
    pub async fn send_create_job(
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
        Ok(job)
    }

    /// Has `p` claim a slot of `job`, first grinding the seed (as only a test can) so that the
    /// current round draws `p` if it is open and `p` could be drawn at all. For tests about
    /// what happens once slots are held; [`Market::claim_as_drawn`] leaves the draw alone.
    pub async fn claim(&mut self, p: &Actor, job: &Pubkey) -> Result<TxOutput, TxError> {
        self.make_drawn(p, job).await;
        self.claim_as_drawn(p, job).await
    }

    /// Has `p` claim a slot of `job` and commit `result` with `salt` in the same transaction
    /// (as the agents do once they ran the job), drawn as by [`Market::claim`].
    pub async fn claim_and_commit(
        &mut self,
        p: &Actor,
        job: &Pubkey,
        result: [u8; 32],
        salt: [u8; 32],
    ) -> Result<TxOutput, TxError> {
        self.make_drawn(p, job).await;
        let ixs = [
            ix::claim_slot(&p.key(), job, &self.draw_set),
            commit_ix(p, job, result, salt),
        ];
        self.bank.send(&ixs, &[&p.wallet]).await
    }

    /// Grinds the seed of `job`'s current round so that it draws `p` (and keeps the round's
    /// slot holders drawn), if the job is open and `p` could be drawn at all.
    async fn make_drawn(&mut self, p: &Actor, job: &Pubkey) {
        let state = self.job(job).await;
        let drawable = state.state == concord_market::JobState::Open
            && state.slot_index_of(&p.key()).is_none()
            && p.key() != state.buyer
            && self
                .bank
                .account::<concord_staking::Provider>(&pda::provider(&p.key()))
                .await
                .is_some_and(|p| p.draw_weight() > 0);
        if drawable && !self.drawn(job).await.contains(&p.key()) {
            // Keep the providers that already hold slots this round drawn too.
            let mut wanted: Vec<Pubkey> = state.filled_slots()
                [usize::from(state.slot_count() - state.round_slots)..]
                .iter()
                .map(|s| s.provider)
                .collect();
            wanted.push(p.key());
            assert!(
                self.grind_draw(job, &wanted).await,
                "no seed draws {wanted:?}"
            );
        }
    }

    /// Sends `p`'s claim as the draw stands.
    pub async fn claim_as_drawn(&mut self, p: &Actor, job: &Pubkey) -> Result<TxOutput, TxError> {
        self.bank
            .send(
                &[ix::claim_slot(&p.key(), job, &self.draw_set)],
                &[&p.wallet],
            )
            .await
    }

    pub async fn commit(
        &mut self,
        p: &Actor,
        job: &Pubkey,
        result: [u8; 32],
        salt: [u8; 32],
    ) -> Result<TxOutput, TxError> {
        self.bank
            .send(&[commit_ix(p, job, result, salt)], &[&p.wallet])
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

    /// Settles the referees of `job`'s dispute; `referees` are the referee slots' holders.
    pub async fn settle_referees(
        &mut self,
        buyer: &Actor,
        job: &Pubkey,
        referees: &[&Actor],
    ) -> Result<TxOutput, TxError> {
        let slots = payouts(referees);
        let escrow = self.escrow(buyer, job);
        self.bank
            .send(&[ix::settle_referees(&escrow, &slots)], &[])
            .await
    }

    /// Runs a dispute on `job`, whose replicas (`replicas`, in slot order) revealed differing
    /// hashes: `settle` opens it, each of `referees` is drawn (seed ground) and claims, they
    /// commit and reveal `verdicts`, then `settle_referees` and `settle` end it. Returns the
    /// outputs of those two.
    pub async fn dispute(
        &mut self,
        buyer: &Actor,
        job: &Pubkey,
        replicas: &[&Actor],
        referees: &[&Actor],
        verdicts: &[[u8; 32]],
    ) -> (TxOutput, TxOutput) {
        let opened = self.settle(buyer, job, replicas).await.expect("open");
        assert_eq!(
            opened
                .events::<concord_market::events::DisputeOpened>()
                .len(),
            1,
            "settle opens the dispute"
        );
        self.past_seed_slot(job).await;
        for r in referees {
            self.claim(r, job).await.expect("referee claim");
        }
        self.commit_and_reveal(job, referees, verdicts).await;
        let referees_out = self
            .settle_referees(buyer, job, referees)
            .await
            .expect("settle referees");
        let settled = self.settle(buyer, job, replicas).await.expect("settle");
        (referees_out, settled)
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

/// `p`'s `commit_result` of `result` with `salt` on `job`.
fn commit_ix(
    p: &Actor,
    job: &Pubkey,
    result: [u8; 32],
    salt: [u8; 32],
) -> anchor_lang::solana_program::instruction::Instruction {
    let c = commitment_hash(job, &p.key(), &result, &salt);
    ix::commit_result(&p.key(), job, c)
}
