//! The timely workers' checkpoints: every worker appends each ranked level's fingerprints and
//! parent links to `DIR/worker-<index>/`, and at a checkpoint (the same levels on every worker,
//! `--checkpoint-every` apart) writes the level's states before it expands it.
//!
//! A worker's folder holds `visited.bin` (its fingerprints, appended level by level),
//! `links.bin` (the parent link of each state it owns, 8 bytes, appended level by level in rank
//! order: the counterexamples are rebuilt from them), and for the last two checkpoints
//! `records-<t>.bin` (the level's states: fingerprint, rank and record), `meta-<t>.json` (with
//! the checksums of the records and of both appended files up to the level) and `meta-<t>.sum`
//! (the meta's checksum, written before the meta, so a meta that is there has its sum).
//! Workers move in step (none expands level t + 1 before every worker ranked it, and a worker
//! writes level t's checkpoint before it expands it), so the latest checkpoint every worker has
//! is the latest or the one before it of any worker.

use super::level::{Entry, Level};
use crate::search::checkpoint::Identity;
use crate::search::checksum::{self, FileSum, Running, Summed};
use crate::search::coverage::Coverage;
use plasma_model::{Setup, World};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// What one worker found.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Summary {
    pub worker: usize,
    pub unique: u64,
    pub generated: u64,
    /// New states per level.
    pub sizes: BTreeMap<u32, u64>,
    /// Per property: the least (level, key) of a state of this worker that decides it, and
    /// the state's position in the worker's share of the level.
    pub found: Vec<Option<(u32, u64, u32)>>,
    /// The action coverage of the states this worker owns: `taken` counts the states that were
    /// new here, `enabled` the successors of the states it expanded.
    pub coverage: Coverage,
    /// Levels expanded (the run's depth, as the native BFS counts it).
    pub depth: u32,
    /// The run stopped at a property whose discovery ends it (`--stop-at`, stopping at the
    /// first violation).
    #[serde(default)]
    pub stopped: bool,
    /// The run stopped before it was complete: `--timeout`, `--max-states` or Ctrl-C
    /// ([`super::wire::Stop`] bits).
    #[serde(default)]
    pub limit: u8,
}

/// What a worker's checkpoint of a level records.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct WorkerMeta {
    pub format: String,
    #[serde(flatten)]
    pub run: Identity,
    /// Workers of the run (the fingerprints are shared out among them).
    pub peers: usize,
    pub worker: usize,
    /// The level whose states `records-<level>.bin` holds, ranked and not yet expanded.
    pub level: u32,
    /// Fingerprints of `visited.bin` and links of `links.bin` up to this level (the files grow
    /// past them as the next levels run), and their checksums.
    pub visited: u64,
    pub visited_sum: FileSum,
    pub links: u64,
    pub links_sum: FileSum,
    /// The checksum of `records-<level>.bin`.
    pub records_sum: FileSum,
    /// States of each level up to this one, over every worker.
    pub totals: Vec<u64>,
    /// Properties decided on the levels before this one (bit per property).
    pub decided: u64,
    pub summary: Summary,
}

// 2: records carry their action kind, and summaries their coverage. 3: every file is
// checksummed (`meta-<t>.json` by `meta-<t>.sum`, the others in the meta). 4: records carry no
// paths: parent links in `links.bin`, ranked levels.
pub const WORKER_FORMAT: &str = "plasma-timely-checkpoint/4";

/// One appended file (`visited.bin`, `links.bin`) of 8-byte values and its running checksum.
struct Appended {
    file: std::io::BufWriter<std::fs::File>,
    len: u64,
    sum: Running,
}

impl Appended {
    /// Opens `path`, cut back to `keep` values, whose checksum `sum` is.
    fn open(path: &Path, keep: u64, sum: Running) -> std::io::Result<Appended> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        file.set_len(keep * 8)?;
        Ok(Appended {
            file: std::io::BufWriter::with_capacity(1 << 20, file),
            len: keep,
            sum,
        })
    }

    fn append(&mut self, values: impl Iterator<Item = u64>) -> std::io::Result<()> {
        for v in values {
            self.file.write_all(&v.to_le_bytes())?;
            self.sum.update(&v.to_le_bytes());
            self.len += 1;
        }
        Ok(())
    }

    fn sync(&mut self) -> std::io::Result<()> {
        self.file.flush()?;
        self.file.get_ref().sync_all()
    }
}

/// A worker's checkpoint folder, open for writing.
pub struct Store {
    dir: PathBuf,
    visited: Appended,
    links: Appended,
}

pub fn worker_dir(root: &Path, worker: usize) -> PathBuf {
    root.join(format!("worker-{worker}"))
}

impl Store {
    /// Opens a worker's folder; resuming, the appended files are cut back to the level the run
    /// resumes at (`from`: the share read from them).
    pub fn open(root: &Path, worker: usize, from: Option<&Share>) -> std::io::Result<Store> {
        let dir = worker_dir(root, worker);
        std::fs::create_dir_all(&dir)?;
        let (v, l) = match from {
            Some(s) => (
                (s.visited.len() as u64, s.visited_sum.clone()),
                (s.links.len() as u64, s.links_sum.clone()),
            ),
            None => ((0, Running::default()), (0, Running::default())),
        };
        Ok(Store {
            visited: Appended::open(&dir.join("visited.bin"), v.0, v.1)?,
            links: Appended::open(&dir.join("links.bin"), l.0, l.1)?,
            dir,
        })
    }

    /// Appends a ranked level's fingerprints and links: every level is appended, in order,
    /// checkpointed or not (buffered; synced by the next checkpoint).
    pub fn append(&mut self, level: &Level) -> std::io::Result<()> {
        self.visited.append(level.each().map(|e| e.fp))?;
        self.links.append(level.each().map(|e| e.link))
    }

    /// Writes level `meta.level`'s checkpoint (the level appended already): the appended files
    /// synced, its records, then the meta's checksum and the meta (each written to a temporary
    /// name, synced and renamed); only this checkpoint and the one before it stay.
    pub fn checkpoint(&mut self, meta: &WorkerMeta, level: &Level) -> std::io::Result<()> {
        self.visited.sync()?;
        self.links.sync()?;
        let t = meta.level;
        let write = |name: &str, bytes: &dyn Fn(&mut dyn Write) -> std::io::Result<()>| {
            let tmp = self.dir.join(format!("{name}.tmp"));
            let f = std::fs::File::create(&tmp)?;
            let mut w = std::io::BufWriter::with_capacity(1 << 20, Summed::new(&f));
            bytes(&mut w)?;
            w.flush()?;
            let sum = w.get_ref().sum();
            drop(w);
            f.sync_all()?;
            std::fs::rename(&tmp, self.dir.join(name))?;
            Ok::<_, std::io::Error>(sum)
        };
        let records_sum = write(&format!("records-{t}.bin"), &|w| {
            w.write_all(&(level.len() as u64).to_le_bytes())?;
            for e in level.each() {
                let record = level.record(&e);
                w.write_all(&e.fp.to_le_bytes())?;
                w.write_all(&e.key.to_le_bytes())?;
                w.write_all(&(record.len() as u32).to_le_bytes())?;
                w.write_all(record)?;
            }
            Ok(())
        })?;
        let meta = WorkerMeta {
            visited: self.visited.len,
            visited_sum: self.visited.sum.sum(),
            links: self.links.len,
            links_sum: self.links.sum.sum(),
            records_sum,
            ..meta.clone()
        };
        let text = serde_json::to_string(&meta).map_err(std::io::Error::other)?;
        let line = checksum::sum_line(&checksum::of(text.as_bytes()));
        write(&format!("meta-{t}.sum"), &|w| w.write_all(line.as_bytes()))?;
        write(&format!("meta-{t}.json"), &|w| w.write_all(text.as_bytes()))?;
        std::fs::File::open(&self.dir)?.sync_all()?;
        self.remove_older_than_the_last_two(t)
    }

    /// Workers checkpoint the same levels, so the latest level every worker wrote is this one
    /// or the one before it: older ones go.
    fn remove_older_than_the_last_two(&self, t: u32) -> std::io::Result<()> {
        let levels = meta_levels(&self.dir)?;
        let before = levels.iter().copied().filter(|&l| l < t).max();
        for l in levels {
            if l != t && Some(l) != before {
                for name in ["records-{}.bin", "meta-{}.json", "meta-{}.sum"] {
                    let _ = std::fs::remove_file(self.dir.join(name.replace("{}", &l.to_string())));
                }
            }
        }
        Ok(())
    }
}

/// The states of a `records-<t>.bin`, as a ranked level.
fn read_records(bytes: &[u8], symmetric: bool) -> Result<Level, String> {
    let bad = || "cut short".to_string();
    let mut at = 0;
    let take = |at: &mut usize, n: usize| -> Result<&[u8], String> {
        let s = bytes.get(*at..at.saturating_add(n)).ok_or_else(bad)?;
        *at += n;
        Ok(s)
    };
    let u64_at = |at: &mut usize| -> Result<u64, String> {
        Ok(u64::from_le_bytes(
            take(at, 8)?.try_into().map_err(|_| bad())?,
        ))
    };
    let count = u64_at(&mut at)?;
    let mut level = Level::default();
    for _ in 0..count {
        let fp = u64_at(&mut at)?;
        let rank = u64_at(&mut at)?;
        let n = u32::from_le_bytes(take(&mut at, 4)?.try_into().map_err(|_| bad())?) as usize;
        let record = take(&mut at, n)?;
        let stored = if symmetric {
            crate::search::fingerprints::STORED_HASHES
        } else {
            0
        };
        if n < stored {
            return Err(bad());
        }
        level.push(
            Entry {
                fp,
                key: rank,
                ..Entry::default()
            },
            n,
            |out| out.extend_from_slice(record),
        );
    }
    if at != bytes.len() {
        return Err("bytes past the last record".to_string());
    }
    Ok(level)
}

/// The level to resume at: the latest one every worker checkpointed, with each worker's meta
/// checked against this run. The message names what is missing or does not match.
pub fn resume_level(
    root: &Path,
    workers: usize,
    expected: &WorkerMeta,
) -> Result<(u32, Vec<WorkerMeta>), String> {
    let mut latest: Vec<Vec<u32>> = Vec::new();
    for w in 0..workers {
        let dir = worker_dir(root, w);
        let levels = meta_levels(&dir).map_err(|e| {
            format!(
                "--resume: {}: {e} (a checkpoint of {workers} workers has worker-0 to worker-{})",
                dir.display(),
                workers - 1
            )
        })?;
        latest.push(levels);
    }
    let common = latest[0]
        .iter()
        .copied()
        .filter(|t| latest.iter().all(|l| l.contains(t)))
        .max()
        .ok_or_else(|| {
            format!(
                "--resume {}: no level that every worker checkpointed",
                root.display()
            )
        })?;
    let mut metas = Vec::new();
    for w in 0..workers {
        let path = worker_dir(root, w).join(format!("meta-{common}.json"));
        let m = read_worker_meta(root, &path)?;
        let mismatch = |what: &str| {
            Err(format!(
                "the checkpoint does not match this run: {what} differs ({})",
                path.display()
            ))
        };
        if m.format != WORKER_FORMAT {
            return mismatch("the format");
        }
        if let Some(what) = m.run.mismatch(&expected.run) {
            return Err(format!(
                "the checkpoint does not match this run: {what} ({})",
                path.display()
            ));
        }
        if m.peers != workers || m.worker != w {
            return Err(format!(
                "the checkpoint does not match this run: it was written by {} workers, this run has {workers}",
                m.peers
            ));
        }
        metas.push(m);
    }
    Ok((common, metas))
}

/// The levels a worker's folder holds a meta of.
fn meta_levels(dir: &Path) -> std::io::Result<Vec<u32>> {
    Ok(std::fs::read_dir(dir)?
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_str()?.to_string();
            name.strip_prefix("meta-")?
                .strip_suffix(".json")?
                .parse()
                .ok()
        })
        .collect())
}

/// Reads a worker's `meta-<t>.json`, checked against `meta-<t>.sum`.
fn read_worker_meta(root: &Path, path: &Path) -> Result<WorkerMeta, String> {
    let sum_file = path.with_extension("sum");
    if !sum_file.exists() {
        // Formats before 3 had no sums: name the format rather than call the file damaged.
        if let Some(f) = checksum::format_of(path).filter(|f| f != WORKER_FORMAT) {
            return Err(format!(
                "the checkpoint does not match this run: the format is {f:?}, expected {WORKER_FORMAT:?} ({})",
                path.display()
            ));
        }
        return Err(checksum::damaged(root, &sum_file, "missing"));
    }
    let bytes = checksum::read_guarded(root, path, &sum_file)?;
    let value: serde_json::Value = serde_json::from_slice(&bytes)
        .map_err(|e| format!("--resume: corrupted checkpoint ({}: {e})", path.display()))?;
    if let Some(f) = value["format"].as_str().filter(|f| *f != WORKER_FORMAT) {
        return Err(format!(
            "the checkpoint does not match this run: the format is {f:?}, expected {WORKER_FORMAT:?} ({})",
            path.display()
        ));
    }
    serde_json::from_value(value)
        .map_err(|e| format!("--resume: corrupted checkpoint ({}: {e})", path.display()))
}

/// A worker's share of the level a run resumes at: its fingerprints and links so far, their
/// checksums (which the next checkpoints extend), and the level's states.
pub struct Share {
    pub visited: Vec<u64>,
    pub visited_sum: Running,
    pub links: Vec<u64>,
    pub links_sum: Running,
    pub level: Level,
}

/// The first `n` 8-byte values of an appended file, checked against their checksum.
fn read_appended(
    root: &Path,
    path: &Path,
    n: u64,
    want_sum: &FileSum,
) -> Result<(Vec<u64>, Running), String> {
    let bytes = std::fs::read(path).map_err(|e| {
        format!(
            "--resume {}: cannot read {}: {e}",
            root.display(),
            path.display()
        )
    })?;
    let want = usize::try_from(n.saturating_mul(8)).unwrap_or(usize::MAX);
    let mine = bytes.get(..want).ok_or_else(|| {
        checksum::damaged(
            root,
            path,
            &format!("{} bytes, the level needs {want}", bytes.len()),
        )
    })?;
    let mut sum = Running::default();
    sum.update(mine);
    checksum::expect(root, path, &sum.sum(), Some(want_sum))?;
    let values = mine
        .chunks_exact(8)
        .map(|c| u64::from_le_bytes(std::array::from_fn(|i| c[i])))
        .collect();
    Ok((values, sum))
}

/// Reads worker `w`'s share of level `meta.level`, every file checked against the sums its
/// meta recorded and every state against the model's invariants; the error names the file.
pub fn load_share(
    root: &Path,
    w: usize,
    meta: &WorkerMeta,
    setup: &Setup,
) -> Result<Share, String> {
    let dir = worker_dir(root, w);
    let (visited, visited_sum) = read_appended(
        root,
        &dir.join("visited.bin"),
        meta.visited,
        &meta.visited_sum,
    )?;
    let (links, links_sum) =
        read_appended(root, &dir.join("links.bin"), meta.links, &meta.links_sum)?;
    let path = dir.join(format!("records-{}.bin", meta.level));
    let bytes = std::fs::read(&path).map_err(|e| {
        format!(
            "--resume {}: cannot read {}: {e}",
            root.display(),
            path.display()
        )
    })?;
    checksum::expect(root, &path, &checksum::of(&bytes), Some(&meta.records_sum))?;
    let level =
        read_records(&bytes, meta.run.symmetry).map_err(|e| checksum::damaged(root, &path, &e))?;
    let stored = if meta.run.symmetry {
        crate::search::fingerprints::STORED_HASHES
    } else {
        0
    };
    for (i, e) in level.entries.iter().enumerate() {
        let record = level.record(e);
        let w = World::decode(&record[..record.len() - stored])
            .ok_or_else(|| format!("record {i} holds a state that does not decode"))
            .and_then(|w| {
                w.validate(setup)
                    .map_err(|e| format!("record {i} holds a state the model cannot reach ({e})"))
            });
        w.map_err(|e| checksum::damaged(root, &path, &e))?;
    }
    let sizes: u64 = meta.summary.sizes.values().sum();
    if sizes != meta.links || meta.links != meta.visited {
        return Err(checksum::damaged(
            root,
            &dir.join("links.bin"),
            "the level sizes do not add up to the links",
        ));
    }
    Ok(Share {
        visited,
        visited_sum,
        links,
        links_sum,
        level,
    })
}
