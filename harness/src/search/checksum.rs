//! Checksums of checkpoint files: XXH3 (64 bits) and the length, computed while a file is
//! written (a [`Summed`] writer) and checked while it is read back, so that a damaged file is
//! refused with its name instead of resuming into a wrong verdict or a panic.

use serde::{Deserialize, Serialize};
use std::hash::Hasher as _;
use std::io::{Read, Write};
use std::path::Path;
use twox_hash::XxHash3_64;

/// A file's length and XXH3 digest, as a checkpoint's meta records them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileSum {
    pub len: u64,
    /// The XXH3-64 of the file's bytes, 16 hex digits (JSON numbers lose 64-bit precision
    /// in some readers).
    pub xxh3: String,
}

/// A running digest: bytes fed in order, the sum taken at any point.
#[derive(Clone, Default)]
pub struct Running {
    hasher: XxHash3_64,
    len: u64,
}

impl Running {
    pub fn update(&mut self, bytes: &[u8]) {
        self.hasher.write(bytes);
        self.len += bytes.len() as u64;
    }

    pub fn sum(&self) -> FileSum {
        FileSum {
            len: self.len,
            xxh3: format!("{:016x}", self.hasher.finish()),
        }
    }
}

/// The sum of a whole buffer.
pub fn of(bytes: &[u8]) -> FileSum {
    let mut r = Running::default();
    r.update(bytes);
    r.sum()
}

/// A writer that sums what goes through it.
pub struct Summed<W> {
    inner: W,
    running: Running,
}

impl<W: Write> Summed<W> {
    pub fn new(inner: W) -> Self {
        Summed {
            inner,
            running: Running::default(),
        }
    }

    pub fn sum(&self) -> FileSum {
        self.running.sum()
    }
}

impl<W: Write> Write for Summed<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.running.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// A reader that sums what comes through it: the file is checked in the same pass that parses
/// it.
pub struct SummedReader<R> {
    inner: R,
    running: Running,
}

impl<R: Read> SummedReader<R> {
    pub fn new(inner: R) -> Self {
        SummedReader {
            inner,
            running: Running::default(),
        }
    }

    /// Reads what the parser left (so the sum covers the whole file), then the sum.
    pub fn finish(mut self) -> std::io::Result<FileSum> {
        std::io::copy(&mut self, &mut std::io::sink())?;
        Ok(self.running.sum())
    }
}

impl<R: Read> Read for SummedReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.running.update(&buf[..n]);
        Ok(n)
    }
}

/// The message for a damaged checkpoint file.
pub fn damaged(resume: &Path, file: &Path, why: &str) -> String {
    format!(
        "--resume {}: checkpoint file {} is damaged ({why})",
        resume.display(),
        file.display()
    )
}

/// Checks a file's sum against the one recorded; the error names the file.
pub fn expect(
    resume: &Path,
    file: &Path,
    found: &FileSum,
    recorded: Option<&FileSum>,
) -> Result<(), String> {
    let Some(recorded) = recorded else {
        return Err(damaged(resume, file, "no checksum recorded for it"));
    };
    if found.len != recorded.len {
        return Err(damaged(
            resume,
            file,
            &format!(
                "{} bytes, the checkpoint recorded {}",
                found.len, recorded.len
            ),
        ));
    }
    if found.xxh3 != recorded.xxh3 {
        return Err(damaged(resume, file, "checksum mismatch"));
    }
    Ok(())
}

/// The text of a `.sum` file: the digest and length of the file it guards.
pub fn sum_line(sum: &FileSum) -> String {
    format!("xxh3 {} {}\n", sum.xxh3, sum.len)
}

/// Parses [`sum_line`]'s text.
pub fn parse_sum_line(text: &str) -> Option<FileSum> {
    let mut words = text.split_whitespace();
    if words.next()? != "xxh3" {
        return None;
    }
    let xxh3 = words.next()?.to_string();
    let len = words.next()?.parse().ok()?;
    (xxh3.len() == 16 && words.next().is_none()).then_some(FileSum { len, xxh3 })
}

/// Reads a small file guarded by a `.sum` file beside it (a checkpoint's meta), checking it;
/// the error names the file that is missing or damaged.
pub fn read_guarded(resume: &Path, file: &Path, sum_file: &Path) -> Result<Vec<u8>, String> {
    let bytes = std::fs::read(file).map_err(|e| {
        format!(
            "--resume {}: cannot read {}: {e}",
            resume.display(),
            file.display()
        )
    })?;
    let text = std::fs::read(sum_file).map_err(|e| {
        format!(
            "--resume {}: cannot read {}: {e}",
            resume.display(),
            sum_file.display()
        )
    })?;
    let recorded = std::str::from_utf8(&text)
        .ok()
        .and_then(parse_sum_line)
        .ok_or_else(|| damaged(resume, sum_file, "not a checksum line"))?;
    expect(resume, file, &of(&bytes), Some(&recorded))?;
    Ok(bytes)
}

/// The `format` a JSON file names, if it is readable JSON that names one: an unguarded meta
/// file of an older checkpoint format is refused by its format, not called damaged.
pub fn format_of(file: &std::path::Path) -> Option<String> {
    std::fs::read(file)
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|v| v.get("format")?.as_str().map(str::to_string))
}
