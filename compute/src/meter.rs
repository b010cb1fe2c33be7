//! Deterministic metering ("gas") of WGSL jobs: a transformation of the validated naga IR that
//! every provider applies identically, and the meter the executor reads back.
//!
//! Gas rule: every time control enters the body of a loop (any `loop`, `for` or `while`, in
//! any function) the invocation's private counter goes up by 1. When it exceeds the job's
//! `gas_per_invocation`, the loop breaks; the counter stays over budget, so every enclosing
//! loop breaks at its next entry too. (When the body starts with the loop's own exit test, as
//! `for` and `while` lower, the budget test joins it: one exit instead of two.) A `for`
//! or `while` loop of `n` iterations costs `n + 1` (the last entry tests the condition and
//! exits). Loops that contain a barrier (directly or through a call) break at the same
//! iteration in the whole workgroup: an invocation over budget sets a workgroup flag, read
//! with `workgroupUniformLoad`, so no barrier is ever reached by part of a workgroup. At each
//! exit of the entry point the counter is folded into the meter's `max_used` (atomic max):
//! a pass ran out of budget iff `max_used > budget` (or the barrier loops' flag is set).
//!
//! The meter is one storage buffer per pass at `@group(1) @binding(0)` (jobs bind only
//! `@group(0)`, so it cannot collide): `u32 out_of_budget ‖ u32 max_used`.

use naga::{
    AddressSpace, Arena, AtomicFunction, BinaryOperator, Block, Expression, Function,
    GlobalVariable, Handle, Literal, ResourceBinding, Scalar, Span, Statement, StorageAccess,
    StructMember, Type, TypeInner,
};

use crate::wgsl::METER_WORKGROUP_BYTES;
use concord_protocol::job::InvalidJob;
use concord_protocol::ErrorCode;

/// Bind group of the meter buffer (job buffers are all in group 0).
pub const METER_GROUP: u32 = 1;
/// Binding of the meter buffer in [`METER_GROUP`].
pub const METER_BINDING: u32 = 0;
/// Bytes of one pass's meter: `u32 out_of_budget ‖ u32 max_used`.
pub const METER_BYTES: u64 = 8;

/// What the meter of one pass read back.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    serde::Serialize,
    serde::Deserialize,
    borsh::BorshSerialize,
    borsh::BorshDeserialize,
)]
pub struct PassGas {
    /// The most gas one invocation of the pass used (above the budget if it ran out).
    pub max_used: u32,
    /// Some invocation of the pass ran out of budget.
    pub out_of_budget: bool,
}

/// The meters of a run: the budget and one [`PassGas`] per pass.
#[derive(
    Clone,
    Debug,
    PartialEq,
    Eq,
    serde::Serialize,
    serde::Deserialize,
    borsh::BorshSerialize,
    borsh::BorshDeserialize,
)]
pub struct GasReport {
    pub budget: u32,
    pub passes: Vec<PassGas>,
}

impl GasReport {
    /// Decode the meter words read back (two `u32` per pass, little-endian).
    pub fn from_bytes(budget: u32, bytes: &[u8]) -> GasReport {
        let words: Vec<u32> = bytes
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        GasReport {
            budget,
            passes: words
                .chunks_exact(2)
                .map(|w| PassGas {
                    // Every exit folds the counter into `max_used`, so over budget shows
                    // there; loops with barriers also set the flag.
                    out_of_budget: w[0] != 0 || w[1] > budget,
                    max_used: w[1],
                })
                .collect(),
        }
    }

    /// The invalid-job outcome if any invocation ran out of budget.
    pub fn out_of_budget(&self) -> Option<InvalidJob> {
        let passes: Vec<String> = self
            .passes
            .iter()
            .enumerate()
            .filter(|(_, p)| p.out_of_budget)
            .map(|(i, _)| i.to_string())
            .collect();
        if passes.is_empty() {
            return None;
        }
        Some(InvalidJob::new(
            ErrorCode::OutOfBudget,
            format!(
                "an invocation of pass {} needed more than its gas budget of {} loop iterations",
                passes.join(", "),
                self.budget
            ),
        ))
    }
}

/// Instrument a validated module with the gas rule for `budget`. Deterministic: the same
/// input gives the same module. The result is validated again (core capabilities only); an
/// error here is a bug of the meter, not of the job.
pub fn instrument(module: &naga::Module, budget: u32) -> Result<naga::Module, String> {
    let mut m = module.clone();
    let u32_ty = m.types.insert(
        Type {
            name: None,
            inner: TypeInner::Scalar(Scalar::U32),
        },
        Span::UNDEFINED,
    );
    let atomic_ty = m.types.insert(
        Type {
            name: None,
            inner: TypeInner::Atomic(Scalar::U32),
        },
        Span::UNDEFINED,
    );
    let meter_ty = m.types.insert(
        Type {
            name: Some("ConcordMeter".into()),
            inner: TypeInner::Struct {
                members: vec![
                    StructMember {
                        name: Some("out_of_budget".into()),
                        ty: atomic_ty,
                        binding: None,
                        offset: 0,
                    },
                    StructMember {
                        name: Some("max_used".into()),
                        ty: atomic_ty,
                        binding: None,
                        offset: 4,
                    },
                ],
                span: METER_BYTES as u32,
            },
        },
        Span::UNDEFINED,
    );
    let zero = m
        .global_expressions
        .append(Expression::Literal(Literal::U32(0)), Span::UNDEFINED);
    let gas = m.global_variables.append(
        GlobalVariable {
            name: Some("concord_gas".into()),
            space: AddressSpace::Private,
            binding: None,
            ty: u32_ty,
            init: Some(zero),
            memory_decorations: Default::default(),
        },
        Span::UNDEFINED,
    );
    let meter = m.global_variables.append(
        GlobalVariable {
            name: Some("concord_meter".into()),
            space: AddressSpace::Storage {
                access: StorageAccess::LOAD | StorageAccess::STORE,
            },
            binding: Some(ResourceBinding {
                group: METER_GROUP,
                binding: METER_BINDING,
            }),
            ty: meter_ty,
            init: None,
            memory_decorations: Default::default(),
        },
        Span::UNDEFINED,
    );

    // Which functions reach a barrier (callees come before callers in the arena).
    let mut reaches_barrier: Vec<bool> = Vec::with_capacity(m.functions.len());
    for (_, f) in m.functions.iter() {
        let b = has_barrier(&f.body, &reaches_barrier);
        reaches_barrier.push(b);
    }
    let needs_workgroup_flag = m
        .functions
        .iter()
        .map(|(_, f)| &f.body)
        .chain(m.entry_points.iter().map(|e| &e.function.body))
        .any(|b| has_barrier_loop(b, &reaches_barrier));
    let wg_flag = needs_workgroup_flag.then(|| {
        debug_assert_eq!(METER_WORKGROUP_BYTES, 4);
        m.global_variables.append(
            GlobalVariable {
                name: Some("concord_out_of_budget".into()),
                space: AddressSpace::WorkGroup,
                binding: None,
                ty: u32_ty,
                init: None,
                memory_decorations: Default::default(),
            },
            Span::UNDEFINED,
        )
    });
    let globals = Globals {
        gas,
        meter,
        wg_flag,
        u32_ty,
        budget,
    };
    let handles: Vec<_> = m.functions.iter().map(|(h, _)| h).collect();
    for h in handles {
        instrument_function(&mut m.functions[h], &globals, &reaches_barrier, false);
    }
    for ep in &mut m.entry_points {
        instrument_function(&mut ep.function, &globals, &reaches_barrier, true);
    }
    naga::valid::Validator::new(
        naga::valid::ValidationFlags::all(),
        naga::valid::Capabilities::empty(),
    )
    .validate(&m)
    .map_err(|e| format!("the metered module does not validate: {}", e.as_inner()))?;
    Ok(m)
}

/// The instrumented module as WGSL (for people and for tests; wgpu gets the IR).
pub fn to_wgsl(module: &naga::Module) -> Result<String, String> {
    let info = naga::valid::Validator::new(
        naga::valid::ValidationFlags::all(),
        naga::valid::Capabilities::empty(),
    )
    .validate(module)
    .map_err(|e| e.as_inner().to_string())?;
    naga::back::wgsl::write_string(module, &info, naga::back::wgsl::WriterFlags::empty())
        .map_err(|e| e.to_string())
}

struct Globals {
    gas: Handle<GlobalVariable>,
    meter: Handle<GlobalVariable>,
    wg_flag: Option<Handle<GlobalVariable>>,
    u32_ty: Handle<Type>,
    budget: u32,
}

fn has_barrier(block: &Block, reaches_barrier: &[bool]) -> bool {
    block.iter().any(|s| match s {
        Statement::ControlBarrier(_) | Statement::WorkGroupUniformLoad { .. } => true,
        Statement::Call { function, .. } => reaches_barrier
            .get(function.index())
            .copied()
            .unwrap_or(false),
        Statement::Block(b) => has_barrier(b, reaches_barrier),
        Statement::If { accept, reject, .. } => {
            has_barrier(accept, reaches_barrier) || has_barrier(reject, reaches_barrier)
        }
        Statement::Switch { cases, .. } => {
            cases.iter().any(|c| has_barrier(&c.body, reaches_barrier))
        }
        Statement::Loop {
            body, continuing, ..
        } => has_barrier(body, reaches_barrier) || has_barrier(continuing, reaches_barrier),
        _ => false,
    })
}

fn has_barrier_loop(block: &Block, reaches_barrier: &[bool]) -> bool {
    block.iter().any(|s| match s {
        Statement::Block(b) => has_barrier_loop(b, reaches_barrier),
        Statement::If { accept, reject, .. } => {
            has_barrier_loop(accept, reaches_barrier) || has_barrier_loop(reject, reaches_barrier)
        }
        Statement::Switch { cases, .. } => cases
            .iter()
            .any(|c| has_barrier_loop(&c.body, reaches_barrier)),
        Statement::Loop {
            body, continuing, ..
        } => has_barrier(body, reaches_barrier) || has_barrier(continuing, reaches_barrier),
        _ => false,
    })
}

/// Builds statements into a function's expression arena, emitting as it goes.
struct Builder<'a> {
    exprs: &'a mut Arena<Expression>,
    g: &'a Globals,
}

impl Builder<'_> {
    /// An expression that needs no `Emit` (literals, globals, statement results).
    fn pre(&mut self, e: Expression) -> Handle<Expression> {
        self.exprs.append(e, Span::UNDEFINED)
    }

    /// Expressions evaluated in order, followed by their `Emit` into `block`.
    fn emit<const N: usize>(
        &mut self,
        block: &mut Block,
        build: impl FnOnce(&mut Arena<Expression>) -> [Handle<Expression>; N],
    ) -> [Handle<Expression>; N] {
        let start = self.exprs.len();
        let out = build(self.exprs);
        block.push(
            Statement::Emit(self.exprs.range_from(start)),
            Span::UNDEFINED,
        );
        out
    }

    fn push(block: &mut Block, s: Statement) {
        block.push(s, Span::UNDEFINED);
    }

    /// `concord_gas = concord_gas + 1;` Returns the block and the new counter.
    fn bump(&mut self) -> (Block, Handle<Expression>) {
        let mut b = Block::new();
        let gas = self.pre(Expression::GlobalVariable(self.g.gas));
        let one = self.pre(Expression::Literal(Literal::U32(1)));
        let [_, new] = self.emit(&mut b, |a| {
            let old = a.append(Expression::Load { pointer: gas }, Span::UNDEFINED);
            let new = a.append(
                Expression::Binary {
                    op: BinaryOperator::Add,
                    left: old,
                    right: one,
                },
                Span::UNDEFINED,
            );
            [old, new]
        });
        Self::push(
            &mut b,
            Statement::Store {
                pointer: gas,
                value: new,
            },
        );
        (b, new)
    }

    fn budget(&mut self) -> Handle<Expression> {
        self.pre(Expression::Literal(Literal::U32(self.g.budget)))
    }

    /// The charge at the top of a loop body whose first statement (after `Emit`s) is the
    /// loop's own exit test, `if c {} else { break; }` (how `for` and `while` lower) or
    /// `if c { break; }`: the budget test joins that test (`c && gas <= budget`, or
    /// `c || gas > budget`), one exit instead of two. The same semantics as [`Self::charge`]:
    /// the condition is side-effect free, so evaluating it before leaving changes nothing.
    fn charge_merged(&mut self, body: Block) -> Result<Block, Block> {
        let Some(k) = body.iter().position(|s| !matches!(s, Statement::Emit(_))) else {
            return Err(body);
        };
        let break_when_true = match &body[k] {
            Statement::If { accept, reject, .. }
                if accept.is_empty() && matches!(&reject[..], [Statement::Break]) =>
            {
                false
            }
            Statement::If { accept, reject, .. }
                if reject.is_empty() && matches!(&accept[..], [Statement::Break]) =>
            {
                true
            }
            _ => return Err(body),
        };
        let (mut out, new) = self.bump();
        let budget = self.budget();
        for (i, (s, span)) in body.span_into_iter().enumerate() {
            let Statement::If {
                condition,
                accept,
                reject,
            } = s
            else {
                out.push(s, span);
                continue;
            };
            if i != k {
                out.push(
                    Statement::If {
                        condition,
                        accept,
                        reject,
                    },
                    span,
                );
                continue;
            }
            let [_, joined] = self.emit(&mut out, |a| {
                let (op, join) = if break_when_true {
                    (BinaryOperator::Greater, BinaryOperator::LogicalOr)
                } else {
                    (BinaryOperator::LessEqual, BinaryOperator::LogicalAnd)
                };
                let test = a.append(
                    Expression::Binary {
                        op,
                        left: new,
                        right: budget,
                    },
                    Span::UNDEFINED,
                );
                let joined = a.append(
                    Expression::Binary {
                        op: join,
                        left: condition,
                        right: test,
                    },
                    Span::UNDEFINED,
                );
                [test, joined]
            });
            out.push(
                Statement::If {
                    condition: joined,
                    accept,
                    reject,
                },
                span,
            );
        }
        Ok(out)
    }

    /// The charge at the top of a loop body: `gas += 1; if (gas > budget) { break; }`.
    /// `barrier_loop`: over budget the invocation sets the meter's flag and the workgroup
    /// flag, and the loop breaks on `workgroupUniformLoad` of that flag (uniformly).
    fn charge(&mut self, barrier_loop: bool) -> Block {
        let (mut b, new) = self.bump();
        let budget = self.budget();
        let [over] = self.emit(&mut b, |a| {
            [a.append(
                Expression::Binary {
                    op: BinaryOperator::Greater,
                    left: new,
                    right: budget,
                },
                Span::UNDEFINED,
            )]
        });
        match (barrier_loop, self.g.wg_flag) {
            (true, Some(wg)) => {
                let one = self.pre(Expression::Literal(Literal::U32(1)));
                let meter = self.pre(Expression::GlobalVariable(self.g.meter));
                let mut accept = Block::new();
                let [flag] = self.emit(&mut accept, |a| {
                    [a.append(
                        Expression::AccessIndex {
                            base: meter,
                            index: 0,
                        },
                        Span::UNDEFINED,
                    )]
                });
                Self::push(
                    &mut accept,
                    Statement::Store {
                        pointer: flag,
                        value: one,
                    },
                );
                let wg = self.pre(Expression::GlobalVariable(wg));
                Self::push(
                    &mut accept,
                    Statement::Store {
                        pointer: wg,
                        value: one,
                    },
                );
                Self::push(
                    &mut b,
                    Statement::If {
                        condition: over,
                        accept,
                        reject: Block::new(),
                    },
                );
                // Every invocation of the workgroup sees the same flag, so all break together.
                let result = self.pre(Expression::WorkGroupUniformLoadResult { ty: self.g.u32_ty });
                Self::push(
                    &mut b,
                    Statement::WorkGroupUniformLoad {
                        pointer: wg,
                        result,
                    },
                );
                let zero = self.pre(Expression::Literal(Literal::U32(0)));
                let [stop] = self.emit(&mut b, |a| {
                    [a.append(
                        Expression::Binary {
                            op: BinaryOperator::NotEqual,
                            left: result,
                            right: zero,
                        },
                        Span::UNDEFINED,
                    )]
                });
                Self::push(
                    &mut b,
                    Statement::If {
                        condition: stop,
                        accept: Block::from_vec(vec![Statement::Break]),
                        reject: Block::new(),
                    },
                );
            }
            _ => Self::push(
                &mut b,
                Statement::If {
                    condition: over,
                    accept: Block::from_vec(vec![Statement::Break]),
                    reject: Block::new(),
                },
            ),
        }
        b
    }

    /// `if (gas > atomicLoad(&meter.max_used)) { atomicMax(&meter.max_used, gas); }`
    fn record(&mut self) -> Block {
        let mut b = Block::new();
        let gas = self.pre(Expression::GlobalVariable(self.g.gas));
        let meter = self.pre(Expression::GlobalVariable(self.g.meter));
        let [used, max_ptr, _, more] = self.emit(&mut b, |a| {
            let used = a.append(Expression::Load { pointer: gas }, Span::UNDEFINED);
            let max_ptr = a.append(
                Expression::AccessIndex {
                    base: meter,
                    index: 1,
                },
                Span::UNDEFINED,
            );
            let cur = a.append(Expression::Load { pointer: max_ptr }, Span::UNDEFINED);
            let more = a.append(
                Expression::Binary {
                    op: BinaryOperator::Greater,
                    left: used,
                    right: cur,
                },
                Span::UNDEFINED,
            );
            [used, max_ptr, cur, more]
        });
        Self::push(
            &mut b,
            Statement::If {
                condition: more,
                accept: Block::from_vec(vec![Statement::Atomic {
                    pointer: max_ptr,
                    fun: AtomicFunction::Max,
                    value: used,
                    result: None,
                }]),
                reject: Block::new(),
            },
        );
        b
    }
}

fn instrument_function(f: &mut Function, g: &Globals, reaches_barrier: &[bool], entry: bool) {
    let mut builder = Builder {
        exprs: &mut f.expressions,
        g,
    };
    let body = std::mem::take(&mut f.body);
    let mut body = instrument_block(body, &mut builder, reaches_barrier, entry);
    if entry && !matches!(body.last(), Some(Statement::Return { .. })) {
        let record = builder.record();
        body.extend_block(record);
    }
    f.body = body;
}

fn instrument_block(
    block: Block,
    b: &mut Builder<'_>,
    reaches_barrier: &[bool],
    entry: bool,
) -> Block {
    let mut out = Block::with_capacity(block.len());
    for (s, span) in block.span_into_iter() {
        let sub =
            |blk: Block, b: &mut Builder<'_>| instrument_block(blk, b, reaches_barrier, entry);
        let s = match s {
            Statement::Block(blk) => Statement::Block(sub(blk, b)),
            Statement::If {
                condition,
                accept,
                reject,
            } => Statement::If {
                condition,
                accept: sub(accept, b),
                reject: sub(reject, b),
            },
            Statement::Switch { selector, cases } => Statement::Switch {
                selector,
                cases: cases
                    .into_iter()
                    .map(|c| naga::SwitchCase {
                        body: sub(c.body, b),
                        ..c
                    })
                    .collect(),
            },
            Statement::Loop {
                body,
                continuing,
                break_if,
            } => {
                let barrier_loop = has_barrier(&body, reaches_barrier)
                    || has_barrier(&continuing, reaches_barrier);
                let body = sub(body, b);
                let new_body = if barrier_loop {
                    let mut charged = b.charge(true);
                    charged.extend_block(body);
                    charged
                } else {
                    b.charge_merged(body).unwrap_or_else(|body| {
                        let mut charged = b.charge(false);
                        charged.extend_block(body);
                        charged
                    })
                };
                Statement::Loop {
                    body: new_body,
                    continuing: sub(continuing, b),
                    break_if,
                }
            }
            Statement::Return { value } if entry => {
                let record = b.record();
                out.extend_block(record);
                Statement::Return { value }
            }
            other => other,
        };
        out.push(s, span);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metered(src: &str, budget: u32) -> String {
        let checked = crate::wgsl::parse_and_validate(src, 0).unwrap();
        to_wgsl(&instrument(&checked.module, budget).unwrap()).unwrap()
    }

    const NESTED: &str = "@group(0) @binding(0) var<storage, read_write> o: array<u32>;
fn helper(n: u32) -> u32 {
    var s = 0u;
    for (var j = 0u; j < n; j++) { s += j; }
    return s;
}
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
    if (g.x >= arrayLength(&o)) { return; }
    var t = 0u;
    for (var i = 0u; i < g.x; i++) {
        while (t < 100u) { t += helper(i); }
    }
    loop { t += 1u; if (t > 200u) { break; } }
    o[g.x] = t;
}
";

    #[test]
    fn every_loop_is_charged_and_every_exit_records() {
        let w = metered(NESTED, 123);
        // Four loops, four charges against 123: the for and while loops' exit tests take the
        // budget test in (`&& (_eN <= 123u)`); the plain `loop` gets its own exit.
        assert_eq!(w.matches("concord_gas = ").count(), 4, "{w}");
        assert_eq!(w.matches(" <= 123u").count(), 3, "{w}");
        assert_eq!(w.matches(" > 123u").count(), 1, "{w}");
        assert_eq!(w.matches("break;").count(), 4 + 1, "{w}");
        // Two exits of the entry point (early return, end): two atomic max; none in helper.
        assert_eq!(w.matches("atomicMax(").count(), 2, "{w}");
        assert!(w.contains("@group(1) @binding(0)"), "{w}");
        assert!(!w.contains("workgroupUniformLoad"), "{w}");
    }

    #[test]
    fn instrumentation_is_deterministic_and_depends_on_the_budget() {
        assert_eq!(metered(NESTED, 7), metered(NESTED, 7));
        assert_ne!(metered(NESTED, 7), metered(NESTED, 8));
    }

    #[test]
    fn loops_with_barriers_break_uniformly() {
        let src = crate::kernels::reduce_f32::WGSL;
        let w = metered(src, 9);
        assert!(
            w.contains("workgroupUniformLoad((&concord_out_of_budget))"),
            "{w}"
        );
        // The metered module passes naga's uniformity analysis (instrument validates it).
    }

    #[test]
    fn every_library_kernel_instruments_and_validates() {
        for case in crate::kernels::library(crate::kernels::Size::Test) {
            for src in case.job.modules.values() {
                let checked = crate::wgsl::parse_and_validate(src, 0).unwrap();
                instrument(&checked.module, case.job.manifest.gas_per_invocation)
                    .unwrap_or_else(|e| panic!("{}: {e}", case.name));
            }
        }
    }

    #[test]
    fn workgroup_memory_leaves_room_for_the_meter_flag() {
        let job = |words: u32| {
            let src = format!(
                "@group(0) @binding(0) var<storage, read_write> o: array<u32, 4>;
var<workgroup> a: array<u32, {words}>;
@compute @workgroup_size(1) fn main() {{ a[0] = 1u; o[0] = a[0]; }}"
            );
            crate::wgsl::synthesize_job(&src, None, [1, 1, 1]).unwrap()
        };
        let l = concord_protocol::Limits::V1;
        assert!(crate::wgsl::check_job(&job(4095), &l).is_ok());
        let e = crate::wgsl::check_job(&job(4096), &l).err().unwrap();
        assert_eq!(e.code, ErrorCode::WgslValidation);
        assert!(
            e.message
                .contains("the limit is 16380 (4 of 16384 are the gas meter's)"),
            "{e}"
        );
    }

    #[test]
    fn report_decodes_and_names_the_code() {
        let mut bytes = Vec::new();
        for w in [0u32, 10, 0, 11] {
            bytes.extend(w.to_le_bytes());
        }
        let r = GasReport::from_bytes(10, &bytes);
        assert_eq!(
            r.passes,
            vec![
                PassGas {
                    max_used: 10,
                    out_of_budget: false
                },
                PassGas {
                    max_used: 11,
                    out_of_budget: true
                }
            ]
        );
        let e = r.out_of_budget().unwrap();
        assert_eq!(e.code, ErrorCode::OutOfBudget);
        assert_eq!(
            e.to_string(),
            "invalid job (out_of_budget): an invocation of pass 1 needed more than its gas budget of 10 loop iterations"
        );
        assert_eq!(GasReport::from_bytes(10, &bytes[..8]).out_of_budget(), None);
        // The barrier loops' flag alone is enough.
        let flagged: Vec<u8> = [1u32, 3].iter().flat_map(|w| w.to_le_bytes()).collect();
        assert!(GasReport::from_bytes(10, &flagged).passes[0].out_of_budget);
    }
}
