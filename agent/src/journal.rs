//! The durable journal: one record per job this provider holds a slot in, saying how far the
//! agent got (claimed, executed, committed, revealed, finished) with the result hash and salt.
//! It is written (and fsynced, redb's default durability) **before** each step is sent, so a
//! crash or restart never loses a reveal: on start every unfinished record is resumed.
//! Outputs waiting for upload are kept as files next to it, written before the commit too.
use std::path::{Path, PathBuf};

use redb::{Database, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};
use solana_sdk::pubkey::Pubkey;

const JOBS: TableDefinition<&[u8; 32], &[u8]> = TableDefinition::new("jobs");

/// How far a job has come.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "stage")]
pub enum Stage {
    /// A claim was sent (or is about to be): run the job.
    Claimed,
    /// Ran; the result (and salt) to commit. Written before the commitment is sent.
    Executed,
    /// The commitment landed: reveal in the reveal window.
    Committed,
    /// The reveal landed: upload outputs, watch settlement.
    Revealed,
    /// Nothing more can be sent (see `note`); watched only to record the outcome.
    Abandoned,
    /// The job ended; `outcome` is the slot's outcome on chain.
    Finished { outcome: String },
}

/// What the journal keeps for one job.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub job: String,
    #[serde(flatten)]
    pub stage: Stage,
    /// Hex result hash (a success hash or the canonical error outcome).
    #[serde(default)]
    pub result_hash: Option<String>,
    /// Hex commitment salt.
    #[serde(default)]
    pub salt: Option<String>,
    /// Whether outputs were produced (and wait in the outputs directory until uploaded).
    #[serde(default)]
    pub has_outputs: bool,
    #[serde(default)]
    pub outputs_uploaded: bool,
    /// Base units earned (price minus fee) when paid.
    #[serde(default)]
    pub earned: u64,
    /// Base units of collateral lost when slashed.
    #[serde(default)]
    pub slashed: u64,
    /// Why the agent gave up on a step, if it did.
    #[serde(default)]
    pub note: Option<String>,
    pub updated_at: u64,
}

impl Entry {
    pub fn claimed(job: &Pubkey) -> Entry {
        Entry {
            job: job.to_string(),
            stage: Stage::Claimed,
            result_hash: None,
            salt: None,
            has_outputs: false,
            outputs_uploaded: false,
            earned: 0,
            slashed: 0,
            note: None,
            updated_at: now(),
        }
    }

    pub fn job_key(&self) -> Pubkey {
        self.job.parse().expect("journal holds valid addresses")
    }

    pub fn is_finished(&self) -> bool {
        matches!(self.stage, Stage::Finished { .. })
    }

    fn bytes32(hex_field: &Option<String>) -> Option<[u8; 32]> {
        hex_field
            .as_deref()
            .and_then(|h| hex::decode(h).ok())
            .and_then(|b| b.try_into().ok())
    }

    pub fn result_hash_bytes(&self) -> Option<[u8; 32]> {
        Self::bytes32(&self.result_hash)
    }

    pub fn salt_bytes(&self) -> Option<[u8; 32]> {
        Self::bytes32(&self.salt)
    }
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[derive(Debug, thiserror::Error)]
#[error("journal {path}: {reason}")]
pub struct JournalError {
    path: String,
    reason: String,
}

/// The journal database and its outputs directory.
pub struct Journal {
    db: Database,
    path: PathBuf,
    outputs: PathBuf,
}

impl Journal {
    /// Opens (or creates) the journal at `path`, with outputs kept in `outputs`.
    pub fn open(path: &Path, outputs: &Path) -> Result<Journal, JournalError> {
        let err = |reason: String| JournalError {
            path: path.display().to_string(),
            reason,
        };
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| err(e.to_string()))?;
        }
        std::fs::create_dir_all(outputs).map_err(|e| err(e.to_string()))?;
        let db = Database::create(path).map_err(|e| match e {
            redb::DatabaseError::DatabaseAlreadyOpen => {
                err("it is open in another process (is an agent running with this config?)".into())
            }
            other => err(other.to_string()),
        })?;
        let journal = Journal {
            db,
            path: path.to_path_buf(),
            outputs: outputs.to_path_buf(),
        };
        // Make sure the table exists so reads never fail on a fresh journal.
        journal.write(|_| Ok(()))?;
        Ok(journal)
    }

    fn error(&self, e: impl std::fmt::Display) -> JournalError {
        JournalError {
            path: self.path.display().to_string(),
            reason: e.to_string(),
        }
    }

    fn write(
        &self,
        f: impl FnOnce(&mut redb::Table<&[u8; 32], &[u8]>) -> Result<(), redb::StorageError>,
    ) -> Result<(), JournalError> {
        let tx = self.db.begin_write().map_err(|e| self.error(e))?;
        {
            let mut table = tx.open_table(JOBS).map_err(|e| self.error(e))?;
            f(&mut table).map_err(|e| self.error(e))?;
        }
        tx.commit().map_err(|e| self.error(e))
    }

    /// Records `entry` durably (replacing the job's previous record).
    pub fn put(&self, entry: &Entry) -> Result<(), JournalError> {
        let mut entry = entry.clone();
        entry.updated_at = now();
        let bytes = serde_json::to_vec(&entry).expect("entry serializes");
        let key = entry.job_key().to_bytes();
        self.write(|t| t.insert(&key, bytes.as_slice()).map(|_| ()))
    }

    /// Forgets a job (a claim that did not land).
    pub fn remove(&self, job: &Pubkey) -> Result<(), JournalError> {
        let key = job.to_bytes();
        self.write(|t| t.remove(&key).map(|_| ()))?;
        let _ = std::fs::remove_file(self.outputs_path(job));
        Ok(())
    }

    pub fn get(&self, job: &Pubkey) -> Result<Option<Entry>, JournalError> {
        let tx = self.db.begin_read().map_err(|e| self.error(e))?;
        let table = tx.open_table(JOBS).map_err(|e| self.error(e))?;
        let value = table.get(&job.to_bytes()).map_err(|e| self.error(e))?;
        value
            .map(|v| serde_json::from_slice(v.value()).map_err(|e| self.error(e)))
            .transpose()
    }

    /// Every record, in key order.
    pub fn entries(&self) -> Result<Vec<Entry>, JournalError> {
        let tx = self.db.begin_read().map_err(|e| self.error(e))?;
        let table = tx.open_table(JOBS).map_err(|e| self.error(e))?;
        let mut out = Vec::new();
        for item in table.iter().map_err(|e| self.error(e))? {
            let (_, v) = item.map_err(|e| self.error(e))?;
            out.push(serde_json::from_slice(v.value()).map_err(|e| self.error(e))?);
        }
        Ok(out)
    }

    /// Records not finished yet: the work to resume.
    pub fn unfinished(&self) -> Result<Vec<Entry>, JournalError> {
        Ok(self
            .entries()?
            .into_iter()
            .filter(|e| !e.is_finished())
            .collect())
    }

    fn outputs_path(&self, job: &Pubkey) -> PathBuf {
        self.outputs.join(format!("{job}.outputs"))
    }

    /// Keeps a job's outputs durably (written to a temporary file, fsynced, renamed).
    pub fn save_outputs(&self, job: &Pubkey, outputs: &[Vec<u8>]) -> Result<(), JournalError> {
        use std::io::Write;
        let path = self.outputs_path(job);
        let tmp = path.with_extension("tmp");
        let bytes = borsh::to_vec(&outputs.to_vec()).expect("borsh");
        let mut file = std::fs::File::create(&tmp).map_err(|e| self.error(e))?;
        file.write_all(&bytes).map_err(|e| self.error(e))?;
        file.sync_all().map_err(|e| self.error(e))?;
        std::fs::rename(&tmp, &path).map_err(|e| self.error(e))
    }

    pub fn load_outputs(&self, job: &Pubkey) -> Result<Option<Vec<Vec<u8>>>, JournalError> {
        match std::fs::read(self.outputs_path(job)) {
            Ok(bytes) => borsh::from_slice(&bytes)
                .map(Some)
                .map_err(|e| self.error(e)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(self.error(e)),
        }
    }

    pub fn drop_outputs(&self, job: &Pubkey) {
        let _ = std::fs::remove_file(self.outputs_path(job));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_survive_reopening_and_unfinished_ones_are_listed() {
        let dir = tempfile::tempdir().unwrap();
        let (db, outs) = (dir.path().join("j.redb"), dir.path().join("outs"));
        let a = Pubkey::new_unique();
        let b = Pubkey::new_unique();
        {
            let j = Journal::open(&db, &outs).unwrap();
            let mut e = Entry::claimed(&a);
            e.stage = Stage::Executed;
            e.result_hash = Some(hex::encode([7u8; 32]));
            e.salt = Some(hex::encode([9u8; 32]));
            j.put(&e).unwrap();
            j.save_outputs(&a, &[vec![1, 2, 3], vec![]]).unwrap();
            let mut f = Entry::claimed(&b);
            f.stage = Stage::Finished {
                outcome: "paid".into(),
            };
            j.put(&f).unwrap();
        }
        let j = Journal::open(&db, &outs).unwrap();
        let open = j.unfinished().unwrap();
        assert_eq!(open.len(), 1);
        assert_eq!(open[0].job_key(), a);
        assert_eq!(open[0].stage, Stage::Executed);
        assert_eq!(open[0].result_hash_bytes(), Some([7u8; 32]));
        assert_eq!(open[0].salt_bytes(), Some([9u8; 32]));
        assert_eq!(
            j.load_outputs(&a).unwrap(),
            Some(vec![vec![1, 2, 3], vec![]])
        );
        assert_eq!(j.entries().unwrap().len(), 2);
        j.remove(&a).unwrap();
        assert!(j.get(&a).unwrap().is_none());
        assert!(j.load_outputs(&a).unwrap().is_none());
    }
}
