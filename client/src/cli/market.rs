//! `concord market init|show|update` and `concord airdrop`: the market and staking configs
//! (created and changed by the admin), and the local faucet.
use clap::{Args, Subcommand};
use serde_json::json;

use super::context::{chain_error, parse_pubkey, ChainArgs, Ctx};
use super::{emit, exit, CliError, OutputFormat, Status};
use crate::chain::{ix, pda, MarketParams};

/// Market parameters; unset values keep the current ones (or a sensible default at init).
#[derive(Args, Debug, Clone, Default)]
pub struct ParamArgs {
    /// Protocol fee, in basis points of each paid replica's price.
    #[arg(long)]
    pub fee_bps: Option<u16>,
    /// Treasury share of slashed collateral, in basis points.
    #[arg(long)]
    pub slash_treasury_bps: Option<u16>,
    #[arg(long)]
    pub min_replicas: Option<u8>,
    #[arg(long)]
    pub max_replicas: Option<u8>,
    /// Lowest price per replica, in token base units.
    #[arg(long)]
    pub min_price: Option<u64>,
    /// Highest price per replica, in token base units.
    #[arg(long)]
    pub max_price: Option<u64>,
    /// Lowest collateral per replica, in token base units.
    #[arg(long)]
    pub min_collateral: Option<u64>,
    /// Shortest claim / execution / reveal window, in seconds.
    #[arg(long)]
    pub min_window: Option<i64>,
    /// Longest window, in seconds.
    #[arg(long)]
    pub max_window: Option<i64>,
}

impl ParamArgs {
    fn apply(&self, p: MarketParams) -> MarketParams {
        MarketParams {
            fee_bps: self.fee_bps.unwrap_or(p.fee_bps),
            slash_treasury_bps: self.slash_treasury_bps.unwrap_or(p.slash_treasury_bps),
            min_replicas: self.min_replicas.unwrap_or(p.min_replicas),
            max_replicas: self.max_replicas.unwrap_or(p.max_replicas),
            min_price_per_replica: self.min_price.unwrap_or(p.min_price_per_replica),
            max_price_per_replica: self.max_price.unwrap_or(p.max_price_per_replica),
            min_collateral_per_replica: self.min_collateral.unwrap_or(p.min_collateral_per_replica),
            min_window: self.min_window.unwrap_or(p.min_window),
            max_window: self.max_window.unwrap_or(p.max_window),
        }
    }
}

const DEFAULT_PARAMS: MarketParams = MarketParams {
    fee_bps: 500,
    slash_treasury_bps: 2_000,
    min_replicas: 1,
    max_replicas: 5,
    min_price_per_replica: 1,
    max_price_per_replica: u64::MAX / 8,
    min_collateral_per_replica: 1,
    min_window: 10,
    max_window: 7 * 24 * 3600,
};

#[derive(Subcommand, Debug)]
pub enum MarketCommand {
    /// Create the staking and market configs (the signer becomes admin of both).
    Init {
        /// Payment and stake mint.
        #[arg(long)]
        mint: String,
        /// Treasury token account (default: the admin's associated token account).
        #[arg(long)]
        treasury: Option<String>,
        /// Minimum provider stake, in base units.
        #[arg(long, default_value_t = 1_000_000)]
        min_stake: u64,
        /// Unbonding period in seconds.
        #[arg(long, default_value_t = 7 * 24 * 3600)]
        unbonding_period: i64,
        #[command(flatten)]
        params: ParamArgs,
    },
    /// Show both configs.
    Show,
    /// Change market parameters, the treasury, or pause / resume (admin only).
    Update {
        #[command(flatten)]
        params: ParamArgs,
        /// New treasury token account.
        #[arg(long)]
        treasury: Option<String>,
        /// Stop new jobs and claims.
        #[arg(long, conflicts_with = "resume")]
        pause: bool,
        /// Allow new jobs and claims again.
        #[arg(long)]
        resume: bool,
    },
}

pub async fn run(
    cmd: MarketCommand,
    args: &ChainArgs,
    output: OutputFormat,
) -> Result<Status, CliError> {
    let ctx = Ctx::new(args)?;
    let fail = |e| chain_error(e, &ctx.url);
    match cmd {
        MarketCommand::Init {
            mint,
            treasury,
            min_stake,
            unbonding_period,
            params,
        } => {
            let mint = parse_pubkey(&mint, "mint")?;
            let token_program = ctx
                .chain
                .rpc
                .get_account(&mint)
                .await
                .map_err(|_| CliError::new(exit::NOT_FOUND, format!("mint {mint} does not exist")))?
                .owner;
            let me = ctx.me();
            let mut ixs = Vec::new();
            let treasury = match treasury {
                Some(t) => parse_pubkey(&t, "treasury")?,
                None => {
                    ixs.push(ix::create_associated_token_idempotent(
                        &me,
                        &me,
                        &mint,
                        &token_program,
                    ));
                    pda::associated_token(&me, &mint, &token_program)
                }
            };
            let staking = concord_staking::ConfigParams {
                min_stake,
                unbonding_period,
            };
            ixs.push(ix::initialize_staking(
                &me,
                &mint,
                staking,
                pda::market_authority(),
            ));
            ixs.push(ix::initialize_market(
                &me,
                &mint,
                &treasury,
                params.apply(DEFAULT_PARAMS),
            ));
            let sig = ctx.sender.send(&ixs, &[]).await.map_err(fail)?;
            emit(
                output,
                json!({"signature": sig.to_string(), "treasury": treasury.to_string()}),
                || format!("market initialized (treasury {treasury}); signature {sig}"),
            );
        }
        MarketCommand::Show => {
            let m = ctx.chain.market_config().await.map_err(fail)?;
            let s = ctx.chain.staking_config().await.map_err(fail)?;
            let p = m.params;
            let j = json!({
                "market_program": concord_market::ID.to_string(),
                "staking_program": concord_staking::ID.to_string(),
                "admin": m.admin.to_string(),
                "treasury": m.treasury.to_string(),
                "payment_mint": m.payment_mint.to_string(),
                "paused": m.paused,
                "fee_bps": p.fee_bps,
                "slash_treasury_bps": p.slash_treasury_bps,
                "replicas": [p.min_replicas, p.max_replicas],
                "price_per_replica": [p.min_price_per_replica, p.max_price_per_replica],
                "min_collateral_per_replica": p.min_collateral_per_replica,
                "window_seconds": [p.min_window, p.max_window],
                "min_stake": s.min_stake,
                "unbonding_period": s.unbonding_period,
            });
            emit(output, j, || {
                format!(
                    "market {}\n  admin         {}\n  payment mint  {}\n  treasury      {}\n  paused        {}\n  fee           {} bps (slash share to treasury {} bps)\n  replicas      {}..={}\n  price         {}..={} per replica\n  collateral    >= {} per replica\n  windows       {}..={} s\n  min stake     {}\n  unbonding     {} s",
                    concord_market::ID, m.admin, m.payment_mint, m.treasury, m.paused, p.fee_bps, p.slash_treasury_bps,
                    p.min_replicas, p.max_replicas, p.min_price_per_replica, p.max_price_per_replica,
                    p.min_collateral_per_replica, p.min_window, p.max_window, s.min_stake, s.unbonding_period
                )
            });
        }
        MarketCommand::Update {
            params,
            treasury,
            pause,
            resume,
        } => {
            let m = ctx.chain.market_config().await.map_err(fail)?;
            let me = ctx.me();
            let treasury = treasury
                .map(|t| parse_pubkey(&t, "treasury"))
                .transpose()?
                .unwrap_or(m.treasury);
            let mut ixs = vec![ix::update_market(&me, &treasury, params.apply(m.params))];
            if pause || resume {
                ixs.push(ix::set_paused(&me, pause));
            }
            let sig = ctx.sender.send(&ixs, &[]).await.map_err(fail)?;
            super::emit_signed(output, "market updated", &sig);
        }
    }
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
        None => Ctx::new(args)?.me(),
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
