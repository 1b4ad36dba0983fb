//! Writing files all-or-nothing: secrets with mode 0600, other outputs as the umask allows.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Files staged beside their targets (each written whole and synced), then renamed into
/// place one after the other by [`Staged::commit`]: no target is ever half written, but if a
/// later rename fails the earlier ones stay done. Dropping an uncommitted `Staged`, or a
/// failed commit, removes the temporary files.
pub(crate) struct Staged {
    pending: Vec<(PathBuf, PathBuf)>,
    mode: u32,
}

impl Staged {
    /// Stages secrets: files created with mode 0600, directories with 0700.
    pub(crate) fn new() -> Self {
        Staged {
            pending: Vec::new(),
            mode: 0o600,
        }
    }

    /// Stages ordinary outputs: mode 0666 less the umask.
    fn public() -> Self {
        Staged {
            pending: Vec::new(),
            mode: 0o666,
        }
    }

    /// Writes `contents` to a fresh file next to `target` and syncs it.
    pub(crate) fn stage(&mut self, target: &Path, contents: &[u8]) -> io::Result<()> {
        let dir = target.parent().filter(|p| !p.as_os_str().is_empty());
        if let Some(dir) = dir {
            // Directories for secrets are private too; others follow the umask.
            create_dir(dir, if self.mode == 0o600 { 0o700 } else { 0o777 })?;
        }
        let name = target
            .file_name()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a file path"))?;
        let mut tmp_name = std::ffi::OsString::from(".");
        tmp_name.push(name);
        tmp_name.push(format!(".tmp-{}", std::process::id()));
        let tmp = target.with_file_name(tmp_name);
        let _ = fs::remove_file(&tmp);
        let mut file = open_new(&tmp, self.mode)?;
        self.pending.push((tmp.clone(), target.to_owned()));
        file.write_all(contents)?;
        file.sync_all()?;
        Ok(())
    }

    /// Renames every staged file over its target, then syncs the directories.
    pub(crate) fn commit(mut self) -> io::Result<()> {
        let pending = std::mem::take(&mut self.pending);
        for (i, (tmp, target)) in pending.iter().enumerate() {
            if let Err(e) = fs::rename(tmp, target) {
                // What was not renamed is removed: a failed write leaves no temporary files.
                for (tmp, _) in &pending[i..] {
                    let _ = fs::remove_file(tmp);
                }
                return Err(e);
            }
        }
        for (_, target) in &pending {
            if let Some(dir) = target.parent().filter(|p| !p.as_os_str().is_empty()) {
                // Directory fsync makes the renames durable; not every filesystem allows it.
                if let Ok(d) = File::open(dir) {
                    let _ = d.sync_all();
                }
            }
        }
        Ok(())
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        for (tmp, _) in &self.pending {
            let _ = fs::remove_file(tmp);
        }
    }
}

/// Writes one secret file atomically (temp file + rename) with mode 0600.
pub fn write_secret_atomic(target: &Path, contents: &[u8]) -> io::Result<()> {
    let mut staged = Staged::new();
    staged.stage(target, contents)?;
    staged.commit()
}

/// Writes one ordinary file atomically (temp file + rename): a reader sees the old file or
/// the new one, never half of it.
pub fn write_atomic(target: &Path, contents: &[u8]) -> io::Result<()> {
    let mut staged = Staged::public();
    staged.stage(target, contents)?;
    staged.commit()
}

fn open_new(path: &Path, mode: u32) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    options.open(path)
}

fn create_dir(dir: &Path, mode: u32) -> io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    builder.create(dir)
}
