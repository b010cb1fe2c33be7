//! Keeping the validator's busy-polling thread off the cores the rest of the machine needs.
//! A one-node chain always leads, and while its node leads Agave's banking scheduler
//! (`solBnkTxSched`) polls for packets without ever blocking (its receive sleeps only when the
//! node forwards): an idle local chain keeps one core busy. On a 2-core machine that is half of
//! what the RPC node, the agents, the workers and the tests share. [`yield_scheduler`] lowers
//! that one thread to the least priority (nice 19): it still polls whenever a core is idle, and
//! gives way to every other thread that can run. Measured (docs/benchmarks.md, "The local
//! chain's scheduler thread"): 512 senders saw 973 transfers a second confirmed before,
//! 1,186–1,231 after; one 8-agent, 1000-job row went from 12.3 to 31.7 jobs a second.
//! Opt-in (`LocalnetConfig::yield_scheduler`, `concord-localnet --yield-scheduler`): with it on
//! for every chain, a full test run saw Agave's broadcast stage panic twice ("All banks frozen
//! (including snapshot banks) must have a block id") on debug chains under a saturated CPU,
//! halting them; none in the release benchmark runs.
use std::path::Path;

/// The thread name Agave gives its banking stage's transaction scheduler.
pub const SCHEDULER_THREAD: &str = "solBnkTxSched";
/// The nice value it runs at here (the least priority Linux has).
pub const SCHEDULER_NICE: i32 = 19;

/// The kernel thread ids of this process's threads named `name` (none where `/proc` is absent).
pub fn threads_named(name: &str) -> Vec<i32> {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return Vec::new();
    };
    tasks
        .flatten()
        .filter(|t| thread_name(&t.path()).as_deref() == Some(name))
        .filter_map(|t| t.file_name().to_str()?.parse().ok())
        .collect()
}

fn thread_name(task: &Path) -> Option<String> {
    let comm = std::fs::read_to_string(task.join("comm")).ok()?;
    Some(comm.trim_end().to_string())
}

/// A thread's nice value, from `/proc/self/task/<tid>/stat` (its 19th field).
pub fn nice_of(tid: i32) -> Option<i32> {
    let stat = std::fs::read_to_string(format!("/proc/self/task/{tid}/stat")).ok()?;
    // The name, in parentheses, may hold spaces: count fields after its closing one.
    let after_name = &stat[stat.rfind(')')? + 1..];
    after_name.split_whitespace().nth(16)?.parse().ok()
}

/// Lowers the banking scheduler thread of the validator running in this process to
/// [`SCHEDULER_NICE`]; returns the ids of the threads it lowered.
pub fn yield_scheduler() -> Vec<i32> {
    let tids = threads_named(SCHEDULER_THREAD);
    tids.into_iter()
        .filter(|&tid| set_nice(tid, SCHEDULER_NICE))
        .collect()
}

#[cfg(target_os = "linux")]
fn set_nice(tid: i32, nice: i32) -> bool {
    let Ok(id) = libc::id_t::try_from(tid) else {
        return false;
    };
    // SAFETY: setpriority reads its three integer arguments only; on Linux, PRIO_PROCESS with a
    // thread id sets that one thread's nice value.
    unsafe { libc::setpriority(libc::PRIO_PROCESS, id, nice) == 0 }
}

#[cfg(not(target_os = "linux"))]
fn set_nice(_tid: i32, _nice: i32) -> bool {
    false
}
