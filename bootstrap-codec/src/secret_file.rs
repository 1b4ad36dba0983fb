//! Writing secret files: mode 0600, all-or-nothing.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Files staged beside their targets, renamed into place together by [`Staged::commit`].
/// Dropping an uncommitted `Staged` removes the temporary files.
pub(crate) struct Staged {
    pending: Vec<(PathBuf, PathBuf)>,
}

impl Staged {
    pub(crate) fn new() -> Self {
        Staged {
            pending: Vec::new(),
        }
    }

    /// Writes `contents` to a fresh 0600 file next to `target` and syncs it.
    pub(crate) fn stage(&mut self, target: &Path, contents: &[u8]) -> io::Result<()> {
        let dir = target.parent().filter(|p| !p.as_os_str().is_empty());
        if let Some(dir) = dir {
            create_private_dir(dir)?;
        }
        let name = target
            .file_name()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a file path"))?;
        let mut tmp_name = std::ffi::OsString::from(".");
        tmp_name.push(name);
        tmp_name.push(format!(".tmp-{}", std::process::id()));
        let tmp = target.with_file_name(tmp_name);
        let _ = fs::remove_file(&tmp);
        let mut file = open_private(&tmp)?;
        self.pending.push((tmp.clone(), target.to_owned()));
        file.write_all(contents)?;
        file.sync_all()?;
        Ok(())
    }

    /// Renames every staged file over its target, then syncs the directories.
    pub(crate) fn commit(mut self) -> io::Result<()> {
        let pending = std::mem::take(&mut self.pending);
        for (tmp, target) in &pending {
            fs::rename(tmp, target)?;
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

/// Writes one file atomically (temp file + rename), creating it with mode 0600.
pub fn write_atomic(target: &Path, contents: &[u8]) -> io::Result<()> {
    let mut staged = Staged::new();
    staged.stage(target, contents)?;
    staged.commit()
}

fn open_private(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

fn create_private_dir(dir: &Path) -> io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}
