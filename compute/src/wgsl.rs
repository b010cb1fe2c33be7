//! Static WGSL checks with naga: parse, validate against the protocol's capability set,
//! find the entry point, and match the shader's bindings and sizes with the manifest.
//!
//! Everything here is deterministic and independent of the GPU, so its verdicts
//! ([`InvalidJob`] with a stable [`ErrorCode`]) are the same on every provider. Errors carry
//! the 1-based line and column from naga's spans.

use naga::valid::{Capabilities, ModuleInfo, ValidationFlags, Validator};
use naga::{AddressSpace, ShaderStage, StorageAccess};

use concord_protocol::job::{InvalidJob, Job, SourceSpot};
use concord_protocol::ErrorCode;
use concord_protocol::{Buffer, Limits};

/// WebGPU default compute limits that every provider's device must meet; a shader beyond
/// them is invalid whatever GPU runs it.
pub const MAX_WORKGROUP_INVOCATIONS: u32 = 256;
pub const MAX_WORKGROUP_SIZE: [u32; 3] = [256, 256, 64];
pub const MAX_WORKGROUP_STORAGE_BYTES: u32 = 16_384;
/// Workgroup memory the gas meter may add (one `u32` flag, only in modules with a barrier
/// inside a loop); a job's own workgroup memory must leave room for it.
pub const METER_WORKGROUP_BYTES: u32 = 4;

/// A parsed and validated module.
pub struct CheckedModule {
    pub module: naga::Module,
    pub info: ModuleInfo,
    /// Bindings of the pass that the shader declares read-only (`var<storage, read>`); an
    /// output buffer may be bound read-only by a later pass that consumes it.
    pub read_only_bindings: std::collections::BTreeSet<u32>,
}

/// Convert a naga span into a [`SourceSpot`].
pub fn spot(span: naga::Span, source: &str, pass: usize) -> Option<SourceSpot> {
    if !span.is_defined() {
        return None;
    }
    let loc = span.location(source);
    Some(SourceSpot {
        pass: pass as u32,
        line: loc.line_number,
        column: loc.line_position,
    })
}

/// Parse WGSL (no validation).
pub fn parse(source: &str, pass: usize) -> Result<naga::Module, InvalidJob> {
    naga::front::wgsl::parse_str(source).map_err(|e| {
        let spot = e.location(source).map(|l| SourceSpot {
            pass: pass as u32,
            line: l.line_number,
            column: l.line_position,
        });
        InvalidJob {
            code: ErrorCode::WgslParse,
            message: e.message().to_string(),
            spot,
        }
    })
}

/// Parse and validate WGSL with the protocol capabilities (none beyond core WGSL: no float
/// atomics, no subgroups, no f16/f64/i64).
pub fn parse_and_validate(source: &str, pass: usize) -> Result<CheckedModule, InvalidJob> {
    let module = parse(source, pass)?;
    let info = Validator::new(ValidationFlags::all(), Capabilities::empty())
        .validate(&module)
        .map_err(|e| {
            let spot = e.location(source).map(|l| SourceSpot {
                pass: pass as u32,
                line: l.line_number,
                column: l.line_position,
            });
            let mut message = e.as_inner().to_string();
            let mut source_err: Option<&dyn std::error::Error> =
                std::error::Error::source(e.as_inner());
            while let Some(s) = source_err {
                message.push_str(": ");
                message.push_str(&s.to_string());
                source_err = s.source();
            }
            InvalidJob {
                code: ErrorCode::WgslValidation,
                message,
                spot,
            }
        })?;
    Ok(CheckedModule {
        module,
        info,
        read_only_bindings: Default::default(),
    })
}

/// What a binding must be in WGSL for a manifest buffer kind.
fn expected_space(buffer: &Buffer) -> &'static str {
    match buffer {
        Buffer::Input(_) => "var<storage, read>",
        Buffer::Output { .. } | Buffer::Scratch { .. } => {
            "var<storage, read_write> or var<storage, read>"
        }
        Buffer::Uniform { .. } => "var<uniform>",
    }
}

fn space_matches(buffer: &Buffer, space: AddressSpace) -> bool {
    match (buffer, space) {
        (Buffer::Input(_), AddressSpace::Storage { access }) => {
            !access.contains(StorageAccess::STORE)
        }
        (Buffer::Output { .. } | Buffer::Scratch { .. }, AddressSpace::Storage { access }) => {
            access.contains(StorageAccess::LOAD)
        }
        (Buffer::Uniform { .. }, AddressSpace::Uniform) => true,
        _ => false,
    }
}

/// Every static check of a job: manifest structure and limits, declared sizes, then per pass
/// WGSL parse/validation, entry point, compute limits, bindings and binding sizes, and last
/// the job's static gas bound (invocations × gas per invocation).
pub fn check_job(job: &Job, limits: &Limits) -> Result<Vec<CheckedModule>, InvalidJob> {
    job.check_structure(limits)?;
    let manifest = &job.manifest;
    let mut out = Vec::with_capacity(manifest.passes.len());
    let mut workgroup_invocations = Vec::with_capacity(manifest.passes.len());
    for (p, pass) in manifest.passes.iter().enumerate() {
        let source = job.module_source(p);
        let mut checked = parse_and_validate(source, p)?;
        let module = &checked.module;
        let Some(ep_index) = module
            .entry_points
            .iter()
            .position(|e| e.name == pass.entry_point && e.stage == ShaderStage::Compute)
        else {
            let names: Vec<&str> = module
                .entry_points
                .iter()
                .filter(|e| e.stage == ShaderStage::Compute)
                .map(|e| e.name.as_str())
                .collect();
            return Err(InvalidJob::new(
                ErrorCode::MissingEntryPoint,
                format!(
                    "pass {p} asks for compute entry point `{}`, but the module has {}",
                    pass.entry_point,
                    if names.is_empty() {
                        "none".to_string()
                    } else {
                        names
                            .iter()
                            .map(|n| format!("`{n}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    }
                ),
            ));
        };
        let ep = &module.entry_points[ep_index];
        let wg = ep.workgroup_size;
        let invocations = wg.iter().try_fold(1u32, |a, &d| a.checked_mul(d));
        if invocations.is_none_or(|n| n > MAX_WORKGROUP_INVOCATIONS)
            || wg.iter().zip(MAX_WORKGROUP_SIZE).any(|(&d, m)| d > m)
        {
            return Err(InvalidJob::new(
                ErrorCode::WgslValidation,
                format!("pass {p}: @workgroup_size({}, {}, {}) exceeds the WebGPU limits (at most {MAX_WORKGROUP_INVOCATIONS} invocations, {MAX_WORKGROUP_SIZE:?})", wg[0], wg[1], wg[2]),
            ));
        }
        workgroup_invocations.push(invocations.unwrap_or(u32::MAX));
        let ep_info = checked.info.get_entry_point(ep_index);
        let mut workgroup_bytes: u64 = 0;
        for (handle, var) in module.global_variables.iter() {
            if ep_info[handle].is_empty() {
                continue;
            }
            let var_spot = spot(module.global_variables.get_span(handle), source, p);
            let name = var.name.clone().unwrap_or_else(|| "<unnamed>".into());
            if var.space == AddressSpace::WorkGroup {
                let size = module.types[var.ty]
                    .inner
                    .try_size(module.to_ctx())
                    .unwrap_or(u32::MAX);
                workgroup_bytes = workgroup_bytes.saturating_add(u64::from(size));
                continue;
            }
            let Some(rb) = var.binding else { continue };
            let mismatch = |message: String| InvalidJob {
                code: ErrorCode::BindingMismatch,
                message,
                spot: var_spot,
            };
            if rb.group != 0 {
                return Err(mismatch(format!(
                    "`{name}` is in @group({}); jobs bind buffers in @group(0) only",
                    rb.group
                )));
            }
            let Some(b) = pass.bindings.iter().find(|b| b.binding == rb.binding) else {
                return Err(mismatch(format!(
                    "`{name}` uses @binding({}), but pass {p} binds no buffer there",
                    rb.binding
                )));
            };
            let buffer = &manifest.buffers[b.buffer as usize];
            if let AddressSpace::Storage { access } = var.space {
                if !access.contains(StorageAccess::STORE) {
                    checked.read_only_bindings.insert(rb.binding);
                }
            }
            if !space_matches(buffer, var.space) {
                return Err(mismatch(format!(
                    "`{name}` at @binding({}) must be declared `{}` to match buffer {} of the manifest",
                    rb.binding,
                    expected_space(buffer),
                    b.buffer
                )));
            }
            let Some(needed) = module.types[var.ty].inner.try_size(module.to_ctx()) else {
                return Err(mismatch(format!(
                    "`{name}` has a type whose size cannot be computed"
                )));
            };
            if buffer.size() < u64::from(needed) {
                let code = match buffer {
                    Buffer::Output { .. } | Buffer::Scratch { .. } => ErrorCode::OutputSizeMismatch,
                    _ => ErrorCode::InputSizeMismatch,
                };
                return Err(InvalidJob {
                    code,
                    message: format!(
                        "buffer {} is {} bytes, but `{name}` needs at least {needed}",
                        b.buffer,
                        buffer.size()
                    ),
                    spot: var_spot,
                });
            }
            if matches!(buffer, Buffer::Uniform { .. }) && buffer.size() != u64::from(needed) {
                return Err(InvalidJob {
                    code: ErrorCode::InputSizeMismatch,
                    message: format!(
                        "uniform buffer {} is {} bytes, but `{name}` is exactly {needed}",
                        b.buffer,
                        buffer.size()
                    ),
                    spot: var_spot,
                });
            }
        }
        let workgroup_max = MAX_WORKGROUP_STORAGE_BYTES - METER_WORKGROUP_BYTES;
        if workgroup_bytes > u64::from(workgroup_max) {
            return Err(InvalidJob::new(
                ErrorCode::WgslValidation,
                format!("pass {p} uses {workgroup_bytes} bytes of workgroup memory; the limit is {workgroup_max} ({METER_WORKGROUP_BYTES} of {MAX_WORKGROUP_STORAGE_BYTES} are the gas meter's)"),
            ));
        }
        out.push(checked);
    }
    manifest.check_total_gas(&workgroup_invocations, limits)?;
    Ok(out)
}

/// Elements given to a runtime-sized array when a job is synthesised for a bare WGSL file.
pub const SYNTH_RUNTIME_ELEMENTS: u64 = 1024;

/// Build a job for a bare WGSL module, for `concord kernel check`: one pass of compute entry
/// point `entry` (the first one if `None`) dispatched `dispatch` times. Every binding in
/// group 0 becomes a buffer of the declared type's size (runtime-sized arrays get
/// [`SYNTH_RUNTIME_ELEMENTS`] elements): read-only storage is filled with deterministic
/// pseudo-random bytes, read-write storage is an output, uniforms are zero.
pub fn synthesize_job(
    source: &str,
    entry: Option<&str>,
    dispatch: [u32; 3],
) -> Result<Job, InvalidJob> {
    use concord_protocol::job::JobBuilder;
    let checked = parse_and_validate(source, 0)?;
    let module = &checked.module;
    let ep_index = match entry {
        Some(name) => module
            .entry_points
            .iter()
            .position(|e| e.name == name && e.stage == ShaderStage::Compute),
        None => module
            .entry_points
            .iter()
            .position(|e| e.stage == ShaderStage::Compute),
    }
    .ok_or_else(|| {
        InvalidJob::new(
            ErrorCode::MissingEntryPoint,
            format!(
                "the module has no compute entry point{}",
                entry.map(|e| format!(" named `{e}`")).unwrap_or_default()
            ),
        )
    })?;
    let ep = &module.entry_points[ep_index];
    let ep_info = checked.info.get_entry_point(ep_index);
    let mut jb = JobBuilder::new();
    let mut bindings = Vec::new();
    let mut rng = crate::rng::SplitMix64(0x5eed);
    for (handle, var) in module.global_variables.iter() {
        let Some(rb) = var.binding else { continue };
        if ep_info[handle].is_empty() {
            continue;
        }
        let ty = &module.types[var.ty].inner;
        let base = u64::from(ty.try_size(module.to_ctx()).unwrap_or(4));
        let size = match ty {
            naga::TypeInner::Array {
                size: naga::ArraySize::Dynamic,
                stride,
                ..
            } => u64::from(*stride) * SYNTH_RUNTIME_ELEMENTS,
            naga::TypeInner::Struct { members, .. } => {
                match members.last().map(|m| &module.types[m.ty].inner) {
                    Some(naga::TypeInner::Array {
                        size: naga::ArraySize::Dynamic,
                        stride,
                        ..
                    }) => base - u64::from(*stride) + u64::from(*stride) * SYNTH_RUNTIME_ELEMENTS,
                    _ => base,
                }
            }
            _ => base,
        };
        let size = size.div_ceil(4) * 4;
        let index = match var.space {
            AddressSpace::Storage { access } if !access.contains(StorageAccess::STORE) => {
                jb.input((0..size).map(|_| rng.next_u32() as u8).collect())
            }
            AddressSpace::Storage { .. } => jb.output(size),
            AddressSpace::Uniform => jb.uniform(vec![0; size as usize]),
            _ => continue,
        };
        bindings.push((rb.binding, index));
    }
    jb.pass(source, &ep.name, dispatch, &bindings);
    Ok(jb.build())
}
