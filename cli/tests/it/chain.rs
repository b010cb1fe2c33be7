//! Drives every chain command of the `concord` CLI through the real `RpcClient` against a real
//! local chain (an in-process solana-test-validator with both programs), as separate processes,
//! including the bad inputs a user can give, each with its clear error and exit code and with
//! nothing changed on chain.

use std::path::{Path, PathBuf};
use std::process::Command;

use concord_localnet::{Localnet, LocalnetConfig};
use serde_json::Value;
use solana_sdk::signature::Keypair;
use solana_sdk::signer::Signer;

const TOKEN: u64 = 1_000_000; // 6 decimals

/// Two validators in one process would race for the same gossip ports: tests take turns.
static ONE_CHAIN_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

struct Env {
    net: Localnet,
    dir: PathBuf,
    faucet: String,
    /// Last field: released only after the validator has been dropped (fields drop in order).
    _turn: tokio::sync::MutexGuard<'static, ()>,
}

impl Env {
    async fn start(initialize: bool) -> Env {
        let turn = ONE_CHAIN_AT_A_TIME.lock().await;
        std::env::set_var("RUST_LOG", "error");
        let mut config = LocalnetConfig::on_free_ports();
        config.initialize = initialize;
        config.staking.unbonding_period = 1;
        // No hidden audits: these tests drive jobs by hand and count exact deposits (the
        // market's default is 70 %; the agents' end-to-end test (n) runs with audits).
        config.market.audit_bps = 0;
        let token_faucet_port = config.token_faucet_port;
        let net = Localnet::start(config).await.expect("localnet");
        net.serve_token_faucet(token_faucet_port)
            .await
            .expect("faucet");
        let dir = std::env::temp_dir().join(format!(
            "concord-cli-{}-{}",
            std::process::id(),
            net.info.rpc_url.rsplit(':').next().unwrap()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Env {
            _turn: turn,
            net,
            dir,
            faucet: format!("http://127.0.0.1:{token_faucet_port}"),
        }
    }

    /// Writes a keypair file and returns its path.
    fn keypair(&self, name: &str, key: &Keypair) -> PathBuf {
        let path = self.dir.join(format!("{name}.json"));
        std::fs::write(
            &path,
            serde_json::to_string(&key.to_bytes().to_vec()).unwrap(),
        )
        .unwrap();
        path
    }

    /// Runs `concord` with the chain URL, `keypair` and `--output json`; returns (exit code,
    /// stdout JSON or null, stderr).
    fn run(&self, keypair: &Path, args: &[&str]) -> (i32, Value, String) {
        let out = Command::new(env!("CARGO_BIN_EXE_concord"))
            .args(["--output", "json", "-u", &self.net.info.rpc_url, "-k"])
            .arg(keypair)
            .args(args)
            .env("HOME", &self.dir)
            .env("XDG_RUNTIME_DIR", "/tmp")
            .output()
            .expect("run concord");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let json = serde_json::from_str(&stdout).unwrap_or(Value::Null);
        (
            out.status.code().unwrap_or(-1),
            json,
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    #[track_caller]
    fn ok(&self, keypair: &Path, args: &[&str]) -> Value {
        let (code, json, err) = self.run(keypair, args);
        assert_eq!(code, 0, "concord {args:?} failed: {err}");
        json
    }

    #[track_caller]
    fn fails(&self, keypair: &Path, args: &[&str], code: i32, needle: &str) -> String {
        let (got, _, err) = self.run(keypair, args);
        assert_eq!(
            got, code,
            "concord {args:?}: expected exit {code}, got {got}: {err}"
        );
        assert!(
            err.contains(needle),
            "concord {args:?}: `{needle}` not in: {err}"
        );
        assert_eq!(err.trim().lines().count(), 1, "one plain sentence: {err}");
        err
    }

    async fn tokens(&self, owner: &Keypair) -> u64 {
        let ata = concord_sdk::chain::pda::associated_token(
            &owner.pubkey(),
            &self.net.mint,
            &self.net.token_program,
        );
        concord_sdk::chain::Chain::new(self.net.rpc.clone())
            .token_balance(&ata)
            .await
            .unwrap()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_buyer_and_three_providers_do_a_whole_job_with_the_cli() {
    let env = Env::start(true).await;
    // The local chain's HTTP content store: blobs, the manifest and the published outputs
    // (with their `results/` pointer) go through it as through any HTTP store.
    let store = env.net.info.store_url.clone();
    let store = store.as_str();
    let admin = env.keypair("admin", &env.net.admin);
    let (buyer_key, p_keys) = (
        Keypair::new(),
        [Keypair::new(), Keypair::new(), Keypair::new()],
    );
    let buyer = env.keypair("buyer", &buyer_key);
    let ps: Vec<PathBuf> = p_keys
        .iter()
        .enumerate()
        .map(|(i, k)| env.keypair(&format!("p{i}"), k))
        .collect();

    // Faucet (through the CLI) and market.
    env.ok(
        &buyer,
        &[
            "airdrop",
            "--sol",
            "5",
            "--tokens",
            "100",
            "--faucet",
            &env.faucet,
        ],
    );
    for p in &ps {
        env.ok(
            p,
            &[
                "airdrop",
                "--sol",
                "5",
                "--tokens",
                "20",
                "--faucet",
                &env.faucet,
            ],
        );
    }
    let market = env.ok(&buyer, &["market", "show"]);
    assert_eq!(market["payment_mint"], env.net.mint.to_string());
    assert_eq!(market["fee_bps"], 500);
    env.ok(&admin, &["market", "update", "--fee-bps", "400"]);
    assert_eq!(env.ok(&buyer, &["market", "show"])["fee_bps"], 400);
    env.fails(
        &buyer,
        &["market", "update", "--fee-bps", "1"],
        4,
        "Unauthorized",
    );

    // Providers register, stake, show, list, update; one unbonds and withdraws a little.
    for p in &ps {
        env.ok(
            p,
            &[
                "provider",
                "register",
                "--gpu",
                "llvmpipe",
                "--memory-mib",
                "4096",
                "--backend",
                "vulkan",
            ],
        );
        env.ok(p, &["provider", "stake", "10"]);
    }
    let shown = env.ok(&ps[0], &["provider", "show"]);
    assert_eq!(shown["staked"], "10");
    assert_eq!(
        env.ok(&buyer, &["provider", "list"])
            .as_array()
            .unwrap()
            .len(),
        3
    );
    env.ok(
        &ps[0],
        &["provider", "update", "--uri", "https://example.org/p0"],
    );
    env.ok(&ps[0], &["provider", "unbond", "1"]);
    // The validator's clock follows slot timestamps, which lag under load: poll until the
    // one-second unbonding period has passed on chain.
    let mut withdrawn = false;
    for _ in 0..60 {
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        let (code, _, err) = env.run(&ps[0], &["provider", "withdraw"]);
        if code == 0 {
            withdrawn = true;
            break;
        }
        assert!(
            err.contains("UnbondingNotElapsed"),
            "withdraw failed: {err}"
        );
    }
    assert!(withdrawn, "the unbonding period never passed");
    assert_eq!(env.ok(&ps[0], &["provider", "show"])["staked"], "9");
    assert_eq!(env.tokens(&p_keys[0]).await, 11 * TOKEN);

    // The buyer submits a library kernel; providers claim, execute (lavapipe), reveal.
    let submitted = env.ok(
        &buyer,
        &[
            "job",
            "submit",
            "--kernel",
            "gemm_u32",
            "--store",
            store,
            "--replicas",
            "3",
            "--price",
            "2",
            "--collateral",
            "3",
            "--exec-window",
            "120",
            "--reveal-window",
            "120",
        ],
    );
    let job = submitted["job"].as_str().unwrap().to_string();
    assert_eq!(env.tokens(&buyer_key).await, 94 * TOKEN);
    a_dapp_reads_the_transaction(&env, submitted["signature"].as_str().unwrap(), &job).await;
    let listed = env.ok(&buyer, &["job", "list", "--mine", "--state", "open"]);
    assert_eq!(listed.as_array().unwrap().len(), 1);
    for p in &ps {
        env.ok(p, &["job", "claim", &job]);
    }
    assert_eq!(
        env.ok(
            &buyer,
            &["job", "wait", &job, "--until", "running", "--timeout", "30"]
        )["state"],
        "running"
    );
    for p in &ps {
        env.ok(p, &["job", "execute", &job, "--backend", "vulkan"]);
    }
    for p in &ps {
        env.ok(p, &["job", "reveal", &job]);
    }
    // Outputs are published only for a paid slot: before settlement, refused.
    env.fails(
        &ps[0],
        &["job", "publish", &job],
        4,
        "published only for a paid slot",
    );
    let settled = env.ok(&buyer, &["job", "settle", &job]);
    assert!(
        settled["result"].as_str().unwrap().contains("settled"),
        "{settled}"
    );
    let status = env.ok(
        &buyer,
        &["job", "wait", &job, "--until", "settled", "--timeout", "30"],
    );
    assert!(status["slots"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["outcome"] == "paid"));
    // Listed by address alone (a zero-length data slice, as the benchmark polls many jobs):
    // among the buyer's settled jobs, no longer among its open ones.
    let chain = concord_sdk::chain::Chain::new(env.net.rpc.clone());
    let address: solana_sdk::pubkey::Pubkey = job.parse().unwrap();
    let mine = |state| concord_sdk::chain::JobFilter {
        state: Some(state),
        buyer: Some(buyer_key.pubkey()),
    };
    let settled_jobs = chain
        .job_addresses(mine(concord_sdk::chain::JobState::Settled))
        .await
        .unwrap();
    assert!(settled_jobs.contains(&address), "{settled_jobs:?}");
    let open_jobs = chain
        .job_addresses(mine(concord_sdk::chain::JobState::Open))
        .await
        .unwrap();
    assert!(!open_jobs.contains(&address), "{open_jobs:?}");
    for p in &ps {
        env.ok(p, &["job", "publish", &job]);
    }

    // The result verifies against the agreed hash and equals the CPU reference.
    let out = env.dir.join("out");
    let result = env.ok(
        &buyer,
        &["job", "result", &job, "--out", out.to_str().unwrap()],
    );
    let files = result["files"].as_array().unwrap();
    let reference = concord_compute::kernels::find_by_name("gemm_u32")
        .unwrap()
        .cpu_reference();
    for (file, expected) in files.iter().zip(&reference) {
        assert_eq!(&std::fs::read(file.as_str().unwrap()).unwrap(), expected);
    }
    // Paid: 2 tokens minus the 4% fee each; the buyer paid 6.
    for (i, k) in p_keys.iter().enumerate() {
        let before = if i == 0 { 11 } else { 10 };
        assert_eq!(
            env.tokens(k).await,
            before * TOKEN + 2 * TOKEN - 2 * TOKEN * 4 / 100
        );
    }
    env.ok(&buyer, &["job", "close", &job]);
    env.fails(&buyer, &["job", "status", &job], 5, "does not exist");

    // Cancel: the buyer's own job, after someone else tried.
    let second = env.ok(
        &buyer,
        &[
            "job",
            "submit",
            "--kernel",
            "mix_u32",
            "--store",
            store,
            "--price",
            "1",
            "--collateral",
            "1",
        ],
    );
    let second = second["job"].as_str().unwrap().to_string();
    let before = env.tokens(&buyer_key).await;
    env.fails(&ps[1], &["job", "cancel", &second], 4, "belongs to");
    env.ok(&buyer, &["job", "cancel", &second]);
    assert_eq!(env.tokens(&buyer_key).await, before + 3 * TOKEN);

    // Bad input: a clear sentence, a distinct exit code, and nothing changed.
    let balance = env.tokens(&buyer_key).await;
    env.fails(
        Path::new("/nonexistent/id.json"),
        &["provider", "stake", "1"],
        2,
        "cannot read the keypair file",
    );
    let (code, _, err) = {
        let out = Command::new(env!("CARGO_BIN_EXE_concord"))
            .args(["-u", "http://127.0.0.1:1", "-k"])
            .arg(&buyer)
            .args(["market", "show"])
            .output()
            .unwrap();
        (
            out.status.code().unwrap(),
            (),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("cannot reach the cluster"), "{err}");
    let unknown = solana_sdk::pubkey::Pubkey::new_unique().to_string();
    env.fails(&buyer, &["job", "status", &unknown], 5, "does not exist");
    env.fails(
        &buyer,
        &[
            "job",
            "submit",
            "--kernel",
            "gemm_u32",
            "--store",
            store,
            "--price",
            "1000",
            "--collateral",
            "1",
        ],
        4,
        "insufficient funds",
    );
    let not_wgsl = env.dir.join("notes.wgsl");
    std::fs::write(&not_wgsl, "this is not a shader").unwrap();
    env.fails(
        &buyer,
        &[
            "job",
            "submit",
            "--wgsl",
            not_wgsl.to_str().unwrap(),
            "--output-size",
            "16",
            "--store",
            store,
            "--price",
            "1",
            "--collateral",
            "1",
        ],
        2,
        "invalid",
    );
    assert_eq!(
        env.tokens(&buyer_key).await,
        balance,
        "nothing was escrowed by the refused commands"
    );
    assert_eq!(
        env.ok(&buyer, &["job", "list", "--mine", "--state", "open"])
            .as_array()
            .unwrap()
            .len(),
        0
    );

    // The store commands.
    let blob = env.dir.join("blob.bin");
    std::fs::write(&blob, b"concord").unwrap();
    let put = env.ok(
        &buyer,
        &["store", "put", blob.to_str().unwrap(), "--store", store],
    );
    let back = env.dir.join("back.bin");
    env.ok(
        &buyer,
        &[
            "store",
            "get",
            put["hash"].as_str().unwrap(),
            "--store",
            store,
            "-o",
            back.to_str().unwrap(),
        ],
    );
    assert_eq!(std::fs::read(back).unwrap(), b"concord");
}

/// What a dApp or an indexer reads of a transaction, as from a real RPC node: at `confirmed`
/// (not only once finalized), its log messages and the events the market emitted as inner
/// instructions (`emit_cpi!`: the event tag, `JobCreated`'s discriminator, the event), and the
/// job's address lists it in `getSignaturesForAddress`.
async fn a_dapp_reads_the_transaction(env: &Env, signature: &str, job: &str) {
    use anchor_lang::{AnchorDeserialize, Discriminator};
    use concord_market::events::JobCreated;
    use solana_commitment_config::CommitmentConfig;
    use solana_rpc_client::nonblocking::rpc_client::RpcClient;
    use solana_rpc_client_api::config::RpcTransactionConfig;
    use solana_transaction_status_client_types::{UiInstruction, UiTransactionEncoding};
    let rpc =
        RpcClient::new_with_commitment(env.net.info.rpc_url.clone(), CommitmentConfig::confirmed());
    let sig: solana_sdk::signature::Signature = signature.parse().unwrap();
    let config = RpcTransactionConfig {
        encoding: Some(UiTransactionEncoding::Json),
        commitment: Some(CommitmentConfig::confirmed()),
        max_supported_transaction_version: Some(0),
    };
    let mut found = None;
    for _ in 0..40 {
        if let Ok(tx) = rpc.get_transaction_with_config(&sig, config).await {
            found = Some(tx);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let tx = found.expect("getTransaction at confirmed returns the transaction within 4 s");
    let finalized = rpc
        .get_slot_with_commitment(CommitmentConfig::finalized())
        .await
        .unwrap();
    println!(
        "create_job in slot {}, finalized slot {finalized} when read",
        tx.slot
    );
    let meta = tx.transaction.meta.expect("meta");
    let logs: Vec<String> = Option::from(meta.log_messages).expect("log messages");
    let invoke = format!("Program {} invoke [1]", concord_market::ID);
    assert!(logs.contains(&invoke), "{logs:?}");
    // The program's own `msg!` lines, which natively went to stdout before `native/msg`.
    assert!(
        logs.contains(&"Program log: Instruction: CreateJob".to_string()),
        "{logs:?}"
    );
    let inner: Vec<_> = Option::from(meta.inner_instructions).expect("inner instructions");
    let events: Vec<Vec<u8>> = inner
        .iter()
        .flat_map(|i| &i.instructions)
        .filter_map(|ix| match ix {
            UiInstruction::Compiled(c) => bs58::decode(&c.data).into_vec().ok(),
            _ => None,
        })
        .filter(|data| data.starts_with(anchor_lang::event::EVENT_IX_TAG_LE))
        .collect();
    let created = events
        .iter()
        .map(|data| &data[8..])
        .find(|data| data.starts_with(JobCreated::DISCRIMINATOR))
        .unwrap_or_else(|| panic!("no JobCreated event among {} events", events.len()));
    let event = JobCreated::deserialize(&mut &created[JobCreated::DISCRIMINATOR.len()..]).unwrap();
    assert_eq!(event.job.to_string(), job);
    let listed = rpc
        .get_signatures_for_address_with_config(
            &job.parse().unwrap(),
            solana_rpc_client::rpc_client::GetConfirmedSignaturesForAddress2Config {
                commitment: Some(CommitmentConfig::confirmed()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(
        listed.iter().any(|s| s.signature == signature),
        "{listed:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn market_init_on_a_bare_chain() {
    let env = Env::start(false).await;
    let admin = env.keypair("admin", &env.net.admin);
    env.fails(&admin, &["market", "show"], 5, "does not exist");
    env.ok(
        &admin,
        &[
            "market",
            "init",
            "--mint",
            &env.net.mint.to_string(),
            "--unbonding-period",
            "60",
        ],
    );
    let shown = env.ok(&admin, &["market", "show"]);
    assert_eq!(shown["admin"], env.net.admin.pubkey().to_string());
    assert_eq!(shown["unbonding_period"], 60);
    env.fails(
        &admin,
        &["market", "init", "--mint", &env.net.mint.to_string()],
        4,
        "already in use",
    );
}

/// One raw HTTP/1.1 exchange with the local chain's services; returns the response head and body.
fn http(url: &str, request: &str, body: &[u8]) -> (String, String) {
    use std::io::{Read, Write};
    let host = url.trim_start_matches("http://").split('/').next().unwrap();
    let mut conn = std::net::TcpStream::connect(host).unwrap();
    write!(
        conn,
        "{request} HTTP/1.1\r\nHost: {host}\r\nOrigin: http://app.example\r\n\
         Access-Control-Request-Method: PUT\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    conn.write_all(body).unwrap();
    let mut response = String::new();
    conn.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    (head.to_ascii_lowercase(), body.to_string())
}

/// The store a browser writes to: any origin may use it (CORS preflight answered), a blob is
/// kept under its own hash only, and what was put comes back, through the SDK's HTTP store.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_local_store_takes_blobs_from_any_origin_under_their_hash() {
    let env = Env::start(false).await;
    let url = env.net.info.store_url.clone();
    let name = blake3::hash(b"other bytes").to_hex().to_string();
    let (head, _) = http(&url, &format!("OPTIONS /store/{name}"), b"");
    assert!(head.starts_with("http/1.1 204"), "{head}");
    assert!(head.contains("access-control-allow-origin: *"), "{head}");
    assert!(
        head.contains("access-control-allow-methods: get, head, put"),
        "{head}"
    );
    let (head, body) = http(&url, &format!("PUT /store/{name}"), b"these bytes");
    assert!(head.starts_with("http/1.1 400"), "{head}");
    assert!(body.contains("not to their name"), "{body}");
    let (head, body) = http(&url, "PUT /store/..%2Fescape", b"x");
    assert!(head.starts_with("http/1.1 400"), "{head}");
    assert!(body.contains("is not a blob name"), "{body}");

    let store = concord_sdk::store::BlobStore::http(&url).unwrap();
    let blob = store.put(b"these bytes").await.unwrap();
    let (head, body) = http(&url, &format!("GET /store/{}", blob.hash.to_hex()), b"");
    assert!(head.contains("access-control-allow-origin: *"), "{head}");
    assert_eq!(body, "these bytes");
    assert_eq!(
        store.get(&blob.hash, 1 << 20).await.unwrap(),
        b"these bytes"
    );
    let missing = concord_protocol::Hash32::of(b"never stored");
    assert!(matches!(
        store.get(&missing, 1 << 20).await,
        Err(concord_sdk::store::StoreError::NotFound { .. })
    ));
}

/// The faucet used to drop the connection for a SOL-only request (the mint authority signed a
/// transaction that minted nothing); now it sends the SOL and nothing else.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_faucet_sends_sol_alone() {
    let env = Env::start(false).await;
    let key = Keypair::new();
    let wallet = env.keypair("sol-only", &key);
    let sent = env.ok(
        &wallet,
        &["airdrop", "--sol", "1.5", "--faucet", &env.faucet],
    );
    assert_eq!(sent["tokens"], 0.0);
    let lamports = env.net.rpc.get_balance(&key.pubkey()).await.unwrap();
    assert_eq!(lamports, 1_500_000_000);
    let ata = concord_sdk::chain::pda::associated_token(
        &key.pubkey(),
        &env.net.mint,
        &env.net.token_program,
    );
    assert!(
        env.net.rpc.get_account(&ata).await.is_err(),
        "no token account was created"
    );
}

/// Reading the chain needs no keypair (as with the Solana CLI): `job list`, `market show` and
/// `provider list` run with a keypair path that does not exist; a signing command names it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_need_no_keypair() {
    let env = Env::start(true).await;
    let missing = env.dir.join("no-such-keypair.json");
    let jobs = env.ok(&missing, &["job", "list"]);
    assert_eq!(jobs, serde_json::json!([]));
    let market = env.ok(&missing, &["market", "show"]);
    assert_eq!(market["payment_mint"], env.net.mint.to_string());
    env.ok(&missing, &["provider", "list"]);
    env.fails(
        &missing,
        &["job", "list", "--mine"],
        2,
        "cannot read the keypair file",
    );
}

/// A second chain on a port that is taken is refused with one sentence naming the port and the
/// flag to change it (the validator itself would panic with a backtrace).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chain_on_a_taken_port_is_refused_in_one_sentence() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let config = LocalnetConfig {
        rpc_port: port,
        ..LocalnetConfig::on_free_ports()
    };
    let err = Localnet::start(config).await.err().expect("refused");
    let message = format!("{err:#}");
    assert_eq!(
        message,
        format!(
            "the RPC port {port} is already in use (is another concord-localnet running?); \
             choose another with --rpc-port"
        )
    );
    let gossip = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let gossip_port = gossip.local_addr().unwrap().port();
    let config = LocalnetConfig {
        gossip_port: Some(gossip_port),
        ..LocalnetConfig::on_free_ports()
    };
    let err = Localnet::start(config).await.err().expect("refused");
    assert!(
        format!("{err:#}").contains(&format!("gossip port {gossip_port}")),
        "{err:#}"
    );
}

/// The validator's banking scheduler polls without blocking while its one node leads (always,
/// here). A chain started with `yield_scheduler` runs that thread at the least priority, so an
/// idle chain does not hold a core the RPC node and agents need; only that thread (the RPC
/// threads keep theirs), and only when asked (a default chain leaves it alone).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chain_asked_to_yield_runs_its_busy_polling_scheduler_at_the_least_priority() {
    use concord_localnet::scheduler::{nice_of, threads_named, SCHEDULER_NICE, SCHEDULER_THREAD};
    let _turn = ONE_CHAIN_AT_A_TIME.lock().await;
    let nice_of_all = |name: &str| {
        let tids = threads_named(name);
        assert!(!tids.is_empty(), "no {name} thread");
        tids.into_iter().map(nice_of).collect::<Vec<_>>()
    };
    for yielding in [false, true] {
        let config = LocalnetConfig {
            initialize: false,
            yield_scheduler: yielding,
            ..LocalnetConfig::on_free_ports()
        };
        let net = Localnet::start(config).await.expect("localnet");
        let expected = if yielding { SCHEDULER_NICE } else { 0 };
        let scheduler = nice_of_all(SCHEDULER_THREAD);
        assert!(
            scheduler.iter().all(|n| *n == Some(expected)),
            "yield_scheduler {yielding}: {scheduler:?}"
        );
        let rpc = nice_of_all("solRpcEl");
        assert!(rpc.iter().all(|n| *n == Some(0)), "{rpc:?}");
        drop(net);
    }
}
