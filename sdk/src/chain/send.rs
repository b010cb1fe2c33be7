//! Sending transactions: one signature re-sent until confirmed or its blockhash expires (so a
//! retry never executes twice), an optional priority fee, preflight errors decoded into named
//! program errors (never retried), transport errors and expired blockhashes retried with
//! backoff, and confirmation at the client's commitment: awaited as a signature notification
//! when the sender has a [`SignatureWatch`] (a notification of success ends the send with no
//! status read), and polled either way (less often while subscribed, never before the first
//! wait).
use std::sync::Arc;
use std::time::Duration;

use anchor_lang::solana_program::instruction::Instruction;
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_rpc_client_api::client_error::{Error as ClientError, ErrorKind};
use solana_rpc_client_api::config::RpcSendTransactionConfig;
use solana_rpc_client_api::request::{RpcError, RpcResponseErrorData};
use solana_sdk::message::Message;
use solana_sdk::signature::{Keypair, Signature};
use solana_sdk::signer::Signer;
use solana_sdk::transaction::{Transaction, TransactionError};

use super::errors::{ChainError, RpcFailure};
use super::ix;
use super::signatures::SignatureWatch;

/// How often a send polls the signature's status without a notification to wait for.
const POLL: Duration = Duration::from_millis(200);
/// How often it polls while subscribed (the notification ends the wait sooner).
const POLL_SUBSCRIBED: Duration = Duration::from_millis(1_000);
/// How often an unconfirmed transaction is sent again (until its blockhash expires).
const RESEND_EVERY: Duration = Duration::from_secs(2);

/// The most bytes a transaction may take on the wire (Solana's packet data size: the IPv6
/// minimum MTU less the IP and UDP headers).
pub const MAX_TRANSACTION_SIZE: usize = 1232;

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
    /// Signature notifications, when the cluster's PubSub endpoint is known.
    pub signatures: Option<SignatureWatch>,
}

impl Sender {
    /// Turns an RPC client error into a chain error naming this endpoint.
    fn rpc_err(&self) -> impl Fn(ClientError) -> ChainError + '_ {
        |e| RpcFailure::chain_error(&self.rpc.url(), e)
    }

    pub fn new(rpc: Arc<RpcClient>, payer: Arc<Keypair>) -> Sender {
        Sender {
            rpc,
            payer,
            priority_fee: None,
            max_attempts: 5,
            confirm_timeout: Duration::from_secs(60),
            signatures: None,
        }
    }

    /// `ixs` after this sender's priority fee instruction, if it sets one: what a
    /// transaction of `ixs` carries.
    fn with_priority_fee(&self, ixs: &[Instruction]) -> Vec<Instruction> {
        let mut all = Vec::with_capacity(ixs.len() + 1);
        all.extend(self.priority_fee.map(ix::set_compute_unit_price));
        all.extend_from_slice(ixs);
        all
    }

    /// Splits `ixs`, in order, into as few transactions as fit [`MAX_TRANSACTION_SIZE`] each
    /// (with this sender's priority fee instruction and its payer): for example several
    /// `create_job` of one buyer in one transaction. An instruction too large to share a
    /// transaction is one on its own (and fails to send as it would alone).
    pub fn pack(&self, ixs: Vec<Instruction>) -> Vec<Vec<Instruction>> {
        let payer = self.payer.pubkey();
        let fits = |batch: &[Instruction]| {
            let all = self.with_priority_fee(batch);
            transaction_size(&Message::new(&all, Some(&payer))) <= MAX_TRANSACTION_SIZE
        };
        let mut out: Vec<Vec<Instruction>> = Vec::new();
        let mut batch: Vec<Instruction> = Vec::new();
        for ix in ixs {
            batch.push(ix);
            if batch.len() > 1 && !fits(&batch) {
                let last = batch.pop().expect("just pushed");
                out.push(std::mem::replace(&mut batch, vec![last]));
            }
        }
        if !batch.is_empty() {
            out.push(batch);
        }
        out
    }

    /// Sends `ixs` paid by the payer and signed by it and `signers`; returns once confirmed.
    ///
    /// One signed transaction is re-sent until it confirms, fails, or its blockhash expires;
    /// only then is it signed again with a fresh blockhash. A transaction whose first send was
    /// lost in transit can therefore never execute twice (its blockhash has expired before a
    /// second signature exists).
    pub async fn send(
        &self,
        ixs: &[Instruction],
        signers: &[&Keypair],
    ) -> Result<Signature, ChainError> {
        let all = self.with_priority_fee(ixs);
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
                    last_error = self.rpc_err()(e);
                    continue;
                }
            };
            let tx = Transaction::new_signed_with_payer(
                &all,
                Some(&self.payer.pubkey()),
                &keys,
                blockhash,
            );
            match self.send_until_expired(&tx, &blockhash).await {
                Ok(signature) => return Ok(signature),
                Err(refused @ (ChainError::Program { .. } | ChainError::Transaction(_))) => {
                    return Err(refused)
                }
                Err(other) => last_error = other,
            }
        }
        Err(last_error)
    }

    /// Sends and re-sends one signed transaction until it is confirmed (its signature), fails
    /// (the decoded error), or its blockhash expires or the timeout passes (a retryable error).
    async fn send_until_expired(
        &self,
        tx: &Transaction,
        blockhash: &solana_sdk::hash::Hash,
    ) -> Result<Signature, ChainError> {
        let signature = tx.signatures[0];
        let config = RpcSendTransactionConfig {
            preflight_commitment: Some(self.rpc.commitment().commitment),
            ..Default::default()
        };
        let start = std::time::Instant::now();
        let mut last_error =
            ChainError::Timeout(format!("transaction {signature} did not confirm"));
        let mut notice = match &self.signatures {
            Some(watch) => watch.subscribe(signature, self.rpc.commitment()).await,
            None => None,
        };
        while start.elapsed() < self.confirm_timeout {
            if let Err(e) = self.rpc.send_transaction_with_config(tx, config).await {
                if let Some(refused) = refusal(&e) {
                    // Preflight refused it; but it may have landed on an earlier send.
                    if self.status(&signature).await? == Some(true) {
                        return Ok(signature);
                    }
                    return Err(refused);
                }
                last_error = self.rpc_err()(e);
            }
            let resend_at = tokio::time::Instant::now() + RESEND_EVERY;
            // With a notification on its way, no status is asked before the first wait: it
            // could only say "not yet".
            let mut ask = notice.is_none();
            loop {
                if ask {
                    match self.status(&signature).await {
                        Ok(Some(true)) => return Ok(signature),
                        Ok(_) => {}
                        Err(failed @ (ChainError::Program { .. } | ChainError::Transaction(_))) => {
                            return Err(failed)
                        }
                        Err(other) => last_error = other,
                    }
                }
                ask = true;
                let now = tokio::time::Instant::now();
                if now >= resend_at {
                    break;
                }
                let poll = if notice.is_some() {
                    POLL_SUBSCRIBED
                } else {
                    POLL
                };
                let wake = resend_at.min(now + poll);
                match notice.as_mut() {
                    // Notified (or the connection dropped: polling only from here).
                    Some(notified) => tokio::select! {
                        landed = notified => {
                            notice = None;
                            // Confirmed without error: done. A failure is read from its
                            // status (the error, decoded from the logs).
                            if landed == Ok(true) {
                                return Ok(signature);
                            }
                        }
                        () = tokio::time::sleep_until(wake) => {}
                    },
                    None => tokio::time::sleep_until(wake).await,
                }
            }
            if let Ok(false) = self
                .rpc
                .is_blockhash_valid(blockhash, self.rpc.commitment())
                .await
            {
                // Expired: it can no longer land. One last look, then the caller re-signs.
                if self.status(&signature).await? == Some(true) {
                    return Ok(signature);
                }
                return Err(last_error);
            }
        }
        Err(last_error)
    }

    /// `Some(true)` once confirmed, `Some(false)` while only processed, `None` if unknown;
    /// a failed transaction is returned as its decoded error.
    async fn status(&self, signature: &Signature) -> Result<Option<bool>, ChainError> {
        let response = self
            .rpc
            .get_signature_statuses(&[*signature])
            .await
            .map_err(self.rpc_err())?;
        match response.value.first() {
            Some(Some(status)) => {
                if let Some(err) = &status.err {
                    let logs = self.logs_of(signature).await;
                    return Err(ChainError::from_transaction(err, &logs));
                }
                Ok(Some(status.satisfies_commitment(self.rpc.commitment())))
            }
            _ => Ok(None),
        }
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

/// The bytes a signed legacy transaction of `message` takes on the wire: the signature count
/// (compact, one byte below 128), the signatures, the message.
pub fn transaction_size(message: &Message) -> usize {
    let signatures = usize::from(message.header.num_required_signatures);
    let count = if signatures < 0x80 { 1 } else { 2 };
    count + 64 * signatures + message.serialize().len()
}

/// A preflight simulation failure: the cluster refused the transaction (not a transport error).
fn refusal(e: &ClientError) -> Option<ChainError> {
    if let ErrorKind::RpcError(RpcError::RpcResponseError {
        data: RpcResponseErrorData::SendTransactionPreflightFailure(sim),
        ..
    }) = e.kind()
    {
        let logs = sim.logs.clone().unwrap_or_default();
        let err: Option<TransactionError> = sim.err.clone().map(Into::into);
        // Re-sending a transaction that already landed is not a refusal: keep polling.
        return err
            .filter(|e| *e != TransactionError::AlreadyProcessed)
            .map(|err| ChainError::from_transaction(&err, &logs));
    }
    // The node refused the request itself (a transaction too large, malformed): no retry helps.
    if let ErrorKind::RpcError(RpcError::RpcResponseError {
        code: INVALID_PARAMS,
        message,
        ..
    }) = e.kind()
    {
        return Some(ChainError::Transaction(message.clone()));
    }
    e.get_transaction_error()
        .filter(|e| *e != TransactionError::AlreadyProcessed)
        .map(|err| ChainError::from_transaction(&err, &[]))
}

/// JSON-RPC "invalid params": what a node answers to a transaction it cannot accept at all.
const INVALID_PARAMS: i64 = -32602;

#[cfg(test)]
mod tests {
    use super::*;
    use concord_market::instructions::CreateJobArgs;
    use solana_sdk::pubkey::Pubkey;

    fn create(buyer: &Pubkey, job_id: u64) -> Instruction {
        let args = CreateJobArgs {
            job_id,
            manifest_hash: [7; 32],
            manifest_uri: "http://127.0.0.1:38901/store/concord".into(),
            requirements: Default::default(),
            replicas: 3,
            quorum: 2,
            price_per_replica: 10_000,
            collateral_per_replica: 10_000,
            claim_window: 60,
            exec_window: 60,
            reveal_window: 60,
            max_fee_bps: 500,
        };
        let mint = Pubkey::new_unique();
        ix::create_job(
            buyer,
            &Pubkey::new_unique(),
            &mint,
            &anchor_spl::token::ID,
            args,
        )
    }

    #[test]
    fn jobs_pack_several_to_a_transaction_and_each_fits() {
        let payer = Arc::new(Keypair::new());
        let rpc = Arc::new(RpcClient::new("http://127.0.0.1:1".into()));
        let mut sender = Sender::new(rpc, payer.clone());
        sender.priority_fee = Some(1);
        let ixs: Vec<Instruction> = (0..20).map(|i| create(&payer.pubkey(), i)).collect();
        let batches = sender.pack(ixs.clone());
        assert_eq!(batches.iter().map(Vec::len).sum::<usize>(), 20, "none lost");
        assert_eq!(batches.concat(), ixs, "in order");
        assert!(
            batches[0].len() >= 3,
            "{} per transaction",
            batches[0].len()
        );
        for batch in &batches {
            let mut all = vec![ix::set_compute_unit_price(1)];
            all.extend(batch.iter().cloned());
            let message = Message::new(&all, Some(&payer.pubkey()));
            let tx = Transaction::new(&[payer.as_ref()], message.clone(), Default::default());
            let wire = bincode::serialize(&tx).unwrap().len();
            assert_eq!(wire, transaction_size(&message));
            assert!(wire <= MAX_TRANSACTION_SIZE, "{wire} bytes");
            // Full: the next job would not have fitted.
            if batch.len() < batches[0].len() {
                continue;
            }
            all.push(create(&payer.pubkey(), 99));
            let more = Message::new(&all, Some(&payer.pubkey()));
            assert!(transaction_size(&more) > MAX_TRANSACTION_SIZE);
        }
    }
}
