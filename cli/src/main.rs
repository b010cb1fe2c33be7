//! The `concord` command line: argument parsing and dispatch to one module per subcommand
//! group. Errors are printed as one plain sentence with a distinct exit code (see [`exit`]).

mod context;
mod embed;
mod error;
mod job;
mod kernel;
mod market;
mod progress;
mod provider;
mod store;
mod wallet;

use clap::{Parser, Subcommand};

use error::{exit, CliError};

/// Concord: a GPU compute market settled on Solana.
#[derive(Parser, Debug)]
#[command(
    name = "concord",
    version,
    about = "Buy and serve verified GPU compute on Solana: submit WGSL jobs and fetch their \
             verified results, embed sentences, stake and serve jobs as a provider, check kernels for \
             reproducibility, and run the market"
)]
pub struct Cli {
    /// Output format.
    #[arg(long, global = true, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
    #[command(flatten)]
    pub chain: context::ChainArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// `--output`: human-readable text (alias `display`) or JSON (one document on stdout).
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    #[value(alias = "display")]
    Text,
    Json,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Kernels: check reproducibility across backends, list adapters and library kernels.
    #[command(subcommand)]
    Kernel(kernel::KernelCommand),
    /// The market: show its config; the admin initializes and updates it.
    #[command(subcommand)]
    Market(market::MarketCommand),
    /// Providers: register, stake, unbond, withdraw, show, list.
    #[command(subcommand)]
    Provider(provider::ProviderCommand),
    /// Jobs: submit, follow and settle jobs; fetch verified results.
    #[command(subcommand)]
    Job(job::JobCommand),
    /// Sentence embeddings (all-MiniLM-L6-v2) of a text file as a verified job: submit, wait,
    /// download verified, write .npy and JSON lines.
    Embed(Box<embed::EmbedArgs>),
    /// The content store: put and get blobs by hash.
    #[command(subcommand)]
    Store(store::StoreCommand),
    /// Ask a local chain's faucet (concord-localnet) for SOL and payment tokens.
    Airdrop(wallet::AirdropArgs),
    /// The executor's GPU worker process (internal: `concord` runs kernels in a child copy of
    /// itself, which it can kill).
    #[command(hide = true)]
    Worker,
    /// Write a new keypair file (Solana CLI format) and print its address.
    Keygen {
        /// Where to write the keypair.
        #[arg(long, short = 'o')]
        outfile: std::path::PathBuf,
        /// Replace an existing file.
        #[arg(long)]
        force: bool,
    },
}

/// What a successful command reports to the shell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok,
    CheckFailed,
}

/// Prints a value as JSON (with `--output json`) or as `text`.
pub fn emit(output: OutputFormat, json: serde_json::Value, text: impl FnOnce() -> String) {
    match output {
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&json).expect("json")),
        OutputFormat::Text => println!("{}", text()),
    }
}

/// Reports a transaction that did `what`: the sentence and its signature.
pub fn emit_signed(output: OutputFormat, what: &str, sig: &solana_sdk::signature::Signature) {
    emit(
        output,
        serde_json::json!({"signature": sig.to_string(), "result": what}),
        || format!("{what}; signature {sig}"),
    );
}

/// The executor, with this program as its worker (`concord worker`).
fn self_hosted(
    selector: concord_compute::executor::AdapterSelector,
) -> Result<concord_compute::executor::Executor, CliError> {
    concord_compute::executor::Executor::self_hosted(selector)
        .map_err(|e| CliError::msg(format!("cannot find this program's path: {e}")))
}

fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Runtime::new()
        .map_err(|e| CliError::msg(format!("cannot start the async runtime: {e}")))
}

/// Run the CLI with the process arguments; returns the exit code.
fn run() -> i32 {
    let cli = Cli::parse();
    let output = cli.output;
    let result = match cli.command {
        Command::Kernel(cmd) => kernel::run(cmd, output),
        Command::Market(cmd) => {
            runtime().and_then(|rt| rt.block_on(market::run(cmd, &cli.chain, output)))
        }
        Command::Provider(cmd) => {
            runtime().and_then(|rt| rt.block_on(provider::run(cmd, &cli.chain, output)))
        }
        Command::Job(cmd) => {
            runtime().and_then(|rt| rt.block_on(job::run(cmd, &cli.chain, output)))
        }
        Command::Store(cmd) => runtime().and_then(|rt| rt.block_on(store::run(cmd, output))),
        Command::Embed(args) => {
            runtime().and_then(|rt| rt.block_on(embed::run(*args, &cli.chain, output)))
        }
        Command::Airdrop(args) => {
            runtime().and_then(|rt| rt.block_on(wallet::airdrop(args, &cli.chain, output)))
        }
        Command::Keygen { outfile, force } => wallet::keygen(&outfile, force, output),
        Command::Worker => return concord_compute::executor::worker_main(),
    };
    match result {
        Ok(Status::Ok) => exit::OK,
        Ok(Status::CheckFailed) => exit::CHECK_FAILED,
        Err(e) => {
            eprintln!("error: {e}");
            e.code
        }
    }
}

fn main() {
    std::process::exit(run())
}
