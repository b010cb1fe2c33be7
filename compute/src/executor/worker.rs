//! The worker side of the executor: the wire format between the supervising process and
//! `concord-worker`, and [`worker_main`], which runs one job from stdin and answers on stdout.
//!
//! Wire format: the request is `borsh(WorkerRequest)` on stdin (then EOF). The worker writes
//! the byte `S` when the GPU work is submitted, then `R`, a `u64` little-endian length and
//! `borsh(WorkerResponse)`.

use borsh::{BorshDeserialize, BorshSerialize};
use std::io::{Read, Write};

use super::gpu::{AdapterSelector, AdapterSummary, DeviceError, GpuDevice, RunError};
use crate::meter::GasReport;
use concord_protocol::job::{InvalidJob, Job};

pub(crate) const TAG_STARTED: u8 = b'S';
pub(crate) const TAG_RESPONSE: u8 = b'R';

#[derive(BorshSerialize, BorshDeserialize)]
pub(crate) struct WorkerRequest {
    pub selector: AdapterSelector,
    pub job: Job,
}

#[derive(BorshSerialize, BorshDeserialize)]
pub(crate) enum WorkerResponse {
    Done {
        outputs: Vec<Vec<u8>>,
        gpu_time_ns: u64,
        adapter: AdapterSummary,
        gas: Option<GasReport>,
    },
    Invalid {
        adapter: Option<AdapterSummary>,
        error: InvalidJob,
        /// The meters, when the job ran out of budget.
        gas: Option<GasReport>,
    },
    Device(DeviceError),
}

/// Entry point of `concord-worker`: read one request, run it, write the response.
/// Returns the process exit code.
pub fn worker_main() -> i32 {
    let mut input = Vec::new();
    if let Err(e) = std::io::stdin().read_to_end(&mut input) {
        eprintln!("concord-worker: cannot read the request: {e}");
        return 2;
    }
    let request: WorkerRequest = match borsh::from_slice(&input) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("concord-worker: the request is not a valid job: {e}");
            return 2;
        }
    };
    drop(input);
    let stdout = std::io::stdout();
    let response = match GpuDevice::open(&request.selector) {
        Err(e) => WorkerResponse::Device(e),
        Ok(device) => {
            let mut started = || {
                let mut out = stdout.lock();
                let _ = out.write_all(&[TAG_STARTED]);
                let _ = out.flush();
            };
            match device.run_metered(&request.job, &mut started) {
                Ok(run) => match run.gas.as_ref().and_then(GasReport::out_of_budget) {
                    Some(error) => WorkerResponse::Invalid {
                        adapter: Some(device.adapter().clone()),
                        error,
                        gas: run.gas,
                    },
                    None => WorkerResponse::Done {
                        outputs: run.outputs,
                        gpu_time_ns: u64::try_from(run.gpu_time.as_nanos()).unwrap_or(u64::MAX),
                        adapter: device.adapter().clone(),
                        gas: run.gas,
                    },
                },
                Err(RunError::Invalid(error)) => WorkerResponse::Invalid {
                    adapter: Some(device.adapter().clone()),
                    error,
                    gas: None,
                },
                Err(RunError::Device(e)) => WorkerResponse::Device(e),
            }
        }
    };
    let bytes = borsh::to_vec(&response).expect("borsh into a Vec cannot fail");
    let mut out = stdout.lock();
    let ok = out
        .write_all(&[TAG_RESPONSE])
        .and_then(|_| out.write_all(&(bytes.len() as u64).to_le_bytes()))
        .and_then(|_| out.write_all(&bytes))
        .and_then(|_| out.flush());
    if ok.is_err() {
        return 3;
    }
    0
}
