//! Reading Concord state through RPC: typed account fetches, token balances, and discovery
//! of jobs and providers with `getProgramAccounts` memcmp filters.
use std::sync::Arc;

use anchor_lang::prelude::Pubkey;
use anchor_lang::{AccountDeserialize, Discriminator};
use concord_market::{Job, JobState, MarketConfig, JOB_BUYER_OFFSET, JOB_STATE_OFFSET};
use concord_staking::{Provider, StakingConfig, PROVIDER_ACCEPTING_OFFSET};
use solana_account_decoder_client_types::{UiAccount, UiAccountEncoding, UiDataSliceConfig};
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_rpc_client_api::client_error::Error as ClientError;
use solana_rpc_client_api::config::{RpcAccountInfoConfig, RpcProgramAccountsConfig};
use solana_rpc_client_api::filter::{Memcmp, RpcFilterType};

use super::errors::{ChainError, RpcFailure};
use super::pda;

/// A connection to a cluster, for reads.
#[derive(Clone)]
pub struct Chain {
    pub rpc: Arc<RpcClient>,
}

/// Which jobs to list.
#[derive(Clone, Copy, Debug, Default)]
pub struct JobFilter {
    pub state: Option<JobState>,
    pub buyer: Option<Pubkey>,
}

impl Chain {
    pub fn new(rpc: Arc<RpcClient>) -> Chain {
        Chain { rpc }
    }

    /// Turns an RPC client error into a chain error naming this endpoint.
    pub(crate) fn rpc_err(&self) -> impl Fn(ClientError) -> ChainError + '_ {
        |e| RpcFailure::chain_error(&self.rpc.url(), e)
    }

    /// Fetches and decodes an Anchor account; `None` when nothing lives at `address`.
    pub async fn fetch<T: AccountDeserialize>(
        &self,
        address: &Pubkey,
    ) -> Result<Option<T>, ChainError> {
        Ok(self.fetch_at(address).await?.0)
    }

    /// Like [`Chain::fetch`], with the slot the node read it at (to order it against a
    /// notification of the same account).
    pub async fn fetch_at<T: AccountDeserialize>(
        &self,
        address: &Pubkey,
    ) -> Result<(Option<T>, u64), ChainError> {
        let (data, slot) = self.account_data(address).await?;
        let Some(data) = data else {
            return Ok((None, slot));
        };
        T::try_deserialize(&mut data.as_slice())
            .map(|t| (Some(t), slot))
            .map_err(|e| ChainError::WrongAccount {
                address: *address,
                reason: e.to_string(),
            })
    }

    /// An account's data and the slot it was read at. Plain base64: the RPC client's default,
    /// base64+zstd, costs a compression context on the node and a decompression context here
    /// for every read, more than it saves on accounts of a few KB over a local link.
    pub(crate) async fn account_data(
        &self,
        address: &Pubkey,
    ) -> Result<(Option<Vec<u8>>, u64), ChainError> {
        let config = RpcAccountInfoConfig {
            encoding: Some(UiAccountEncoding::Base64),
            commitment: Some(self.rpc.commitment()),
            ..Default::default()
        };
        let response = self
            .rpc
            .get_ui_account_with_config(address, config)
            .await
            .map_err(self.rpc_err())?;
        let data = match response.value {
            None => None,
            Some(account) => {
                Some(
                    account
                        .data
                        .decode()
                        .ok_or_else(|| ChainError::WrongAccount {
                            address: *address,
                            reason: "the node sent data that is not base64".into(),
                        })?,
                )
            }
        };
        Ok((data, response.context.slot))
    }

    /// Like [`Chain::fetch`], but a missing account is an error naming `what`.
    pub async fn require<T: AccountDeserialize>(
        &self,
        address: &Pubkey,
        what: &str,
    ) -> Result<T, ChainError> {
        self.fetch(address)
            .await?
            .ok_or_else(|| ChainError::NotFound(format!("{what} {address}")))
    }

    pub async fn market_config(&self) -> Result<MarketConfig, ChainError> {
        self.require(&pda::market_config(), "the market config")
            .await
    }

    pub async fn staking_config(&self) -> Result<StakingConfig, ChainError> {
        self.require(&pda::staking_config(), "the staking config")
            .await
    }

    pub async fn job(&self, address: &Pubkey) -> Result<Job, ChainError> {
        Ok(self.job_at(address).await?.0)
    }

    /// A job and the slot it was read at.
    pub async fn job_at(&self, address: &Pubkey) -> Result<(Job, u64), ChainError> {
        match self.fetch_at(address).await? {
            (Some(job), slot) => Ok((job, slot)),
            (None, _) => Err(ChainError::NotFound(format!("job {address}"))),
        }
    }

    pub async fn provider(&self, authority: &Pubkey) -> Result<Provider, ChainError> {
        self.require(&pda::provider(authority), "provider account")
            .await
    }

    /// A token account's balance (0 when it does not exist).
    pub async fn token_balance(&self, account: &Pubkey) -> Result<u64, ChainError> {
        match self.rpc.get_token_account_balance(account).await {
            Ok(b) => b.amount.parse().map_err(|e| ChainError::WrongAccount {
                address: *account,
                reason: format!("the token amount `{}` is not a number: {e}", b.amount),
            }),
            Err(_) if !self.exists(account).await? => Ok(0),
            Err(e) => Err(self.rpc_err()(e)),
        }
    }

    /// The cluster clock's unix time, as the programs see it (deadlines are compared to it).
    pub async fn unix_timestamp(&self) -> Result<i64, ChainError> {
        let (data, _) = self.account_data(&solana_sdk::sysvar::clock::ID).await?;
        let data = data.ok_or_else(|| ChainError::NotFound("the clock sysvar".into()))?;
        // Clock: slot, epoch_start_timestamp, epoch, leader_schedule_epoch, unix_timestamp.
        let bytes: [u8; 8] = data
            .get(32..40)
            .and_then(|b| b.try_into().ok())
            .ok_or(ChainError::MalformedClock)?;
        Ok(i64::from_le_bytes(bytes))
    }

    /// The slot the cluster is at, at this client's commitment.
    pub async fn slot(&self) -> Result<u64, ChainError> {
        self.rpc.get_slot().await.map_err(self.rpc_err())
    }

    pub async fn exists(&self, address: &Pubkey) -> Result<bool, ChainError> {
        Ok(self.account_data(address).await?.0.is_some())
    }

    async fn program_accounts<T: AccountDeserialize + Discriminator>(
        &self,
        program: &Pubkey,
        filters: Vec<RpcFilterType>,
    ) -> Result<Vec<(Pubkey, T)>, ChainError> {
        let accounts = self.listed::<T>(program, filters, None).await?;
        Ok(accounts
            .into_iter()
            .filter_map(|(k, a)| {
                let data = a.data.decode()?;
                T::try_deserialize(&mut data.as_slice())
                    .ok()
                    .map(|t| (k, t))
            })
            .collect())
    }

    /// `getProgramAccounts` for the `T` accounts of `program` matching `filters` (the
    /// discriminator's filter added first), their data cut to `slice` when one is given.
    async fn listed<T: Discriminator>(
        &self,
        program: &Pubkey,
        mut filters: Vec<RpcFilterType>,
        slice: Option<UiDataSliceConfig>,
    ) -> Result<Vec<(Pubkey, UiAccount)>, ChainError> {
        filters.insert(0, discriminator::<T>());
        let config = RpcProgramAccountsConfig {
            filters: Some(filters),
            account_config: RpcAccountInfoConfig {
                encoding: Some(UiAccountEncoding::Base64),
                data_slice: slice,
                commitment: Some(self.rpc.commitment()),
                ..Default::default()
            },
            ..Default::default()
        };
        self.rpc
            .get_program_ui_accounts_with_config(program, config)
            .await
            .map_err(self.rpc_err())
    }

    /// Jobs matching `filter`, found with memcmp filters on the state and buyer fields.
    pub async fn jobs(&self, filter: JobFilter) -> Result<Vec<(Pubkey, Job)>, ChainError> {
        let mut jobs = self
            .program_accounts::<Job>(&concord_market::ID, filter.memcmps())
            .await?;
        jobs.sort_by_key(|(_, j)| (j.created_at, j.job_id));
        Ok(jobs)
    }

    /// The addresses of the jobs matching `filter`, without their data (a zero-length data
    /// slice): what a watcher polling for many jobs reads, at a few bytes a job instead of
    /// the account.
    pub async fn job_addresses(&self, filter: JobFilter) -> Result<Vec<Pubkey>, ChainError> {
        let none = UiDataSliceConfig {
            offset: 0,
            length: 0,
        };
        let accounts = self
            .listed::<Job>(&concord_market::ID, filter.memcmps(), Some(none))
            .await?;
        Ok(accounts.into_iter().map(|(k, _)| k).collect())
    }

    /// Registered providers; with `accepting_only`, those accepting new jobs.
    pub async fn providers(
        &self,
        accepting_only: bool,
    ) -> Result<Vec<(Pubkey, Provider)>, ChainError> {
        let filters = if accepting_only {
            vec![RpcFilterType::Memcmp(Memcmp::new_raw_bytes(
                PROVIDER_ACCEPTING_OFFSET,
                vec![1],
            ))]
        } else {
            vec![]
        };
        self.program_accounts::<Provider>(&concord_staking::ID, filters)
            .await
    }
}

impl JobFilter {
    /// The memcmp filters on the job's state and buyer fields (the discriminator apart).
    fn memcmps(&self) -> Vec<RpcFilterType> {
        let mut filters = Vec::new();
        if let Some(state) = self.state {
            let byte = borsh_byte(&state);
            filters.push(RpcFilterType::Memcmp(Memcmp::new_raw_bytes(
                JOB_STATE_OFFSET,
                vec![byte],
            )));
        }
        if let Some(buyer) = self.buyer {
            filters.push(RpcFilterType::Memcmp(Memcmp::new_raw_bytes(
                JOB_BUYER_OFFSET,
                buyer.to_bytes().to_vec(),
            )));
        }
        filters
    }
}

/// The memcmp filter on an Anchor account's discriminator.
fn discriminator<T: Discriminator>() -> RpcFilterType {
    RpcFilterType::Memcmp(Memcmp::new_raw_bytes(0, T::DISCRIMINATOR.to_vec()))
}

/// The one-byte borsh encoding of a unit enum.
fn borsh_byte<T: anchor_lang::AnchorSerialize>(value: &T) -> u8 {
    let mut bytes = Vec::with_capacity(1);
    value.serialize(&mut bytes).expect("enum serializes");
    bytes[0]
}
