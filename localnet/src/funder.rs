//! The keys that fund accounts on a local chain — the genesis admin's SOL and the payment
//! mint's authority — and the one way they are handed out (the faucet and tests use it).
use std::sync::Arc;

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::system_instruction;
use anchor_spl::token_2022::spl_token_2022;
use anyhow::{anyhow, Result};
use concord_sdk::chain::{ix, pda, Sender};
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_sdk::signature::Keypair;
use solana_sdk::signer::Signer;

/// Decimals of the local payment mint.
pub const DECIMALS: u8 = 6;

/// The keys that fund accounts on a local chain (the admin's SOL, the mint authority).
#[derive(Clone)]
pub struct Funder {
    pub rpc: Arc<RpcClient>,
    pub admin: Arc<Keypair>,
    pub mint: Pubkey,
    pub mint_authority: Arc<Keypair>,
    pub token_program: Pubkey,
}

impl Funder {
    /// Sends `lamports` of SOL and `tokens` of the payment mint (to `to`'s associated token
    /// account, created if needed) to `to`.
    pub async fn airdrop(&self, to: &Pubkey, lamports: u64, tokens: u64) -> Result<()> {
        let sender = Sender::new(self.rpc.clone(), self.admin.clone());
        let mut ixs = Vec::new();
        if lamports > 0 {
            ixs.push(system_instruction::transfer(
                &self.admin.pubkey(),
                to,
                lamports,
            ));
        }
        if tokens > 0 {
            let ata = pda::associated_token(to, &self.mint, &self.token_program);
            ixs.push(ix::create_associated_token_idempotent(
                &self.admin.pubkey(),
                to,
                &self.mint,
                &self.token_program,
            ));
            ixs.push(spl_token_2022::instruction::mint_to(
                &self.token_program,
                &self.mint,
                &ata,
                &self.mint_authority.pubkey(),
                &[],
                tokens,
            )?);
        }
        if ixs.is_empty() {
            return Ok(());
        }
        // The mint authority signs only when tokens are minted: an extra signer that no
        // instruction names makes signing fail.
        let signers: &[&Keypair] = if tokens > 0 {
            &[&self.mint_authority]
        } else {
            &[]
        };
        sender
            .send(&ixs, signers)
            .await
            .map_err(|e| anyhow!("{e}"))?;
        Ok(())
    }
}
