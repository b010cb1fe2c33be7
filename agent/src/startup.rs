//! Start-up: the keypair, the chain, the adapter jobs run on (CPU rasterisers refused unless
//! allowed), registration or a profile update, the stake top-up, and the journal.
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use concord_compute::executor::{
    list_adapters, AdapterSelector, AdapterSummary, Backend, Executor,
};
use concord_sdk::chain::{
    ix, pda, read_keypair, Chain, ChainError, HardwareProfile, Provider, Sender, SignatureEvent,
    SignatureWatch,
};
use solana_commitment_config::CommitmentConfig;
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signer::Signer;
use tokio::sync::{watch, Semaphore};
use tracing::info;

use crate::config::Config;
use crate::context::Agent;
use crate::journal::Journal;
use crate::metrics::Metrics;
use concord_sdk::blob_cache::BlobCache;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{0}")]
    Config(String),
    #[error(transparent)]
    Keypair(#[from] concord_sdk::chain::KeypairError),
    #[error("{field}: {source}")]
    Amount {
        field: &'static str,
        #[source]
        source: concord_sdk::chain::BadAmount,
    },
    #[error("provider.stake asks for {missing} more tokens staked but {account} holds {balance}")]
    NotEnoughTokens {
        missing: String,
        account: Pubkey,
        balance: String,
    },
    #[error("the chain at {url}: {error}")]
    Chain { url: String, error: ChainError },
    #[error("{0}")]
    Journal(#[from] crate::journal::JournalError),
    #[error("{0}")]
    Adapter(String),
}

/// The adapter jobs will run on, by the config's choice.
pub fn choose_adapter(config: &Config) -> Result<(AdapterSelector, AdapterSummary), StartError> {
    let selector = AdapterSelector {
        backend: config
            .gpu
            .backend
            .as_deref()
            .map(|b| b.parse::<Backend>().map_err(StartError::Config))
            .transpose()?,
        name_contains: config.gpu.adapter_name_contains.clone(),
    };
    let all = list_adapters();
    let chosen = all
        .iter()
        .find(|a| {
            selector.backend.is_none_or(|b| a.backend == b)
                && selector
                    .name_contains
                    .as_deref()
                    .is_none_or(|n| a.name.to_lowercase().contains(&n.to_lowercase()))
        })
        .cloned()
        .ok_or_else(|| {
            let seen: Vec<String> = all.iter().map(|a| a.to_string()).collect();
            StartError::Adapter(format!(
                "no GPU adapter matches the [gpu] section (adapters here: {})",
                if seen.is_empty() {
                    "none".into()
                } else {
                    seen.join("; ")
                }
            ))
        })?;
    if chosen.device_type == "Cpu" && !config.gpu.allow_cpu_adapter {
        return Err(StartError::Adapter(format!(
            "{chosen} is a CPU rasteriser; it truncates long loops and is slow, so it is refused \
             for real jobs (set gpu.allow_cpu_adapter = true for tests and demos)"
        )));
    }
    // Run on exactly the adapter we advertise.
    let selector = AdapterSelector {
        backend: Some(chosen.backend),
        name_contains: Some(chosen.name.clone()),
    };
    Ok((selector, chosen))
}

/// Connects, checks the adapter, registers or updates the provider, tops up the stake and
/// opens the journal.
pub async fn start(
    config: Config,
    shutdown: watch::Receiver<bool>,
) -> Result<Arc<Agent>, StartError> {
    let keypair = Arc::new(read_keypair(&config.keypair)?);
    let me = keypair.pubkey();
    let (selector, adapter) = choose_adapter(&config)?;
    let rpc = Arc::new(RpcClient::new_with_commitment(
        config.rpc_url.clone(),
        CommitmentConfig::confirmed(),
    ));
    let chain = Chain::new(rpc.clone());
    let mut sender = Sender::new(rpc, keypair.clone());
    sender.priority_fee =
        (config.priority_fee_micro_lamports > 0).then_some(config.priority_fee_micro_lamports);
    let url = config.rpc_url.clone();
    let chain_err = move |error| StartError::Chain {
        url: url.clone(),
        error,
    };
    let mint = chain.payment_mint().await.map_err(&chain_err)?;
    let market = chain.market_config().await.map_err(&chain_err)?;
    let price_floor = mint
        .parse_units(&config.jobs.price_floor)
        .map_err(|source| StartError::Amount {
            field: "jobs.price_floor",
            source,
        })?;
    let buyers = config.jobs.buyer_keys();
    let hardware = HardwareProfile::from_adapter(
        &adapter.name,
        config.provider.memory_mib,
        concord_staking::backend::from_name(adapter.backend.name()).unwrap_or_default(),
        config.provider.features,
    );
    let journal = Journal::open(&config.journal, &config.outputs_dir())?;
    let metrics = Metrics::new(
        me.to_string(),
        Duration::from_millis(config.poll_interval_ms),
    );
    let mut executor = Executor::self_hosted(selector)
        .map_err(|e| StartError::Config(format!("cannot find this program's path: {e}")))?;
    if let Some(secs) = config.gpu.max_runtime_secs {
        executor = executor.max_runtime(Duration::from_secs(secs));
    }
    let blob_cache = if config.store.cache_max_bytes == 0 {
        None
    } else {
        let dir = config.blob_cache_dir();
        Some(
            BlobCache::open(&dir, config.store.cache_max_bytes).map_err(|e| {
                StartError::Config(format!("cannot open the blob cache {}: {e}", dir.display()))
            })?,
        )
    };
    let pubsub_url = config.pubsub().map_err(StartError::Config)?;
    if let Some(url) = &pubsub_url {
        let m = metrics.clone();
        sender.signatures = Some(SignatureWatch::new(url.clone()).on_event(move |e| {
            match e {
                SignatureEvent::Connected => m.signature_connections.inc(),
                SignatureEvent::Dropped => m.signature_drops.inc(),
                SignatureEvent::Notified => m.signature_notifications.inc(),
            };
        }));
    }
    // Notifications at the commitment every read of this agent uses.
    let commitment = chain.rpc.commitment();
    let agent = Agent {
        identity: concord_provider::Identity::new(&keypair),
        config,
        me,
        keypair,
        chain,
        sender,
        draw_set: market.draw_set,
        take_window: market.params.take_window,
        draw_index: std::sync::OnceLock::new(),
        mint,
        journal,
        metrics: metrics.clone(),
        executor,
        adapter,
        hardware,
        price_floor,
        buyers,
        gpu: Semaphore::new(1),
        shutdown,
        active: Mutex::new(HashSet::new()),
        passed_over: Mutex::new(HashSet::new()),
        watch: crate::watch::Watch::start(pubsub_url, commitment, metrics.clone()),
        blob_cache,
        cache_counted: Mutex::new((0, 0)),
        clock_read: tokio::sync::Mutex::new(None),
        redrawing: Mutex::new(HashSet::new()),
    };
    ensure_registered(&agent, &chain_err).await?;
    ensure_in_draws(&agent, &chain_err).await?;
    Ok(Arc::new(agent))
}

/// Registers the provider (or updates its profile) and deposits up to `provider.stake`.
async fn ensure_registered(
    agent: &Agent,
    chain_err: &impl Fn(ChainError) -> StartError,
) -> Result<(), StartError> {
    let me = agent.me;
    let mint = &agent.mint;
    let address = pda::provider(&me);
    let existing: Option<Provider> = agent
        .retry("read provider", || agent.chain.fetch(&address))
        .await
        .map_err(chain_err)?;
    match &existing {
        None => {
            let register = [ix::register_provider(
                &me,
                &mint.address,
                &mint.token_program,
                agent.hardware.clone(),
                &agent.config.provider.metadata_uri,
            )];
            agent.sender.send(&register, &[]).await.map_err(chain_err)?;
            info!(provider = %me, gpu = %agent.hardware.gpu_name, "registered as a provider");
        }
        Some(p) if p.hardware != agent.hardware || !p.accepting_jobs => {
            let update = concord_staking::instructions::ProviderUpdate {
                hardware: Some(agent.hardware.clone()),
                metadata_uri: None,
                accepting_jobs: Some(true),
            };
            agent
                .sender
                .send(&[ix::update_provider(&me, update)], &[])
                .await
                .map_err(chain_err)?;
            info!(provider = %me, gpu = %agent.hardware.gpu_name, "updated the provider profile");
        }
        Some(_) => {}
    }
    let Some(target) = &agent.config.provider.stake else {
        return Ok(());
    };
    let target = mint
        .parse_units(target)
        .map_err(|source| StartError::Amount {
            field: "provider.stake",
            source,
        })?;
    let staked = existing.map_or(0, |p| p.staked);
    if staked >= target {
        return Ok(());
    }
    let missing = target - staked;
    let source = mint.account_of(&me);
    let balance = agent
        .retry("read token balance", || agent.chain.token_balance(&source))
        .await
        .map_err(chain_err)?;
    if balance < missing {
        return Err(StartError::NotEnoughTokens {
            missing: mint.format(missing),
            account: source,
            balance: mint.format(balance),
        });
    }
    let deposit = [ix::deposit_stake(
        &me,
        &source,
        &mint.address,
        &mint.token_program,
        missing,
    )];
    agent.sender.send(&deposit, &[]).await.map_err(chain_err)?;
    info!(deposited = %mint.format(missing), staked = %mint.format(target), "stake topped up");
    Ok(())
}

/// Joins the draws, or brings this provider's draw weight up to its stake (it counts from the
/// next draw epoch).
async fn ensure_in_draws(
    agent: &Agent,
    chain_err: &impl Fn(ChainError) -> StartError,
) -> Result<(), StartError> {
    let me = agent.me;
    let view = agent
        .retry("read the draws", || {
            agent.chain.draw_view(&agent.draw_set, &me)
        })
        .await
        .map_err(chain_err)?;
    let ix_ = if view.index.is_none() {
        Some(ix::join_draws(&me, &agent.draw_set))
    } else if view.weight_drifted() {
        Some(ix::sync_draw_weight(&me, &agent.draw_set))
    } else {
        None
    };
    if let Some(ix_) = ix_ {
        agent.sender.send(&[ix_], &[]).await.map_err(chain_err)?;
        info!(provider = %me, weight = %agent.mint.format(view.weight), "in the draws (from the next draw epoch)");
    }
    let index = match view.index {
        Some(i) => i,
        None => {
            agent
                .retry("read the draw entry", || agent.chain.draw_entry(&me))
                .await
                .map_err(chain_err)?
                .ok_or_else(|| {
                    chain_err(ChainError::NotFound(format!(
                        "the draw entry of {me} after joining the draws"
                    )))
                })?
                .index
        }
    };
    let _ = agent.draw_index.set(index);
    Ok(())
}
