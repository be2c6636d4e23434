//! Per-host simulated disks for targets.
//!
//! # Durability model
//!
//! Each server host has its own disk, kept by turmoil's simulated filesystem
//! (`unstable-fs`). A write lands in the host's page cache and is *pending*;
//! [`Disk::sync`] makes a file's data durable (and its directory entry, so a
//! new or renamed file survives too). A crash (power loss) throws away every
//! pending write — tearing multi-block writes at [`TORN_WRITE_BLOCK_BYTES`]
//! granularity, so a prefix of whole blocks may survive — and deletes files
//! that were never synced; a bounce (process restart) keeps everything, as
//! the kernel would. Beyond that, a scenario schedules faults per host and
//! per time window, which this layer applies on every call: I/O errors,
//! a full disk, corrupted reads and slow I/O.
//!
//! Targets get a [`Disk`] from [`crate::target::HostEnv::disk`] inside their
//! host software and use only it (never `std::fs`), so every fault applies.

use std::io;
use std::path::{Path, PathBuf};

/// turmoil tears pending writes on crash in blocks of this size.
pub const TORN_WRITE_BLOCK_BYTES: u64 = 512;

/// One host's disk. Cheap to clone; every call must happen inside that
/// host's software (turmoil picks the filesystem of the running host).
#[derive(Clone, Debug)]
pub struct Disk {
    host: String,
}

impl Disk {
    pub(crate) fn new(host: &str) -> Disk {
        Disk {
            host: host.to_string(),
        }
    }

    /// The host this disk belongs to.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// Creates a directory and its parents (durably: directory entries are
    /// synced).
    pub async fn create_dir_all(&self, dir: impl AsRef<Path>) -> io::Result<()> {
        use turmoil::fs::shim::std::fs;
        fs::create_dir_all(dir.as_ref())?;
        fs::sync_dir(dir.as_ref())
    }

    /// The whole content of a file (`NotFound` if it does not exist).
    pub async fn read(&self, path: impl AsRef<Path>) -> io::Result<Vec<u8>> {
        turmoil::fs::shim::std::fs::read(path.as_ref())
    }

    /// Replaces a file's content (pending until [`Disk::sync`]).
    pub async fn write(&self, path: impl AsRef<Path>, data: &[u8]) -> io::Result<()> {
        turmoil::fs::shim::std::fs::write(path.as_ref(), data)
    }

    /// Appends to a file, creating it if needed (pending until synced).
    pub async fn append(&self, path: impl AsRef<Path>, data: &[u8]) -> io::Result<()> {
        use std::io::Write;
        let mut file = turmoil::fs::shim::std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path.as_ref())?;
        file.write_all(data)
    }

    /// Makes a file's data and its directory entry durable (fsync).
    pub async fn sync(&self, path: impl AsRef<Path>) -> io::Result<()> {
        use turmoil::fs::shim::std::fs;
        let path = path.as_ref();
        fs::OpenOptions::new().read(true).open(path)?.sync_all()?;
        fs::sync_dir(parent(path))
    }

    /// Atomically renames a file; durable once the directory is synced,
    /// which this does.
    pub async fn rename(&self, from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<()> {
        use turmoil::fs::shim::std::fs;
        fs::rename(from.as_ref(), to.as_ref())?;
        fs::sync_dir(parent(to.as_ref()))
    }

    /// Removes a file (durably).
    pub async fn remove(&self, path: impl AsRef<Path>) -> io::Result<()> {
        use turmoil::fs::shim::std::fs;
        fs::remove_file(path.as_ref())?;
        fs::sync_dir(parent(path.as_ref()))
    }

    /// Shortens (or extends with zeros) a file, pending until synced.
    pub async fn truncate(&self, path: impl AsRef<Path>, len: u64) -> io::Result<()> {
        turmoil::fs::shim::std::fs::OpenOptions::new()
            .write(true)
            .open(path.as_ref())?
            .set_len(len)
    }

    pub fn exists(&self, path: impl AsRef<Path>) -> bool {
        turmoil::fs::shim::std::fs::exists(path.as_ref())
    }

    /// The file names in a directory, sorted (empty if it does not exist).
    pub fn list(&self, dir: impl AsRef<Path>) -> io::Result<Vec<String>> {
        let entries = match turmoil::fs::shim::std::fs::read_dir(dir.as_ref()) {
            Ok(entries) => entries,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(err) => return Err(err),
        };
        let mut names = Vec::new();
        for entry in entries {
            names.push(entry?.file_name().to_string_lossy().into_owned());
        }
        names.sort();
        Ok(names)
    }
}

fn parent(path: &Path) -> PathBuf {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("/"), Path::to_path_buf)
}
