//! Wallet commands: `concord keygen` writes a new keypair file (Solana CLI format), and
//! `concord airdrop` asks a local chain's faucet (concord-localnet) for SOL and payment tokens.
use clap::Args;
use serde_json::json;

use crate::context::{parse_pubkey, ChainArgs, Ctx};
use crate::{emit, exit, CliError, OutputFormat, Status};

pub fn keygen(
    path: &std::path::Path,
    force: bool,
    output: OutputFormat,
) -> Result<Status, CliError> {
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

#[derive(Args, Debug)]
pub struct AirdropArgs {
    /// SOL to receive.
    #[arg(long, default_value_t = 1.0)]
    pub sol: f64,
    /// Payment tokens to receive (whole units).
    #[arg(long, default_value_t = 0.0)]
    pub tokens: f64,
    /// Recipient (default: the keypair's address).
    #[arg(long)]
    pub to: Option<String>,
    /// The local faucet (concord-localnet's token faucet).
    #[arg(long, default_value = "http://127.0.0.1:8901")]
    pub faucet: String,
}

pub async fn airdrop(
    a: AirdropArgs,
    args: &ChainArgs,
    output: OutputFormat,
) -> Result<Status, CliError> {
    let to = match &a.to {
        Some(t) => parse_pubkey(t, "recipient")?,
        None => Ctx::new(args)?.me()?,
    };
    let body = json!({"address": to.to_string(), "sol": a.sol, "tokens": a.tokens}).to_string();
    let url = format!("{}/airdrop", a.faucet.trim_end_matches('/'));
    let reply = http_post(&url, &body).await.map_err(|e| {
        CliError::new(
            exit::NETWORK,
            format!("cannot reach the faucet at {}: {e}", a.faucet),
        )
    })?;
    if reply.0 != 200 {
        return Err(CliError::new(
            exit::REFUSED,
            format!("the faucet refused: {}", reply.1),
        ));
    }
    emit(
        output,
        json!({"to": to.to_string(), "sol": a.sol, "tokens": a.tokens}),
        || reply.1.clone(),
    );
    Ok(Status::Ok)
}

/// A minimal HTTP/1.1 POST of a JSON body (the faucet is local and plain HTTP).
async fn http_post(url: &str, body: &str) -> std::io::Result<(u16, String)> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| std::io::Error::other("only http:// faucets are supported"))?;
    let (host, path) = rest
        .split_once('/')
        .map_or((rest, "/".to_string()), |(h, p)| (h, format!("/{p}")));
    let mut stream = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        tokio::net::TcpStream::connect(host),
    )
    .await
    .map_err(|_| std::io::Error::other("connection timed out"))??;
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await?;
    let mut response = String::new();
    tokio::time::timeout(
        std::time::Duration::from_secs(60),
        stream.read_to_string(&mut response),
    )
    .await
    .map_err(|_| std::io::Error::other("no answer in 60 s"))??;
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other("not an HTTP response"))?;
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.trim().to_string())
        .unwrap_or_default();
    Ok((status, body))
}
