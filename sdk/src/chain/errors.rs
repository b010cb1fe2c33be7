//! Errors of chain operations, each one plain sentence with its cause. Program errors are
//! decoded from the transaction's logs (Anchor logs name and message on a real cluster) or,
//! failing that, from the programs' IDL (checked into `idl/`, so there is one definition).
use std::fmt;
use std::sync::Arc;

use anchor_lang::prelude::Pubkey;
use solana_rpc_client_api::client_error::Error as ClientError;
use solana_sdk::instruction::InstructionError;
use solana_sdk::transaction::TransactionError;

/// Why a chain operation failed. Every variant keeps what caused it.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ChainError {
    /// The RPC endpoint could not be reached or answered with an error.
    #[error(transparent)]
    Rpc(RpcFailure),
    /// One of our programs refused the transaction.
    #[error("the {program} program refused: {message} ({name})")]
    Program {
        program: &'static str,
        code: u32,
        name: String,
        message: String,
    },
    /// The runtime or another program refused the transaction.
    #[error("the transaction failed: {0}")]
    Transaction(String),
    /// The transaction did not confirm in time.
    #[error("timed out: {0}")]
    Timeout(String),
    /// An account that should exist does not.
    #[error("{0} does not exist")]
    NotFound(String),
    /// An account exists but does not decode as what was asked for.
    #[error("account {address} is not of the expected type: {reason}")]
    WrongAccount { address: Pubkey, reason: String },
    /// The payment mint named by the market config is not a mint.
    #[error("{0} is not a mint")]
    NotAMint(Pubkey),
    /// The clock sysvar could not be decoded.
    #[error("the clock sysvar is malformed")]
    MalformedClock,
}

/// An RPC client error with the endpoint it came from, kept whole (shared, so [`ChainError`]
/// stays `Clone`).
#[derive(Debug, Clone)]
pub struct RpcFailure {
    pub endpoint: String,
    pub error: Arc<ClientError>,
}

impl RpcFailure {
    /// The chain error for `error` from `endpoint`.
    pub fn chain_error(endpoint: &str, error: ClientError) -> ChainError {
        ChainError::Rpc(RpcFailure {
            endpoint: endpoint.to_string(),
            error: Arc::new(error),
        })
    }

    /// Whether the endpoint could not be reached at all (rather than answering an error).
    pub fn is_unreachable(&self) -> bool {
        use solana_rpc_client_api::client_error::ErrorKind;
        matches!(self.error.kind(), ErrorKind::Io(_) | ErrorKind::Reqwest(_))
            // The transport's failure can also arrive wrapped (as the RPC client's middleware
            // or request error); its sentence is the same.
            || self.error.to_string().contains("error sending request")
    }
}

impl fmt::Display for RpcFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cause = self.error.to_string();
        // The transport's sentence, without the request dump that precedes it.
        let cause = cause
            .find("error sending request")
            .map_or(cause.as_str(), |i| &cause[i..]);
        if self.is_unreachable() {
            write!(f, "cannot reach the cluster at {}: {cause}", self.endpoint)
        } else {
            write!(f, "the RPC endpoint {} failed: {cause}", self.endpoint)
        }
    }
}

impl std::error::Error for RpcFailure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(self.error.as_ref())
    }
}

impl ChainError {
    /// The named program error, if this is one (e.g. `"JobNotOpen"`).
    pub fn program_error_name(&self) -> Option<&str> {
        match self {
            ChainError::Program { name, .. } => Some(name),
            _ => None,
        }
    }

    /// Decodes a failed transaction, using its logs to find which program raised the error.
    pub fn from_transaction(error: &TransactionError, logs: &[String]) -> ChainError {
        let TransactionError::InstructionError(_, InstructionError::Custom(code)) = error else {
            return ChainError::Transaction(describe(error));
        };
        let failing = logs
            .iter()
            .find_map(|l| {
                let rest = l.strip_prefix("Program ")?;
                let (id, tail) = rest.split_once(' ')?;
                tail.starts_with("failed: custom program error")
                    .then(|| id.to_string())
            })
            .and_then(|id| id.parse::<Pubkey>().ok());
        let anchor_line = logs.iter().find_map(|l| parse_anchor_log(l));
        if let Some((name, message)) = anchor_line {
            let program = failing.as_ref().map_or("Concord", program_name);
            return ChainError::Program {
                program,
                code: *code,
                name,
                message,
            };
        }
        let candidates: Vec<Pubkey> = match failing {
            Some(p) => vec![p],
            None => vec![concord_market::ID, concord_staking::ID],
        };
        for program in candidates {
            if let Some((name, message)) = idl_error(&program, *code) {
                return ChainError::Program {
                    program: program_name(&program),
                    code: *code,
                    name,
                    message,
                };
            }
        }
        ChainError::Transaction(format!("custom program error {code}"))
    }
}

fn describe(error: &TransactionError) -> String {
    match error {
        TransactionError::InsufficientFundsForFee => {
            "the fee payer has too few SOL for the fee".into()
        }
        TransactionError::AccountNotFound => {
            "the fee payer account does not exist (fund it first)".into()
        }
        TransactionError::InstructionError(_, e) => format!("{e}"),
        other => format!("{other}"),
    }
}

fn program_name(program: &Pubkey) -> &'static str {
    if *program == concord_market::ID {
        "market"
    } else if *program == concord_staking::ID {
        "staking"
    } else if *program == anchor_spl::token::ID || *program == anchor_spl::token_2022::ID {
        "token"
    } else if *program == anchor_lang::system_program::ID {
        "system"
    } else {
        "called"
    }
}

/// `AnchorError ... Error Code: NAME. Error Number: N. Error Message: MSG.` (Anchor's
/// `ProgramError occurred. Error Code: Custom(0)...` lines, which relay another program's
/// error, are left to the IDL and the well-known codes.)
fn parse_anchor_log(line: &str) -> Option<(String, String)> {
    if !line.contains("AnchorError") {
        return None;
    }
    let rest = line.split_once("Error Code: ")?.1;
    let (name, rest) = rest.split_once(". Error Number: ")?;
    let message = rest.split_once("Error Message: ")?.1.trim_end_matches('.');
    Some((name.to_string(), message.to_string()))
}

const MARKET_IDL: &str = include_str!("../../../idl/concord_market.json");
const STAKING_IDL: &str = include_str!("../../../idl/concord_staking.json");

/// The name and message of `code` in `program`'s IDL (program errors, 6000 and up), or the
/// token program's well-known errors.
fn idl_error(program: &Pubkey, code: u32) -> Option<(String, String)> {
    if *program == anchor_lang::system_program::ID {
        return (code == 0).then(|| {
            (
                "AccountAlreadyInUse".into(),
                "an account already exists at that address (already in use)".into(),
            )
        });
    }
    if *program == anchor_spl::token::ID || *program == anchor_spl::token_2022::ID {
        return match code {
            1 => Some((
                "InsufficientFunds".into(),
                "insufficient funds in the token account".into(),
            )),
            _ => None,
        };
    }
    let idl = if *program == concord_market::ID {
        MARKET_IDL
    } else if *program == concord_staking::ID {
        STAKING_IDL
    } else {
        return None;
    };
    let json: serde_json::Value = serde_json::from_str(idl).ok()?;
    json["errors"].as_array()?.iter().find_map(|e| {
        (e["code"].as_u64()? == u64::from(code)).then(|| {
            (
                e["name"].as_str().unwrap_or_default().to_string(),
                e["msg"].as_str().unwrap_or_default().to_string(),
            )
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_a_market_error_from_the_idl() {
        let code = u32::from(concord_market::errors::MarketError::JobNotOpen);
        let logs = vec![format!(
            "Program {} failed: custom program error: 0x{code:x}",
            concord_market::ID
        )];
        let e = ChainError::from_transaction(
            &TransactionError::InstructionError(1, InstructionError::Custom(code)),
            &logs,
        );
        assert_eq!(e.program_error_name(), Some("JobNotOpen"));
        assert_eq!(
            e.to_string(),
            "the market program refused: The job is not open for claims (JobNotOpen)"
        );
    }

    #[test]
    fn a_staking_error_raised_inside_a_market_call_is_named_by_the_staking_idl() {
        let code = u32::from(concord_staking::errors::StakingError::InsufficientFreeStake);
        let logs = vec![
            format!(
                "Program {} failed: custom program error: 0x{code:x}",
                concord_staking::ID
            ),
            format!(
                "Program {} failed: custom program error: 0x{code:x}",
                concord_market::ID
            ),
        ];
        let e = ChainError::from_transaction(
            &TransactionError::InstructionError(0, InstructionError::Custom(code)),
            &logs,
        );
        assert_eq!(e.program_error_name(), Some("InsufficientFreeStake"));
    }

    #[test]
    fn anchor_log_lines_win() {
        let logs = vec!["Program log: AnchorError occurred. Error Code: AccountNotInitialized. Error Number: 3012. Error Message: The program expected this account to be already initialized.".to_string()];
        let e = ChainError::from_transaction(
            &TransactionError::InstructionError(0, InstructionError::Custom(3012)),
            &logs,
        );
        assert_eq!(e.program_error_name(), Some("AccountNotInitialized"));
    }

    /// Anchor relays a failed CPI as `ProgramError occurred. Error Code: Custom(0)...`: the
    /// failing program's own name for the code is what a user needs.
    #[test]
    fn a_relayed_program_error_is_named_by_the_program_that_failed() {
        let system = anchor_lang::system_program::ID;
        let logs = vec![
            format!("Program {system} failed: custom program error: 0x0"),
            "Program log: ProgramError occurred. Error Code: Custom(0). Error Number: 0. Error Message: Custom program error: 0x0.".to_string(),
        ];
        let e = ChainError::from_transaction(
            &TransactionError::InstructionError(0, InstructionError::Custom(0)),
            &logs,
        );
        assert_eq!(e.program_error_name(), Some("AccountAlreadyInUse"));
        assert!(e.to_string().contains("already in use"), "{e}");
    }
}
