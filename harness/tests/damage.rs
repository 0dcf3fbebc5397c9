//! Damaged checkpoints: a checkpoint file with bytes flipped in its middle is refused on
//! resume with exit 2 and a message naming the file (native BFS: meta.json, visited.bin, a
//! links file, frontier.bin; native DFS: stack.bin; timely: a worker's meta, visited, links and
//! records), and decoding arbitrary bytes never panics: a decoded state either fails
//! `World::validate` or survives everything a search does with it.

use plasma_check::presets::preset;
use plasma_check::search::fingerprints::Fingerprinter;
use plasma_model::{Action, Mutant, Protocol, Setup, World};
use rand::{Rng, SeedableRng};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_plasma-check");

fn run(args: &[&str]) -> (i32, String) {
    let out = Command::new(BIN)
        .arg("check")
        .args(args)
        .arg("--json")
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    (out.status.code().unwrap_or(-1), stderr)
}

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("plasma-damage-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("creates");
    for e in std::fs::read_dir(from).expect("lists").flatten() {
        let target = to.join(e.file_name());
        if e.path().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).expect("copies");
        }
    }
}

/// Inverts 8 bytes (fewer in a shorter file) in the middle of `file`.
fn flip_middle(file: &Path) {
    let mut bytes = std::fs::read(file).expect("reads");
    assert!(!bytes.is_empty(), "{} is empty", file.display());
    let mid = bytes.len() / 2;
    let end = (mid + 8).min(bytes.len());
    for b in &mut bytes[mid.min(end - 1)..end] {
        *b ^= 0xff;
    }
    std::fs::write(file, bytes).expect("writes");
}

/// Resumes a copy of `checkpoint` with `file` (relative to it) damaged: exit 2, naming it.
fn refused(checkpoint: &Path, file: &str, resume: &[&str]) {
    let copy = checkpoint.with_extension("copy");
    let _ = std::fs::remove_dir_all(&copy);
    copy_dir(checkpoint, &copy);
    flip_middle(&copy.join(file));
    let d = copy.display().to_string();
    let mut args = resume.to_vec();
    args.extend_from_slice(&["--resume", &d]);
    let (code, stderr) = run(&args);
    assert_eq!(code, 2, "{file}: {stderr}");
    let named = copy.join(file).display().to_string();
    assert!(stderr.contains(&named), "{file}: {stderr}");
    assert!(stderr.contains("damaged"), "{file}: {stderr}");
    let _ = std::fs::remove_dir_all(&copy);
}

#[test]
fn a_damaged_breadth_first_checkpoint_file_is_refused_naming_it() {
    // A whole run of `tiny` leaves its last checkpoint: 25 levels done, a frontier of 689.
    let dir = temp("bfs");
    let d = dir.display().to_string();
    let args = ["--config", "tiny", "--threads", "1"];
    let mut first = args.to_vec();
    first.extend_from_slice(&["--checkpoint", &d, "--checkpoint-every", "0"]);
    assert_eq!(run(&first).0, 0);
    let resume = ["--threads", "1"];
    let intact = dir.with_extension("intact");
    copy_dir(&dir, &intact);
    let i = intact.display().to_string();
    let (code, stderr) = run(&["--threads", "1", "--resume", &i]);
    assert_eq!(code, 0, "the undamaged checkpoint resumes: {stderr}");
    for file in [
        "current/meta.json",
        "current/meta.sum",
        "current/visited.bin",
        "current/links-12.bin",
        "current/frontier.bin",
    ] {
        refused(&dir, file, &resume);
    }
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&intact);
}

#[test]
fn a_damaged_depth_first_checkpoint_file_is_refused_naming_it() {
    let dir = temp("dfs");
    let d = dir.display().to_string();
    let args = ["--config", "tiny", "--strategy", "dfs"];
    let mut first = args.to_vec();
    first.extend_from_slice(&["--checkpoint", &d, "--checkpoint-every", "0"]);
    assert_eq!(run(&first).0, 0);
    for file in [
        "current/stack.bin",
        "current/visited.bin",
        "current/meta.json",
    ] {
        refused(&dir, file, &[]);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_damaged_timely_worker_share_is_refused_naming_it() {
    let dir = temp("timely");
    let d = dir.display().to_string();
    let args = ["--config", "tiny", "--engine", "timely", "-w", "2"];
    let mut first = args.to_vec();
    first.extend_from_slice(&["--checkpoint", &d, "--checkpoint-every", "0"]);
    assert_eq!(run(&first).0, 0);
    // The latest level both workers wrote.
    let latest = (0..2)
        .map(|w| {
            std::fs::read_dir(dir.join(format!("worker-{w}")))
                .expect("lists")
                .flatten()
                .filter_map(|e| {
                    let name = e.file_name().to_str()?.to_string();
                    name.strip_prefix("meta-")?
                        .strip_suffix(".json")?
                        .parse::<u32>()
                        .ok()
                })
                .max()
                .expect("a level")
        })
        .min()
        .expect("two workers");
    for file in [
        format!("worker-1/meta-{latest}.json"),
        "worker-0/visited.bin".to_string(),
        "worker-1/links.bin".to_string(),
        format!("worker-1/records-{latest}.bin"),
    ] {
        refused(&dir, &file, &args);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The states within `limit` of the initial state, breadth first.
fn reachable(setup: &Setup, limit: usize) -> Vec<World> {
    let init = World::init(setup);
    let mut seen: HashSet<Vec<u8>> = HashSet::from([init.encode()]);
    let mut all = vec![init];
    let mut at = 0;
    let mut actions = Vec::new();
    while at < all.len() && all.len() < limit {
        actions.clear();
        all[at].enabled(setup, &mut actions);
        for a in &actions {
            if let Ok(s) = all[at].step(setup, a) {
                if seen.insert(s.encode()) {
                    all.push(s);
                }
            }
        }
        at += 1;
    }
    all
}

/// Everything a search does with a state: encode it, fingerprint it (under symmetry too),
/// list and take its actions, check every property; and the same for its successors, `depth`
/// levels down (a resumed search validates the states it loads, not their successors).
fn exercise(setup: &Setup, w: &World, depth: usize) {
    assert_eq!(World::decode(&w.encode()).as_ref(), Some(w));
    Fingerprinter::new(setup, false).of(w);
    Fingerprinter::new(setup, true).of(w);
    let mut actions: Vec<Action> = Vec::new();
    w.enabled(setup, &mut actions);
    for a in &actions {
        let Ok(next) = w.step(setup, a) else {
            continue;
        };
        if depth > 0 {
            exercise(setup, &next, depth - 1);
        }
    }
    let mut healed = None;
    for p in plasma_properties::all() {
        if (p.applies)(&setup.config) {
            p.check_with(setup, w, &mut healed);
        }
    }
}

fn setups() -> Vec<Setup> {
    let mut out = Vec::new();
    for name in [
        "tiny",
        "small",
        "auth",
        "devices",
        "user-switch",
        "interplay-faults",
        "wide-faults",
    ] {
        let config = preset(name).expect("a preset");
        for protocol in ["hardened", "zero", "replicache", "documented"] {
            let protocol = Protocol::from_name(protocol).expect("a protocol");
            out.push(Setup::new(config.clone(), protocol));
        }
    }
    for m in Mutant::ALL {
        let config = preset("auth").expect("a preset");
        out.push(Setup::mutated(config, Protocol::hardened(), Some(m)));
    }
    out
}

#[test]
fn every_reachable_state_is_valid() {
    for setup in setups() {
        for w in reachable(&setup, 20_000) {
            if let Err(e) = w.validate(&setup) {
                panic!("{e}: {w:?} under {:?}", setup.protocol.name());
            }
        }
    }
}

#[test]
fn decoding_damaged_or_random_bytes_never_panics() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(17);
    let (mut decoded, mut valid) = (0, 0);
    for setup in setups() {
        let states = reachable(&setup, 2_000);
        let mut try_bytes = |bytes: &[u8]| {
            let Some(w) = World::decode(bytes) else {
                return;
            };
            decoded += 1;
            if w.validate(&setup).is_err() {
                return;
            }
            valid += 1;
            let caught =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| exercise(&setup, &w, 2)));
            assert!(
                caught.is_ok(),
                "{bytes:?} decodes to {w:?}, valid, and panics"
            );
        };
        for _ in 0..200 {
            let len = rng.gen_range(0..120);
            let bytes: Vec<u8> = (0..len).map(|_| rng.gen()).collect();
            try_bytes(&bytes);
        }
        for _ in 0..1_000 {
            let mut bytes = states[rng.gen_range(0..states.len())].encode();
            for _ in 0..rng.gen_range(1..4) {
                let at = rng.gen_range(0..bytes.len());
                if rng.gen_bool(0.5) {
                    bytes[at] ^= 1 << rng.gen_range(0..8);
                } else {
                    bytes[at] = rng.gen();
                }
            }
            try_bytes(&bytes);
        }
    }
    assert!(
        decoded > 10_000 && valid > 1_000,
        "{decoded} decoded, {valid} valid"
    );
}

/// One checkpoint identity for every engine: properties in another order are the same run,
/// and the first difference is named with both values.
#[test]
fn checkpoint_identity_ignores_property_order_and_names_a_difference() {
    use plasma_check::search::checkpoint::Identity;
    let setup =
        plasma_model::Setup::hardened(plasma_check::presets::preset("tiny").expect("preset"));
    let id = |properties: [&str; 2], symmetry| Identity::of(&setup, symmetry, properties);
    let (ab, ba) = (["a", "b"], ["b", "a"]);
    assert_eq!(id(ab, false).mismatch(&id(ba, false)), None);
    let what = id(ab, false).mismatch(&id(ab, true)).expect("a mismatch");
    assert_eq!(what, "--symmetry is false in the checkpoint, true here");
}
