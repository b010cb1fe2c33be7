//! Sending transactions: a fresh blockhash per attempt, an optional priority fee, preflight
//! errors decoded into named program errors (never retried), transport errors and expired
//! blockhashes retried with backoff, and confirmation polled at the client's commitment.
use std::sync::Arc;
use std::time::Duration;

use anchor_lang::solana_program::instruction::Instruction;
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_rpc_client_api::client_error::{Error as ClientError, ErrorKind};
use solana_rpc_client_api::config::RpcSendTransactionConfig;
use solana_rpc_client_api::request::{RpcError, RpcResponseErrorData};
use solana_sdk::signature::{Keypair, Signature};
use solana_sdk::signer::Signer;
use solana_sdk::transaction::Transaction;

use super::errors::ChainError;
use super::ix;

/// Signs and sends transactions for one fee payer.
#[derive(Clone)]
pub struct Sender {
    pub rpc: Arc<RpcClient>,
    pub payer: Arc<Keypair>,
    /// Micro-lamports per compute unit; `None` sends no priority fee.
    pub priority_fee: Option<u64>,
    /// How many times a transaction is (re)sent before giving up.
    pub max_attempts: u32,
    /// How long to wait for one attempt to confirm.
    pub confirm_timeout: Duration,
}

impl Sender {
    pub fn new(rpc: Arc<RpcClient>, payer: Arc<Keypair>) -> Sender {
        Sender {
            rpc,
            payer,
            priority_fee: None,
            max_attempts: 5,
            confirm_timeout: Duration::from_secs(60),
        }
    }

    /// Sends `ixs` paid by the payer and signed by it and `signers`; returns once confirmed.
    pub async fn send(
        &self,
        ixs: &[Instruction],
        signers: &[&Keypair],
    ) -> Result<Signature, ChainError> {
        let mut all = Vec::with_capacity(ixs.len() + 1);
        if let Some(fee) = self.priority_fee {
            all.push(ix::set_compute_unit_price(fee));
        }
        all.extend_from_slice(ixs);
        let mut keys: Vec<&Keypair> = vec![&self.payer];
        keys.extend(
            signers
                .iter()
                .copied()
                .filter(|k| k.pubkey() != self.payer.pubkey()),
        );

        let mut last_error = ChainError::Timeout("no attempt was made".into());
        for attempt in 0..self.max_attempts {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(250 << attempt.min(5))).await;
            }
            let blockhash = match self.rpc.get_latest_blockhash().await {
                Ok(b) => b,
                Err(e) => {
                    last_error = ChainError::Rpc(e.to_string());
                    continue;
                }
            };
            let tx = Transaction::new_signed_with_payer(
                &all,
                Some(&self.payer.pubkey()),
                &keys,
                blockhash,
            );
            let config = RpcSendTransactionConfig {
                preflight_commitment: Some(self.rpc.commitment().commitment),
                ..Default::default()
            };
            let signature = match self.rpc.send_transaction_with_config(&tx, config).await {
                Ok(sig) => sig,
                Err(e) => match refusal(&e) {
                    Some(refused) => return Err(refused),
                    None => {
                        last_error = ChainError::Rpc(e.to_string());
                        continue;
                    }
                },
            };
            match self.confirm(&signature).await {
                Ok(true) => return Ok(signature),
                Ok(false) => {
                    last_error =
                        ChainError::Timeout(format!("transaction {signature} did not confirm"))
                }
                Err(refused @ (ChainError::Program { .. } | ChainError::Transaction(_))) => {
                    return Err(refused)
                }
                Err(other) => last_error = other,
            }
        }
        Err(last_error)
    }

    /// Polls the signature until it is confirmed (`true`), fails (an error), or its blockhash
    /// expires or the timeout passes (`false`, safe to re-send with a new blockhash).
    async fn confirm(&self, signature: &Signature) -> Result<bool, ChainError> {
        let start = std::time::Instant::now();
        while start.elapsed() < self.confirm_timeout {
            match self.rpc.get_signature_statuses(&[*signature]).await {
                Ok(response) => {
                    if let Some(Some(status)) = response.value.first() {
                        if let Some(err) = &status.err {
                            let logs = self.logs_of(signature).await;
                            return Err(ChainError::from_transaction(err, &logs));
                        }
                        if status.satisfies_commitment(self.rpc.commitment()) {
                            return Ok(true);
                        }
                    }
                }
                Err(e) => return Err(ChainError::Rpc(e.to_string())),
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        Ok(false)
    }

    async fn logs_of(&self, signature: &Signature) -> Vec<String> {
        use solana_transaction_status_client_types::UiTransactionEncoding;
        self.rpc
            .get_transaction(signature, UiTransactionEncoding::Json)
            .await
            .ok()
            .and_then(|t| t.transaction.meta)
            .and_then(|m| Option::<Vec<String>>::from(m.log_messages))
            .unwrap_or_default()
    }
}

/// A preflight simulation failure: the cluster refused the transaction (not a transport error).
fn refusal(e: &ClientError) -> Option<ChainError> {
    if let ErrorKind::RpcError(RpcError::RpcResponseError {
        data: RpcResponseErrorData::SendTransactionPreflightFailure(sim),
        ..
    }) = e.kind()
    {
        let logs = sim.logs.clone().unwrap_or_default();
        return sim
            .err
            .as_ref()
            .map(|err| ChainError::from_transaction(&err.clone().into(), &logs));
    }
    e.get_transaction_error()
        .map(|err| ChainError::from_transaction(&err, &[]))
}
