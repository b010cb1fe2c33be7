//! A TCP hop in front of the chain's PubSub (websocket) port: it carries each connection
//! byte for byte until [`CuttingProxy::cut`] closes every connection open at that moment,
//! as a dropped network path or a restarted RPC node would. New connections are carried again.
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::broadcast;

pub struct CuttingProxy {
    /// `ws://` URL of the hop.
    pub url: String,
    accepted: Arc<AtomicUsize>,
    cut: broadcast::Sender<()>,
}

impl CuttingProxy {
    /// Connections accepted so far (a client that reconnects adds one).
    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }

    /// Closes every connection carried now.
    pub fn cut(&self) {
        let _ = self.cut.send(());
    }
}

/// Starts the hop in front of `target` (a `ws://host:port` URL).
pub async fn start(target: &str) -> CuttingProxy {
    let address = target
        .trim_start_matches("ws://")
        .trim_end_matches('/')
        .to_string();
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("ws://{}", listener.local_addr().expect("address"));
    let accepted = Arc::new(AtomicUsize::new(0));
    let (cut, _) = broadcast::channel(4);
    let (count, cuts) = (accepted.clone(), cut.clone());
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            let mut cut = cuts.subscribe();
            let address = address.clone();
            tokio::spawn(async move {
                let Ok(mut upstream) = TcpStream::connect(&address).await else {
                    return;
                };
                tokio::select! {
                    _ = tokio::io::copy_bidirectional(&mut client, &mut upstream) => {}
                    _ = cut.recv() => {}
                }
                // Both ends close here.
            });
        }
    });
    CuttingProxy { url, accepted, cut }
}
