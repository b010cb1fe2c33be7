//! Starting the validator, adding the programs, and creating the mint and configs.
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::program_pack::Pack;
use anchor_lang::solana_program::system_instruction;
use anchor_spl::token_2022::spl_token_2022;
use anyhow::{anyhow, Context, Result};
use concord_sdk::chain::{ix, pda, Sender};

use crate::funder::{Funder, DECIMALS};
use concord_market::MarketParams;
use concord_staking::ConfigParams;
use serde::{Deserialize, Serialize};
use solana_commitment_config::CommitmentConfig;
use solana_program_runtime::program_cache_entry::ProgramCacheEntry;
use solana_rpc::rpc_pubsub_service::{
    PubSubConfig, DEFAULT_QUEUE_CAPACITY_BYTES, DEFAULT_QUEUE_CAPACITY_ITEMS,
};
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_sdk::signature::Keypair;
use solana_sdk::signer::Signer;
use solana_test_validator::{TestValidator, TestValidatorGenesis};

/// How to start a local chain.
#[derive(Clone, Debug)]
pub struct LocalnetConfig {
    /// JSON-RPC port; PubSub listens on the next one.
    pub rpc_port: u16,
    /// Port of the HTTP token faucet (`POST /airdrop`).
    pub token_faucet_port: u16,
    /// Gossip port; the validator's default when `None`.
    pub gossip_port: Option<u16>,
    /// Ledger directory; a fresh temporary one when `None`.
    pub ledger: Option<PathBuf>,
    /// Pay in a Token-2022 mint instead of a classic SPL Token mint.
    pub token_2022: bool,
    pub market: MarketParams,
    pub staking: ConfigParams,
    /// Create the mint's configs (staking and market); off leaves a bare chain for
    /// `concord market init`.
    pub initialize: bool,
    /// Slots per draw epoch (8 here, about 3 s: a provider that joins counts in the draws
    /// within seconds). The local take window is 8 s: time for an agent under load to fetch a
    /// job and land its claim.
    pub draw_epoch_slots: u64,
    /// Run the validator's busy-polling banking scheduler thread at nice 19
    /// (`crate::scheduler`). Off by default: with it on, the first full test run saw Agave's
    /// broadcast stage panic twice on debug chains under a saturated CPU, halting them.
    pub yield_scheduler: bool,
}

impl Default for LocalnetConfig {
    fn default() -> Self {
        LocalnetConfig {
            rpc_port: 8899,
            token_faucet_port: 8901,
            gossip_port: None,
            ledger: None,
            token_2022: false,
            // The market's defaults, with windows from 5 s and a minute of unbonding so that
            // tests and demos run quickly.
            market: MarketParams {
                min_window: 5,
                take_window: 8,
                ..MarketParams::DEFAULT
            },
            draw_epoch_slots: 8,
            staking: ConfigParams {
                unbonding_period: 60,
                ..ConfigParams::DEFAULT
            },
            initialize: true,
            yield_scheduler: false,
        }
    }
}

/// What a started chain offers, as printed and as written to `<ledger>/localnet.json`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LocalnetInfo {
    pub rpc_url: String,
    pub pubsub_url: String,
    pub token_faucet_url: String,
    /// The content store the faucet's port serves (`crate::store`): the `--store` of jobs
    /// whose buyers and providers are all on this machine, a browser's included.
    pub store_url: String,
    pub staking_program: String,
    pub market_program: String,
    pub payment_mint: String,
    pub token_program: String,
    pub decimals: u8,
    pub treasury: String,
    pub admin: String,
    pub ledger: String,
}

/// A free TCP port on 127.0.0.1 (for tests that start several chains).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl LocalnetConfig {
    /// Defaults on free ports: for tests running next to other chains.
    pub fn on_free_ports() -> LocalnetConfig {
        // The validator also binds the port after the RPC port (PubSub) and a range after it.
        let rpc_port = loop {
            let p = free_port();
            if p < 60_000 && std::net::TcpListener::bind(("127.0.0.1", p + 1)).is_ok() {
                break p;
            }
        };
        // Gossip binds UDP and TCP on one port: take one that is free for both.
        let gossip_port = loop {
            let p = free_port();
            if std::net::UdpSocket::bind(("127.0.0.1", p)).is_ok() && p != rpc_port + 1 {
                break p;
            }
        };
        LocalnetConfig {
            rpc_port,
            token_faucet_port: free_port(),
            gossip_port: Some(gossip_port),
            ..LocalnetConfig::default()
        }
    }
}

/// How long dropping a [`Localnet`] waits for its validator's threads to stop.
const STOP_LIMIT: Duration = Duration::from_secs(60);

/// A running local chain. Dropping it stops the validator, waiting at most [`STOP_LIMIT`]:
/// Agave's validator sometimes never joins one of its threads on exit, and a test run or a
/// script must not hang on that (the stuck threads are left behind, and said so on stderr).
pub struct Localnet {
    validator: Option<TestValidator>,
    pub info: LocalnetInfo,
    pub rpc: Arc<RpcClient>,
    /// Funded genesis keypair; admin of both configs.
    pub admin: Arc<Keypair>,
    pub mint: Pubkey,
    pub mint_authority: Arc<Keypair>,
    pub token_program: Pubkey,
    _ledger_dir: Option<tempdir::TempDir>,
}

mod tempdir {
    /// A directory removed on drop.
    pub struct TempDir(pub std::path::PathBuf);
    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

impl Localnet {
    /// Starts the validator with both programs, then creates the mint and the configs.
    pub async fn start(config: LocalnetConfig) -> Result<Localnet> {
        check_ports_free(&config)?;
        install_native_runtime().await;
        let (ledger, guard) = match &config.ledger {
            Some(dir) => (dir.clone(), None),
            None => {
                let dir = std::env::temp_dir().join(format!(
                    "concord-localnet-{}-{}",
                    std::process::id(),
                    config.rpc_port
                ));
                (dir.clone(), Some(tempdir::TempDir(dir)))
            }
        };
        let mut genesis = TestValidatorGenesis::default();
        genesis.ledger_path(&ledger).rpc_port(config.rpc_port);
        // Transaction history (getTransaction, getSignaturesForAddress), as on a real cluster:
        // clients read program logs and count a job's transactions with it. With the extended
        // metadata a transaction keeps its log messages, inner instructions (the programs'
        // `emit_cpi!` events) and return data, which the validator drops otherwise.
        genesis.rpc_config(solana_rpc::rpc::JsonRpcConfig {
            enable_rpc_transaction_history: true,
            enable_extended_tx_metadata_storage: true,
            ..solana_rpc::rpc::JsonRpcConfig::default_for_test()
        });
        // PubSub queues as a real node's: the test validator's (1,000 notifications for all
        // subscribers together) overflow as soon as a few agents watch a busy market, and the
        // node then disconnects every subscriber that fell behind (seen: eight agents at once,
        // mid-run, each then re-listing every open job and re-reading every job it held).
        genesis.pubsub_config(PubSubConfig {
            queue_capacity_items: DEFAULT_QUEUE_CAPACITY_ITEMS,
            queue_capacity_bytes: DEFAULT_QUEUE_CAPACITY_BYTES,
            ..PubSubConfig::default_for_tests()
        });
        if let Some(port) = config.gossip_port {
            genesis.gossip_port(port);
        }
        let (validator, admin) = genesis.start_async().await;
        if config.yield_scheduler && crate::scheduler::yield_scheduler().is_empty() {
            eprintln!(
                "concord-localnet: no `{}` thread found to lower; an idle chain keeps a core busy",
                crate::scheduler::SCHEDULER_THREAD
            );
        }
        add_programs(&validator);
        let rpc = Arc::new(RpcClient::new_with_commitment(
            validator.rpc_url(),
            CommitmentConfig::confirmed(),
        ));
        wait_slots(&rpc, 3).await?;

        let admin = Arc::new(admin);
        let token_program = if config.token_2022 {
            anchor_spl::token_2022::ID
        } else {
            anchor_spl::token::ID
        };
        let mint_authority = Arc::new(Keypair::new());
        let sender = Sender::new(rpc.clone(), admin.clone());
        let mint = create_mint(&rpc, &sender, &mint_authority.pubkey(), &token_program).await?;
        let treasury = pda::associated_token(&admin.pubkey(), &mint, &token_program);
        let mut ixs = vec![ix::create_associated_token_idempotent(
            &admin.pubkey(),
            &admin.pubkey(),
            &mint,
            &token_program,
        )];
        if config.initialize {
            ixs.push(ix::initialize_staking(
                &admin.pubkey(),
                &mint,
                config.staking,
                pda::market_authority(),
                false,
            ));
        }
        sender
            .send(&ixs, &[])
            .await
            .context("initializing the staking config")?;
        if config.initialize {
            concord_sdk::chain::draws::initialize_market(
                &sender,
                &admin.pubkey(),
                &mint,
                &token_program,
                &treasury,
                config.market,
                config.draw_epoch_slots,
            )
            .await
            .context("initializing the market config and its draw set")?;
        }

        let info = LocalnetInfo {
            rpc_url: validator.rpc_url(),
            pubsub_url: validator.rpc_pubsub_url(),
            token_faucet_url: format!("http://127.0.0.1:{}", config.token_faucet_port),
            store_url: format!("http://127.0.0.1:{}/store", config.token_faucet_port),
            staking_program: concord_staking::ID.to_string(),
            market_program: concord_market::ID.to_string(),
            payment_mint: mint.to_string(),
            token_program: token_program.to_string(),
            decimals: DECIMALS,
            treasury: treasury.to_string(),
            admin: admin.pubkey().to_string(),
            ledger: ledger.display().to_string(),
        };
        std::fs::write(
            ledger.join("localnet.json"),
            serde_json::to_string_pretty(&info)?,
        )?;
        // A local chain's admin key is no secret: scripts use it for `concord market update`.
        std::fs::write(
            ledger.join("admin-keypair.json"),
            serde_json::to_string(&admin.to_bytes().to_vec())?,
        )?;
        Ok(Localnet {
            validator: Some(validator),
            info,
            rpc,
            admin,
            mint,
            mint_authority,
            token_program,
            _ledger_dir: guard,
        })
    }

    /// What hands out SOL and payment tokens on this chain.
    pub fn funder(&self) -> Funder {
        Funder {
            rpc: self.rpc.clone(),
            admin: self.admin.clone(),
            mint: self.mint,
            mint_authority: self.mint_authority.clone(),
            token_program: self.token_program,
        }
    }

    /// See [`Funder::airdrop`].
    pub async fn airdrop(&self, to: &Pubkey, lamports: u64, tokens: u64) -> Result<()> {
        self.funder().airdrop(to, lamports, tokens).await
    }

    /// Serves the HTTP token faucet and the content store (`<ledger>/store`) in the background.
    pub async fn serve_token_faucet(&self, port: u16) -> Result<std::net::SocketAddr> {
        let store = std::path::Path::new(&self.info.ledger).join("store");
        crate::faucet::serve(self.funder(), port, store).await
    }
}

impl Drop for Localnet {
    fn drop(&mut self) {
        let Some(validator) = self.validator.take() else {
            return;
        };
        let (done, stopped) = std::sync::mpsc::channel();
        let stopper = std::thread::Builder::new()
            .name("localnet-stop".into())
            .spawn(move || {
                drop(validator);
                let _ = done.send(());
            });
        if stopper.is_ok() && stopped.recv_timeout(STOP_LIMIT).is_err() {
            eprintln!(
                "the local chain's validator did not stop within {} s; its threads are left behind",
                STOP_LIMIT.as_secs()
            );
        }
    }
}

/// Refuses to start, with one sentence, when a port the chain needs is taken (the validator
/// itself would panic with a backtrace).
fn check_ports_free(config: &LocalnetConfig) -> Result<()> {
    let taken = |what: &str, port: u16, flag: &str| {
        anyhow!(
            "the {what} port {port} is already in use (is another concord-localnet running?); \
             choose another with {flag}"
        )
    };
    for (what, port, flag) in [
        ("RPC", config.rpc_port, "--rpc-port"),
        ("PubSub", config.rpc_port.saturating_add(1), "--rpc-port"),
    ] {
        std::net::TcpListener::bind(("127.0.0.1", port)).map_err(|_| taken(what, port, flag))?;
    }
    if let Some(port) = config.gossip_port {
        std::net::UdpSocket::bind(("127.0.0.1", port))
            .and_then(|_| std::net::TcpListener::bind(("127.0.0.1", port)))
            .map_err(|_| taken("gossip", port, "--gossip-port"))?;
    }
    Ok(())
}

/// Program-test installs the syscall stubs native programs need (once per process), then the
/// bridge makes Anchor's 3.x sysvar stubs reach them.
async fn install_native_runtime() {
    static ONCE: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();
    ONCE.get_or_init(|| async {
        let _ = solana_program_test::ProgramTest::default().start().await;
        concord_native::install_sysvar_bridge();
    })
    .await;
}

/// Adds both programs to the working bank. The bank can freeze between being read and being
/// changed (the validator is running), and adding a builtin to a frozen bank panics: then the
/// next working bank is tried.
fn add_programs(validator: &TestValidator) {
    for _ in 0..100 {
        let bank = validator
            .bank_forks()
            .read()
            .expect("bank forks")
            .working_bank();
        if bank.is_frozen() {
            std::thread::sleep(Duration::from_millis(5));
            continue;
        }
        let added = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            for b in concord_native::builtins() {
                bank.add_builtin(
                    b.program_id,
                    b.name,
                    ProgramCacheEntry::new_builtin(0, b.name.len(), b.registerer),
                );
            }
        }));
        if added.is_ok() {
            return;
        }
    }
    panic!("could not add the programs to a working bank");
}

/// Waits until the chain has advanced `n` slots (programs added to the working bank are
/// usable from the next slots on).
async fn wait_slots(rpc: &RpcClient, n: u64) -> Result<()> {
    let start = rpc.get_slot().await.context("reading the slot")?;
    for _ in 0..200 {
        if rpc.get_slot().await? >= start + n {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(anyhow!("the validator is not producing slots"))
}

async fn create_mint(
    rpc: &RpcClient,
    sender: &Sender,
    authority: &Pubkey,
    token_program: &Pubkey,
) -> Result<Pubkey> {
    let mint = Keypair::new();
    let space = spl_token_2022::state::Mint::LEN;
    let rent = rpc.get_minimum_balance_for_rent_exemption(space).await?;
    let payer = sender.payer.pubkey();
    sender
        .send(
            &[
                system_instruction::create_account(
                    &payer,
                    &mint.pubkey(),
                    rent,
                    space as u64,
                    token_program,
                ),
                spl_token_2022::instruction::initialize_mint2(
                    token_program,
                    &mint.pubkey(),
                    authority,
                    None,
                    DECIMALS,
                )?,
            ],
            &[&mint],
        )
        .await
        .map_err(|e| anyhow!("creating the payment mint: {e}"))?;
    Ok(mint.pubkey())
}
