//! What every subcommand shares: reading a configuration, protocol and mutant from the command
//! line, printing text or JSON, and exit codes.

use crate::exit;
use plasma_model::{Mutant, Protocol, Setup};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

/// The flag Ctrl-C sets (see [`catch_interrupt`]).
static SIGINT: OnceLock<Arc<AtomicBool>> = OnceLock::new();

/// Makes Ctrl-C (SIGINT) set the returned flag, which a check's options carry: the search
/// stops with its partial report, NOT VERIFIED. The handler only stores to an atomic and puts
/// back the default action, both async-signal-safe, so a second Ctrl-C ends the process.
pub fn catch_interrupt() -> Arc<AtomicBool> {
    extern "C" fn first(_: libc::c_int) {
        if let Some(flag) = SIGINT.get() {
            flag.store(true, Ordering::Relaxed);
        }
        // SAFETY: `signal` is async-signal-safe; SIG_DFL is a valid disposition.
        unsafe {
            libc::signal(libc::SIGINT, libc::SIG_DFL);
        }
    }
    let flag = Arc::clone(SIGINT.get_or_init(|| Arc::new(AtomicBool::new(false))));
    // SAFETY: the handler is a plain `extern "C"` function that does only the above.
    unsafe {
        libc::signal(libc::SIGINT, first as *const () as libc::sighandler_t);
    }
    flag
}

pub fn bad_input(msg: &str) -> ExitCode {
    eprintln!("plasma-check: {msg}");
    ExitCode::from(exit::BAD_INPUT as u8)
}

pub fn code(c: i32) -> ExitCode {
    ExitCode::from(c as u8)
}

pub fn load_protocol(spec: &str) -> Result<Protocol, String> {
    if let Some(p) = Protocol::from_name(spec) {
        return Ok(p);
    }
    let path = Path::new(spec);
    if !path.exists() {
        return Err(format!(
            "--protocol {spec}: not hardened, documented, replicache or zero, and no such file"
        ));
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("--protocol {spec}: cannot read: {e}"))?;
    serde_json::from_str(&text)
        .map_err(|e| format!("--protocol {spec}: not a protocol object: {e}"))
}

pub fn load_mutant(name: &str) -> Result<Mutant, String> {
    Mutant::from_name(name).ok_or_else(|| {
        format!(
            "--mutant {name}: unknown mutant (known: {})",
            Mutant::ALL.map(|m| m.name()).join(", ")
        )
    })
}

/// The setup a command runs: a configuration, a protocol spec, and an optional mutant name.
pub fn load_setup(
    config: Result<plasma_model::Config, String>,
    protocol: &str,
    mutant: Option<&str>,
) -> Result<Setup, String> {
    let config = config?;
    let protocol = load_protocol(protocol)?;
    let mutant = mutant.map(load_mutant).transpose()?;
    Ok(Setup::mutated(config, protocol, mutant))
}

/// Prints `value` as JSON, or the text form.
pub fn emit<T: serde::Serialize>(
    json: bool,
    value: &T,
    text: impl FnOnce() -> String,
) -> Option<ExitCode> {
    if json {
        match serde_json::to_string_pretty(value) {
            Ok(j) => println!("{j}"),
            Err(e) => return Some(bad_input(&format!("cannot encode report: {e}"))),
        }
    } else {
        print!("{}", text());
    }
    None
}

pub fn write_file(dir: &Path, name: &str, text: &str) -> Result<PathBuf, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let path = dir.join(name);
    std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(path)
}
