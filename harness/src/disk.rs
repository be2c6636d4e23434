//! Per-host simulated disks for targets.
//!
//! # Durability model
//!
//! Each server host has its own disk, kept by turmoil's simulated filesystem
//! (`unstable-fs`). A write (`write`, `append`, `truncate`) lands in the
//! host's page cache and is *pending*; [`Disk::sync`] makes that file's data
//! durable, and its directory entry, so a new file survives too.
//! `create_dir_all`, `rename` and `remove` sync their directory themselves,
//! so they are durable when they return; `rename` also syncs the source's
//! data first (as ext4's `auto_da_alloc` does), so a renamed file is durable
//! with its whole content. A crash (power loss) throws away every
//! pending write — a pending write to a file whose entry is durable is torn
//! at [`TORN_WRITE_BLOCK_BYTES`] granularity: a random number of its leading
//! whole blocks, from none to all, survives — and deletes files that were
//! never synced; a bounce (process restart) keeps everything, as the kernel
//! would. Nothing is ever flushed behind the target's back.
//!
//! On top of that, a scenario schedules faults per host and per time window
//! ([`crate::host_faults`]), applied on every call:
//!
//! - `disk-slow`: every async call first sleeps the fault's `latency` in
//!   simulated time (the largest, if several overlap).
//! - `disk-error`: a call of a covered kind — `read` (`read`, `list`),
//!   `write` (`write`, `append`, `truncate`, `rename`, `remove`,
//!   `create_dir_all`) or `sync` — fails with `probability` before touching
//!   the disk, with an [`io::ErrorKind::Other`] error reading `EIO`. Nothing
//!   of a failed call happened.
//! - `disk-full`: a `write`, `append` or `truncate` that would take the
//!   host's used bytes (the sum of its files' lengths, pending data
//!   included) beyond the capacity fails with
//!   [`io::ErrorKind::StorageFull`] (ENOSPC) and writes nothing; calls that
//!   add no bytes (shrinking, removing, renaming, syncing) still work.
//! - `disk-corrupt`: a `read` returns its data with one bit flipped, chosen
//!   uniformly, with `probability` per call; the stored data is unchanged,
//!   so a re-read may come back clean. Empty reads are never corrupted.
//!
//! Every injected error, rejection and corruption is an `info` event (target
//! `disk`) in the run's trace.
//!
//! Paths may be absolute or relative; a relative path is relative to the
//! disk's root (`state` is `/state`), and `.` and `..` are resolved by
//! their text, so every spelling of a file is the same file and the same
//! durability rules.
//!
//! Targets get a [`Disk`] from [`crate::target::HostEnv::disk`] inside their
//! host software and use only it (never `std::fs`), so every fault applies.

use crate::fault::DiskOp;
use crate::host_faults;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// turmoil tears pending writes on crash in blocks of this size.
pub const TORN_WRITE_BLOCK_BYTES: u64 = 512;

/// Cap on the files and directories a `disk-full` check visits when it
/// counts a host's used bytes; past it the count is what it has seen.
pub const MAX_ACCOUNTED_ENTRIES: usize = 100_000;

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
        let dir = &absolute(dir.as_ref());
        self.enter(DiskOp::Write, "create_dir_all", dir).await?;
        fs::create_dir_all(dir)?;
        fs::sync_dir(dir)
    }

    /// The whole content of a file (`NotFound` if it does not exist).
    pub async fn read(&self, path: impl AsRef<Path>) -> io::Result<Vec<u8>> {
        let path = &absolute(path.as_ref());
        self.enter(DiskOp::Read, "read", path).await?;
        let mut data = turmoil::fs::shim::std::fs::read(path)?;
        if let Some(bit) = host_faults::with_host(&self.host, |h| h.corrupt(&mut data)).flatten() {
            tracing::info!(
                target: "disk",
                path = %path.display(),
                byte = bit / 8,
                bit = bit % 8,
                "corrupted a read"
            );
        }
        Ok(data)
    }

    /// Replaces a file's content (pending until [`Disk::sync`]).
    pub async fn write(&self, path: impl AsRef<Path>, data: &[u8]) -> io::Result<()> {
        let path = &absolute(path.as_ref());
        self.enter(DiskOp::Write, "write", path).await?;
        let old_len = file_len(path);
        self.check_space("write", path, (data.len() as u64).saturating_sub(old_len))?;
        turmoil::fs::shim::std::fs::write(path, data)
    }

    /// Appends to a file, creating it if needed (pending until synced).
    pub async fn append(&self, path: impl AsRef<Path>, data: &[u8]) -> io::Result<()> {
        use std::io::Write;
        let path = &absolute(path.as_ref());
        self.enter(DiskOp::Write, "append", path).await?;
        self.check_space("append", path, data.len() as u64)?;
        let mut file = turmoil::fs::shim::std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        file.write_all(data)
    }

    /// Makes a file's data and its directory entry durable (fsync).
    pub async fn sync(&self, path: impl AsRef<Path>) -> io::Result<()> {
        use turmoil::fs::shim::std::fs;
        let path = &absolute(path.as_ref());
        self.enter(DiskOp::Sync, "sync", path).await?;
        fs::OpenOptions::new().read(true).open(path)?.sync_all()?;
        fs::sync_dir(parent(path))
    }

    /// Atomically renames a file, durably (its directory is synced), and
    /// with its data: the source's pending data is synced first, as ext4's
    /// `auto_da_alloc` does for a rename over an existing file.
    pub async fn rename(&self, from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<()> {
        use turmoil::fs::shim::std::fs;
        let (from, to) = (&absolute(from.as_ref()), &absolute(to.as_ref()));
        self.enter(DiskOp::Write, "rename", from).await?;
        // turmoil keeps a file's pending writes by path: once a rename is
        // applied by a directory sync, the source's pending writes would be
        // orphaned and the replaced target's would land on the renamed
        // file. Flushing both first keeps what the host reads right.
        sync_data(from)?;
        if fs::exists(to) {
            sync_data(to)?;
        }
        fs::rename(from, to)?;
        if parent(from) != parent(to) {
            fs::sync_dir(parent(from))?;
        }
        fs::sync_dir(parent(to))
    }

    /// Removes a file (durably).
    pub async fn remove(&self, path: impl AsRef<Path>) -> io::Result<()> {
        use turmoil::fs::shim::std::fs;
        let path = &absolute(path.as_ref());
        self.enter(DiskOp::Write, "remove", path).await?;
        // Flushed first so no pending write of the removed file outlives it
        // in turmoil and shows up in a later file of the same name.
        sync_data(path)?;
        fs::remove_file(path)?;
        fs::sync_dir(parent(path))
    }

    /// Shortens (or extends with zeros) a file, pending until synced.
    pub async fn truncate(&self, path: impl AsRef<Path>, len: u64) -> io::Result<()> {
        let path = &absolute(path.as_ref());
        self.enter(DiskOp::Write, "truncate", path).await?;
        let file = turmoil::fs::shim::std::fs::OpenOptions::new()
            .write(true)
            .open(path)?;
        self.check_space("truncate", path, len.saturating_sub(file_len(path)))?;
        file.set_len(len)
    }

    /// Whether a file or directory exists (never faulted: it cannot fail).
    pub fn exists(&self, path: impl AsRef<Path>) -> bool {
        turmoil::fs::shim::std::fs::exists(absolute(path.as_ref()))
    }

    /// The file names in a directory, sorted (empty if it does not exist).
    /// A `read` for `disk-error` faults; not delayed by `disk-slow` (it is
    /// not async).
    pub fn list(&self, dir: impl AsRef<Path>) -> io::Result<Vec<String>> {
        let dir = &absolute(dir.as_ref());
        self.check_error(DiskOp::Read, "list", dir)?;
        let entries = match turmoil::fs::shim::std::fs::read_dir(dir) {
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

    /// The bytes this host's files take: the sum of their lengths, pending
    /// data included (what a `disk-full` fault compares with its capacity).
    pub fn used_bytes(&self) -> u64 {
        used_bytes()
    }

    /// Before a call of kind `op`: waits out any `disk-slow` latency, then
    /// fails with EIO if a `disk-error` fault says so.
    async fn enter(&self, op: DiskOp, call: &'static str, path: &Path) -> io::Result<()> {
        let latency =
            host_faults::with_host(&self.host, |h| h.disk_latency()).unwrap_or(Duration::ZERO);
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
        self.check_error(op, call, path)
    }

    fn check_error(&self, op: DiskOp, call: &'static str, path: &Path) -> io::Result<()> {
        if host_faults::with_host(&self.host, |h| h.draw_disk_error(op)).unwrap_or(false) {
            tracing::info!(target: "disk", call, path = %path.display(), "injected EIO");
            return Err(io::Error::other(format!(
                "input/output error (EIO) on {call} {}: disk-error fault",
                path.display()
            )));
        }
        Ok(())
    }

    /// Fails with ENOSPC if adding `added_bytes` would take the host past
    /// an active `disk-full` capacity.
    fn check_space(&self, call: &'static str, path: &Path, added_bytes: u64) -> io::Result<()> {
        if added_bytes == 0 {
            return Ok(());
        }
        let Some(capacity) = host_faults::with_host(&self.host, |h| h.capacity_bytes()).flatten()
        else {
            return Ok(());
        };
        let used = used_bytes();
        if used.saturating_add(added_bytes) <= capacity {
            return Ok(());
        }
        tracing::info!(
            target: "disk",
            call,
            path = %path.display(),
            used,
            added = added_bytes,
            capacity,
            "rejected a write: disk full"
        );
        Err(io::Error::new(
            io::ErrorKind::StorageFull,
            format!(
                "no space left on device (ENOSPC) on {call} {}: {used} bytes used + {added_bytes} > capacity {capacity} (disk-full fault)",
                path.display()
            ),
        ))
    }
}

/// Makes a file's pending data durable (fsync without its directory).
fn sync_data(path: &Path) -> io::Result<()> {
    turmoil::fs::shim::std::fs::OpenOptions::new()
        .read(true)
        .open(path)?
        .sync_all()
}

/// A file's current length, pending writes included (0 if it does not
/// exist).
fn file_len(path: &Path) -> u64 {
    turmoil::fs::shim::std::fs::metadata(path).map_or(0, |m| if m.is_file() { m.len() } else { 0 })
}

/// The sum of the current host's file lengths, walking its whole tree
/// (at most [`MAX_ACCOUNTED_ENTRIES`] entries). Walking, rather than
/// keeping a count, stays right whatever turmoil does to pending data at a
/// crash (dropped, torn, orphaned files deleted).
fn used_bytes() -> u64 {
    use turmoil::fs::shim::std::fs;
    let mut total = 0u64;
    let mut visited = 0usize;
    let mut dirs = vec![PathBuf::from("/")];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            visited += 1;
            if visited > MAX_ACCOUNTED_ENTRIES {
                return total;
            }
            let path = entry.path();
            match fs::metadata(&path) {
                Ok(m) if m.is_dir() => dirs.push(path),
                Ok(m) => total += m.len(),
                Err(_) => {}
            }
        }
    }
    total
}

/// The directory whose entry for `path` a sync makes durable. Paths here
/// are always absolute (see [`absolute`]), so only `/` has no parent.
fn parent(path: &Path) -> PathBuf {
    path.parent()
        .map_or_else(|| PathBuf::from("/"), Path::to_path_buf)
}

/// `path` as turmoil should see it: absolute, with `.` and `..` resolved
/// by their text. A relative path is relative to the disk's root, the
/// only working directory a simulated host has. turmoil keeps paths as
/// given and matches a file's pending directory entry by its parent, so a
/// relative `state` (whose parent is the empty path) would never be made
/// durable by syncing `/`: every call goes through here first.
fn absolute(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::from("/");
    for part in path.components() {
        match part {
            Component::Normal(name) => out.push(name),
            Component::ParentDir => {
                out.pop();
            }
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::absolute;
    use std::path::Path;

    #[test]
    fn paths_are_made_absolute_from_the_disk_root() {
        for (given, expected) in [
            ("state", "/state"),
            ("./wal/log", "/wal/log"),
            ("/wal/../state.tmp", "/state.tmp"),
            ("../../x", "/x"),
            ("/", "/"),
            ("", "/"),
            ("/d/", "/d"),
        ] {
            assert_eq!(absolute(Path::new(given)), Path::new(expected), "{given}");
        }
    }
}
