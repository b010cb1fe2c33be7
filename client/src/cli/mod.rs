//! The `concord` command line: argument parsing and dispatch to one module per subcommand
//! group. Errors are printed as one plain sentence; exit codes: 0 success, 1 a check failed
//! (e.g. backends disagree), 2 the command could not be carried out.

pub mod kernel;

use clap::{Parser, Subcommand};

/// Concord: a GPU compute market settled on Solana.
#[derive(Parser, Debug)]
#[command(name = "concord", version, about)]
pub struct Cli {
    /// Output format.
    #[arg(long, global = true, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
    #[command(subcommand)]
    pub command: Command,
}

/// `--output`: human-readable text or JSON (one document on stdout).
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    Text,
    Json,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Kernels: check reproducibility across backends, list adapters and library kernels.
    #[command(subcommand)]
    Kernel(kernel::KernelCommand),
}

/// An error for the user: one sentence, no debug dump.
#[derive(Debug)]
pub struct CliError(pub String);

impl std::fmt::Display for CliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl<E: std::error::Error> From<E> for CliError {
    fn from(e: E) -> Self {
        CliError(e.to_string())
    }
}

/// What a successful command reports to the shell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok,
    CheckFailed,
}

/// Run the CLI with the process arguments; returns the exit code.
pub fn main() -> i32 {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Kernel(cmd) => kernel::run(cmd, cli.output),
    };
    match result {
        Ok(Status::Ok) => 0,
        Ok(Status::CheckFailed) => 1,
        Err(e) => {
            eprintln!("error: {e}");
            2
        }
    }
}
