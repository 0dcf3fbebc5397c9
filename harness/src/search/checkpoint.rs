//! Checkpoints of the native breadth-first search, taken at level boundaries, so that a run
//! that is killed (a CI timeout, a reboot, Ctrl-C, SIGKILL) resumes from its last checkpoint
//! with `check --resume DIR` and ends with the same counts and verdicts as an uninterrupted run.
//!
//! A checkpoint is a folder `DIR/current` holding:
//!
//! - `meta.json`: what was checked (configuration, protocol, mutant, symmetry, properties, the
//!   engine and the model's digest) and where the search stands (levels done, states generated
//!   and stored, level sizes, seconds so far, the witnesses found);
//! - `visited.bin`: every stored fingerprint (8 bytes each);
//! - `links-K.bin`: the parent links of level K (6 bytes a state), for every level done: they
//!   never change, so a later checkpoint hard-links them instead of writing them again;
//! - `frontier.bin`: the level to expand next, states and links (under symmetry each state's
//!   encoding is followed by its representative's segment hashes, as the levels keep them);
//! - the native DFS writes `stack.bin` (its stack's frames) instead of links and frontier;
//! - `meta.sum`: the length and checksum of `meta.json`.
//!
//! Every file is checksummed ([`crate::search::checksum`]: XXH3-64 and the length, computed as
//! the file is written): `meta.json` holds the others' (`files`), and a `links-K.bin` that is
//! hard-linked keeps the checksum its first checkpoint recorded. Resuming checks each file in
//! the pass that reads it and refuses a damaged one with exit 2 naming it (a flipped
//! fingerprint would hide states, a flipped link give a wrong counterexample), and every
//! frontier (or stack) state must decode and pass `World::validate`, so that no file makes the
//! search panic on a state no step reaches.
//!
//! It is written into `DIR/next`, every file synced, and then swapped in by renames (`current`
//! to `old`, `next` to `current`, `old` removed): a crash at any moment leaves a whole
//! checkpoint in `current` or, between the two renames, in `old`, which loading falls back to.

use crate::search::checksum::{self, FileSum, Summed, SummedReader};
use crate::search::fingerprints::Shared;
use crate::search::levels::Level;
use plasma_model::{Config, Protocol, Setup, World};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

// 3: every file is checksummed (`files` in meta.json, and meta.json by `meta.sum`).
pub const FORMAT: &str = "plasma-checkpoint/3";
pub const ENGINE: &str = "native-bfs";
pub const ENGINE_DFS: &str = "native-dfs";

/// What a checkpoint records besides its bulk files.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Meta {
    pub format: String,
    pub engine: String,
    #[serde(flatten)]
    pub run: Identity,
    /// Levels expanded: the frontier is level `levels`.
    pub levels: usize,
    pub generated: usize,
    pub unique: usize,
    /// New states per level, level 0 included.
    pub sizes: Vec<usize>,
    pub seconds: f64,
    /// Per property: the witness found so far, as (level, parent, action).
    pub found: Vec<Option<(usize, u32, u16)>>,
    pub frontier: usize,
    /// The native DFS: per property, the path found so far (action numbers).
    #[serde(default)]
    pub paths: Vec<Option<Vec<u16>>>,
    /// The native DFS: the deepest stack so far.
    #[serde(default)]
    pub max_depth: usize,
    /// The action coverage so far; `None` in a checkpoint written before it was kept, whose
    /// resumed run reports partial coverage.
    #[serde(default)]
    pub coverage: Option<crate::search::coverage::Coverage>,
    /// Every other file of the checkpoint, by name: its length and checksum.
    #[serde(default)]
    pub files: BTreeMap<String, FileSum>,
}

impl Meta {
    /// The meta of a checkpoint of `engine` for this setup, with the search's position still
    /// to fill in.
    pub fn new(
        engine: &str,
        setup: &Setup,
        symmetry: bool,
        properties: &[&'static plasma_properties::Property],
    ) -> Meta {
        Meta {
            format: FORMAT.to_string(),
            engine: engine.to_string(),
            run: Identity::of(setup, symmetry, properties.iter().map(|p| p.name)),
            levels: 0,
            generated: 0,
            unique: 0,
            sizes: Vec::new(),
            seconds: 0.0,
            found: Vec::new(),
            frontier: 0,
            paths: Vec::new(),
            max_depth: 0,
            coverage: None,
            files: BTreeMap::new(),
        }
    }
}

/// One frame of the native DFS's stack: the state's encoding, the action taken below it, and
/// the new successors it has yet to descend into.
#[derive(Clone, Debug, PartialEq)]
pub struct StackFrame {
    pub state: Vec<u8>,
    pub taken: usize,
    pub fresh: Vec<usize>,
}

/// A native DFS checkpoint read back.
pub struct LoadedDfs {
    pub meta: Meta,
    pub visited: crate::search::fingerprints::Fingerprints,
    pub stack: Vec<StackFrame>,
}

/// Swaps the checkpoint written into `DIR/next` in as `DIR/current`.
fn swap_in(dir: &Path) -> std::io::Result<()> {
    let (current, next, old) = (dir.join("current"), dir.join("next"), dir.join("old"));
    sync_dir(&next)?;
    if current.exists() {
        if old.exists() {
            std::fs::remove_dir_all(&old)?;
        }
        std::fs::rename(&current, &old)?;
        std::fs::rename(&next, &current)?;
        sync_dir(dir)?;
        std::fs::remove_dir_all(&old)?;
    } else {
        std::fs::rename(&next, &current)?;
    }
    sync_dir(dir)
}

/// Writes a native DFS checkpoint (the visited fingerprints and the stack) into `dir`,
/// atomically as [`save`] does.
pub fn save_dfs(
    dir: &Path,
    meta: &Meta,
    visited: &mut crate::search::fingerprints::Fingerprints,
    stack: &[StackFrame],
) -> std::io::Result<()> {
    let next = fresh_next(dir)?;
    let mut meta = meta.clone();
    meta.files.clear();
    let sum = sync_write(&next.join("visited.bin"), |w| {
        visited.write_fingerprints(w).map(|_| ())
    })?;
    meta.files.insert("visited.bin".into(), sum);
    let sum = sync_write(&next.join("stack.bin"), |w| {
        for f in stack {
            w.write_all(&(f.state.len() as u32).to_le_bytes())?;
            w.write_all(&f.state)?;
            w.write_all(&(f.taken as u32).to_le_bytes())?;
            w.write_all(&(f.fresh.len() as u32).to_le_bytes())?;
            for &i in &f.fresh {
                w.write_all(&(i as u32).to_le_bytes())?;
            }
        }
        Ok(())
    })?;
    meta.files.insert("stack.bin".into(), sum);
    write_meta(&next, &meta)?;
    swap_in(dir)
}

/// Reads a file of the checkpoint whole, checked against the sum `meta` recorded for it.
fn read_checked(dir: &Path, d: &Path, meta: &Meta, name: &str) -> Result<Vec<u8>, String> {
    let path = d.join(name);
    let bytes = std::fs::read(&path).map_err(|e| {
        format!(
            "--resume {}: cannot read {}: {e}",
            dir.display(),
            path.display()
        )
    })?;
    checksum::expect(dir, &path, &checksum::of(&bytes), meta.files.get(name))?;
    Ok(bytes)
}

/// Decodes a state read from a checkpoint and checks it against the model's invariants: a
/// file that passed its checksum but was written by a faulty run must still not reach code
/// that indexes by the state's numbers.
fn checked_state(setup: &Setup, bytes: &[u8]) -> Result<World, String> {
    let w = World::decode(bytes).ok_or_else(|| "a state that does not decode".to_string())?;
    w.validate(setup)
        .map_err(|e| format!("a state the model cannot reach ({e})"))?;
    Ok(w)
}

/// Parses `stack.bin`: frames of (state, taken, fresh successors), each state checked and
/// each action number within the state's enabled actions.
fn parse_stack(setup: &Setup, raw: &[u8]) -> Result<Vec<StackFrame>, String> {
    let short = || "cut short".to_string();
    let u32_at = |at: &mut usize| -> Result<u32, String> {
        let b = raw.get(*at..at.saturating_add(4)).ok_or_else(short)?;
        *at += 4;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    let mut stack = Vec::new();
    let mut actions = Vec::new();
    let mut at = 0;
    while at < raw.len() {
        let n = u32_at(&mut at)? as usize;
        let state = raw
            .get(at..at.saturating_add(n))
            .ok_or_else(short)?
            .to_vec();
        at += n;
        let w = checked_state(setup, &state)?;
        actions.clear();
        w.enabled(setup, &mut actions);
        let taken = u32_at(&mut at)? as usize;
        let k = u32_at(&mut at)? as usize;
        let fresh = (0..k.min(raw.len()))
            .map(|_| u32_at(&mut at).map(|i| i as usize))
            .collect::<Result<Vec<_>, _>>()?;
        let enabled = actions.len();
        if fresh.len() != k
            || (taken >= enabled && !(taken == 0 && enabled == 0))
            || fresh.iter().any(|&i| i >= enabled)
        {
            return Err(format!(
                "a frame names an action beyond its state's {enabled} enabled actions"
            ));
        }
        stack.push(StackFrame {
            state,
            taken,
            fresh,
        });
    }
    Ok(stack)
}

/// Loads a native DFS checkpoint (its meta already checked by [`check_matches`]); every file
/// is checked against its checksum, every state against the model's invariants.
pub fn load_dfs(dir: &Path, setup: &Setup) -> Result<LoadedDfs, String> {
    let meta = read_meta(dir)?;
    let d = whole(dir)?;
    let corrupted = |what: String| corrupted(dir, what);
    let bytes = read_checked(dir, &d, &meta, "visited.bin")?;
    if bytes.len() as u64 != meta.unique as u64 * 8 {
        return Err(corrupted(format!(
            "visited.bin holds {} bytes, {} fingerprints take {}",
            bytes.len(),
            meta.unique,
            meta.unique * 8
        )));
    }
    let visited = crate::search::fingerprints::Fingerprints::from_fingerprints(&bytes)
        .map_err(|e| e.to_string())?;
    let raw = read_checked(dir, &d, &meta, "stack.bin")?;
    let stack =
        parse_stack(setup, &raw).map_err(|e| checksum::damaged(dir, &d.join("stack.bin"), &e))?;
    if stack.len() != meta.levels {
        return Err(corrupted(format!(
            "stack.bin holds {} frames, meta.json says {}",
            stack.len(),
            meta.levels
        )));
    }
    Ok(LoadedDfs {
        meta,
        visited,
        stack,
    })
}

/// A checkpoint read back, ready to continue.
pub struct Loaded {
    pub meta: Meta,
    pub visited: Shared,
    /// Parent links of every level done.
    pub done: Vec<Level>,
    pub frontier: Level,
}

/// A digest of the model's behaviour: the package version, and the encodings and fingerprints
/// of every state within 6 steps of `tiny` under the hardened protocol. A change to the state,
/// its encoding, `enabled`, `step` or the fingerprint function changes it (almost surely), and
/// a checkpoint of another model, whose stored fingerprints would mean other states, is refused.
pub fn model_digest() -> String {
    use std::hash::{Hash, Hasher};
    let setup = Setup::new(
        crate::presets::preset("tiny").unwrap_or_default(),
        Protocol::hardened(),
    );
    let mut seen: BTreeSet<Vec<u8>> = BTreeSet::new();
    let init = World::init(&setup);
    seen.insert(init.encode());
    let mut frontier = vec![init];
    let mut actions = Vec::new();
    for _ in 0..6 {
        let mut next = Vec::new();
        for w in &frontier {
            actions.clear();
            w.enabled(&setup, &mut actions);
            for a in &actions {
                if let Ok(s) = w.step(&setup, a) {
                    if seen.insert(s.encode()) {
                        next.push(s);
                    }
                }
            }
        }
        frontier = next;
    }
    // SipHash with fixed keys: the same digest on every run and machine.
    let mut h = std::collections::hash_map::DefaultHasher::new();
    env!("CARGO_PKG_VERSION").hash(&mut h);
    let mut key = crate::search::fingerprints::Fingerprinter::new(&setup, false);
    for e in &seen {
        e.hash(&mut h);
        if let Some(w) = World::decode(e) {
            key.of(&w).hash(&mut h);
        }
    }
    format!("{:016x}-{}", h.finish(), seen.len())
}

/// Writes a file and syncs it; returns its checksum, computed on the way out (the bytes pass
/// the hasher in the writer's large blocks, not in the small writes the encoders make).
fn sync_write(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<Summed<&File>>) -> std::io::Result<()>,
) -> std::io::Result<FileSum> {
    let file = File::create(path)?;
    let mut w = BufWriter::with_capacity(8 << 20, Summed::new(&file));
    write(&mut w)?;
    w.flush()?;
    let sum = w.get_ref().sum();
    drop(w);
    file.sync_all()?;
    Ok(sum)
}

/// Writes `meta.json`, and `meta.sum` with its checksum: the meta holds every other file's.
fn write_meta(next: &Path, meta: &Meta) -> std::io::Result<()> {
    let text = serde_json::to_string_pretty(meta).map_err(std::io::Error::other)?;
    let sum = sync_write(&next.join("meta.json"), |w| w.write_all(text.as_bytes()))?;
    sync_write(&next.join("meta.sum"), |w| {
        w.write_all(checksum::sum_line(&sum).as_bytes())
    })?;
    Ok(())
}

/// An empty `DIR/next` to write a checkpoint into.
fn fresh_next(dir: &Path) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let next = dir.join("next");
    if next.exists() {
        std::fs::remove_dir_all(&next)?;
    }
    std::fs::create_dir(&next)?;
    Ok(next)
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Writes a checkpoint into `dir` (created if needed), atomically replacing the one there.
pub fn save(
    dir: &Path,
    meta: &Meta,
    visited: &Shared,
    done: &[Level],
    frontier: &Level,
) -> std::io::Result<()> {
    let current = dir.join("current");
    let next = fresh_next(dir)?;
    // The links of a level never change: the previous checkpoint's are hard-linked, with the
    // checksums it recorded (reading them again to sum them would cost what linking saves).
    let before: BTreeMap<String, FileSum> =
        checksum::read_guarded(dir, &current.join("meta.json"), &current.join("meta.sum"))
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Meta>(&bytes).ok())
            .map(|m| m.files)
            .unwrap_or_default();
    let mut meta = meta.clone();
    meta.files.clear();
    for (k, level) in done.iter().enumerate() {
        let name = format!("links-{k}.bin");
        let expect = (level.len() * 6) as u64;
        if let Some(sum) = before.get(&name).filter(|s| s.len == expect) {
            let old = current.join(&name);
            if old.metadata().is_ok_and(|m| m.len() == expect)
                && std::fs::hard_link(&old, next.join(&name)).is_ok()
            {
                meta.files.insert(name, sum.clone());
                continue;
            }
        }
        let sum = sync_write(&next.join(&name), |w| level.write_links(w))?;
        meta.files.insert(name, sum);
    }
    let mut count = 0;
    let sum = sync_write(&next.join("visited.bin"), |w| {
        count = visited.write_fingerprints(w)?;
        Ok(())
    })?;
    meta.files.insert("visited.bin".into(), sum);
    if count as usize != meta.unique {
        return Err(std::io::Error::other(format!(
            "the visited table holds {count} fingerprints, the search counted {}",
            meta.unique
        )));
    }
    let sum = sync_write(&next.join("frontier.bin"), |w| frontier.write_to(w))?;
    meta.files.insert("frontier.bin".into(), sum);
    write_meta(&next, &meta)?;
    swap_in(dir)
}

/// The folder of the whole checkpoint in `dir`: `current`, or `old` if a crash came between
/// the two renames of [`save`].
fn whole(dir: &Path) -> Result<PathBuf, String> {
    for name in ["current", "old"] {
        let d = dir.join(name);
        if d.join("meta.json").is_file() {
            return Ok(d);
        }
    }
    Err(format!(
        "--resume {}: no checkpoint there (a folder written by check --checkpoint holds current/meta.json)",
        dir.display()
    ))
}

/// Reads a checkpoint's `meta.json`, checked against `meta.sum`; the error says what is wrong.
pub fn read_meta(dir: &Path) -> Result<Meta, String> {
    let d = whole(dir)?;
    let (file, sum_file) = (d.join("meta.json"), d.join("meta.sum"));
    if !sum_file.exists() {
        // Formats before 3 had no meta.sum: name the format rather than call it damaged.
        if let Some(format) = checksum::format_of(&file).filter(|f| f != FORMAT) {
            return Err(format!(
                "--resume {}: format {format:?}, expected {FORMAT:?} (a checkpoint of an older plasma-check: run it again)",
                dir.display()
            ));
        }
        return Err(checksum::damaged(dir, &sum_file, "missing"));
    }
    let bytes = checksum::read_guarded(dir, &file, &sum_file)?;
    let meta: Meta = serde_json::from_slice(&bytes).map_err(|e| {
        format!(
            "--resume {}: corrupted checkpoint (meta.json: {e})",
            dir.display()
        )
    })?;
    if meta.format != FORMAT {
        return Err(format!(
            "--resume {}: format {:?}, expected {FORMAT:?}",
            dir.display(),
            meta.format
        ));
    }
    Ok(meta)
}

/// What a checkpoint must share with the run that resumes it, whichever engine wrote it: one
/// definition, flattened into the native engines' meta and the timely workers' metas.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Identity {
    /// [`model_digest`] of the binary that wrote it.
    pub model: String,
    pub config: Config,
    pub protocol: Protocol,
    pub mutant: Option<String>,
    pub symmetry: bool,
    /// The properties checked, by name, in any order.
    pub properties: Vec<String>,
}

impl Identity {
    /// This binary's run of `setup`, checking `properties`.
    pub fn of<'a>(
        setup: &Setup,
        symmetry: bool,
        properties: impl IntoIterator<Item = &'a str>,
    ) -> Identity {
        Identity {
            model: model_digest(),
            config: setup.config.clone(),
            protocol: setup.protocol.clone(),
            mutant: setup.mutant.map(|m| m.name().to_string()),
            symmetry,
            properties: properties.into_iter().map(str::to_string).collect(),
        }
    }

    /// The first way `self` (a checkpoint's) differs from `ours` (this run's), as "what is X in
    /// the checkpoint, Y here".
    pub fn mismatch(&self, ours: &Identity) -> Option<String> {
        let differ = |what: &str, theirs: String, ours: String| {
            Some(format!("{what} is {theirs} in the checkpoint, {ours} here"))
        };
        if self.model != ours.model {
            return differ(
                "the model version",
                self.model.to_string(),
                format!("{} (another plasma-check binary wrote it)", ours.model),
            );
        }
        if self.config != ours.config {
            let j = |c: &Config| serde_json::to_string(c).unwrap_or_default();
            return differ("the configuration", j(&self.config), j(&ours.config));
        }
        if self.protocol != ours.protocol {
            let j = |p: &Protocol| serde_json::to_string(p).unwrap_or_default();
            return differ("the protocol", j(&self.protocol), j(&ours.protocol));
        }
        if self.mutant != ours.mutant {
            let m = |m: &Option<String>| m.as_deref().unwrap_or("none").to_string();
            return differ("the mutant", m(&self.mutant), m(&ours.mutant));
        }
        if self.symmetry != ours.symmetry {
            let s = |b: bool| b.to_string();
            return differ("--symmetry", s(self.symmetry), s(ours.symmetry));
        }
        let sorted = |p: &[String]| {
            let mut p = p.to_vec();
            p.sort();
            p
        };
        if sorted(&self.properties) != sorted(&ours.properties) {
            return differ(
                "the properties",
                self.properties.join(","),
                ours.properties.join(","),
            );
        }
        None
    }
}

/// Checks that a checkpoint continues this run: the message names the first mismatch.
pub fn check_matches(
    meta: &Meta,
    engine: &str,
    setup: &Setup,
    symmetry: bool,
    properties: &[&str],
) -> Result<(), String> {
    let mismatch = |what: &str| Err(format!("the checkpoint does not match this run: {what}"));
    if meta.engine != engine {
        return mismatch(&format!(
            "the engine is {} in the checkpoint, {engine} here",
            meta.engine
        ));
    }
    let ours = Identity::of(setup, symmetry, properties.iter().copied());
    match meta.run.mismatch(&ours) {
        Some(what) => mismatch(&what),
        None => Ok(()),
    }
}

/// Loads a whole checkpoint (its meta already checked by [`check_matches`]); `expect_states`
/// sizes the visited table as `--expect-states` does. Every file is checked against its
/// checksum, every frontier state against the model's invariants: damage is an error naming
/// the file, never a wrong verdict or a panic later.
pub fn load(
    dir: &Path,
    setup: &Setup,
    expect_states: Option<usize>,
    threads: usize,
) -> Result<Loaded, String> {
    let meta = read_meta(dir)?;
    let d = whole(dir)?;
    let visited = load_visited(dir, &d, &meta, expect_states, threads)?;
    let mut done = Vec::with_capacity(meta.levels);
    for k in 0..meta.levels {
        done.push(load_links(dir, &d, &meta, k)?);
    }
    let frontier = load_frontier(dir, &d, &meta, setup)?;
    Ok(Loaded {
        meta,
        visited,
        done,
        frontier,
    })
}

fn corrupted(dir: &Path, what: String) -> String {
    format!("--resume {}: corrupted checkpoint ({what})", dir.display())
}

/// `visited.bin`, mapped, summed and then inserted into a new table.
fn load_visited(
    dir: &Path,
    d: &Path,
    meta: &Meta,
    expect_states: Option<usize>,
    threads: usize,
) -> Result<Shared, String> {
    let path = d.join("visited.bin");
    let cannot = |e: std::io::Error| {
        format!(
            "--resume {}: cannot read {}: {e}",
            dir.display(),
            path.display()
        )
    };
    let file = File::open(&path).map_err(cannot)?;
    let size = file.metadata().map_err(cannot)?.len();
    let visited = if size == 0 {
        checksum::expect(
            dir,
            &path,
            &checksum::of(&[]),
            meta.files.get("visited.bin"),
        )?;
        Shared::for_states(expect_states.unwrap_or(0))
    } else {
        // SAFETY: a file of the checkpoint, only read while it is mapped.
        let map = unsafe { memmap2::Mmap::map(&file) }.map_err(cannot)?;
        checksum::expect(
            dir,
            &path,
            &checksum::of(&map),
            meta.files.get("visited.bin"),
        )?;
        Shared::from_fingerprints(&map, expect_states.unwrap_or(0), threads)
    }
    .map_err(|e| e.to_string())?;
    if size != meta.unique as u64 * 8 || visited.len() != meta.unique {
        return Err(corrupted(
            dir,
            format!(
                "visited.bin holds {} distinct fingerprints in {size} bytes, meta.json says {}",
                visited.len(),
                meta.unique
            ),
        ));
    }
    Ok(visited)
}

/// `links-K.bin`, checked: its sum, its length, and every parent within level K - 1 (a path
/// to a counterexample follows them).
fn load_links(dir: &Path, d: &Path, meta: &Meta, k: usize) -> Result<Level, String> {
    let name = format!("links-{k}.bin");
    let bytes = read_checked(dir, d, meta, &name)?;
    if k > 0 {
        let parents = meta.sizes.get(k - 1).copied().unwrap_or(0);
        let stray = bytes
            .chunks_exact(6)
            .map(|l| u32::from_le_bytes([l[0], l[1], l[2], l[3]]) as usize)
            .find(|&p| p >= parents);
        if let Some(p) = stray {
            return Err(checksum::damaged(
                dir,
                &d.join(&name),
                &format!("a parent {p} beyond level {}'s {parents} states", k - 1),
            ));
        }
    }
    let level = Level::from_links(bytes).map_err(|e| corrupted(dir, format!("{name}: {e}")))?;
    if meta.sizes.get(k) != Some(&level.len()) {
        return Err(corrupted(
            dir,
            format!(
                "{name} has {} links, level {k} had {:?} states",
                level.len(),
                meta.sizes.get(k)
            ),
        ));
    }
    Ok(level)
}

/// `frontier.bin`, summed in the pass that parses it, then every state decoded and checked.
fn load_frontier(dir: &Path, d: &Path, meta: &Meta, setup: &Setup) -> Result<Level, String> {
    let path = d.join("frontier.bin");
    let cannot = |e: std::io::Error| {
        format!(
            "--resume {}: cannot read {}: {e}",
            dir.display(),
            path.display()
        )
    };
    let f = File::open(&path).map_err(cannot)?;
    let limit = f.metadata().map(|m| m.len()).unwrap_or(0);
    let mut reader = SummedReader::new(BufReader::with_capacity(8 << 20, f));
    let parsed = Level::read_from(&mut reader, limit);
    let sum = reader.finish().map_err(cannot)?;
    // The sum first: a damaged file is named as such, whatever the parser made of it.
    checksum::expect(dir, &path, &sum, meta.files.get("frontier.bin"))?;
    let frontier = parsed.map_err(|e| corrupted(dir, format!("frontier.bin: {e}")))?;
    if frontier.len() != meta.frontier {
        return Err(corrupted(
            dir,
            format!(
                "frontier.bin has {} states, meta.json says {}",
                frontier.len(),
                meta.frontier
            ),
        ));
    }
    let trailer = if meta.run.symmetry {
        crate::search::fingerprints::STORED_HASHES
    } else {
        0
    };
    frontier
        .check_states(|i, record| {
            let cut = record
                .len()
                .checked_sub(trailer)
                .ok_or_else(|| format!("state {i} is shorter than its segment hashes"))?;
            checked_state(setup, &record[..cut])
                .map(|_| ())
                .map_err(|e| format!("state {i}: {e}"))
        })
        .map_err(|e| checksum::damaged(dir, &path, &e))?;
    Ok(frontier)
}

/// A path as the numbers of its actions among the enabled ones, state by state.
pub fn numbers_of(setup: &Setup, path: &[plasma_model::Action]) -> Vec<u16> {
    match plasma_model::replay::numbers_of(setup, path) {
        Ok(numbers) => numbers,
        Err(e) => unreachable!("a found path replays: {e}"),
    }
}

/// The actions a path of action numbers stands for, from the initial state.
pub fn actions_of(setup: &Setup, numbers: &[u16]) -> Vec<plasma_model::Action> {
    match plasma_model::replay::actions_of(setup, numbers) {
        Some(path) => path,
        None => unreachable!("a stored path replays"),
    }
}
