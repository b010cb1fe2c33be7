//! `spin`, the metering test kernel (not part of the reproducible library): invocation `i`
//! runs `rounds[i]` rounds of an outer loop, each calling a helper whose loop runs `inner`
//! times. The CPU reference runs the same program under the same gas rule as the metered
//! GPU module (`crate::meter`), so it predicts the outcome: the result hash, or the
//! out-of-budget outcome.

use super::{groups, u32_bytes};
use concord_protocol::job::{Job, JobBuilder};
use concord_protocol::{result_hash, ErrorCode, Outcome};

pub const WGSL: &str = include_str!("wgsl/spin.wgsl");

/// A spin job: per-invocation rounds, the inner loop length, the gas budget.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spin {
    pub rounds: Vec<u32>,
    pub inner: u32,
    pub budget: u32,
}

/// The gas rule, run on the CPU: every loop-body entry charges 1; over budget, the loop
/// breaks (and the counter stays over budget, so enclosing loops break too).
struct Gas {
    used: u32,
    budget: u32,
}

impl Gas {
    /// Enter a loop body: `false` means the meter breaks the loop.
    fn enter(&mut self) -> bool {
        self.used += 1;
        self.used <= self.budget
    }
}

fn churn(v: u32, inner: u32, gas: &mut Gas) -> u32 {
    let mut x = v;
    let mut j = 0u32;
    loop {
        if !gas.enter() || j >= inner {
            break;
        }
        x = (x ^ (x >> 15)).wrapping_mul(0x2c1b_3c6d).wrapping_add(j);
        j += 1;
    }
    x
}

/// What the CPU reference computes for a spin job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reference {
    pub outputs: Vec<Vec<u8>>,
    /// The most gas one invocation used (above the budget if one ran out).
    pub max_used: u32,
    pub outcome: Outcome,
}

impl Spin {
    /// A job no budget the market allows can cover: a billion rounds per invocation (64
    /// invocations) at the largest `gas_per_invocation` a manifest may ask for. The agents'
    /// end-to-end test submits it; the metering test runs it on every backend.
    pub fn beyond_any_budget() -> Spin {
        Spin {
            rounds: vec![1_000_000_000; 64],
            inner: 1_000,
            budget: concord_protocol::Limits::V1.max_gas_per_invocation,
        }
    }

    /// Gas one invocation with `rounds` rounds needs (closed form of the rule).
    pub fn gas(rounds: u32, inner: u32) -> u64 {
        u64::from(rounds) + 1 + u64::from(rounds) * (u64::from(inner) + 1)
    }

    pub fn job(&self) -> Job {
        let n = self.rounds.len() as u32;
        let mut jb = JobBuilder::new();
        let ir = jb.input(u32_bytes(&self.rounds));
        let io = jb.output(u64::from(n) * 4);
        let iu = jb.uniform(u32_bytes(&[n, self.inner, 0, 0]));
        jb.gas_per_invocation(self.budget);
        jb.pass(
            WGSL,
            "main",
            [groups(n, 64), 1, 1],
            &[(0, ir), (1, io), (2, iu)],
        );
        jb.build()
    }

    /// Run the program on the CPU under the gas rule.
    pub fn reference(&self) -> Reference {
        let mut out = Vec::with_capacity(self.rounds.len());
        let mut max_used = 0;
        let mut exhausted = false;
        for (i, &rounds) in self.rounds.iter().enumerate() {
            let mut gas = Gas {
                used: 0,
                budget: self.budget,
            };
            let mut x = i as u32;
            let mut r = 0u32;
            loop {
                if !gas.enter() || r >= rounds {
                    break;
                }
                x = churn(x ^ r, self.inner, &mut gas);
                r += 1;
            }
            out.push(x);
            max_used = max_used.max(gas.used);
            exhausted |= gas.used > self.budget;
        }
        let outputs = vec![u32_bytes(&out)];
        let outcome = if exhausted {
            Outcome::Invalid {
                code: ErrorCode::OutOfBudget,
            }
        } else {
            Outcome::Success {
                result_hash: result_hash(&outputs),
            }
        };
        Reference {
            outputs,
            max_used,
            outcome,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_applies_the_gas_rule() {
        let need = Spin::gas(5, 3) as u32;
        assert_eq!(need, 6 + 5 * 4);
        let at = Spin {
            rounds: vec![5, 2, 0],
            inner: 3,
            budget: need,
        };
        let r = at.reference();
        assert_eq!(r.max_used, need);
        assert!(matches!(r.outcome, Outcome::Success { .. }));
        let under = Spin {
            budget: need - 1,
            ..at.clone()
        };
        let r = under.reference();
        assert_eq!(
            r.outcome.hash(),
            concord_protocol::error_outcome_hash(ErrorCode::OutOfBudget)
        );
        assert!(r.max_used > need - 1);
    }
}
