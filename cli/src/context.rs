//! What every chain command needs, in Solana CLI conventions: the RPC URL (`-u`, a moniker or a
//! URL, else `json_rpc_url` of `~/.config/solana/cli/config.yml`, else localhost), the keypair
//! (`-k`, else `keypair_path` of that config, else `~/.config/solana/id.json`), the payment
//! mint, token amounts in whole units, and the mapping of chain errors to exit codes.
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use anchor_lang::prelude::Pubkey;
use solana_commitment_config::CommitmentConfig;
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_sdk::signature::Keypair;
use solana_sdk::signer::Signer;

use super::{exit, CliError};
use concord_sdk::chain::{Chain, Sender};

/// The global chain options.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct ChainArgs {
    /// RPC URL or moniker: localhost, devnet, testnet, mainnet-beta (default: the Solana CLI config).
    #[arg(short = 'u', long = "url", global = true)]
    pub url: Option<String>,
    /// Keypair file (default: the Solana CLI config's keypair, ~/.config/solana/id.json).
    #[arg(short = 'k', long = "keypair", global = true)]
    pub keypair: Option<PathBuf>,
    /// Solana CLI config file to read defaults from.
    #[arg(long = "config", global = true)]
    pub config: Option<PathBuf>,
    /// Priority fee in micro-lamports per compute unit.
    #[arg(long, global = true)]
    pub priority_fee: Option<u64>,
}

/// The RPC URL a moniker stands for, or the URL itself.
pub fn resolve_url(url: &str) -> String {
    match url {
        "localhost" | "l" => "http://127.0.0.1:8899".into(),
        "devnet" | "d" => "https://api.devnet.solana.com".into(),
        "testnet" | "t" => "https://api.testnet.solana.com".into(),
        "mainnet-beta" | "m" => "https://api.mainnet-beta.solana.com".into(),
        other => other.into(),
    }
}

#[derive(Default)]
struct SolanaConfig {
    json_rpc_url: Option<String>,
    keypair_path: Option<String>,
}

fn home() -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Reads the two fields Concord uses from the Solana CLI's YAML config.
fn solana_config(path: Option<&PathBuf>) -> Result<SolanaConfig, CliError> {
    let explicit = path.is_some();
    let path = path
        .cloned()
        .unwrap_or_else(|| home().join(".config/solana/cli/config.yml"));
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(_) if !explicit => return Ok(SolanaConfig::default()),
        Err(e) => {
            return Err(CliError::new(
                exit::INPUT,
                format!("cannot read the config file {}: {e}", path.display()),
            ))
        }
    };
    let mut config = SolanaConfig::default();
    for line in text.lines() {
        if let Some((k, v)) = line.split_once(':') {
            let v = v.trim().trim_matches('\'').trim_matches('"').to_string();
            match k.trim() {
                "json_rpc_url" => config.json_rpc_url = Some(v),
                "keypair_path" => config.keypair_path = Some(v),
                _ => {}
            }
        }
    }
    Ok(config)
}

/// A connection for chain commands, and a signer read only when a command signs (reading the
/// chain needs no keypair, as with the Solana CLI).
pub struct Ctx {
    pub chain: Chain,
    rpc: Arc<RpcClient>,
    keypair_path: PathBuf,
    priority_fee: Option<u64>,
    sender: OnceLock<Sender>,
}

impl Ctx {
    pub fn new(args: &ChainArgs) -> Result<Ctx, CliError> {
        let config = solana_config(args.config.as_ref())?;
        let url = resolve_url(
            args.url
                .as_deref()
                .or(config.json_rpc_url.as_deref())
                .unwrap_or("localhost"),
        );
        let keypair_path = args
            .keypair
            .clone()
            .or(config.keypair_path.map(PathBuf::from))
            .unwrap_or_else(|| home().join(".config/solana/id.json"));
        let rpc = Arc::new(RpcClient::new_with_commitment(
            url.clone(),
            CommitmentConfig::confirmed(),
        ));
        Ok(Ctx {
            chain: Chain::new(rpc.clone()),
            rpc,
            keypair_path,
            priority_fee: args.priority_fee,
            sender: OnceLock::new(),
        })
    }

    /// The sender, signing with the keypair (read on first use).
    pub fn sender(&self) -> Result<&Sender, CliError> {
        if let Some(sender) = self.sender.get() {
            return Ok(sender);
        }
        let payer = concord_sdk::chain::read_keypair(&self.keypair_path)?;
        let mut sender = Sender::new(self.rpc.clone(), Arc::new(payer));
        sender.priority_fee = self.priority_fee;
        Ok(self.sender.get_or_init(|| sender))
    }

    /// The signer's address.
    pub fn me(&self) -> Result<Pubkey, CliError> {
        Ok(self.sender()?.payer.pubkey())
    }

    pub fn payer(&self) -> Result<&Keypair, CliError> {
        Ok(&self.sender()?.payer)
    }

    /// The payment mint, its token program and decimals (from the market config).
    pub async fn mint(&self) -> Result<Mint, CliError> {
        self.chain.payment_mint().await.map_err(CliError::from)
    }
}

pub use concord_sdk::chain::Mint;

/// Parses a base58 address given on the command line.
pub fn parse_pubkey(s: &str, what: &str) -> Result<Pubkey, CliError> {
    s.parse()
        .map_err(|_| CliError::new(exit::INPUT, format!("`{s}` is not a valid {what} address")))
}
