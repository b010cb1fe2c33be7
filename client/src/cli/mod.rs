//! The `concord` command line: argument parsing and dispatch to one module per subcommand
//! group. Errors are printed as one plain sentence with a distinct exit code (see [`exit`]).

pub mod context;
pub mod job;
pub mod kernel;
pub mod market;
pub mod progress;
pub mod provider;
pub mod store;

use clap::{Parser, Subcommand};

/// Exit codes: what kind of failure ended the command.
pub mod exit {
    pub const OK: i32 = 0;
    /// A check ran and failed (backends disagree, a lint denied).
    pub const CHECK_FAILED: i32 = 1;
    /// Bad input: arguments, files, keypair, config.
    pub const INPUT: i32 = 2;
    /// The cluster, faucet or store could not be reached.
    pub const NETWORK: i32 = 3;
    /// The chain refused the transaction (a named program error, insufficient funds...).
    pub const REFUSED: i32 = 4;
    /// An account (job, provider, config) does not exist.
    pub const NOT_FOUND: i32 = 5;
    /// Waiting ran out of time.
    pub const TIMEOUT: i32 = 6;
    /// Downloaded data did not verify against the agreed hash.
    pub const VERIFY_FAILED: i32 = 7;
}

/// Concord: a GPU compute market settled on Solana.
#[derive(Parser, Debug)]
#[command(name = "concord", version, about)]
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
    /// The content store: put and get blobs by hash.
    #[command(subcommand)]
    Store(store::StoreCommand),
    /// Ask a local chain's faucet (concord-localnet) for SOL and payment tokens.
    Airdrop(market::AirdropArgs),
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

/// An error for the user: one sentence, no debug dump, and the exit code it ends with.
#[derive(Debug)]
pub struct CliError {
    pub code: i32,
    pub message: String,
}

impl CliError {
    pub fn new(code: i32, message: impl Into<String>) -> Self {
        CliError {
            code,
            message: message.into(),
        }
    }

    /// A failure to carry out the command (exit 2).
    pub fn msg(message: impl Into<String>) -> Self {
        CliError::new(exit::INPUT, message)
    }
}

impl std::fmt::Display for CliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl<E: std::error::Error> From<E> for CliError {
    fn from(e: E) -> Self {
        CliError::msg(e.to_string())
    }
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

fn keygen(path: &std::path::Path, force: bool, output: OutputFormat) -> Result<Status, CliError> {
    use solana_sdk::signer::Signer;
    if path.exists() && !force {
        return Err(CliError::msg(format!(
            "{} exists; use --force to replace it",
            path.display()
        )));
    }
    let key = solana_sdk::signature::Keypair::new();
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| CliError::msg(format!("cannot create {}: {e}", dir.display())))?;
    }
    std::fs::write(
        path,
        serde_json::to_string(&key.to_bytes().to_vec()).expect("json"),
    )
    .map_err(|e| CliError::msg(format!("cannot write {}: {e}", path.display())))?;
    let address = key.pubkey().to_string();
    emit(
        output,
        serde_json::json!({"address": address, "file": path}),
        || format!("wrote {} ({address})", path.display()),
    );
    Ok(Status::Ok)
}

fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Runtime::new()
        .map_err(|e| CliError::msg(format!("cannot start the async runtime: {e}")))
}

/// Run the CLI with the process arguments; returns the exit code.
pub fn main() -> i32 {
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
        Command::Airdrop(args) => {
            runtime().and_then(|rt| rt.block_on(market::airdrop(args, &cli.chain, output)))
        }
        Command::Keygen { outfile, force } => keygen(&outfile, force, output),
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
