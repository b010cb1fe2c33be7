//! Job notifications over PubSub: one `programSubscribe` on the market program's job accounts
//! (memcmp on the account discriminator), decoded into [`JobEvent`]s. A dropped connection is
//! reopened with backoff, and every (re)subscription is announced so the listener can rescan
//! what it may have missed while it was down. Nothing here replaces reading the chain: a
//! listener keeps polling as its fallback.
use std::time::Duration;

use anchor_lang::{AccountDeserialize, Discriminator};
use concord_market::Job;
use futures::StreamExt;
use solana_account_decoder_client_types::UiAccountEncoding;
use solana_commitment_config::CommitmentConfig;
use solana_pubsub_client::nonblocking::pubsub_client::PubsubClient;
use solana_rpc_client_api::config::{RpcAccountInfoConfig, RpcProgramAccountsConfig};
use solana_rpc_client_api::filter::{Memcmp, RpcFilterType};
use solana_sdk::pubkey::Pubkey;
use tokio::sync::mpsc;

/// What the job subscription saw.
#[derive(Debug)]
pub enum JobEvent {
    /// Subscribed (first, or again after a drop): changes from now on arrive as
    /// [`JobEvent::Changed`]; any before it may have been missed.
    Subscribed,
    /// A job account changed (created, claimed, committed, revealed, settled, ...), as of
    /// `slot`.
    Changed {
        address: Pubkey,
        job: Box<Job>,
        slot: u64,
    },
    /// The connection failed or dropped (the reason); it is being reopened.
    Dropped(String),
}

/// The first wait before reopening a dropped connection; doubled on each failure up to
/// [`MAX_BACKOFF`], back to this once a subscription holds.
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// The PubSub URL of a cluster's RPC URL, as Solana's tools derive it: `ws` for `http`, `wss`
/// for `https`, and the port after the RPC port when one is given.
pub fn pubsub_url_for(rpc_url: &str) -> Result<String, String> {
    let mut url = url::Url::parse(rpc_url).map_err(|e| format!("`{rpc_url}`: {e}"))?;
    let scheme = match url.scheme() {
        "http" => "ws",
        "https" => "wss",
        other => return Err(format!("`{rpc_url}`: not an http(s) URL ({other})")),
    };
    url.set_scheme(scheme)
        .map_err(|()| format!("`{rpc_url}`: cannot use {scheme}"))?;
    if let Some(port) = url.port() {
        let next = port
            .checked_add(1)
            .ok_or_else(|| format!("`{rpc_url}`: no port after {port}"))?;
        url.set_port(Some(next))
            .map_err(|()| format!("`{rpc_url}`: cannot set the port"))?;
    }
    Ok(url.to_string())
}

/// Subscribes to every job account of the market at `commitment` over `pubsub_url`, in a
/// task that runs until the receiver is dropped (reconnecting as often as it must).
pub fn watch_jobs(pubsub_url: String, commitment: CommitmentConfig) -> mpsc::Receiver<JobEvent> {
    let (tx, rx) = mpsc::channel(1024);
    tokio::spawn(async move {
        let mut backoff = FIRST_BACKOFF;
        loop {
            let reason = match subscribe_once(&pubsub_url, commitment, &tx).await {
                Ok(reason) => {
                    backoff = FIRST_BACKOFF;
                    reason
                }
                Err(reason) => reason,
            };
            if tx.send(JobEvent::Dropped(reason)).await.is_err() {
                return;
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    });
    rx
}

/// One connection: subscribes, forwards changes until the stream ends, and says why it ended
/// (`Ok` when a subscription held, `Err` when none could be made). Returns at once when the
/// receiver is gone.
async fn subscribe_once(
    url: &str,
    commitment: CommitmentConfig,
    tx: &mpsc::Sender<JobEvent>,
) -> Result<String, String> {
    let client = PubsubClient::new(url)
        .await
        .map_err(|e| format!("cannot connect to {url}: {e}"))?;
    let config = RpcProgramAccountsConfig {
        filters: Some(vec![RpcFilterType::Memcmp(Memcmp::new_raw_bytes(
            0,
            Job::DISCRIMINATOR.to_vec(),
        ))]),
        account_config: RpcAccountInfoConfig {
            encoding: Some(UiAccountEncoding::Base64),
            commitment: Some(commitment),
            ..Default::default()
        },
        ..Default::default()
    };
    let (mut stream, _unsubscribe) = client
        .program_subscribe(&concord_market::ID, Some(config))
        .await
        .map_err(|e| format!("cannot subscribe to jobs on {url}: {e}"))?;
    if tx.send(JobEvent::Subscribed).await.is_err() {
        return Ok(String::new());
    }
    while let Some(update) = stream.next().await {
        let slot = update.context.slot;
        let keyed = update.value;
        let (Ok(address), Some(data)) =
            (keyed.pubkey.parse::<Pubkey>(), keyed.account.data.decode())
        else {
            continue;
        };
        let Ok(job) = Job::try_deserialize(&mut data.as_slice()) else {
            continue;
        };
        if tx
            .send(JobEvent::Changed {
                address,
                job: Box::new(job),
                slot,
            })
            .await
            .is_err()
        {
            return Ok(String::new());
        }
    }
    Ok(format!(
        "the subscription to {url} ended (connection closed)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pubsub_url_follows_the_rpc_url() {
        assert_eq!(
            pubsub_url_for("http://127.0.0.1:8899").unwrap(),
            "ws://127.0.0.1:8900/"
        );
        assert_eq!(
            pubsub_url_for("https://api.devnet.solana.com").unwrap(),
            "wss://api.devnet.solana.com/"
        );
        assert!(pubsub_url_for("ftp://x").unwrap_err().contains("http"));
    }
}
