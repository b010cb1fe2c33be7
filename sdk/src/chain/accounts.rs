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
        let response = self
            .rpc
            .get_account_with_commitment(address, self.rpc.commitment())
            .await
            .map_err(self.rpc_err())?;
        match response.value {
            None => Ok(None),
            Some(account) => T::try_deserialize(&mut account.data.as_slice())
                .map(Some)
                .map_err(|e| ChainError::WrongAccount {
                    address: *address,
                    reason: e.to_string(),
                }),
        }
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
        self.require(address, "job").await
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
        let clock = solana_sdk::sysvar::clock::ID;
        let account = self
            .rpc
            .get_account_with_commitment(&clock, self.rpc.commitment())
            .await
            .map_err(self.rpc_err())?
            .value
            .ok_or_else(|| ChainError::NotFound("the clock sysvar".into()))?;
        // Clock: slot, epoch_start_timestamp, epoch, leader_schedule_epoch, unix_timestamp.
        let bytes: [u8; 8] = account
            .data
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
        let r = self
            .rpc
            .get_account_with_commitment(address, self.rpc.commitment())
            .await
            .map_err(self.rpc_err())?;
        Ok(r.value.is_some())
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
