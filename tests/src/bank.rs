//! The bank harness: both programs as native builtins in a real Agave bank (program-test),
//! the real SPL Token / Token-2022 programs, a payment mint, and helpers to send transactions,
//! read accounts and balances, move the clock, and see named errors and emitted events.
use anchor_lang::prelude::{Clock, Pubkey};
use anchor_lang::solana_program::instruction::{AccountMeta, Instruction};
use anchor_lang::solana_program::program_pack::Pack;
use anchor_lang::solana_program::system_instruction;
use anchor_lang::{AccountDeserialize, Discriminator};
use anchor_spl::token_2022::spl_token_2022;
use solana_program_test::{BanksClientError, ProgramTest, ProgramTestContext};
use solana_sdk::instruction::InstructionError;
use solana_sdk::signature::Keypair;
use solana_sdk::signer::Signer;
use solana_sdk::transaction::{Transaction, TransactionError};

/// The compute budget program, used to make every transaction unique (no AlreadyProcessed
/// when a test deliberately sends the same instruction twice).
const COMPUTE_BUDGET: Pubkey = anchor_lang::pubkey!("ComputeBudget111111111111111111111111111111");

/// A failed transaction: the runtime's error and the program logs.
#[derive(Debug)]
pub struct TxError {
    pub error: TransactionError,
    pub logs: Vec<String>,
}

impl TxError {
    /// The custom error code (Anchor: 6000 + variant for program errors).
    pub fn custom_code(&self) -> Option<u32> {
        match &self.error {
            TransactionError::InstructionError(_, InstructionError::Custom(c)) => Some(*c),
            _ => None,
        }
    }
}

/// What a successful transaction left behind: its logs and the events emitted with `emit_cpi!`.
#[derive(Debug, Default)]
pub struct TxOutput {
    pub logs: Vec<String>,
    /// Raw event payloads (discriminator + borsh), in emission order.
    pub events: Vec<Vec<u8>>,
}

impl TxOutput {
    /// Decodes every emitted event of type `E`.
    pub fn events<E: anchor_lang::Event + anchor_lang::AnchorDeserialize + Discriminator>(
        &self,
    ) -> Vec<E> {
        self.events
            .iter()
            .filter_map(|data| {
                data.strip_prefix(E::DISCRIMINATOR)
                    .and_then(|mut rest| E::deserialize(&mut rest).ok())
            })
            .collect()
    }
}

/// Asserts that `result` failed with the runtime's `expected` instruction error.
#[track_caller]
pub fn assert_instruction_error<T: std::fmt::Debug>(
    result: Result<T, TxError>,
    expected: InstructionError,
) {
    match result {
        Ok(v) => panic!("expected {expected:?}, but the transaction succeeded: {v:?}"),
        Err(TxError {
            error: TransactionError::InstructionError(_, got),
            logs,
        }) => {
            assert_eq!(got, expected, "logs:\n{}", logs.join("\n"))
        }
        Err(e) => panic!("expected {expected:?}, got {e:?}"),
    }
}

/// Asserts that `result` failed with the named error `expected` (a program or Anchor error).
#[track_caller]
pub fn assert_error<T: std::fmt::Debug>(result: Result<T, TxError>, expected: impl Into<u32>) {
    let expected = expected.into();
    match result {
        Ok(v) => panic!("expected error {expected}, but the transaction succeeded: {v:?}"),
        Err(e) => {
            assert_eq!(
                e.custom_code(),
                Some(expected),
                "expected error code {expected}, got {:?}\nlogs:\n{}",
                e.error,
                e.logs.join("\n")
            );
            // Anchor's errors (codes from 100 on) are also logged by name and number, as
            // on-chain: the programs' `msg!` reaches the transaction's logs (`native/msg`).
            let number = format!("Error Number: {expected}.");
            assert!(
                expected < 100 || e.logs.iter().any(|l| l.contains(&number)),
                "error {expected} is not in the logs:\n{}",
                e.logs.join("\n")
            );
        }
    }
}

/// program-test turns on the runtime's debug logs unless RUST_LOG says otherwise; tests keep
/// the program logs in [`TxError`] instead.
fn quiet_runtime_logs() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        if std::env::var_os("RUST_LOG").is_none() {
            std::env::set_var("RUST_LOG", "error");
        }
    });
}

/// Marks `key` as not signing `ix` (missing-signer tests).
pub fn unsign(ix: &mut Instruction, key: &Pubkey) {
    for meta in ix.accounts.iter_mut().filter(|m| m.pubkey == *key) {
        meta.is_signer = false;
    }
}

pub struct Bank {
    pub ctx: ProgramTestContext,
    /// Simulate every transaction first to collect its events (off for long fuzz runs).
    pub collect_events: bool,
    pub token_program: Pubkey,
    pub mint: Pubkey,
    pub mint_authority: Keypair,
    pub decimals: u8,
    nonce: u64,
    /// The SlotHashes entries this harness wrote (newest first): every slot the clock passed,
    /// with a bank hash of the harness's making (see [`Bank::advance_slots`]).
    slot_hashes: Vec<(u64, [u8; 32])>,
    /// Makes this bank's slot hashes its own.
    hash_salt: [u8; 32],
}

impl Bank {
    /// A fresh bank with both programs and a payment mint owned by `token_program`.
    pub async fn start(token_program: Pubkey) -> Bank {
        quiet_runtime_logs();
        let mut program_test = ProgramTest::default();
        program_test.prefer_bpf(false);
        for builtin in concord_native::builtins() {
            program_test.add_builtin_program(builtin.name, builtin.program_id, builtin.registerer);
        }
        let ctx = program_test.start_with_context().await;
        concord_native::install_sysvar_bridge();
        let mut bank = Bank {
            ctx,
            collect_events: true,
            token_program,
            mint: Pubkey::default(),
            mint_authority: Keypair::new(),
            decimals: 6,
            nonce: 0,
            slot_hashes: Vec::new(),
            hash_salt: Keypair::new().pubkey().to_bytes(),
        };
        bank.mint = bank.new_mint().await;
        bank
    }

    pub fn payer(&self) -> Pubkey {
        self.ctx.payer.pubkey()
    }

    /// Sends `ixs` paid by the context payer and signed by `signers`. The bank may still hold
    /// the previous transaction's account locks for an instant (`AccountInUse`): that is
    /// retried, never a test failure.
    pub async fn send(
        &mut self,
        ixs: &[Instruction],
        signers: &[&Keypair],
    ) -> Result<TxOutput, TxError> {
        for _ in 0..20 {
            match self.send_once(ixs, signers).await {
                Err(TxError {
                    error: TransactionError::AccountInUse,
                    ..
                }) => {
                    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                }
                // Long tests outlive the blockhash they started with (150 of ~400 ms).
                Err(TxError {
                    error: TransactionError::BlockhashNotFound,
                    ..
                }) => {
                    self.ctx.last_blockhash = self
                        .ctx
                        .get_new_latest_blockhash()
                        .await
                        .expect("a new blockhash");
                }
                other => return other,
            }
        }
        self.send_once(ixs, signers).await
    }

    async fn send_once(
        &mut self,
        ixs: &[Instruction],
        signers: &[&Keypair],
    ) -> Result<TxOutput, TxError> {
        self.nonce += 1;
        let mut data = vec![3u8];
        data.extend_from_slice(&self.nonce.to_le_bytes());
        let unique = Instruction {
            program_id: COMPUTE_BUDGET,
            accounts: Vec::<AccountMeta>::new(),
            data,
        };
        let all: Vec<Instruction> = std::iter::once(unique).chain(ixs.iter().cloned()).collect();
        let mut keys: Vec<&Keypair> = vec![&self.ctx.payer];
        keys.extend(
            signers
                .iter()
                .copied()
                .filter(|k| k.pubkey() != self.ctx.payer.pubkey()),
        );
        let tx = Transaction::new_signed_with_payer(
            &all,
            Some(&self.ctx.payer.pubkey()),
            &keys,
            self.ctx.last_blockhash,
        );
        if !self.collect_events {
            return match self
                .ctx
                .banks_client
                .process_transaction_with_metadata(tx)
                .await
            {
                Ok(r) => {
                    let logs = r.metadata.map(|m| m.log_messages).unwrap_or_default();
                    match r.result {
                        Ok(()) => Ok(TxOutput {
                            logs,
                            events: vec![],
                        }),
                        Err(error) => Err(TxError { error, logs }),
                    }
                }
                Err(other) => panic!("banks client: {other}"),
            };
        }
        let sim = self
            .ctx
            .banks_client
            .simulate_transaction(tx.clone())
            .await
            .expect("simulate");
        let details = sim
            .simulation_details
            .unwrap_or_else(|| panic!("no simulation details"));
        if let Some(Err(error)) = sim.result {
            return Err(TxError {
                error,
                logs: details.logs,
            });
        }
        let events = details
            .inner_instructions
            .unwrap_or_default()
            .into_iter()
            .flatten()
            .filter_map(|inner| {
                inner
                    .instruction
                    .data
                    .strip_prefix(anchor_lang::event::EVENT_IX_TAG_LE)
                    .map(<[u8]>::to_vec)
            })
            .collect();
        match self.ctx.banks_client.process_transaction(tx).await {
            Ok(()) => Ok(TxOutput {
                logs: details.logs,
                events,
            }),
            Err(BanksClientError::TransactionError(error))
            | Err(BanksClientError::SimulationError { err: error, .. }) => Err(TxError {
                error,
                logs: details.logs,
            }),
            Err(other) => panic!("banks client: {other}"),
        }
    }

    /// A new wallet funded with 10 SOL.
    pub async fn new_wallet(&mut self) -> Keypair {
        let wallet = Keypair::new();
        let ix = system_instruction::transfer(&self.payer(), &wallet.pubkey(), 10_000_000_000);
        self.send(&[ix], &[]).await.expect("fund wallet");
        wallet
    }

    /// A new mint of the bank's token program (6 decimals, the bank's mint authority).
    pub async fn new_mint(&mut self) -> Pubkey {
        let program = self.token_program;
        self.mint_of(&program, &[], |_| vec![], None)
            .await
            .expect("create mint")
    }

    /// A new mint of `token_program` (6 decimals, the bank's mint authority, `freeze` as its
    /// freeze authority) with the Token-2022 `extensions`, each set up by the instructions
    /// `init` returns for the mint's address (sent between the account's creation and
    /// `initialize_mint2`).
    pub async fn mint_of(
        &mut self,
        token_program: &Pubkey,
        extensions: &[spl_token_2022::extension::ExtensionType],
        init: impl FnOnce(&Pubkey) -> Vec<Instruction>,
        freeze: Option<&Pubkey>,
    ) -> Result<Pubkey, TxError> {
        let mint = Keypair::new();
        let rent = self.ctx.banks_client.get_rent().await.unwrap();
        let space = spl_token_2022::extension::ExtensionType::try_calculate_account_len::<
            spl_token_2022::state::Mint,
        >(extensions)
        .expect("mint size");
        let mut ixs = vec![system_instruction::create_account(
            &self.payer(),
            &mint.pubkey(),
            rent.minimum_balance(space),
            space as u64,
            token_program,
        )];
        ixs.extend(init(&mint.pubkey()));
        ixs.push(
            spl_token_2022::instruction::initialize_mint2(
                token_program,
                &mint.pubkey(),
                &self.mint_authority.pubkey(),
                freeze,
                self.decimals,
            )
            .unwrap(),
        );
        self.send(&ixs, &[&mint]).await?;
        Ok(mint.pubkey())
    }

    /// A token account of `mint` owned by `owner`.
    pub async fn token_account_of(
        &mut self,
        owner: &Pubkey,
        mint: &Pubkey,
        token_program: &Pubkey,
    ) -> Pubkey {
        let account = Keypair::new();
        let rent = self.ctx.banks_client.get_rent().await.unwrap();
        let space = spl_token_2022::state::Account::LEN;
        let ixs = [
            system_instruction::create_account(
                &self.payer(),
                &account.pubkey(),
                rent.minimum_balance(space),
                space as u64,
                token_program,
            ),
            spl_token_2022::instruction::initialize_account3(
                token_program,
                &account.pubkey(),
                mint,
                owner,
            )
            .unwrap(),
        ];
        self.send(&ixs, &[&account])
            .await
            .expect("create token account");
        account.pubkey()
    }

    /// A payment-mint token account owned by `owner`, holding `amount`.
    pub async fn token_account(&mut self, owner: &Pubkey, amount: u64) -> Pubkey {
        let (mint, program) = (self.mint, self.token_program);
        let account = self.token_account_of(owner, &mint, &program).await;
        if amount > 0 {
            self.mint_to(&account, amount).await;
        }
        account
    }

    pub async fn mint_to(&mut self, account: &Pubkey, amount: u64) {
        let ix = spl_token_2022::instruction::mint_to(
            &self.token_program,
            &self.mint,
            account,
            &self.mint_authority.pubkey(),
            &[],
            amount,
        )
        .unwrap();
        let authority = self.mint_authority.insecure_clone();
        self.send(&[ix], &[&authority]).await.expect("mint");
    }

    /// A token account's balance; 0 when the account does not exist (closed).
    pub async fn balance(&mut self, account: &Pubkey) -> u64 {
        match self.ctx.banks_client.get_account(*account).await.unwrap() {
            Some(acc) if acc.data.len() >= spl_token_2022::state::Account::LEN => {
                spl_token_2022::state::Account::unpack_from_slice(
                    &acc.data[..spl_token_2022::state::Account::LEN],
                )
                .map(|a| a.amount)
                .unwrap_or(0)
            }
            _ => 0,
        }
    }

    /// The payment mint's supply.
    pub async fn supply(&mut self) -> u64 {
        let acc = self
            .ctx
            .banks_client
            .get_account(self.mint)
            .await
            .unwrap()
            .unwrap();
        spl_token_2022::state::Mint::unpack_from_slice(
            &acc.data[..spl_token_2022::state::Mint::LEN],
        )
        .unwrap()
        .supply
    }

    /// Lamports held by an address (0 if none).
    pub async fn lamports(&mut self, address: &Pubkey) -> u64 {
        self.ctx.banks_client.get_balance(*address).await.unwrap()
    }

    /// Whether an account exists at `address`.
    pub async fn exists(&mut self, address: &Pubkey) -> bool {
        self.ctx
            .banks_client
            .get_account(*address)
            .await
            .unwrap()
            .is_some()
    }

    /// Reads and decodes an Anchor account.
    pub async fn account<T: AccountDeserialize>(&mut self, address: &Pubkey) -> Option<T> {
        let acc = self.ctx.banks_client.get_account(*address).await.unwrap()?;
        T::try_deserialize(&mut acc.data.as_slice()).ok()
    }

    /// Raw account (owner, data, lamports), for layout and attack tests.
    pub async fn raw_account(&mut self, address: &Pubkey) -> Option<solana_sdk::account::Account> {
        self.ctx.banks_client.get_account(*address).await.unwrap()
    }

    pub async fn clock(&mut self) -> Clock {
        self.ctx.banks_client.get_sysvar::<Clock>().await.unwrap()
    }

    pub async fn now(&mut self) -> i64 {
        self.clock().await.unix_timestamp
    }

    /// Moves the clock's slot forward by one (claims must land after a job's creation slot).
    pub async fn next_slot(&mut self) {
        self.advance_slots(1).await;
    }

    /// Moves the clock's slot forward by `n`, recording each slot passed in the SlotHashes
    /// sysvar as a produced slot. The bank itself stays in one slot (the clock is the
    /// harness's), so the bank hashes are the harness's too: SHA-256 of a per-bank salt and
    /// the slot, unless a test sets one ([`Bank::set_slot_hash`]), as a slot's leader could.
    pub async fn advance_slots(&mut self, n: u64) {
        let mut clock = self.clock().await;
        for slot in clock.slot..clock.slot + n {
            let hash = solana_sha256_hasher::hashv(&[&self.hash_salt, &slot.to_le_bytes()]);
            self.slot_hashes.insert(0, (slot, hash.to_bytes()));
        }
        self.slot_hashes
            .truncate(concord_market::draw::SLOT_HASHES_ENTRIES);
        clock.slot += n;
        self.ctx.set_sysvar(&clock);
        self.write_slot_hashes();
    }

    /// Makes the bank hashes of the slots passed from now on a function of `salt` (tests that
    /// count draws over many jobs use a fixed one, so they see one sequence of seeds).
    pub fn set_hash_salt(&mut self, salt: [u8; 32]) {
        self.hash_salt = salt;
    }

    /// Drops the SlotHashes entries older than `slot`, as the sysvar's 512-entry window does.
    pub fn age_out_slot_hashes_before(&mut self, slot: u64) {
        self.slot_hashes.retain(|(s, _)| *s >= slot);
        self.write_slot_hashes();
    }

    /// Replaces the bank hash of `slot` (already passed) in the SlotHashes sysvar.
    pub fn set_slot_hash(&mut self, slot: u64, hash: [u8; 32]) {
        if let Some(e) = self.slot_hashes.iter_mut().find(|(s, _)| *s == slot) {
            e.1 = hash;
        }
        self.write_slot_hashes();
    }

    /// The SlotHashes sysvar's data as the harness wrote it.
    pub fn slot_hashes_data(&self) -> Vec<u8> {
        let mut data = (self.slot_hashes.len() as u64).to_le_bytes().to_vec();
        for (slot, hash) in &self.slot_hashes {
            data.extend_from_slice(&slot.to_le_bytes());
            data.extend_from_slice(hash);
        }
        data
    }

    fn write_slot_hashes(&mut self) {
        let mut data = self.slot_hashes_data();
        // The sysvar account always has room for the full 512 entries.
        data.resize(8 + 40 * concord_market::draw::SLOT_HASHES_ENTRIES, 0);
        let mut account = solana_sdk::account::AccountSharedData::new(
            1_000_000_000,
            data.len(),
            &solana_sdk::sysvar::ID,
        );
        account.set_data_from_slice(&data);
        self.ctx
            .set_account(&concord_sdk::chain::ix::SLOT_HASHES, &account);
    }

    /// Moves the bank's clock forward by `seconds`.
    pub async fn warp(&mut self, seconds: i64) {
        let mut clock = self.clock().await;
        clock.unix_timestamp += seconds;
        self.ctx.set_sysvar(&clock);
    }
}
