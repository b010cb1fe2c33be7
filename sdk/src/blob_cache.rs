//! A bounded, least-recently-used cache of content-addressed blobs in a local directory, so a
//! provider fetches a large blob (a model's weights) once, not once per job. Files are named
//! by the blob's hash; a read re-hashes the file and drops it if it no longer matches (disk
//! corruption, a half-written file from a crash); a hit marks the file as used (its
//! modification time); a write that takes the cache over its bound evicts the least recently
//! used files first. Blobs larger than the bound are not cached. Hits and misses are counted.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::SystemTime;

use concord_protocol::{BlobRef, Hash32};

/// The cache: a directory and the most bytes it may hold.
pub struct BlobCache {
    dir: PathBuf,
    max_bytes: u64,
    /// Serialises writes and evictions (reads need no lock: files appear by rename).
    write: Mutex<()>,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl BlobCache {
    /// Opens (creating) the cache directory.
    pub fn open(dir: impl AsRef<Path>, max_bytes: u64) -> std::io::Result<BlobCache> {
        fs::create_dir_all(dir.as_ref())?;
        Ok(BlobCache {
            dir: dir.as_ref().to_path_buf(),
            max_bytes,
            write: Mutex::new(()),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        })
    }

    fn path(&self, hash: &Hash32) -> PathBuf {
        self.dir.join(hash.to_hex())
    }

    /// The blob, if cached and intact.
    pub fn get(&self, blob: &BlobRef) -> Option<Vec<u8>> {
        let path = self.path(&blob.hash);
        let found = fs::read(&path)
            .ok()
            .filter(|b| b.len() as u64 == blob.size && Hash32::of(b) == blob.hash);
        match found {
            Some(bytes) => {
                if let Ok(f) = fs::File::options().write(true).open(&path) {
                    let _ = f.set_modified(SystemTime::now());
                }
                self.hits.fetch_add(1, Ordering::Relaxed);
                Some(bytes)
            }
            None => {
                // Missing, or corrupt: a corrupt file is removed so the next put replaces it.
                let _ = fs::remove_file(&path);
                self.misses.fetch_add(1, Ordering::Relaxed);
                None
            }
        }
    }

    /// Keeps a blob (already verified against its hash by the caller's store read), evicting
    /// the least recently used files beyond the bound. Failures only cost a later re-fetch.
    pub fn put(&self, blob: &BlobRef, bytes: &[u8]) {
        if blob.size > self.max_bytes || bytes.len() as u64 != blob.size {
            return;
        }
        let _guard = self.write.lock().unwrap_or_else(|e| e.into_inner());
        let path = self.path(&blob.hash);
        let tmp = self.dir.join(format!(".{}.tmp", blob.hash.to_hex()));
        if fs::write(&tmp, bytes)
            .and_then(|_| fs::rename(&tmp, &path))
            .is_err()
        {
            let _ = fs::remove_file(&tmp);
            return;
        }
        self.evict();
    }

    /// Removes the least recently used files until the cache fits its bound.
    fn evict(&self) {
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return;
        };
        let mut files: Vec<(SystemTime, u64, PathBuf)> = entries
            .filter_map(Result::ok)
            .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
            .filter_map(|e| {
                let meta = e.metadata().ok()?;
                Some((meta.modified().ok()?, meta.len(), e.path()))
            })
            .collect();
        let mut total: u64 = files.iter().map(|(_, len, _)| len).sum();
        files.sort();
        for (_, len, path) in files {
            if total <= self.max_bytes {
                break;
            }
            if fs::remove_file(&path).is_ok() {
                total -= len;
            }
        }
    }

    /// Bytes the cache holds now.
    pub fn bytes(&self) -> u64 {
        fs::read_dir(&self.dir)
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .filter_map(|e| e.metadata().ok())
                    .map(|m| m.len())
                    .sum()
            })
            .unwrap_or(0)
    }

    /// Reads answered from the cache.
    pub fn hits(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }

    /// Reads the cache could not answer.
    pub fn misses(&self) -> u64 {
        self.misses.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn blob(n: u8, len: usize) -> (BlobRef, Vec<u8>) {
        let bytes = vec![n; len];
        (BlobRef::of(&bytes), bytes)
    }

    #[test]
    fn a_cached_blob_is_returned_and_a_corrupt_one_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let cache = BlobCache::open(dir.path(), 1000).unwrap();
        let (r, bytes) = blob(1, 100);
        assert_eq!(cache.get(&r), None);
        cache.put(&r, &bytes);
        assert_eq!(cache.get(&r), Some(bytes.clone()));
        assert_eq!((cache.hits(), cache.misses()), (1, 1));
        // Corrupted on disk: a miss, and the file is gone.
        fs::write(dir.path().join(r.hash.to_hex()), vec![2u8; 100]).unwrap();
        assert_eq!(cache.get(&r), None);
        assert!(!dir.path().join(r.hash.to_hex()).exists());
        // Larger than the bound: not kept.
        let (big, big_bytes) = blob(3, 1001);
        cache.put(&big, &big_bytes);
        assert_eq!(cache.get(&big), None);
    }

    #[test]
    fn the_least_recently_used_blobs_are_evicted_first() {
        let dir = tempfile::tempdir().unwrap();
        let cache = BlobCache::open(dir.path(), 250).unwrap();
        let (a, a_bytes) = blob(1, 100);
        let (b, b_bytes) = blob(2, 100);
        let (c, c_bytes) = blob(3, 100);
        cache.put(&a, &a_bytes);
        std::thread::sleep(Duration::from_millis(20));
        cache.put(&b, &b_bytes);
        std::thread::sleep(Duration::from_millis(20));
        // `a` used after `b` was written: `b` is now the least recently used.
        assert!(cache.get(&a).is_some());
        std::thread::sleep(Duration::from_millis(20));
        cache.put(&c, &c_bytes);
        assert!(cache.get(&a).is_some(), "recently used, kept");
        assert!(cache.get(&c).is_some(), "just written, kept");
        assert_eq!(cache.get(&b), None, "least recently used, evicted");
        assert!(cache.bytes() <= 250);
    }
}
