//! `plasma-check explore`: stateright's explorer web UI over the model, with a sequence diagram
//! of each path.

use crate::cli::{bad_input, code, load_setup};
use crate::exit;
use crate::presets;
use crate::trace::Trace;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct ExploreArgs {
    /// A preset (tiny, small, default, auth, devices, user-switch, interplay, interplay-faults,
    /// tabs3, wide, wide-faults, big) or a JSON file with a configuration object.
    #[arg(long, default_value = "tiny")]
    config: String,
    #[arg(long, default_value = "hardened")]
    protocol: String,
    #[arg(long)]
    mutant: Option<String>,
    /// Address to serve on (loopback unless --allow-remote).
    #[arg(long, default_value = "127.0.0.1:3000")]
    addr: String,
    /// Allow a non-loopback address.
    #[arg(long)]
    allow_remote: bool,
    /// Print the URL that opens this trace's last step (the trace's setup is used).
    #[arg(long, value_name = "FILE")]
    trace: Option<PathBuf>,
}

pub fn run_explore(args: ExploreArgs) -> ExitCode {
    use stateright::Model;
    let (setup, path) = match &args.trace {
        Some(file) => {
            let loaded = std::fs::read_to_string(file)
                .map_err(|e| format!("{}: cannot read: {e}", file.display()))
                .and_then(|t| Trace::parse(&t).map_err(|e| format!("{}: {e}", file.display())))
                .and_then(|t| t.run().map_err(|e| format!("{}: {e}", file.display())));
            match loaded {
                Ok(run) => (run.setup.clone(), Some(run)),
                Err(e) => return bad_input(&e),
            }
        }
        None => match load_setup(
            presets::load(&args.config),
            &args.protocol,
            args.mutant.as_deref(),
        ) {
            Ok(setup) => (setup, None),
            Err(e) => return bad_input(&e),
        },
    };
    let addr: std::net::SocketAddr = match args.addr.parse() {
        Ok(a) => a,
        Err(e) => return bad_input(&format!("--addr {}: not an address ({e})", args.addr)),
    };
    if !addr.ip().is_loopback() && !args.allow_remote {
        return bad_input(&format!(
            "--addr {addr}: not a loopback address; pass --allow-remote to serve beyond this machine"
        ));
    }
    // Bind once ourselves so that "address in use" is a clear error, not a panic inside the
    // explorer. The listener is dropped just before the explorer binds the same address.
    match std::net::TcpListener::bind(addr) {
        Ok(l) => drop(l),
        Err(e) => return bad_input(&format!("--addr {addr}: cannot listen: {e}")),
    }
    let model = crate::search::stateright_model::PlasmaModel::new(setup);
    let url = format!("http://{addr}/");
    println!("explorer: {url}");
    if let Some(run) = &path {
        // The explorer addresses a path by the index of each action among those enabled.
        let mut indices = vec![0usize];
        let mut ok = true;
        for (i, a) in run.actions.iter().enumerate() {
            let mut enabled = Vec::new();
            model.actions(&run.worlds[i], &mut enabled);
            match enabled.iter().position(|e| e == a) {
                Some(k) => indices.push(k),
                None => {
                    eprintln!(
                        "step {} is outside the search bounds (max_in_flight, max_resets), so the explorer cannot open the path past step {i}",
                        i + 1
                    );
                    ok = false;
                    break;
                }
            }
        }
        let steps: Vec<String> = indices.iter().map(usize::to_string).collect();
        let label = if ok { "trace" } else { "trace (prefix)" };
        println!("{label}: {url}#/steps/{}", steps.join("/"));
    }
    let _ = model.checker().serve(addr);
    code(exit::VERIFIED)
}
