//! Stateful property testing of both programs in the bank: random sequences of instructions
//! from several buyers, providers and an outsider (valid ones, wrong ones, and random bytes
//! with random account lists), with clock jumps. After every step all accounts are read and
//! the invariants of ARCHITECTURE.md ("Invariants") are checked. A failing sequence is shrunk and saved under
//! `tests/regressions/` so it is replayed by every later test run.
use std::collections::HashMap;

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::{AccountMeta, Instruction};
use anchor_lang::Discriminator;
use concord_market::instructions::CreateJobArgs;
use concord_market::{Job, JobState, SlotOutcome, SlotStatus};
use serde::{Deserialize, Serialize};
use solana_sdk::signer::Signer;

use crate::ix;
use crate::pda;
use crate::scenario::{job_args, Actor, Market, STAKE};

/// One step of a sequence. Indices wrap around the actors / jobs that exist.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Action {
    CreateJob {
        buyer: u8,
        id: u8,
        replicas: u8,
        quorum: u8,
        price: u32,
        collateral: u32,
        window: u16,
    },
    Claim {
        provider: u8,
        job: u8,
    },
    Commit {
        provider: u8,
        job: u8,
        result: u8,
    },
    Reveal {
        provider: u8,
        job: u8,
        honest: bool,
    },
    Settle {
        job: u8,
        reversed: bool,
    },
    Cancel {
        job: u8,
        by_buyer: bool,
    },
    Refund {
        job: u8,
    },
    Close {
        job: u8,
    },
    /// `withdraw_fees`, by the admin or (refused) by an outsider.
    WithdrawFees {
        by_admin: bool,
    },
    Warp {
        seconds: u16,
    },
    Deposit {
        provider: u8,
        amount: u32,
    },
    Unbond {
        provider: u8,
        amount: u32,
    },
    Withdraw {
        provider: u8,
    },
    /// `redraw` of a job (refused until its round had the take window).
    Redraw {
        job: u8,
    },
    /// `audit` (anyone): decide, re-seed or drop a job's hidden audit.
    Audit {
        job: u8,
    },
    /// `sync_draw_weight` of a provider (by anyone).
    SyncDraw {
        provider: u8,
    },
    /// The next natural step of a job: claim, commit (`result`), reveal, settle or close.
    Advance {
        job: u8,
        result: u8,
    },
    /// Random bytes after a real instruction discriminator, with a random account list.
    Garbage {
        program: u8,
        instruction: u8,
        data: Vec<u8>,
        accounts: Vec<(u8, bool, bool)>,
    },
}

/// SplitMix64: small, seedable, reproducible.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
    fn byte(&mut self, n: u64) -> u8 {
        self.below(n) as u8
    }
    fn range(&mut self, lo: u64, hi: u64) -> u32 {
        (lo + self.below(hi - lo + 1)) as u32
    }
}

/// A job index: mostly the latest job (so jobs get filled and run), sometimes any.
fn job_index(rng: &mut Rng) -> u8 {
    if rng.below(10) < 7 {
        LATEST
    } else {
        rng.byte(8)
    }
}

/// The job index that means "the most recently created job".
const LATEST: u8 = u8::MAX;
/// The provider index that means "the next provider that can act on this job" (the first
/// non-holder for a claim, the first holder yet to commit / reveal).
const NEXT: u8 = u8::MAX;

fn provider_index(rng: &mut Rng) -> u8 {
    if rng.below(10) < 7 {
        NEXT
    } else {
        rng.byte(4)
    }
}

pub fn random_action(rng: &mut Rng) -> Action {
    if rng.below(4) == 0 {
        return Action::Advance {
            job: job_index(rng),
            result: rng.byte(3),
        };
    }
    match rng.below(100) {
        0..=9 => Action::CreateJob {
            buyer: rng.byte(2),
            id: rng.byte(6),
            replicas: 1 + rng.byte(5),
            quorum: rng.byte(4),
            price: rng.range(1_000, 2_000_000),
            collateral: rng.range(1_000, 2_500_000),
            window: rng.range(10, 1_200) as u16,
        },
        10..=31 => Action::Claim {
            provider: provider_index(rng),
            job: job_index(rng),
        },
        32..=46 => Action::Commit {
            provider: provider_index(rng),
            job: job_index(rng),
            result: rng.byte(3),
        },
        47..=60 => Action::Reveal {
            provider: provider_index(rng),
            job: job_index(rng),
            honest: rng.below(8) != 0,
        },
        61..=67 => Action::Settle {
            job: job_index(rng),
            reversed: rng.below(6) == 0,
        },
        68..=70 => Action::Cancel {
            job: job_index(rng),
            by_buyer: rng.below(4) != 0,
        },
        71..=73 => Action::Refund {
            job: job_index(rng),
        },
        74..=77 => Action::Close {
            job: job_index(rng),
        },
        78..=85 => Action::Warp {
            seconds: rng.range(1, 900) as u16,
        },
        86..=87 => Action::Deposit {
            provider: rng.byte(4),
            amount: rng.range(0, 3_000_000),
        },
        88..=90 => Action::Unbond {
            provider: rng.byte(4),
            amount: rng.range(0, 12_000_000),
        },
        91 => Action::Withdraw {
            provider: rng.byte(4),
        },
        92 => Action::WithdrawFees {
            by_admin: rng.below(4) != 0,
        },
        93..=94 => Action::Redraw {
            job: job_index(rng),
        },
        95 => Action::SyncDraw {
            provider: rng.byte(4),
        },
        96 => Action::Audit {
            job: job_index(rng),
        },
        _ => {
            let len = rng.below(48) as usize;
            let n = rng.below(14) as usize;
            Action::Garbage {
                program: rng.byte(3),
                instruction: rng.byte(12),
                data: (0..len).map(|_| rng.next_u64() as u8).collect(),
                accounts: (0..n)
                    .map(|_| (rng.next_u64() as u8, rng.below(2) == 0, rng.below(3) == 0))
                    .collect(),
            }
        }
    }
}

pub fn random_sequence(seed: u64, len: usize) -> Vec<Action> {
    let mut rng = Rng::new(seed);
    (0..len).map(|_| random_action(&mut rng)).collect()
}

/// Where a sequence broke an invariant.
#[derive(Debug)]
pub struct Failure {
    pub step: usize,
    pub message: String,
}

#[derive(Clone)]
struct JobView {
    state: JobState,
    disputed: bool,
    auditors: u8,
    burn_due: u64,
    outcomes: Vec<(Pubkey, SlotOutcome)>,
}

/// How many actions of each kind the chain accepted and refused.
#[derive(Debug, Default, Clone)]
pub struct Stats(pub std::collections::BTreeMap<&'static str, (u64, u64)>);

impl Stats {
    fn record(&mut self, kind: &'static str, ok: bool) {
        let e = self.0.entry(kind).or_default();
        if ok {
            e.0 += 1;
        } else {
            e.1 += 1;
        }
    }
    pub fn merge(&mut self, other: &Stats) {
        for (k, (a, b)) in &other.0 {
            let e = self.0.entry(k).or_default();
            e.0 += a;
            e.1 += b;
        }
    }
    /// Accepted actions of `kind`.
    pub fn accepted(&self, kind: &str) -> u64 {
        self.0.get(kind).map_or(0, |e| e.0)
    }
}

struct World {
    stats: Stats,
    m: Market,
    buyers: Vec<Actor>,
    providers: Vec<Actor>,
    outsider: Actor,
    /// Every job ever created, in creation order (closed ones stay listed).
    jobs: Vec<(Pubkey, usize)>,
    /// What each provider committed per job: (result, salt).
    commits: HashMap<(Pubkey, usize), ([u8; 32], [u8; 32])>,
    prev_jobs: HashMap<Pubkey, Option<JobView>>,
    prev_slashed: Vec<u64>,
    /// The mint's supply after the previous step (slashes burn).
    prev_supply: u64,
}

const PROVIDER_WALLET: u64 = 5_000_000;
const UNBONDING: i64 = 900;

impl World {
    async fn new() -> World {
        let mut m = Market::new().await;
        m.bank.collect_events = false;
        // Half the jobs audited, so sequences reach audits (and their deposits' reserve).
        let admin = m.admin.insecure_clone();
        let treasury = m.treasury;
        let audited = concord_market::MarketParams {
            audit_bps: 5_000,
            ..crate::scenario::market_params()
        };
        m.bank
            .send(
                &[ix::update_market(&admin.pubkey(), &treasury, audited)],
                &[&admin],
            )
            .await
            .expect("audits on");
        let mut providers = Vec::new();
        for _ in 0..4 {
            let p = m.provider(STAKE).await;
            m.bank.mint_to(&p.token, PROVIDER_WALLET).await;
            providers.push(p);
        }
        let buyers = vec![m.actor(50_000_000).await, m.actor(50_000_000).await];
        let outsider = m.actor(1_000_000).await;
        // A short unbonding period so sequences also withdraw.
        let admin = m.admin.insecure_clone();
        let params = concord_staking::ConfigParams {
            unbonding_period: UNBONDING,
            ..crate::scenario::staking_params()
        };
        m.bank
            .send(
                &[ix::update_staking_config(&admin.pubkey(), params)],
                &[&admin],
            )
            .await
            .expect("config");
        World {
            stats: Stats::default(),
            m,
            buyers,
            providers,
            outsider,
            jobs: vec![],
            commits: HashMap::new(),
            prev_jobs: HashMap::new(),
            prev_slashed: vec![0; 4],
            prev_supply: 0,
        }
    }

    fn job(&self, i: u8) -> Option<(Pubkey, usize)> {
        if i == LATEST {
            return self.jobs.last().copied();
        }
        (!self.jobs.is_empty()).then(|| self.jobs[usize::from(i) % self.jobs.len()])
    }

    fn provider(&self, i: u8) -> &Actor {
        &self.providers[usize::from(i) % self.providers.len()]
    }

    /// Resolves a provider index for an action on `job`; [`NEXT`] picks the first provider
    /// for which `wants(slot status)` holds (`None` = holds no slot).
    async fn provider_for(
        &mut self,
        i: u8,
        job: &Pubkey,
        wants: fn(Option<SlotStatus>) -> bool,
    ) -> usize {
        if i != NEXT {
            return usize::from(i) % self.providers.len();
        }
        let Some(state) = self.job_account(job).await else {
            return 0;
        };
        (0..self.providers.len())
            .find(|&pi| {
                let status = state
                    .slot_index_of(&self.providers[pi].key())
                    .map(|i| state.slots[i].status);
                wants(status)
            })
            .unwrap_or(0)
    }

    async fn job_account(&mut self, job: &Pubkey) -> Option<Job> {
        self.m.bank.account::<Job>(job).await
    }

    /// Every address a random instruction may name.
    fn account_pool(&self) -> Vec<Pubkey> {
        let mut pool = vec![
            pda::staking_config(),
            pda::market_config(),
            pda::market_authority(),
            pda::event_authority(&concord_market::ID),
            pda::event_authority(&concord_staking::ID),
            concord_market::ID,
            concord_staking::ID,
            self.m.bank.token_program,
            anchor_lang::system_program::ID,
            self.m.bank.mint,
            self.m.treasury,
            pda::fee_vault(),
            self.m.draw_set,
            concord_sdk::chain::ix::SLOT_HASHES,
        ];
        for a in self
            .providers
            .iter()
            .chain(&self.buyers)
            .chain([&self.outsider])
        {
            pool.extend([
                a.key(),
                a.token,
                pda::provider(&a.key()),
                pda::stake_vault(&pda::provider(&a.key())),
                pda::draw_entry(&a.key()),
            ]);
        }
        for (job, _) in &self.jobs {
            pool.extend([*job, pda::job_vault(job)]);
        }
        pool
    }

    fn wallets(&self) -> Vec<&Actor> {
        self.providers
            .iter()
            .chain(&self.buyers)
            .chain([&self.outsider])
            .collect()
    }

    /// The natural next step for a job, as a concrete action.
    async fn next_step(&mut self, job: u8, result: u8) -> Option<Action> {
        let (address, _) = self.job(job)?;
        let j = self.job_account(&address).await?;
        let phase = &j.active_slots()[j.phase_start()..];
        let all_committed = phase.iter().all(|s| s.status != SlotStatus::Claimed);
        let all_revealed = phase.iter().all(|s| s.status == SlotStatus::Revealed);
        Some(match j.state {
            JobState::Open => Action::Claim {
                provider: NEXT,
                job,
            },
            JobState::Running if j.audit_pending() => Action::Audit { job },
            JobState::Running if !all_committed => Action::Commit {
                provider: NEXT,
                job,
                result,
            },
            JobState::Running if !all_revealed => Action::Reveal {
                provider: NEXT,
                job,
                honest: true,
            },
            JobState::Running => Action::Settle {
                job,
                reversed: false,
            },
            _ => Action::Close { job },
        })
    }

    /// Sends an action; refusals are expected and ignored (the invariants judge the state).
    async fn apply(&mut self, action: &Action) {
        if let Action::Advance { job, result } = *action {
            if let Some(step) = self.next_step(job, result).await {
                Box::pin(self.apply(&step)).await;
            }
            return;
        }
        let (mint, program) = (self.m.bank.mint, self.m.bank.token_program);
        match action.clone() {
            Action::CreateJob {
                buyer,
                id,
                replicas,
                quorum,
                price,
                collateral,
                window,
            } => {
                let b = usize::from(buyer) % self.buyers.len();
                // quorum 0 stands for "the smallest valid quorum".
                let quorum = if quorum == 0 {
                    replicas / 2 + 1
                } else {
                    quorum
                };
                let args = CreateJobArgs {
                    replicas,
                    quorum,
                    price_per_replica: u64::from(price),
                    collateral_per_replica: u64::from(collateral),
                    claim_window: i64::from(window),
                    exec_window: i64::from(window),
                    reveal_window: i64::from(window),
                    ..job_args(u64::from(id))
                };
                let buyer = &self.buyers[b];
                let (key, token) = (buyer.key(), buyer.token);
                let wallet = buyer.wallet.insecure_clone();
                self.m.next_draw_epoch().await;
                let ix_ = ix::create_job(&key, &token, &mint, &program, args);
                let ok = self.m.bank.send(&[ix_], &[&wallet]).await.is_ok();
                self.stats.record("create_job", ok);
                if ok {
                    // Claims land only after the creation slot, once the seed slot is produced.
                    let job = pda::job(&key, u64::from(id));
                    self.m.past_seed_slot(&job).await;
                    self.m.track(pda::job_vault(&job));
                    self.commits.retain(|(j, _), _| *j != job);
                    if !self.jobs.iter().any(|(j, _)| *j == job) {
                        self.jobs.push((job, b));
                    }
                }
            }
            Action::Claim { provider, job } => {
                let Some((job, _)) = self.job(job) else {
                    return;
                };
                let pi = self.provider_for(provider, &job, |s| s.is_none()).await;
                let p = self.providers[pi].wallet.insecure_clone();
                // The seed slot's leader (this test) grinds the draw for `p` when it can; the
                // claim goes out either way, so undrawn claims are refused.
                self.m.grind_draw(&job, &[p.pubkey()]).await;
                let draw_set = self.m.draw_set;
                let ok = self
                    .m
                    .bank
                    .send(&[ix::claim_slot(&p.pubkey(), &job, &draw_set)], &[&p])
                    .await
                    .is_ok();
                self.stats.record("claim", ok);
            }
            Action::Commit {
                provider,
                job,
                result,
            } => {
                let Some((job, _)) = self.job(job) else {
                    return;
                };
                let pi = self
                    .provider_for(provider, &job, |s| s == Some(SlotStatus::Claimed))
                    .await;
                let p = self.providers[pi].wallet.insecure_clone();
                let (r, salt) = ([result; 32], [pi as u8 + 1; 32]);
                let c = concord_market::commitment_hash(&job, &p.pubkey(), &r, &salt);
                let ok = self
                    .m
                    .bank
                    .send(&[ix::commit_result(&p.pubkey(), &job, c)], &[&p])
                    .await
                    .is_ok();
                self.stats.record("commit", ok);
                if ok {
                    self.commits.insert((job, pi), (r, salt));
                }
            }
            Action::Reveal {
                provider,
                job,
                honest,
            } => {
                let Some((job, _)) = self.job(job) else {
                    return;
                };
                let pi = self
                    .provider_for(provider, &job, |s| s == Some(SlotStatus::Committed))
                    .await;
                let p = self.providers[pi].wallet.insecure_clone();
                let (r, salt) = self
                    .commits
                    .get(&(job, pi))
                    .copied()
                    .unwrap_or(([0; 32], [0; 32]));
                let salt = if honest { salt } else { [0xEE; 32] };
                let ok = self
                    .m
                    .bank
                    .send(&[ix::reveal_result(&p.pubkey(), &job, r, salt)], &[&p])
                    .await
                    .is_ok();
                self.stats.record("reveal", ok);
            }
            Action::Settle { job, reversed } => {
                let Some((job, b)) = self.job(job) else {
                    return;
                };
                let Some(state) = self.job_account(&job).await else {
                    return;
                };
                // As the SDK does: a dispute's referees first, then the replicas.
                let referees_first = !state.referees_settled();
                let mut slots = if referees_first {
                    self.accounts_of(state.referee_slots())
                } else {
                    self.accounts_of(state.replica_slots())
                };
                if reversed {
                    slots.reverse();
                }
                let escrow = self.m.escrow(&self.buyers[b], &job);
                let (ix, name) = if referees_first {
                    (ix::settle_referees(&escrow, &slots), "settle_referees")
                } else {
                    (ix::settle(&escrow, &slots), "settle")
                };
                let ok = self.m.bank.send(&[ix], &[]).await.is_ok();
                self.stats.record(name, ok);
            }
            Action::Cancel { job, by_buyer } => {
                let Some((job, b)) = self.job(job) else {
                    return;
                };
                let Some(state) = self.job_account(&job).await else {
                    return;
                };
                let holders = self.slot_accounts(&state);
                let escrow = self.m.escrow(&self.buyers[b], &job);
                let signer = if by_buyer {
                    &self.buyers[b].wallet
                } else {
                    &self.outsider.wallet
                };
                let signer = signer.insecure_clone();
                let ok = self
                    .m
                    .bank
                    .send(
                        &[ix::cancel_job(&signer.pubkey(), &escrow, &holders)],
                        &[&signer],
                    )
                    .await
                    .is_ok();
                self.stats.record("cancel", ok);
            }
            Action::Refund { job } => {
                let Some((job, b)) = self.job(job) else {
                    return;
                };
                let Some(state) = self.job_account(&job).await else {
                    return;
                };
                let holders: Vec<Pubkey> =
                    state.filled_slots().iter().map(|s| s.provider).collect();
                let escrow = self.m.escrow(&self.buyers[b], &job);
                let ok = self
                    .m
                    .bank
                    .send(&[ix::refund_unfilled(&escrow, &holders)], &[])
                    .await
                    .is_ok();
                self.stats.record("refund", ok);
            }
            Action::Close { job } => {
                let Some((job, b)) = self.job(job) else {
                    return;
                };
                let escrow = self.m.escrow(&self.buyers[b], &job);
                let buyer = self.buyers[b].key();
                let ok = self
                    .m
                    .bank
                    .send(&[ix::close_job(&escrow, &buyer)], &[])
                    .await
                    .is_ok();
                self.stats.record("close", ok);
            }
            Action::WithdrawFees { by_admin } => {
                let signer = if by_admin {
                    self.m.admin.insecure_clone()
                } else {
                    self.outsider.wallet.insecure_clone()
                };
                let ix_ = ix::withdraw_fees(&signer.pubkey(), &self.m.treasury, &mint, &program);
                let ok = self.m.bank.send(&[ix_], &[&signer]).await.is_ok();
                self.stats.record("withdraw_fees", ok);
            }
            Action::Warp { seconds } => self.m.bank.warp(i64::from(seconds)).await,
            Action::Redraw { job } => {
                let Some((job, _)) = self.job(job) else {
                    return;
                };
                let draw_set = self.m.draw_set;
                let ix_ = ix::redraw(&job, &draw_set);
                let ok = self.m.bank.send(&[ix_], &[]).await.is_ok();
                if ok {
                    self.m.past_seed_slot(&job).await;
                }
                self.stats.record("redraw", ok);
            }
            Action::Audit { job } => {
                let Some((job, _)) = self.job(job) else {
                    return;
                };
                let ok = self.m.bank.send(&[ix::audit(&job)], &[]).await.is_ok();
                if ok {
                    self.m.past_seed_slot(&job).await;
                }
                self.stats.record("audit", ok);
            }
            Action::SyncDraw { provider } => {
                let key = self.provider(provider).key();
                let draw_set = self.m.draw_set;
                let ix_ = ix::sync_draw_weight(&key, &draw_set);
                let ok = self.m.bank.send(&[ix_], &[]).await.is_ok();
                self.stats.record("sync_draw_weight", ok);
            }
            Action::Advance { .. } => unreachable!("resolved above"),
            Action::Deposit { provider, amount } => {
                let p = self.provider(provider);
                let (key, token, w) = (p.key(), p.token, p.wallet.insecure_clone());
                let ix_ = ix::deposit_stake(&key, &token, &mint, &program, u64::from(amount));
                let ok = self.m.bank.send(&[ix_], &[&w]).await.is_ok();
                self.stats.record("deposit", ok);
            }
            Action::Unbond { provider, amount } => {
                let p = self.provider(provider).wallet.insecure_clone();
                let ok = self
                    .m
                    .bank
                    .send(
                        &[ix::request_unbond(
                            &p.pubkey(),
                            u64::from(amount),
                            concord_staking::MAX_UNBONDING_PERIOD,
                        )],
                        &[&p],
                    )
                    .await
                    .is_ok();
                self.stats.record("unbond", ok);
            }
            Action::Withdraw { provider } => {
                let p = self.provider(provider);
                let (key, token, w) = (p.key(), p.token, p.wallet.insecure_clone());
                let ok = self
                    .m
                    .bank
                    .send(&[ix::withdraw_stake(&key, &token, &mint, &program)], &[&w])
                    .await
                    .is_ok();
                self.stats.record("withdraw", ok);
            }
            Action::Garbage {
                program: target,
                instruction,
                data,
                accounts,
            } => {
                let program_id = match target {
                    0 => concord_staking::ID,
                    1 => concord_market::ID,
                    _ => concord_market::ID,
                };
                let discriminators: &[&[u8]] = if program_id == concord_staking::ID {
                    &STAKING_DISCRIMINATORS
                } else {
                    &MARKET_DISCRIMINATORS
                };
                let mut bytes =
                    discriminators[usize::from(instruction) % discriminators.len()].to_vec();
                if target == 2 {
                    bytes.clear(); // no discriminator at all
                }
                bytes.extend(data);
                let pool = self.account_pool();
                let wallets: Vec<Pubkey> = self.wallets().iter().map(|a| a.key()).collect();
                let mut signers = Vec::new();
                let metas: Vec<AccountMeta> = accounts
                    .iter()
                    .map(|(i, writable, signer)| {
                        let key = pool[usize::from(*i) % pool.len()];
                        let signs = *signer && wallets.contains(&key);
                        if signs && !signers.contains(&key) {
                            signers.push(key);
                        }
                        AccountMeta {
                            pubkey: key,
                            is_signer: signs,
                            is_writable: *writable,
                        }
                    })
                    .collect();
                let keypairs: Vec<_> = self
                    .wallets()
                    .into_iter()
                    .filter(|a| signers.contains(&a.key()))
                    .map(|a| a.wallet.insecure_clone())
                    .collect();
                let refs: Vec<_> = keypairs.iter().collect();
                let ix_ = Instruction {
                    program_id,
                    accounts: metas,
                    data: bytes,
                };
                let before = self.m.total_tokens().await;
                let balances = self.balances().await;
                let result = self.m.bank.send(&[ix_], &refs).await;
                self.stats.record("garbage", result.is_ok());
                assert!(
                    result.is_err(),
                    "random bytes were accepted as an instruction: {action:?}"
                );
                assert_eq!(
                    self.balances().await,
                    balances,
                    "a refused random instruction moved funds"
                );
                assert_eq!(self.m.total_tokens().await, before);
            }
        }
    }

    /// Each filled slot's holder and its token account, in slot order (cancel).
    fn slot_accounts(&self, job: &Job) -> Vec<(Pubkey, Pubkey)> {
        self.accounts_of(job.filled_slots())
    }

    /// Each of `slots`' holder and its token account, in order.
    fn accounts_of(&self, slots: &[concord_market::Slot]) -> Vec<(Pubkey, Pubkey)> {
        slots
            .iter()
            .map(|s| {
                let a = self
                    .providers
                    .iter()
                    .find(|p| p.key() == s.provider)
                    .expect("known provider");
                (a.key(), a.token)
            })
            .collect()
    }

    async fn balances(&mut self) -> Vec<u64> {
        let mut out = Vec::new();
        for a in self.account_pool() {
            out.push(self.m.bank.balance(&a).await);
        }
        out
    }

    /// The invariants of ARCHITECTURE.md ("Invariants"), read from the chain.
    async fn check(&mut self) -> Result<(), String> {
        // The draw set: its capacity, its epoch length and no weight past its providers.
        let set = self.m.draw_set_state().await;
        if set.invariant().is_err() {
            return Err(format!(
                "draw set invariant: len {} epoch_slots {}",
                set.len, set.epoch_slots
            ));
        }
        // Conservation: every token of the mint is in a known account.
        let supply = self.m.bank.supply().await;
        let total = self.m.total_tokens().await;
        if total != supply {
            return Err(format!("conservation: tracked {total} != supply {supply}"));
        }
        let mut burned = 0u64;
        let mut exposure = vec![0u64; self.providers.len()];
        let mut slashed_now = vec![0u64; self.providers.len()];
        for (job, _) in self.jobs.clone() {
            let account = self.job_account(&job).await;
            let vault = self.m.bank.balance(&pda::job_vault(&job)).await;
            let prev = self.prev_jobs.get(&job).cloned().flatten();
            let Some(j) = account else {
                if self.m.bank.exists(&pda::job_vault(&job)).await {
                    return Err(format!("job {job} closed but its vault remains"));
                }
                if let Some(p) = prev {
                    if !p.state.is_terminal() {
                        return Err(format!("job {job} closed from non-terminal {:?}", p.state));
                    }
                    burned += p.burn_due;
                }
                self.prev_jobs.insert(job, None);
                continue;
            };
            // The rules the program itself checks after every handler.
            j.check_invariant()
                .map_err(|rule| format!("job {job}: Job::invariant broken: {rule}"))?;
            // The vault holds exactly what the job still owes.
            if vault != j.escrow_owed {
                return Err(format!(
                    "job {job}: vault {vault} != owed {}",
                    j.escrow_owed
                ));
            }
            let deposit = j.deposit().ok_or("deposit overflows")?;
            // In a dispute, settled referees were paid out of the vault and slashed into it.
            let referees_slashed = j
                .referee_slots()
                .iter()
                .filter(|s| s.outcome == SlotOutcome::Slashed)
                .count() as u64;
            let expected_owed = match j.state {
                JobState::Open | JobState::Running => {
                    deposit - j.referee_pay_total + referees_slashed * j.collateral_per_replica
                }
                JobState::Settled => j.treasury_due + j.burn_due,
                JobState::Cancelled => j.treasury_due,
                JobState::Expired => 0,
            };
            if j.escrow_owed != expected_owed {
                return Err(format!(
                    "job {job}: owed {} in {:?}, expected {expected_owed}",
                    j.escrow_owed, j.state
                ));
            }
            // States only move forward; terminal states are absorbing.
            if let Some(p) = &prev {
                let rank = |s: JobState| match s {
                    JobState::Open => 0,
                    JobState::Running => 1,
                    _ => 2,
                };
                let ok = if p.state.is_terminal() {
                    p.state == j.state
                } else {
                    rank(j.state) >= rank(p.state)
                        // A dispute reopens a running job for its referees, once; an audit
                        // for its auditor, once (and a dropped audit runs again).
                        || (!p.disputed && j.disputed() && j.state == JobState::Open)
                        || (p.auditors == 0 && j.auditors > 0 && j.state == JobState::Open)
                        || (p.auditors > 0 && j.auditors == 0 && j.state == JobState::Running)
                };
                // A closed and recreated job id reads as a fresh open job.
                let reopened = p.state.is_terminal() && j.state == JobState::Open && j.filled == 0;
                if !(ok || reopened) {
                    return Err(format!("job {job}: {:?} -> {:?}", p.state, j.state));
                }
            }
            // One slot per provider; slots beyond `filled` are empty.
            let filled = usize::from(j.filled);
            let holders: Vec<Pubkey> = j.filled_slots().iter().map(|s| s.provider).collect();
            for (i, h) in holders.iter().enumerate() {
                if holders[..i].contains(h) {
                    return Err(format!("job {job}: provider {h} holds two slots"));
                }
            }
            if filled > usize::from(j.slot_count())
                || j.slots[filled..]
                    .iter()
                    .any(|s| s.provider != Pubkey::default())
            {
                return Err(format!("job {job}: slot bookkeeping broken"));
            }
            // Exposure: collateral locked for each slot of a job still in play.
            for s in j.filled_slots() {
                let pi = self
                    .providers
                    .iter()
                    .position(|p| p.key() == s.provider)
                    .expect("known provider");
                // (A dispute's settled referees are unlocked before the job ends.)
                if matches!(j.state, JobState::Open | JobState::Running)
                    && s.outcome == SlotOutcome::Pending
                {
                    exposure[pi] += j.collateral_per_replica;
                }
                let was_slashed = prev
                    .as_ref()
                    .and_then(|p| p.outcomes.iter().find(|(k, _)| *k == s.provider))
                    .is_some_and(|(_, o)| *o == SlotOutcome::Slashed);
                if s.outcome == SlotOutcome::Slashed && !was_slashed {
                    slashed_now[pi] += j.collateral_per_replica;
                }
            }
            let outcomes = j
                .filled_slots()
                .iter()
                .map(|s| (s.provider, s.outcome))
                .collect();
            self.prev_jobs.insert(
                job,
                Some(JobView {
                    state: j.state,
                    disputed: j.disputed(),
                    auditors: j.auditors,
                    burn_due: j.burn_due,
                    outcomes,
                }),
            );
        }
        for (i, p) in self.providers.iter().enumerate() {
            let key = p.key();
            let state = self
                .m
                .bank
                .account::<concord_staking::Provider>(&pda::provider(&key))
                .await
                .ok_or("provider account missing")?;
            if state.locked != exposure[i] {
                return Err(format!(
                    "provider {i}: locked {} != exposure {}",
                    state.locked, exposure[i]
                ));
            }
            if state.invariant().is_err() {
                return Err(format!("provider {i}: locked + unbonding > staked"));
            }
            let vault = self
                .m
                .bank
                .balance(&pda::stake_vault(&pda::provider(&key)))
                .await;
            if vault != state.staked {
                return Err(format!(
                    "provider {i}: vault {vault} != staked {}",
                    state.staked
                ));
            }
            // Slashing only through settlement, never above the slashed slots' collateral.
            let delta = state.stats.slashed - self.prev_slashed[i];
            if delta != slashed_now[i] {
                return Err(format!(
                    "provider {i}: slashed {delta} this step, slots justify {}",
                    slashed_now[i]
                ));
            }
            self.prev_slashed[i] = state.stats.slashed;
        }
        // No slash is credited to a buyer, the admin or the fee vault: slashed collateral waits
        // in its job's vault (`burn_due`, checked above with the vault balance) except what
        // paid a dispute's referees, and the supply falls by exactly the dues of the jobs
        // closed this step.
        if self.prev_supply != 0 && self.prev_supply.checked_sub(supply) != Some(burned) {
            return Err(format!(
                "supply went from {} to {supply} this step; closed jobs burned {burned}",
                self.prev_supply
            ));
        }
        self.prev_supply = supply;
        Ok(())
    }
}

const STAKING_DISCRIMINATORS: [&[u8]; 11] = {
    use concord_staking::instruction as i;
    [
        i::InitializeConfig::DISCRIMINATOR,
        i::UpdateConfig::DISCRIMINATOR,
        i::RegisterProvider::DISCRIMINATOR,
        i::UpdateProvider::DISCRIMINATOR,
        i::DepositStake::DISCRIMINATOR,
        i::RequestUnbond::DISCRIMINATOR,
        i::WithdrawStake::DISCRIMINATOR,
        i::CloseProvider::DISCRIMINATOR,
        i::LockCollateral::DISCRIMINATOR,
        i::UnlockCollateral::DISCRIMINATOR,
        i::Slash::DISCRIMINATOR,
    ]
};

const MARKET_DISCRIMINATORS: [&[u8]; 17] = {
    use concord_market::instruction as i;
    [
        i::InitializeMarket::DISCRIMINATOR,
        i::UpdateMarket::DISCRIMINATOR,
        i::SetPaused::DISCRIMINATOR,
        i::CreateJob::DISCRIMINATOR,
        i::ClaimSlot::DISCRIMINATOR,
        i::CommitResult::DISCRIMINATOR,
        i::RevealResult::DISCRIMINATOR,
        i::Settle::DISCRIMINATOR,
        i::CancelJob::DISCRIMINATOR,
        i::RefundUnfilled::DISCRIMINATOR,
        i::CloseJob::DISCRIMINATOR,
        i::WithdrawFees::DISCRIMINATOR,
        i::JoinDraws::DISCRIMINATOR,
        i::SyncDrawWeight::DISCRIMINATOR,
        i::Redraw::DISCRIMINATOR,
        i::SettleReferees::DISCRIMINATOR,
        i::Audit::DISCRIMINATOR,
    ]
};

/// Runs `actions` in a fresh market, checking the invariants after every step.
pub async fn run(actions: &[Action]) -> Result<Stats, Failure> {
    let mut world = World::new().await;
    world
        .check()
        .await
        .map_err(|message| Failure { step: 0, message })?;
    for (step, action) in actions.iter().enumerate() {
        let applied = futures_catch(world.apply(action)).await;
        if let Err(message) = applied {
            return Err(Failure { step, message });
        }
        world
            .check()
            .await
            .map_err(|message| Failure { step, message })?;
    }
    Ok(world.stats)
}

/// Turns a panic inside `apply` (a garbage instruction that was accepted or moved funds) into
/// a failure, so it can be shrunk like an invariant violation.
async fn futures_catch(f: impl std::future::Future<Output = ()>) -> Result<(), String> {
    use std::panic::AssertUnwindSafe;
    let fut = AssertUnwindSafe(f);
    match tokio::task::unconstrained(CatchUnwind(Box::pin(fut))).await {
        Ok(()) => Ok(()),
        Err(e) => Err(e
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "panic".into())),
    }
}

struct CatchUnwind<F>(std::pin::Pin<Box<F>>);

impl<F: std::future::Future<Output = ()>> std::future::Future for CatchUnwind<F> {
    type Output = Result<(), Box<dyn std::any::Any + Send>>;
    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        let inner = self.0.as_mut();
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| inner.poll(cx))) {
            Ok(std::task::Poll::Pending) => std::task::Poll::Pending,
            Ok(std::task::Poll::Ready(())) => std::task::Poll::Ready(Ok(())),
            Err(e) => std::task::Poll::Ready(Err(e)),
        }
    }
}

/// Removes chunks of a failing sequence while it still fails (delta debugging).
pub async fn shrink(mut actions: Vec<Action>) -> Vec<Action> {
    let mut chunk = (actions.len() / 2).max(1);
    loop {
        let mut i = 0;
        while i < actions.len() {
            let end = (i + chunk).min(actions.len());
            let candidate: Vec<Action> = actions[..i]
                .iter()
                .chain(&actions[end..])
                .cloned()
                .collect();
            if run(&candidate).await.is_err() {
                actions = candidate;
            } else {
                i += chunk;
            }
        }
        if chunk == 1 {
            return actions;
        }
        chunk /= 2;
    }
}

/// A saved failing sequence.
#[derive(Debug, Serialize, Deserialize)]
pub struct Regression {
    pub seed: u64,
    pub note: String,
    pub actions: Vec<Action>,
}
