//! Signature notifications over PubSub for [`Sender`](super::Sender): one connection shared by
//! every send, opened on first use and reopened after it drops (a failed opening is retried
//! after [`RECONNECT_AFTER`], doubling up to [`MAX_RECONNECT_AFTER`]), one `signatureSubscribe`
//! per transaction, made before it is sent so
//! the notification cannot be missed. A sender keeps polling as well (less often): a
//! notification only cuts the wait short, so a dropped connection costs latency, never a
//! confirmation.
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use solana_commitment_config::CommitmentConfig;
use solana_pubsub_client::nonblocking::pubsub_client::PubsubClient;
use solana_rpc_client_api::config::RpcSignatureSubscribeConfig;
use solana_rpc_client_api::response::{ProcessedSignatureResult, RpcSignatureResult};
use solana_sdk::signature::Signature;
use tokio::sync::{oneshot, Mutex};

/// How long opening the connection, or one subscription, may take before the send goes on
/// polling only.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// The least time between two attempts to open the connection after one failed; doubled after
/// each failed opening (an endpoint that drops packets holds a send for [`CONNECT_TIMEOUT`]
/// each time), back to this once one opens.
pub const RECONNECT_AFTER: Duration = Duration::from_secs(1);
pub const MAX_RECONNECT_AFTER: Duration = Duration::from_secs(30);

/// What the watch reports to its owner (for metrics).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignatureEvent {
    /// The connection opened (first, or again after a drop).
    Connected,
    /// The connection failed or dropped.
    Dropped,
    /// A transaction's notification arrived.
    Notified,
}

type Hook = Arc<dyn Fn(SignatureEvent) + Send + Sync>;

/// Signature subscriptions at one PubSub URL, shared by clones.
#[derive(Clone)]
pub struct SignatureWatch {
    url: String,
    state: Arc<Mutex<Connection>>,
    hook: Option<Hook>,
}

#[derive(Default)]
struct Connection {
    client: Option<Arc<PubsubClient>>,
    /// When the last opening failed, and how long to wait after it.
    failed: Option<(Instant, Duration)>,
}

impl SignatureWatch {
    pub fn new(url: String) -> SignatureWatch {
        SignatureWatch {
            url,
            state: Arc::default(),
            hook: None,
        }
    }

    /// Calls `hook` on each [`SignatureEvent`].
    pub fn on_event(mut self, hook: impl Fn(SignatureEvent) + Send + Sync + 'static) -> Self {
        self.hook = Some(Arc::new(hook));
        self
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    fn report(&self, event: SignatureEvent) {
        if let Some(hook) = &self.hook {
            hook(event);
        }
    }

    /// The open connection, opening it if none is (`None` while it cannot be opened).
    async fn client(&self) -> Option<Arc<PubsubClient>> {
        let mut state = self.state.lock().await;
        if let Some(client) = &state.client {
            return Some(client.clone());
        }
        if state.failed.is_some_and(|(at, wait)| at.elapsed() < wait) {
            return None;
        }
        match tokio::time::timeout(CONNECT_TIMEOUT, PubsubClient::new(self.url.as_str())).await {
            Ok(Ok(client)) => {
                let client = Arc::new(client);
                state.client = Some(client.clone());
                state.failed = None;
                self.report(SignatureEvent::Connected);
                Some(client)
            }
            // Refused or timed out: polling only until the next attempt.
            Ok(Err(_)) | Err(_) => {
                let wait = state
                    .failed
                    .map_or(RECONNECT_AFTER, |(_, w)| (w * 2).min(MAX_RECONNECT_AFTER));
                state.failed = Some((Instant::now(), wait));
                None
            }
        }
    }

    /// Forgets `client` (if it is still the open one): the next subscription reopens the
    /// connection at once (only a failed opening waits [`RECONNECT_AFTER`]).
    async fn failed(&self, client: &Arc<PubsubClient>) {
        let mut state = self.state.lock().await;
        if state
            .client
            .as_ref()
            .is_some_and(|c| Arc::ptr_eq(c, client))
        {
            state.client = None;
            self.report(SignatureEvent::Dropped);
        }
    }

    /// Subscribes to `signature` reaching `commitment`. Returns once the subscription holds,
    /// with a receiver that completes when the notification arrives, with whether the
    /// transaction succeeded (and fails if the connection drops first); `None` when no
    /// connection can be had. A connection found dead is reopened once, at once. Dropping the
    /// receiver unsubscribes.
    pub async fn subscribe(
        &self,
        signature: Signature,
        commitment: CommitmentConfig,
    ) -> Option<oneshot::Receiver<bool>> {
        for _ in 0..2 {
            let client = self.client().await?;
            match self.subscribe_on(client, signature, commitment).await {
                Some(Ok(notified)) => return Some(notified),
                Some(Err(())) => continue, // Dead: reopen.
                None => return None,       // No answer in time.
            }
        }
        None
    }

    /// One `signatureSubscribe` on `client`, held by a task until the notification arrives or
    /// the receiver is dropped. `Some(Err)` when the connection is dead.
    async fn subscribe_on(
        &self,
        client: Arc<PubsubClient>,
        signature: Signature,
        commitment: CommitmentConfig,
    ) -> Option<Result<oneshot::Receiver<bool>, ()>> {
        let (subscribed_tx, subscribed) = oneshot::channel();
        let (mut notified_tx, notified) = oneshot::channel();
        let watch = self.clone();
        tokio::spawn(async move {
            let config = RpcSignatureSubscribeConfig {
                commitment: Some(commitment),
                enable_received_notification: Some(false),
            };
            let (mut stream, unsubscribe) =
                match client.signature_subscribe(&signature, Some(config)).await {
                    Ok(subscription) => subscription,
                    Err(_) => {
                        watch.failed(&client).await;
                        let _ = subscribed_tx.send(false);
                        return;
                    }
                };
            let _ = subscribed_tx.send(true);
            tokio::select! {
                next = stream.next() => match next {
                    Some(update) => {
                        watch.report(SignatureEvent::Notified);
                        let succeeded = matches!(
                            update.value,
                            RpcSignatureResult::ProcessedSignature(ProcessedSignatureResult { err: None })
                        );
                        let _ = notified_tx.send(succeeded);
                    }
                    None => watch.failed(&client).await,
                },
                () = notified_tx.closed() => {}
            }
            drop(stream);
            unsubscribe().await;
        });
        match tokio::time::timeout(CONNECT_TIMEOUT, subscribed).await {
            Ok(Ok(true)) => Some(Ok(notified)),
            Ok(Ok(false)) => Some(Err(())),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Failed openings back off: 1 s, 2 s, 4 s … up to 30 s, and none is tried before its
    /// wait is over.
    #[tokio::test]
    async fn failed_openings_back_off() {
        // Nothing listens on port 1: each opening is refused at once.
        let watch = SignatureWatch::new("ws://127.0.0.1:1".into());
        let wait = || async { watch.state.lock().await.failed.map(|(_, w)| w) };
        assert!(watch.client().await.is_none());
        assert_eq!(wait().await, Some(RECONNECT_AFTER));
        // Within the wait: no attempt, so the wait is unchanged.
        assert!(watch.client().await.is_none());
        assert_eq!(wait().await, Some(RECONNECT_AFTER));
        let mut expected = RECONNECT_AFTER;
        for _ in 0..7 {
            {
                // The wait is over.
                let mut state = watch.state.lock().await;
                let (_, w) = state.failed.expect("a failed opening");
                state.failed = Some((Instant::now() - w, w));
            }
            assert!(watch.client().await.is_none());
            expected = (expected * 2).min(MAX_RECONNECT_AFTER);
            assert_eq!(wait().await, Some(expected));
        }
        assert_eq!(expected, MAX_RECONNECT_AFTER);
    }
}
