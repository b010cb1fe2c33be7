//! The reproducibility lint: walks naga's IR of a WGSL module and flags constructs whose
//! results may differ between GPUs — float atomics, subgroup operations, transcendental and
//! other not-correctly-rounded float built-ins, f32 division, and an f32 multiply whose
//! result feeds an add or subtract without a fence (drivers may fuse it into an FMA).
//! Each finding carries a 1-based line and column.

use naga::valid::{Capabilities, ValidationFlags, Validator};
use naga::{
    BinaryOperator, Block, Expression, Function, Handle, MathFunction, ScalarKind, Statement,
    TypeInner,
};
use std::collections::HashSet;
use std::fmt;

use crate::wgsl;
use concord_protocol::job::InvalidJob;

/// What kind of non-reproducible construct a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FindingKind {
    FloatAtomic,
    Subgroup,
    Transcendental,
    InexactFloat,
    UnfencedMulAdd,
}

impl FindingKind {
    pub fn name(self) -> &'static str {
        match self {
            FindingKind::FloatAtomic => "float-atomic",
            FindingKind::Subgroup => "subgroup",
            FindingKind::Transcendental => "transcendental",
            FindingKind::InexactFloat => "inexact-float",
            FindingKind::UnfencedMulAdd => "unfenced-mul-add",
        }
    }
}

/// One lint finding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub kind: FindingKind,
    pub line: u32,
    pub column: u32,
    pub message: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: {}: {}",
            self.line,
            self.column,
            self.kind.name(),
            self.message
        )
    }
}

/// Lint a WGSL module. The module must parse and validate (with every capability allowed, so
/// that float atomics and subgroups can be reported rather than rejected).
pub fn lint_wgsl(source: &str) -> Result<Vec<Finding>, InvalidJob> {
    let module = wgsl::parse(source, 0)?;
    let info = Validator::new(ValidationFlags::all(), Capabilities::all())
        .validate(&module)
        .map_err(|e| {
            let spot = e
                .location(source)
                .map(|l| concord_protocol::job::SourceSpot {
                    pass: 0,
                    line: l.line_number,
                    column: l.line_position,
                });
            InvalidJob {
                code: concord_protocol::ErrorCode::WgslValidation,
                message: e.as_inner().to_string(),
                spot,
            }
        })?;
    let mut l = Linter {
        source,
        module: &module,
        out: Vec::new(),
    };
    for (handle, var) in module.global_variables.iter() {
        if is_float_atomic(&module, var.ty) {
            l.push(
                FindingKind::FloatAtomic,
                module.global_variables.get_span(handle),
                "atomic float variable: the order of float atomic updates is not reproducible",
            );
        }
    }
    for (handle, f) in module.functions.iter() {
        l.function(f, &info[handle]);
    }
    for (i, ep) in module.entry_points.iter().enumerate() {
        for (arg_index, arg) in ep.function.arguments.iter().enumerate() {
            if let Some(naga::Binding::BuiltIn(b)) = arg.binding {
                use naga::BuiltIn::*;
                if matches!(
                    b,
                    SubgroupSize | SubgroupInvocationId | NumSubgroups | SubgroupId
                ) {
                    // Where the argument is used (naga keeps no span for the parameter itself).
                    let span = ep
                        .function
                        .expressions
                        .iter()
                        .find(|(_, e)| matches!(e, Expression::FunctionArgument(a) if *a as usize == arg_index))
                        .map(|(h, _)| ep.function.expressions.get_span(h))
                        .unwrap_or_default();
                    l.push(FindingKind::Subgroup, span, &format!("entry point `{}` reads a subgroup built-in; subgroup sizes differ between GPUs", ep.name));
                }
            }
        }
        l.function(&ep.function, info.get_entry_point(i));
    }
    let mut out = l.out;
    out.sort_by_key(|f| (f.line, f.column));
    out.dedup();
    Ok(out)
}

fn is_float_atomic(module: &naga::Module, ty: Handle<naga::Type>) -> bool {
    match &module.types[ty].inner {
        TypeInner::Atomic(s) => s.kind == ScalarKind::Float,
        TypeInner::Array { base, .. } | TypeInner::BindingArray { base, .. } => {
            is_float_atomic(module, *base)
        }
        TypeInner::Struct { members, .. } => members.iter().any(|m| is_float_atomic(module, m.ty)),
        _ => false,
    }
}

struct Linter<'a> {
    source: &'a str,
    module: &'a naga::Module,
    out: Vec<Finding>,
}

impl Linter<'_> {
    fn push(&mut self, kind: FindingKind, span: naga::Span, message: &str) {
        let (line, column) = if span.is_defined() {
            let loc = span.location(self.source);
            (loc.line_number, loc.line_position)
        } else {
            (0, 0)
        };
        self.out.push(Finding {
            kind,
            line,
            column,
            message: message.to_string(),
        });
    }

    fn function(&mut self, f: &Function, finfo: &naga::valid::FunctionInfo) {
        let is_float = |h: Handle<Expression>| {
            finfo[h].ty.inner_with(&self.module.types).scalar_kind() == Some(ScalarKind::Float)
        };
        // Local variables that are assigned an f32 product (a later load may be fused).
        let mut product_locals = HashSet::new();
        collect_product_stores(&f.body, f, &mut product_locals, &is_float);
        for (h, expr) in f.expressions.iter() {
            let span = f.expressions.get_span(h);
            match expr {
                Expression::Math { fun, .. } => {
                    use MathFunction::*;
                    let name = format!("{fun:?}").to_lowercase();
                    match fun {
                        Cos | Cosh | Sin | Sinh | Tan | Tanh | Acos | Asin | Atan | Atan2 | Asinh | Acosh | Atanh | Exp | Exp2 | Log | Log2 | Pow => {
                            self.push(FindingKind::Transcendental, span, &format!("`{name}` is a transcendental; its rounding differs between GPUs"))
                        }
                        Sqrt | InverseSqrt | Distance | Length | Normalize | Refract | SmoothStep | Inverse | Determinant | Dot | Cross | Outer | Reflect | FaceForward | Mix
                            if is_float(h) =>
                        {
                            self.push(FindingKind::InexactFloat, span, &format!("`{name}` on floats is not exactly specified in WGSL (precision or evaluation order may differ)"))
                        }
                        Fma => self.push(FindingKind::UnfencedMulAdd, span, "`fma` may or may not be fused depending on the GPU"),
                        _ => {}
                    }
                }
                Expression::Binary {
                    op: BinaryOperator::Divide,
                    ..
                } if is_float(h) => self.push(
                    FindingKind::InexactFloat,
                    span,
                    "float division is not correctly rounded in WGSL (2.5 ULP)",
                ),
                Expression::Binary {
                    op: BinaryOperator::Add | BinaryOperator::Subtract,
                    left,
                    right,
                } if is_float(h) => {
                    let is_product = |e: Handle<Expression>| match &f.expressions[e] {
                        Expression::Binary {
                            op: BinaryOperator::Multiply,
                            ..
                        } => is_float(e),
                        Expression::Load { pointer } => {
                            matches!(f.expressions[*pointer], Expression::LocalVariable(v) if product_locals.contains(&v))
                        }
                        _ => false,
                    };
                    if is_product(*left) || is_product(*right) {
                        self.push(FindingKind::UnfencedMulAdd, span, "f32 multiply feeds an add without a fence; a GPU may fuse it into an FMA");
                    }
                }
                _ => {}
            }
        }
        self.statements(&f.body, finfo);
    }

    fn statements(&mut self, block: &Block, finfo: &naga::valid::FunctionInfo) {
        for (stmt, span) in block.span_iter() {
            match stmt {
                Statement::Block(b) => self.statements(b, finfo),
                Statement::If { accept, reject, .. } => {
                    self.statements(accept, finfo);
                    self.statements(reject, finfo);
                }
                Statement::Switch { cases, .. } => {
                    for c in cases {
                        self.statements(&c.body, finfo);
                    }
                }
                Statement::Loop {
                    body, continuing, ..
                } => {
                    self.statements(body, finfo);
                    self.statements(continuing, finfo);
                }
                Statement::Atomic { value, .. }
                    if finfo[*value]
                        .ty
                        .inner_with(&self.module.types)
                        .scalar_kind()
                        == Some(ScalarKind::Float) =>
                {
                    self.push(
                        FindingKind::FloatAtomic,
                        *span,
                        "atomic operation on a float: the order of updates is not reproducible",
                    );
                }
                Statement::SubgroupBallot { .. }
                | Statement::SubgroupGather { .. }
                | Statement::SubgroupCollectiveOperation { .. } => self.push(
                    FindingKind::Subgroup,
                    *span,
                    "subgroup operation: subgroup sizes and orders differ between GPUs",
                ),
                _ => {}
            }
        }
    }
}

fn collect_product_stores(
    block: &Block,
    f: &Function,
    out: &mut HashSet<Handle<naga::LocalVariable>>,
    is_float: &dyn Fn(Handle<Expression>) -> bool,
) {
    for stmt in block.iter() {
        match stmt {
            Statement::Store { pointer, value } => {
                if let (
                    Expression::LocalVariable(v),
                    Expression::Binary {
                        op: BinaryOperator::Multiply,
                        ..
                    },
                ) = (&f.expressions[*pointer], &f.expressions[*value])
                {
                    if is_float(*value) {
                        out.insert(*v);
                    }
                }
            }
            Statement::Block(b) => collect_product_stores(b, f, out, is_float),
            Statement::If { accept, reject, .. } => {
                collect_product_stores(accept, f, out, is_float);
                collect_product_stores(reject, f, out, is_float);
            }
            Statement::Switch { cases, .. } => {
                for c in cases {
                    collect_product_stores(&c.body, f, out, is_float);
                }
            }
            Statement::Loop {
                body, continuing, ..
            } => {
                collect_product_stores(body, f, out, is_float);
                collect_product_stores(continuing, f, out, is_float);
            }
            _ => {}
        }
    }
    // Local variables initialised with a product.
    for (v, var) in f.local_variables.iter() {
        if let Some(init) = var.init {
            if matches!(
                f.expressions[init],
                Expression::Binary {
                    op: BinaryOperator::Multiply,
                    ..
                }
            ) && is_float(init)
            {
                out.insert(v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<(FindingKind, u32)> {
        lint_wgsl(src)
            .unwrap()
            .into_iter()
            .map(|f| (f.kind, f.line))
            .collect()
    }

    #[test]
    fn library_kernels_are_clean() {
        for case in crate::kernels::library(crate::kernels::Size::Test) {
            assert_eq!(lint_wgsl(case.wgsl).unwrap(), vec![], "{}", case.name);
        }
    }

    #[test]
    fn transformer_operators_are_clean() {
        use crate::kernels::transformer::*;
        for (name, source) in [
            ("embed", EMBED),
            ("layer_norm", LAYER_NORM),
            ("linear", LINEAR),
            ("attention", ATTENTION),
            ("pool", POOL),
            ("l2norm", L2NORM),
        ] {
            assert_eq!(lint_wgsl(source).unwrap(), vec![], "{name}");
        }
    }

    #[test]
    fn flags_each_construct_with_its_line() {
        let src = "@group(0) @binding(0) var<storage, read_write> o: array<f32>;
@group(0) @binding(1) var<storage, read_write> acc: atomic<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
    let x = o[g.x];
    o[g.x] = exp(x);
    o[g.x + 1u] = x * x + 1.0;
    o[g.x + 2u] = x / 3.0;
    atomicAdd(&acc, x);
    var p = x * 2.0;
    o[g.x + 3u] = p - x;
    o[g.x + 4u] = sqrt(x) + pow(x, 2.0);
}
";
        let k = kinds(src);
        assert!(k.contains(&(FindingKind::FloatAtomic, 2)), "{k:?}");
        assert!(k.contains(&(FindingKind::Transcendental, 6)), "{k:?}");
        assert!(k.contains(&(FindingKind::UnfencedMulAdd, 7)), "{k:?}");
        assert!(k.contains(&(FindingKind::InexactFloat, 8)), "{k:?}");
        assert!(k.contains(&(FindingKind::FloatAtomic, 9)), "{k:?}");
        assert!(k.contains(&(FindingKind::UnfencedMulAdd, 11)), "{k:?}");
        assert!(k.contains(&(FindingKind::InexactFloat, 12)), "{k:?}");
        assert!(k.contains(&(FindingKind::Transcendental, 12)), "{k:?}");
        // Integer multiply-add is exact and not flagged.
        assert_eq!(
            kinds(
                "@group(0) @binding(0) var<storage, read_write> o: array<u32>;
@compute @workgroup_size(1) fn main() { o[0] = o[1] * o[2] + o[3]; }"
            ),
            vec![]
        );
    }

    #[test]
    fn flags_subgroup_operations() {
        let src = "@group(0) @binding(0) var<storage, read_write> o: array<u32>;
@compute @workgroup_size(64)
fn main(@builtin(subgroup_invocation_id) sid: u32) {
    o[sid] = subgroupAdd(sid);
}
";
        let k = kinds(src);
        assert!(
            k.iter()
                .any(|&(kind, line)| kind == FindingKind::Subgroup && line == 4),
            "{k:?}"
        );
        assert!(
            k.iter()
                .filter(|(kind, _)| *kind == FindingKind::Subgroup)
                .count()
                >= 2,
            "{k:?}"
        );
    }

    #[test]
    fn unparsable_source_is_an_error_with_position() {
        let e = lint_wgsl("fn main( {").unwrap_err();
        assert_eq!(e.code, concord_protocol::ErrorCode::WgslParse);
        assert_eq!(e.spot.map(|s| s.line), Some(1));
    }
}
