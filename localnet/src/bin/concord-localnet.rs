//! `concord-localnet`: runs a local Solana chain with Concord deployed until stopped (Ctrl-C).
use std::path::PathBuf;

use clap::Parser;
use concord_localnet::{Localnet, LocalnetConfig};

/// A local Solana chain with the Concord programs, a payment mint, configs and faucets.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// JSON-RPC port (PubSub listens on the next port).
    #[arg(long, default_value_t = 8899)]
    rpc_port: u16,
    /// Port of the token faucet (HTTP POST /airdrop) and the content store (/store/<name>).
    #[arg(long, default_value_t = 8901)]
    token_faucet_port: u16,
    /// Gossip port of the validator (default: a free port, so several chains can run side by side).
    #[arg(long)]
    gossip_port: Option<u16>,
    /// Ledger directory (kept); a temporary directory otherwise.
    #[arg(long)]
    ledger: Option<PathBuf>,
    /// Use a Token-2022 payment mint.
    #[arg(long)]
    token_2022: bool,
    /// Print only the JSON summary, no validator logs.
    #[arg(long, short)]
    quiet: bool,
    /// Run the validator's busy-polling banking scheduler thread at nice 19, so an idle chain
    /// does not hold a core (benchmarks on few cores; see docs/benchmarks.md).
    #[arg(long)]
    yield_scheduler: bool,
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    if std::env::var_os("RUST_LOG").is_none() {
        std::env::set_var("RUST_LOG", if args.quiet { "error" } else { "warn" });
    }
    let config = LocalnetConfig {
        rpc_port: args.rpc_port,
        token_faucet_port: args.token_faucet_port,
        gossip_port: Some(args.gossip_port.unwrap_or_else(concord_localnet::free_port)),
        ledger: args.ledger,
        token_2022: args.token_2022,
        yield_scheduler: args.yield_scheduler,
        ..LocalnetConfig::default()
    };
    let started = std::time::Instant::now();
    let net = match Localnet::start(config).await {
        Ok(n) => n,
        Err(e) => {
            eprintln!("concord-localnet: could not start the chain: {e:#}");
            std::process::exit(1);
        }
    };
    if let Err(e) = net.serve_token_faucet(args.token_faucet_port).await {
        eprintln!("concord-localnet: could not start the token faucet: {e:#}");
        std::process::exit(1);
    }
    if !args.quiet {
        eprintln!(
            "concord-localnet: ready in {:.1}s (Ctrl-C to stop)",
            started.elapsed().as_secs_f64()
        );
    }
    println!("{}", serde_json::to_string_pretty(&net.info).expect("info"));
    let _ = tokio::signal::ctrl_c().await;
    if !args.quiet {
        eprintln!("concord-localnet: stopping");
    }
}
