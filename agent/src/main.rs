//! `concord-agent`: `run` serves jobs until SIGINT/SIGTERM; `check` validates a config and
//! the adapter; `journal` prints the journal; `worker` is the executor's GPU worker (the agent
//! runs each job in a child copy of itself so a runaway shader can be killed).
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use concord_agent::config::Config;
use concord_agent::journal::Journal;
use tokio::sync::watch;
use tracing::{error, info};

#[derive(Parser)]
#[command(name = "concord-agent", version, about = "Concord provider agent")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve jobs until SIGINT or SIGTERM.
    Run {
        /// The TOML config file.
        #[arg(short, long)]
        config: PathBuf,
        /// Log JSON lines instead of text. The filter comes from CONCORD_AGENT_LOG (default info).
        #[arg(long)]
        log_json: bool,
    },
    /// Check a config file: parse it, read the keypair, and find the GPU adapter.
    Check {
        #[arg(short, long)]
        config: PathBuf,
    },
    /// Print the journal, one JSON record per line.
    Journal {
        #[arg(short, long)]
        config: PathBuf,
    },
    /// The executor's worker process (internal).
    #[command(hide = true)]
    Worker,
}

fn init_logs(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("CONCORD_AGENT_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

fn load(path: &std::path::Path) -> Result<Config, String> {
    Config::load(path).map_err(|e| e.to_string())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Worker => ExitCode::from(concord_compute::executor::worker_main() as u8),
        Command::Check { config } => report(load(&config).and_then(|c| {
            let key = concord_sdk::chain::read_keypair(&c.keypair).map_err(|e| e.to_string())?;
            for a in concord_compute::executor::list_adapters() {
                println!("adapter available: {a}");
            }
            let (_, chosen) =
                concord_agent::startup::choose_adapter(&c).map_err(|e| e.to_string())?;
            println!(
                "config ok: provider {} on {}, rpc {}, journal {}",
                solana_sdk::signer::Signer::pubkey(&key),
                chosen,
                c.rpc_url,
                c.journal.display()
            );
            Ok(())
        })),
        Command::Journal { config } => report(load(&config).and_then(|c| {
            let journal = Journal::open(&c.journal, &c.outputs_dir()).map_err(|e| e.to_string())?;
            for e in journal.entries().map_err(|e| e.to_string())? {
                println!("{}", serde_json::to_string(&e).expect("json"));
            }
            Ok(())
        })),
        Command::Run { config, log_json } => {
            init_logs(log_json);
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .expect("tokio runtime");
            report(runtime.block_on(serve(config)))
        }
    }
}

fn report(outcome: Result<(), String>) -> ExitCode {
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            error!("{e}");
            eprintln!("concord-agent: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(path: PathBuf) -> Result<(), String> {
    let config = load(&path)?;
    let (stop, stopped) = watch::channel(false);
    tokio::spawn(async move {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
        let mut int = signal(SignalKind::interrupt()).expect("SIGINT handler");
        tokio::select! { _ = term.recv() => {}, _ = int.recv() => {} }
        info!("signal received: stopping (send it again to stop at once)");
        let _ = stop.send(true);
        tokio::select! { _ = term.recv() => {}, _ = int.recv() => {} }
        error!("second signal: exiting now; the journal resumes unfinished jobs");
        std::process::exit(130);
    });
    let metrics_addr = config.metrics_addr;
    let agent = concord_agent::startup::start(config, stopped)
        .await
        .map_err(|e| e.to_string())?;
    concord_agent::supervisor::run(agent, metrics_addr)
        .await
        .map_err(|e| e.to_string())
}
