//! In-process execution of a [`Job`] on one wgpu adapter: adapter listing and selection,
//! device creation with error scopes (bad WGSL never panics), buffers, multi-pass dispatch
//! of the metered modules (`crate::meter`, fed to wgpu as naga IR) and readback of outputs and
//! meters. Compiled pipelines are kept between runs ([`PipelineCache`]): a worker that serves
//! the same kernel again skips shader compilation. It has no timeout of its own: the
//! [`Executor`](super::Executor) runs it in a worker process that it can kill.

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::meter::{self, GasReport, METER_BINDING, METER_BYTES, METER_GROUP};
use crate::wgsl;
use concord_protocol::job::{InvalidJob, Job};
use concord_protocol::Buffer;
use concord_protocol::{ErrorCode, Hash32};

/// A wgpu backend Concord can run on.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    BorshSerialize,
    BorshDeserialize,
)]
pub enum Backend {
    Vulkan,
    Gl,
}

impl Backend {
    pub const ALL: [Backend; 2] = [Backend::Vulkan, Backend::Gl];

    fn to_wgpu(self) -> wgpu::Backends {
        match self {
            Backend::Vulkan => wgpu::Backends::VULKAN,
            Backend::Gl => wgpu::Backends::GL,
        }
    }

    fn from_wgpu(b: wgpu::Backend) -> Option<Self> {
        match b {
            wgpu::Backend::Vulkan => Some(Backend::Vulkan),
            wgpu::Backend::Gl => Some(Backend::Gl),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Backend::Vulkan => "vulkan",
            Backend::Gl => "gl",
        }
    }
}

impl std::str::FromStr for Backend {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "vulkan" | "vk" => Ok(Backend::Vulkan),
            "gl" | "gles" | "opengl" => Ok(Backend::Gl),
            other => Err(format!("unknown backend `{other}` (expected vulkan or gl)")),
        }
    }
}

/// Which adapter to run on: a backend (any if `None`) and optionally a substring of the
/// adapter name (case-insensitive).
#[derive(
    Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize,
)]
pub struct AdapterSelector {
    pub backend: Option<Backend>,
    pub name_contains: Option<String>,
}

impl AdapterSelector {
    pub fn backend(backend: Backend) -> Self {
        AdapterSelector {
            backend: Some(backend),
            name_contains: None,
        }
    }
}

/// An adapter as seen by wgpu.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
pub struct AdapterSummary {
    pub backend: Backend,
    pub name: String,
    pub driver: String,
    pub device_type: String,
}

impl std::fmt::Display for AdapterSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {} ({}, {})",
            self.backend.name(),
            self.name,
            self.device_type,
            self.driver
        )
    }
}

/// A provider-side failure: not the job's fault, so no canonical outcome.
#[derive(
    Clone,
    Debug,
    PartialEq,
    Eq,
    thiserror::Error,
    Serialize,
    Deserialize,
    BorshSerialize,
    BorshDeserialize,
)]
pub enum DeviceError {
    #[error("no {0} adapter is available on this machine")]
    NoAdapter(String),
    #[error("the adapter could not open a device: {0}")]
    RequestDevice(String),
    #[error("the adapter cannot run this job: {0}")]
    Unsupported(String),
    #[error("the GPU ran out of memory: {0}")]
    OutOfMemory(String),
    #[error("the GPU failed while running the job: {0}")]
    Failed(String),
}

/// Why a run did not produce outputs.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RunError {
    #[error("{0}")]
    Invalid(InvalidJob),
    #[error("{0}")]
    Device(DeviceError),
}

impl From<InvalidJob> for RunError {
    fn from(e: InvalidJob) -> Self {
        RunError::Invalid(e)
    }
}

impl From<DeviceError> for RunError {
    fn from(e: DeviceError) -> Self {
        RunError::Device(e)
    }
}

/// The output buffers of a run, in buffer order, and the time the GPU work took
/// (submit to readback complete).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunOutput {
    pub outputs: Vec<Vec<u8>>,
    /// The meters of a metered run (`None` unmetered). If some pass ran out of budget, the
    /// outputs are not a result: the job's outcome is [`ErrorCode::OutOfBudget`].
    pub gas: Option<GasReport>,
    pub gpu_time: Duration,
}

fn instance(backends: wgpu::Backends) -> wgpu::Instance {
    let mut desc = wgpu::InstanceDescriptor::new_without_display_handle();
    desc.backends = backends;
    desc.flags = wgpu::InstanceFlags::empty();
    wgpu::Instance::new(desc)
}

fn summary(info: &wgpu::AdapterInfo) -> Option<AdapterSummary> {
    Some(AdapterSummary {
        backend: Backend::from_wgpu(info.backend)?,
        name: info.name.clone(),
        driver: format!("{} {}", info.driver, info.driver_info)
            .trim()
            .to_string(),
        device_type: format!("{:?}", info.device_type),
    })
}

/// Every adapter wgpu finds on the Vulkan and GL backends.
pub fn list_adapters() -> Vec<AdapterSummary> {
    let inst = instance(wgpu::Backends::VULKAN | wgpu::Backends::GL);
    pollster::block_on(inst.enumerate_adapters(wgpu::Backends::VULKAN | wgpu::Backends::GL))
        .iter()
        .filter_map(|a| summary(&a.get_info()))
        .collect()
}

/// An open device on one adapter.
pub struct GpuDevice {
    adapter: AdapterSummary,
    device: wgpu::Device,
    queue: wgpu::Queue,
    uncaptured: Arc<Mutex<Vec<String>>>,
    /// The meters' bind group layout (group [`METER_GROUP`]), shared by every metered pipeline.
    meter_bgl: wgpu::BindGroupLayout,
    pipelines: Mutex<PipelineCache>,
}

/// What compiles one pass's pipeline: the module's source (by hash), its entry point, the kind
/// of each binding, and the meter (on or off, and the budget it is instrumented with).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct PipelineKey {
    source: Hash32,
    entry_point: String,
    bindings: Vec<(u32, wgpu::BufferBindingType)>,
    metered: bool,
    gas_per_invocation: u32,
}

/// A compiled pass: its bind group layout and pipeline.
struct Compiled {
    bgl: wgpu::BindGroupLayout,
    pipeline: wgpu::ComputePipeline,
}

/// The compiled pipelines of the last [`PipelineCache::CAPACITY`] distinct passes run on a
/// device, least recently used evicted first; only pipelines that compiled without a
/// validation error are kept.
#[derive(Default)]
struct PipelineCache {
    entries: HashMap<PipelineKey, Arc<Compiled>>,
    order: VecDeque<PipelineKey>,
    hits: u64,
    misses: u64,
}

impl PipelineCache {
    const CAPACITY: usize = 64;

    fn get(&mut self, key: &PipelineKey) -> Option<Arc<Compiled>> {
        let found = self.entries.get(key).cloned();
        if found.is_some() {
            self.hits += 1;
            self.order.retain(|k| k != key);
            self.order.push_back(key.clone());
        } else {
            self.misses += 1;
        }
        found
    }

    fn insert(&mut self, key: PipelineKey, compiled: Arc<Compiled>) {
        if self.entries.insert(key.clone(), compiled).is_none() {
            self.order.push_back(key);
        }
        while self.order.len() > Self::CAPACITY {
            if let Some(old) = self.order.pop_front() {
                self.entries.remove(&old);
            }
        }
    }
}

/// How a device's pipeline cache has served (for tests and logs).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PipelineCacheStats {
    pub entries: usize,
    pub hits: u64,
    pub misses: u64,
}

impl GpuDevice {
    /// Open the first adapter matching `selector`.
    pub fn open(selector: &AdapterSelector) -> Result<Self, DeviceError> {
        let backends = selector.backend.map_or(
            wgpu::Backends::VULKAN | wgpu::Backends::GL,
            Backend::to_wgpu,
        );
        let inst = instance(backends);
        let wanted = selector
            .name_contains
            .as_deref()
            .map(str::to_ascii_lowercase);
        let adapter = pollster::block_on(inst.enumerate_adapters(backends))
            .into_iter()
            .find(|a| {
                let info = a.get_info();
                Backend::from_wgpu(info.backend).is_some()
                    && wanted
                        .as_ref()
                        .is_none_or(|w| info.name.to_ascii_lowercase().contains(w))
            })
            .ok_or_else(|| {
                let what = selector.backend.map_or("Vulkan or GL", |b| b.name());
                DeviceError::NoAdapter(match &selector.name_contains {
                    Some(n) => format!("{what} `{n}`"),
                    None => what.to_string(),
                })
            })?;
        let info = adapter.get_info();
        let downlevel = adapter.get_downlevel_capabilities();
        if !downlevel
            .flags
            .contains(wgpu::DownlevelFlags::COMPUTE_SHADERS)
        {
            return Err(DeviceError::Unsupported(format!(
                "{} has no compute shaders",
                info.name
            )));
        }
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("concord"),
            required_features: wgpu::Features::empty(),
            required_limits: adapter.limits(),
            ..Default::default()
        }))
        .map_err(|e| DeviceError::RequestDevice(e.to_string()))?;
        let uncaptured = Arc::new(Mutex::new(Vec::new()));
        let sink = uncaptured.clone();
        device.on_uncaptured_error(Arc::new(move |e: wgpu::Error| {
            if let Ok(mut v) = sink.lock() {
                v.push(e.to_string());
            }
        }));
        let meter_bgl = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("concord meter"),
            entries: &[wgpu::BindGroupLayoutEntry {
                binding: METER_BINDING,
                visibility: wgpu::ShaderStages::COMPUTE,
                ty: wgpu::BindingType::Buffer {
                    ty: wgpu::BufferBindingType::Storage { read_only: false },
                    has_dynamic_offset: false,
                    min_binding_size: None,
                },
                count: None,
            }],
        });
        Ok(GpuDevice {
            adapter: summary(&info).expect("filtered to known backends"),
            device,
            queue,
            uncaptured,
            meter_bgl,
            pipelines: Mutex::default(),
        })
    }

    pub fn adapter(&self) -> &AdapterSummary {
        &self.adapter
    }

    /// How the compiled-pipeline cache has served so far.
    pub fn pipeline_cache_stats(&self) -> PipelineCacheStats {
        let cache = self.pipelines.lock().expect("lock");
        PipelineCacheStats {
            entries: cache.entries.len(),
            hits: cache.hits,
            misses: cache.misses,
        }
    }

    /// Run `job` metered: a job that runs out of its gas budget is
    /// `RunError::Invalid` with [`ErrorCode::OutOfBudget`]. `started` is called right before
    /// the GPU work is submitted (after all validation and pipeline compilation), so a
    /// supervisor can start the runtime clock.
    pub fn run(&self, job: &Job, started: &mut dyn FnMut()) -> Result<RunOutput, RunError> {
        let out = self.run_metered(job, started)?;
        match out.gas.as_ref().and_then(GasReport::out_of_budget) {
            Some(e) => Err(e.into()),
            None => Ok(out),
        }
    }

    /// Run `job` metered and return the meters even when a pass ran out of budget (then the
    /// outputs are not a result; see [`GasReport::out_of_budget`]).
    pub fn run_metered(&self, job: &Job, started: &mut dyn FnMut()) -> Result<RunOutput, RunError> {
        self.run_inner(job, true, started)
    }

    /// Run `job` without the meter: not a protocol execution (a job over budget computes
    /// whatever the hardware does), for measuring the meter's cost and the drivers.
    pub fn run_unmetered(
        &self,
        job: &Job,
        started: &mut dyn FnMut(),
    ) -> Result<RunOutput, RunError> {
        self.run_inner(job, false, started)
    }

    fn run_inner(
        &self,
        job: &Job,
        metered: bool,
        started: &mut dyn FnMut(),
    ) -> Result<RunOutput, RunError> {
        let checked = wgsl::check_job(job, &job.manifest.limits())?;
        self.uncaptured.lock().map(|mut v| v.clear()).ok();
        let m = &job.manifest;
        let lim = self.device.limits();
        for (i, b) in m.buffers.iter().enumerate() {
            let (max, what) = match b {
                Buffer::Uniform { .. } => (lim.max_uniform_buffer_binding_size, "uniform binding"),
                _ => (
                    lim.max_storage_buffer_binding_size.min(lim.max_buffer_size),
                    "storage binding",
                ),
            };
            if b.size() > max {
                return Err(DeviceError::Unsupported(format!(
                    "buffer {i} is {} bytes; this adapter's {what} limit is {max}",
                    b.size()
                ))
                .into());
            }
        }
        if let Some(p) = m.passes.iter().position(|p| {
            p.dispatch
                .iter()
                .any(|&d| d > lim.max_compute_workgroups_per_dimension)
        }) {
            return Err(DeviceError::Unsupported(format!(
                "pass {p}'s dispatch exceeds this adapter's {} workgroups per dimension",
                lim.max_compute_workgroups_per_dimension
            ))
            .into());
        }
        if let Some(p) = m.passes.iter().position(|p| {
            let storage = p
                .bindings
                .iter()
                .filter(|b| !matches!(m.buffers[b.buffer as usize], Buffer::Uniform { .. }))
                .count() as u32;
            storage + u32::from(metered) > lim.max_storage_buffers_per_shader_stage
        }) {
            return Err(DeviceError::Unsupported(format!(
                "pass {p} needs more storage buffers than this adapter's {} per stage",
                lim.max_storage_buffers_per_shader_stage
            ))
            .into());
        }

        let validation = self.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let oom = self.device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let buffers: Vec<wgpu::Buffer> = m
            .buffers
            .iter()
            .enumerate()
            .map(|(i, b)| {
                let usage = match b {
                    Buffer::Uniform { .. } => {
                        wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST
                    }
                    _ => {
                        wgpu::BufferUsages::STORAGE
                            | wgpu::BufferUsages::COPY_SRC
                            | wgpu::BufferUsages::COPY_DST
                    }
                };
                let buf = self.device.create_buffer(&wgpu::BufferDescriptor {
                    label: None,
                    size: b.size(),
                    usage,
                    mapped_at_creation: false,
                });
                // wgpu zero-initialises what is never written: outputs and scratch.
                if !matches!(b, Buffer::Output { .. } | Buffer::Scratch { .. }) {
                    self.queue.write_buffer(&buf, 0, &job.buffer_bytes(i));
                }
                buf
            })
            .collect();
        let outputs = m.output_indices();
        let staging: Vec<wgpu::Buffer> = outputs
            .iter()
            .map(|&i| {
                self.device.create_buffer(&wgpu::BufferDescriptor {
                    label: None,
                    size: m.buffers[i].size(),
                    usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
                    mapped_at_creation: false,
                })
            })
            .collect();
        // One meter per pass (zero-initialised by wgpu), copied to one staging buffer.
        let meters: Vec<wgpu::Buffer> = if metered {
            m.passes
                .iter()
                .map(|_| {
                    self.device.create_buffer(&wgpu::BufferDescriptor {
                        label: Some("concord meter"),
                        size: METER_BYTES,
                        usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
                        mapped_at_creation: false,
                    })
                })
                .collect()
        } else {
            Vec::new()
        };
        let meter_staging = metered.then(|| {
            self.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("concord meter readback"),
                size: METER_BYTES * m.passes.len() as u64,
                usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            })
        });
        let meter_bgl = metered.then_some(&self.meter_bgl);
        let mut compiled_now = Vec::new();
        let mut encoder = self
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: None });
        for (p, pass) in m.passes.iter().enumerate() {
            let kinds = pass
                .bindings
                .iter()
                .map(|b| {
                    let kind = match &m.buffers[b.buffer as usize] {
                        Buffer::Input(_) => wgpu::BufferBindingType::Storage { read_only: true },
                        Buffer::Output { .. } | Buffer::Scratch { .. } => {
                            wgpu::BufferBindingType::Storage {
                                read_only: checked[p].read_only_bindings.contains(&b.binding),
                            }
                        }
                        Buffer::Uniform { .. } => wgpu::BufferBindingType::Uniform,
                    };
                    (b.binding, kind)
                })
                .collect();
            let key = PipelineKey {
                source: Hash32::of(job.module_source(p).as_bytes()),
                entry_point: pass.entry_point.clone(),
                bindings: kinds,
                metered,
                gas_per_invocation: m.gas_per_invocation,
            };
            let cached = self.pipelines.lock().expect("lock").get(&key);
            let compiled = match cached {
                Some(c) => c,
                None => {
                    let c = Arc::new(self.compile(&checked[p].module, &key, meter_bgl)?);
                    compiled_now.push((key, c.clone()));
                    c
                }
            };
            let (bgl, pipeline) = (&compiled.bgl, &compiled.pipeline);
            let group_entries: Vec<wgpu::BindGroupEntry> = pass
                .bindings
                .iter()
                .map(|b| wgpu::BindGroupEntry {
                    binding: b.binding,
                    resource: buffers[b.buffer as usize].as_entire_binding(),
                })
                .collect();
            let group = self.device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: None,
                layout: bgl,
                entries: &group_entries,
            });
            let mut cpass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: None,
                timestamp_writes: None,
            });
            cpass.set_pipeline(pipeline);
            cpass.set_bind_group(0, &group, &[]);
            if let Some(layout) = meter_bgl {
                let meter_group = self.device.create_bind_group(&wgpu::BindGroupDescriptor {
                    label: Some("concord meter"),
                    layout,
                    entries: &[wgpu::BindGroupEntry {
                        binding: METER_BINDING,
                        resource: meters[p].as_entire_binding(),
                    }],
                });
                cpass.set_bind_group(METER_GROUP, &meter_group, &[]);
            }
            cpass.dispatch_workgroups(pass.dispatch[0], pass.dispatch[1], pass.dispatch[2]);
        }
        for (&i, st) in outputs.iter().zip(&staging) {
            encoder.copy_buffer_to_buffer(&buffers[i], 0, st, 0, m.buffers[i].size());
        }
        if let Some(st) = &meter_staging {
            for (p, meter) in meters.iter().enumerate() {
                encoder.copy_buffer_to_buffer(meter, 0, st, p as u64 * METER_BYTES, METER_BYTES);
            }
        }
        let commands = encoder.finish();
        if let Some(e) = pollster::block_on(oom.pop()) {
            drop(validation);
            return Err(DeviceError::OutOfMemory(e.to_string()).into());
        }
        if let Some(e) = pollster::block_on(validation.pop()) {
            return Err(
                InvalidJob::new(ErrorCode::DeviceValidation, first_line(&e.to_string())).into(),
            );
        }
        // Compiled without a validation error: kept for the next run.
        let mut cache = self.pipelines.lock().expect("lock");
        for (key, compiled) in compiled_now {
            cache.insert(key, compiled);
        }
        drop(cache);

        let run_scope = self.device.push_error_scope(wgpu::ErrorFilter::Validation);
        started();
        let t0 = Instant::now();
        self.queue.submit([commands]);
        for st in staging.iter().chain(&meter_staging) {
            st.slice(..).map_async(wgpu::MapMode::Read, |_| {});
        }
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| DeviceError::Failed(e.to_string()))?;
        let gpu_time = t0.elapsed();
        if let Some(e) = pollster::block_on(run_scope.pop()) {
            return Err(DeviceError::Failed(first_line(&e.to_string())).into());
        }
        if let Some(e) = self.uncaptured.lock().ok().and_then(|v| v.first().cloned()) {
            return Err(DeviceError::Failed(first_line(&e)).into());
        }
        let mut outputs = Vec::with_capacity(staging.len());
        for st in &staging {
            let view = st
                .slice(..)
                .get_mapped_range()
                .map_err(|e| DeviceError::Failed(format!("reading back an output failed: {e}")))?;
            outputs.push(view.to_vec());
        }
        let gas = match &meter_staging {
            Some(st) => {
                let view = st.slice(..).get_mapped_range().map_err(|e| {
                    DeviceError::Failed(format!("reading back the gas meter failed: {e}"))
                })?;
                Some(GasReport::from_bytes(m.gas_per_invocation, &view))
            }
            None => None,
        };
        Ok(RunOutput {
            outputs,
            gas,
            gpu_time,
        })
    }

    /// Compiles one pass: the validated module (instrumented with the meter when `key`
    /// says so), its bindings' layout (and the meter's), and the pipeline.
    fn compile(
        &self,
        module: &naga::Module,
        key: &PipelineKey,
        meter_bgl: Option<&wgpu::BindGroupLayout>,
    ) -> Result<Compiled, RunError> {
        // The same IR for both: the validated module, or the metered one.
        let ir = if key.metered {
            meter::instrument(module, key.gas_per_invocation)
                .map_err(|e| DeviceError::Failed(format!("metering failed (a bug): {e}")))?
        } else {
            module.clone()
        };
        let module = self
            .device
            .create_shader_module(wgpu::ShaderModuleDescriptor {
                label: None,
                source: wgpu::ShaderSource::Naga(std::borrow::Cow::Owned(ir)),
            });
        let entries: Vec<wgpu::BindGroupLayoutEntry> = key
            .bindings
            .iter()
            .map(|&(binding, ty)| wgpu::BindGroupLayoutEntry {
                binding,
                visibility: wgpu::ShaderStages::COMPUTE,
                ty: wgpu::BindingType::Buffer {
                    ty,
                    has_dynamic_offset: false,
                    min_binding_size: None,
                },
                count: None,
            })
            .collect();
        let bgl = self
            .device
            .create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
                label: None,
                entries: &entries,
            });
        let mut layouts = vec![Some(&bgl)];
        if let Some(mb) = meter_bgl {
            layouts.push(Some(mb));
        }
        let layout = self
            .device
            .create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
                label: None,
                bind_group_layouts: &layouts,
                immediate_size: 0,
            });
        let pipeline = self
            .device
            .create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: None,
                layout: Some(&layout),
                module: &module,
                entry_point: Some(&key.entry_point),
                compilation_options: Default::default(),
                cache: None,
            });
        Ok(Compiled { bgl, pipeline })
    }
}

fn first_line(s: &str) -> String {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}
