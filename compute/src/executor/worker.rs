//! The worker side of the executor: the wire format between the supervising process and
//! `concord-worker`, and [`worker_main`], which serves jobs from stdin and answers on stdout,
//! one at a time, for as long as the supervisor keeps it.
//!
//! Wire format: each request is a `u64` little-endian length and `borsh(WorkerRequest)` on
//! stdin; the supervisor closes stdin to end the worker. For each, the worker writes the byte
//! `S` when the GPU work is submitted, then `R`, a `u64` little-endian length and
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

/// Entry point of `concord-worker`: serve requests from stdin until it closes, keeping the
/// device open between jobs (reopened when a request names another adapter, or after a device
/// error). Returns the process exit code.
pub fn worker_main() -> i32 {
    let mut stdin = std::io::stdin().lock();
    let stdout = std::io::stdout();
    let mut open: Option<(AdapterSelector, GpuDevice)> = None;
    loop {
        let request: WorkerRequest = match read_frame(&mut stdin) {
            Ok(None) => return 0,
            Ok(Some(bytes)) => match borsh::from_slice(&bytes) {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("concord-worker: the request is not a valid job: {e}");
                    return 2;
                }
            },
            Err(e) => {
                eprintln!("concord-worker: cannot read the request: {e}");
                return 2;
            }
        };
        if open.as_ref().is_none_or(|(s, _)| *s != request.selector) {
            open = None;
            match GpuDevice::open(&request.selector) {
                Ok(device) => open = Some((request.selector.clone(), device)),
                Err(e) => {
                    if write_response(&stdout, &WorkerResponse::Device(e)).is_err() {
                        return 3;
                    }
                    continue;
                }
            }
        }
        let (_, device) = open.as_ref().expect("opened above");
        let response = run(device, &request.job, &stdout);
        if matches!(response, WorkerResponse::Device(_)) {
            open = None; // A device error may have left it unusable.
        }
        if write_response(&stdout, &response).is_err() {
            return 3;
        }
    }
}

/// Runs one job on `device`, writing [`TAG_STARTED`] once the GPU work is submitted.
fn run(device: &GpuDevice, job: &Job, stdout: &std::io::Stdout) -> WorkerResponse {
    let mut started = || {
        let mut out = stdout.lock();
        let _ = out.write_all(&[TAG_STARTED]);
        let _ = out.flush();
    };
    match device.run_metered(job, &mut started) {
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

fn write_response(stdout: &std::io::Stdout, response: &WorkerResponse) -> std::io::Result<()> {
    let bytes = borsh::to_vec(response).expect("borsh into a Vec cannot fail");
    let mut out = stdout.lock();
    out.write_all(&[TAG_RESPONSE])?;
    out.write_all(&(bytes.len() as u64).to_le_bytes())?;
    out.write_all(&bytes)?;
    out.flush()
}

/// A request frame: its length (`u64` little-endian), then that many bytes.
pub(crate) fn frame(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + body.len());
    out.extend_from_slice(&(body.len() as u64).to_le_bytes());
    out.extend_from_slice(body);
    out
}

/// The next request frame's body; `None` when the input ended cleanly between frames.
fn read_frame(input: &mut impl Read) -> std::io::Result<Option<Vec<u8>>> {
    let mut len = [0u8; 8];
    let mut got = 0;
    while got < len.len() {
        match input.read(&mut len[got..])? {
            0 if got == 0 => return Ok(None),
            0 => return Err(std::io::ErrorKind::UnexpectedEof.into()),
            n => got += n,
        }
    }
    let n = usize::try_from(u64::from_le_bytes(len))
        .map_err(|_| std::io::Error::other("a request larger than this machine's memory"))?;
    let mut body = Vec::new();
    input.take(n as u64).read_to_end(&mut body)?;
    if body.len() != n {
        return Err(std::io::ErrorKind::UnexpectedEof.into());
    }
    Ok(Some(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_and_a_clean_end_is_not_an_error() {
        let mut input: Vec<u8> = frame(b"one");
        input.extend(frame(b""));
        input.extend(frame(&[7; 300]));
        let mut r = input.as_slice();
        assert_eq!(read_frame(&mut r).unwrap().unwrap(), b"one");
        assert_eq!(read_frame(&mut r).unwrap().unwrap(), b"");
        assert_eq!(read_frame(&mut r).unwrap().unwrap(), vec![7; 300]);
        assert!(read_frame(&mut r).unwrap().is_none());
        let cut = &frame(b"truncated")[..10];
        assert!(read_frame(&mut &cut[..]).is_err());
        assert!(read_frame(&mut &[1u8, 0, 0][..]).is_err());
    }
}
