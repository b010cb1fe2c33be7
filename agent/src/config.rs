//! The agent's one configuration file (TOML): where the chain, keypair, journal and metrics
//! are, which GPU to use, which jobs to take, and how far to trust stores. Every field but
//! `rpc_url` and `keypair` has a default; unknown fields are refused so a typo never goes
//! unnoticed. The reference with every field is `docs/operators.md`.
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// JSON-RPC endpoint of the cluster.
    pub rpc_url: String,
    /// The provider's Solana keypair file (JSON array of 64 bytes, as `solana-keygen` writes).
    pub keypair: PathBuf,
    /// The durable journal (a redb database); outputs waiting for upload live next to it.
    #[serde(default = "defaults::journal")]
    pub journal: PathBuf,
    /// Address of the Prometheus `/metrics` and `/health` endpoint; none when absent.
    #[serde(default)]
    pub metrics_addr: Option<SocketAddr>,
    /// PubSub (websocket) endpoint for job notifications: new and changed jobs wake the agent
    /// at once. Derived from `rpc_url` when absent (`ws` for `http`, `wss` for `https`, the
    /// port after the RPC port); `"off"` polls only.
    #[serde(default)]
    pub pubsub_url: Option<String>,
    /// How often open jobs are looked for, in milliseconds (also when notifications arrive:
    /// draws and take windows turn with time).
    #[serde(default = "defaults::poll_interval_ms")]
    pub poll_interval_ms: u64,
    /// Priority fee in micro-lamports per compute unit (0: none).
    #[serde(default)]
    pub priority_fee_micro_lamports: u64,
    #[serde(default)]
    pub provider: ProviderSection,
    #[serde(default)]
    pub gpu: GpuSection,
    #[serde(default)]
    pub jobs: JobsSection,
    #[serde(default)]
    pub store: StoreSection,
    /// Deliberate misbehaviour, for demos and tests of the protocol only.
    #[serde(default)]
    pub chaos: ChaosSection,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderSection {
    /// GPU memory advertised in the on-chain profile, MiB.
    #[serde(default = "defaults::memory_mib")]
    pub memory_mib: u32,
    /// Feature bits advertised in the on-chain profile.
    #[serde(default)]
    pub features: u64,
    /// Metadata URI (contact, terms) for registration.
    #[serde(default)]
    pub metadata_uri: String,
    /// Keep at least this much stake (whole tokens): on start the agent deposits the
    /// difference from the keypair's token account. None: never deposits.
    #[serde(default)]
    pub stake: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GpuSection {
    /// `vulkan` or `gl`; any when absent.
    #[serde(default)]
    pub backend: Option<String>,
    /// Case-insensitive part of the adapter name to pick among several.
    #[serde(default)]
    pub adapter_name_contains: Option<String>,
    /// Serve jobs on a CPU rasteriser (lavapipe / llvmpipe). Off by default: they truncate
    /// long loops (65,535 iterations) and are slow, so their results can lose quorums.
    #[serde(default)]
    pub allow_cpu_adapter: bool,
    /// Local cap on a job's run time in seconds (below the manifest's own limit).
    #[serde(default)]
    pub max_runtime_secs: Option<u64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobsSection {
    /// Lowest price per replica accepted, whole tokens.
    #[serde(default = "defaults::price_floor")]
    pub price_floor: String,
    /// Jobs held at once (claimed and not yet settled).
    #[serde(default = "defaults::max_concurrent")]
    pub max_concurrent: usize,
    /// Largest job accepted: the sum of its modules and input blobs, bytes.
    #[serde(default = "defaults::max_job_bytes")]
    pub max_job_bytes: u64,
    /// Serve only these buyers (wallet addresses); any buyer when empty.
    #[serde(default)]
    pub buyers: Vec<String>,
    /// Settling takes turns by slot: the first slot's holder settles as soon as the job can
    /// settle; the holder of slot `i` waits `i` times this many seconds and settles only if
    /// nobody has (so one settle lands per step, and an offline holder costs one turn).
    #[serde(default = "defaults::settle_delay_secs")]
    pub settle_delay_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreSection {
    /// Fetch from stores on loopback, private or link-local addresses.
    #[serde(default)]
    pub allow_private_addresses: bool,
    /// Accept jobs whose store is a local directory path (single-machine setups, demos).
    #[serde(default)]
    pub allow_local_paths: bool,
    /// Where fetched blobs are kept between jobs (default: `<journal>.blobs` beside the
    /// journal), so a model's weights are fetched once, not once per job.
    #[serde(default)]
    pub cache_dir: Option<PathBuf>,
    /// Most bytes the blob cache keeps, least recently used evicted first; 0 turns it off.
    #[serde(default = "defaults::cache_max_bytes")]
    pub cache_max_bytes: u64,
}

impl Default for StoreSection {
    fn default() -> Self {
        StoreSection {
            allow_private_addresses: false,
            allow_local_paths: false,
            cache_dir: None,
            cache_max_bytes: defaults::cache_max_bytes(),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChaosSection {
    /// Flip a bit of every output before hashing: this provider will be slashed.
    #[serde(default)]
    pub corrupt_results: bool,
    /// Which bits `corrupt_results` flips in the first output byte (default 1): liars with
    /// different masks reveal different hashes (a dispute whose referees split).
    #[serde(default)]
    pub corrupt_mask: Option<u8>,
}

impl JobsSection {
    /// `buyers` as addresses (each was checked by [`Config::parse`]).
    pub fn buyer_keys(&self) -> Vec<solana_sdk::pubkey::Pubkey> {
        self.buyers.iter().filter_map(|b| b.parse().ok()).collect()
    }
}

impl ChaosSection {
    /// The provider engine's liar mode this section asks for.
    pub fn mode(&self) -> concord_provider::Chaos {
        if self.corrupt_results {
            concord_provider::Chaos::CorruptResults(self.corrupt_mask.unwrap_or(1))
        } else {
            concord_provider::Chaos::Honest
        }
    }
}

mod defaults {
    use std::path::PathBuf;
    pub fn journal() -> PathBuf {
        PathBuf::from("concord-agent.redb")
    }
    pub fn poll_interval_ms() -> u64 {
        2_000
    }
    pub fn memory_mib() -> u32 {
        4_096
    }
    pub fn price_floor() -> String {
        "0".into()
    }
    pub fn max_concurrent() -> usize {
        4
    }
    pub fn max_job_bytes() -> u64 {
        256 << 20
    }
    pub fn cache_max_bytes() -> u64 {
        2 << 30
    }
    pub fn settle_delay_secs() -> u64 {
        2
    }
}

impl Default for ProviderSection {
    fn default() -> Self {
        ProviderSection {
            memory_mib: defaults::memory_mib(),
            features: 0,
            metadata_uri: String::new(),
            stake: None,
        }
    }
}

impl Default for JobsSection {
    fn default() -> Self {
        JobsSection {
            price_floor: defaults::price_floor(),
            max_concurrent: defaults::max_concurrent(),
            max_job_bytes: defaults::max_job_bytes(),
            buyers: Vec::new(),
            settle_delay_secs: defaults::settle_delay_secs(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the config file {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("the config file {path} is invalid: {reason}")]
    Invalid { path: String, reason: String },
}

impl Config {
    /// Reads and checks a config file; relative paths in it are taken from its directory.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        Config::parse(&text, base).map_err(|reason| ConfigError::Invalid {
            path: path.display().to_string(),
            reason,
        })
    }

    /// Parses config text; relative paths are resolved against `base`.
    pub fn parse(text: &str, base: &Path) -> Result<Config, String> {
        let mut config: Config = toml::from_str(text).map_err(|e| e.message().to_string())?;
        config.keypair = resolve(base, &config.keypair);
        config.journal = resolve(base, &config.journal);
        if let Some(dir) = &config.store.cache_dir {
            config.store.cache_dir = Some(resolve(base, dir));
        }
        if !(config.rpc_url.starts_with("http://") || config.rpc_url.starts_with("https://")) {
            return Err(format!(
                "rpc_url `{}` is not an http(s) URL",
                config.rpc_url
            ));
        }
        config.pubsub()?;
        if config.jobs.max_concurrent == 0 {
            return Err("jobs.max_concurrent must be at least 1".into());
        }
        if config.poll_interval_ms < 100 {
            return Err("poll_interval_ms must be at least 100".into());
        }
        if let Some(b) = &config.gpu.backend {
            b.parse::<concord_compute::executor::Backend>()
                .map_err(|e| format!("gpu.backend: {e}"))?;
        }
        for b in &config.jobs.buyers {
            b.parse::<solana_sdk::pubkey::Pubkey>()
                .map_err(|_| format!("jobs.buyers: `{b}` is not an address"))?;
        }
        Ok(config)
    }

    /// The PubSub URL to subscribe at (`None`: notifications off).
    pub fn pubsub(&self) -> Result<Option<String>, String> {
        match self.pubsub_url.as_deref() {
            Some("off") => Ok(None),
            Some(url) if url.starts_with("ws://") || url.starts_with("wss://") => {
                Ok(Some(url.to_string()))
            }
            Some(url) => Err(format!(
                "pubsub_url `{url}` is not a ws(s) URL (or \"off\")"
            )),
            None => concord_sdk::chain::pubsub_url_for(&self.rpc_url)
                .map(Some)
                .map_err(|e| format!("rpc_url: {e}")),
        }
    }

    /// Where outputs wait for upload (next to the journal).
    pub fn outputs_dir(&self) -> PathBuf {
        let mut name = self.journal.file_name().unwrap_or_default().to_os_string();
        name.push(".outputs");
        self.journal.with_file_name(name)
    }

    /// The blob cache's directory: `store.cache_dir`, else `<journal>.blobs`.
    pub fn blob_cache_dir(&self) -> PathBuf {
        self.store.cache_dir.clone().unwrap_or_else(|| {
            let mut name = self.journal.file_name().unwrap_or_default().to_os_string();
            name.push(".blobs");
            self.journal.with_file_name(name)
        })
    }
}

/// `~/x` from $HOME; a relative path from `base`.
fn resolve(base: &Path, path: &Path) -> PathBuf {
    if let Ok(rest) = path.strip_prefix("~") {
        if let Some(home) = std::env::var_os("HOME") {
            return PathBuf::from(home).join(rest);
        }
    }
    if path.is_relative() {
        base.join(path)
    } else {
        path.to_path_buf()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimal_config_gets_defaults_and_resolves_paths() {
        let c = Config::parse(
            "rpc_url = \"http://127.0.0.1:8899\"\nkeypair = \"id.json\"\n",
            Path::new("/etc/concord"),
        )
        .unwrap();
        assert_eq!(c.keypair, PathBuf::from("/etc/concord/id.json"));
        assert_eq!(c.journal, PathBuf::from("/etc/concord/concord-agent.redb"));
        assert_eq!(
            c.outputs_dir(),
            PathBuf::from("/etc/concord/concord-agent.redb.outputs")
        );
        assert_eq!(c.jobs.max_concurrent, 4);
        assert!(!c.gpu.allow_cpu_adapter);
        assert!(!c.store.allow_private_addresses);
        assert!(c.metrics_addr.is_none());
    }

    #[test]
    fn the_pubsub_url_is_derived_set_or_off_and_checked() {
        let base = Path::new("/etc/concord");
        let head = "rpc_url = \"http://127.0.0.1:8899\"\nkeypair = \"k\"\n";
        let derived = Config::parse(head, base).unwrap();
        assert_eq!(
            derived.pubsub().unwrap().as_deref(),
            Some("ws://127.0.0.1:8900/")
        );
        let set = Config::parse(&format!("{head}pubsub_url = \"wss://x:1\"\n"), base).unwrap();
        assert_eq!(set.pubsub().unwrap().as_deref(), Some("wss://x:1"));
        let off = Config::parse(&format!("{head}pubsub_url = \"off\"\n"), base).unwrap();
        assert_eq!(off.pubsub().unwrap(), None);
        let err = Config::parse(&format!("{head}pubsub_url = \"http://x\"\n"), base).unwrap_err();
        assert!(err.contains("pubsub_url"), "{err}");
    }

    #[test]
    fn typos_and_bad_values_are_refused_with_the_field_named() {
        let base = Path::new("/");
        let head = "rpc_url = \"http://x:1\"\nkeypair = \"k\"\n";
        let err = Config::parse(&format!("{head}[jobs]\nmax_concurent = 2\n"), base).unwrap_err();
        assert!(err.contains("max_concurent"), "{err}");
        let err = Config::parse(&format!("{head}[gpu]\nbackend = \"metal\"\n"), base).unwrap_err();
        assert!(err.contains("gpu.backend"), "{err}");
        let err = Config::parse(&format!("{head}[jobs]\nbuyers = [\"nope\"]\n"), base).unwrap_err();
        assert!(err.contains("nope"), "{err}");
        let err = Config::parse("rpc_url = \"ftp://x\"\nkeypair = \"k\"\n", base).unwrap_err();
        assert!(err.contains("rpc_url"), "{err}");
        let err = Config::parse("keypair = \"k\"\n", base).unwrap_err();
        assert!(err.contains("rpc_url"), "{err}");
    }
}
