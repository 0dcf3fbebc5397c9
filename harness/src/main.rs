//! `plasma-check`: the command line. It parses arguments and calls the drivers.

use clap::{Parser, Subcommand};
use plasma_check::check::{self, CheckOptions, Engine, Strategy};
use plasma_check::trace::{protocol_by_name, Trace};
use plasma_check::{exit, hunt, presets, replay, simulate};
use plasma_model::{Mutant, Protocol, Setup};
use std::path::{Path, PathBuf};
use std::process::{Command as Process, ExitCode};
use std::time::Duration;

#[derive(Parser)]
#[command(
    name = "plasma-check",
    version,
    about = "Model checker for the plasma sync protocol",
    after_help = "Exit codes: 0 verified, 1 a property is violated (or a mutant survived), 2 bad arguments or input, 3 not verified (stopped early, or a sometimes-property not reached).\nWithout a command, runs `check` (its options may be given directly).",
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    check: CheckArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Exhaustively check every reachable state of a configuration.
    Check(CheckArgs),
    /// Re-run a plasma-trace/1 file step by step and name every property that fails.
    Replay(ReplayArgs),
    /// Hunt every mutant and every documented flaw; each must be caught.
    Mutants(MutantsArgs),
    /// Seeded random exploration of large configurations; a failure is shrunk to a trace.
    Simulate(SimulateArgs),
    /// Serve stateright's explorer web UI with sequence diagrams of each path.
    Explore(ExploreArgs),
    /// Benchmark the presets: states/s and peak memory per unique state, BFS and DFS, 1 and 2 threads.
    Bench(BenchArgs),
    /// Run traces against the model's replicache profile and the real Replicache client; report
    /// the first step where their client-visible states differ.
    Conform(ConformArgs),
}

#[derive(clap::Args)]
struct ConformArgs {
    /// A folder of traces (*.json) and snapshots (*.snap) to run [default: the repository's
    /// snapshots/]; `--traces none` runs none.
    #[arg(long, value_name = "DIR")]
    traces: Option<String>,
    /// Random traces to draw under the replicache profile.
    #[arg(long, default_value_t = 0)]
    random: u64,
    /// The seed random traces derive from (default: drawn from the clock, and printed).
    #[arg(long)]
    seed: Option<u64>,
    /// Steps per random trace.
    #[arg(long, default_value_t = 40)]
    steps: usize,
    /// Run only random case N of the seed (to rerun one).
    #[arg(long, value_name = "N")]
    case: Option<u64>,
    /// Write the trace of every trace that diverged, as run under the replicache profile, to DIR.
    #[arg(long, value_name = "DIR")]
    trace_out: Option<PathBuf>,
    /// The model's protocol: replicache (what the real client does), or another one (hardened,
    /// documented, a JSON file of switches) to see where it differs from the real client.
    #[arg(long, default_value = "replicache")]
    protocol: String,
    /// The node executable.
    #[arg(long, default_value = "node")]
    node: String,
    /// The adapter's folder [default: harness/conformance of this repository].
    #[arg(long, value_name = "DIR")]
    adapter_dir: Option<PathBuf>,
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
struct BenchArgs {
    #[arg(long, value_delimiter = ',', default_value = "tiny,small,default")]
    presets: Vec<String>,
    /// bfs, dfs, dfs-sym (depth first with symmetry reduction), native, native-sym (our own
    /// single-threaded DFS), native-spin (native, checking only the nine properties SPIN's
    /// port asserts).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "bfs,dfs,dfs-sym,native,native-sym"
    )]
    strategies: Vec<String>,
    #[arg(long, value_delimiter = ',', default_value = "1,2")]
    threads: Vec<usize>,
    /// Also run SPIN on the Promela port (harness/spin) of each preset it has bounds for, and
    /// compare it with our single-threaded DFS (needs `spin` and `gcc`).
    #[arg(long)]
    spin: bool,
    /// Runs every measurement this many times and reports the fastest (each run must find the
    /// same states): a shared machine only ever makes a run slower.
    #[arg(long, default_value_t = 1)]
    repeat: usize,
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
struct SimulateArgs {
    /// The seed everything derives from (default: drawn from the clock, and printed).
    #[arg(long)]
    seed: Option<u64>,
    #[arg(long, default_value_t = 100)]
    cases: u64,
    /// Steps per case.
    #[arg(long, default_value_t = 200)]
    steps: usize,
    /// Draw a fresh action mix per case (swarm testing).
    #[arg(long)]
    swarm: bool,
    /// A preset, a JSON configuration file, or `large` (4 installs, 6 tabs, 5 rows, 40 mutations).
    #[arg(long, default_value = "large")]
    config: String,
    #[arg(long, default_value = "hardened")]
    protocol: String,
    #[arg(long)]
    mutant: Option<String>,
    /// Where a shrunk failing trace is written.
    #[arg(long, value_name = "DIR", default_value = "target/plasma-check-traces")]
    trace_out: PathBuf,
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
struct CheckArgs {
    /// A preset (tiny, small, default, auth, tabs3, wide) or a JSON file with a configuration object.
    #[arg(long, default_value = "default")]
    config: String,
    /// hardened, documented, replicache, or a JSON file with an object of switches.
    #[arg(long, default_value = "hardened")]
    protocol: String,
    /// Check the hardened protocol with one deliberate bug (see `plasma-check mutants`).
    #[arg(long)]
    mutant: Option<String>,
    #[arg(long, value_enum, default_value_t = Strategy::Bfs)]
    strategy: Strategy,
    /// Worker threads (default: all cores; counterexamples are shortest with 1).
    #[arg(long)]
    threads: Option<usize>,
    /// Stop after this many generated states (the run is then NOT verified).
    #[arg(long)]
    max_states: Option<usize>,
    /// Stop after this many seconds (the run is then NOT verified).
    #[arg(long)]
    timeout: Option<u64>,
    /// Write each counterexample as DIR/<property>.json (plasma-trace/1).
    #[arg(long, value_name = "DIR")]
    trace_out: Option<PathBuf>,
    /// Symmetry reduction: store one state per orbit of tab/installation/clientID renamings
    /// (needs --strategy dfs).
    #[arg(long)]
    symmetry: bool,
    /// Check only these properties (comma-separated names; default: every applicable one).
    #[arg(long, value_delimiter = ',')]
    properties: Option<Vec<String>>,
    /// stateright (default), or native: our own lean single-threaded DFS (needs --strategy dfs).
    #[arg(long, value_enum, default_value_t = Engine::Stateright)]
    engine: Engine,
    /// Print one JSON report on stdout instead of the table.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
struct ReplayArgs {
    /// The trace file.
    trace: PathBuf,
    #[arg(long)]
    json: bool,
    /// Print a Mermaid sequence diagram of the trace instead of the steps.
    #[arg(long)]
    mermaid: bool,
    /// Also write the sequence diagram as SVG to FILE.
    #[arg(long, value_name = "FILE")]
    svg: Option<PathBuf>,
}

#[derive(clap::Args)]
struct ExploreArgs {
    /// A preset (tiny, small, default, auth, tabs3, wide) or a JSON file with a configuration object.
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

#[derive(clap::Args)]
struct MutantsArgs {
    /// Only these targets (mutant names or documented switches); default all.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Write each shortest counterexample as DIR/<kind>-<target>.json.
    #[arg(long, value_name = "DIR")]
    trace_out: Option<PathBuf>,
    /// Also measure how fast `simulate --swarm` finds each target (seeds 1..=5 by default).
    #[arg(long)]
    random: bool,
    /// Seeds for --random.
    #[arg(long, value_delimiter = ',', default_value = "1,2,3,4,5")]
    seeds: Vec<u64>,
    /// Case budget per seed for --random.
    #[arg(long, default_value_t = 10_000)]
    budget: u64,
    #[arg(long)]
    json: bool,
}

fn bad_input(msg: &str) -> ExitCode {
    eprintln!("plasma-check: {msg}");
    ExitCode::from(exit::BAD_INPUT as u8)
}

fn code(c: i32) -> ExitCode {
    ExitCode::from(c as u8)
}

fn load_protocol(spec: &str) -> Result<Protocol, String> {
    if let Some(p) = protocol_by_name(spec) {
        return Ok(p);
    }
    let path = Path::new(spec);
    if !path.exists() {
        return Err(format!(
            "--protocol {spec}: not hardened, documented or replicache, and no such file"
        ));
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("--protocol {spec}: cannot read: {e}"))?;
    serde_json::from_str(&text)
        .map_err(|e| format!("--protocol {spec}: not a protocol object: {e}"))
}

fn load_mutant(name: &str) -> Result<Mutant, String> {
    Mutant::from_name(name).ok_or_else(|| {
        format!(
            "--mutant {name}: unknown mutant (known: {})",
            Mutant::ALL.map(|m| m.name()).join(", ")
        )
    })
}

/// The setup a command runs: a configuration, a protocol spec, and an optional mutant name.
fn load_setup(
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
fn emit<T: serde::Serialize>(
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

fn write_file(dir: &Path, name: &str, text: &str) -> Result<PathBuf, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let path = dir.join(name);
    std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(path)
}

fn run_check(args: CheckArgs) -> ExitCode {
    let setup = match load_setup(
        presets::load(&args.config),
        &args.protocol,
        args.mutant.as_deref(),
    ) {
        Ok(s) => s,
        Err(e) => return bad_input(&e),
    };
    if args.threads == Some(0) {
        return bad_input("--threads must be at least 1");
    }
    let mut only = None;
    if let Some(names) = &args.properties {
        let mut picked = Vec::new();
        for n in names {
            match plasma_properties::by_name(n) {
                Some(p) if (p.applies)(&setup.config) => picked.push(p.name),
                Some(_) => {
                    return bad_input(&format!(
                        "--properties {n}: does not apply to this configuration"
                    ))
                }
                None => {
                    let all: Vec<&str> = plasma_properties::all().iter().map(|p| p.name).collect();
                    return bad_input(&format!(
                        "--properties {n}: no such property (there are: {})",
                        all.join(", ")
                    ));
                }
            }
        }
        if picked.is_empty() {
            return bad_input("--properties: name at least one property");
        }
        only = Some(picked);
    }
    if args.engine == Engine::Native {
        if args.strategy != Strategy::Dfs {
            return bad_input("--engine native searches depth first: add --strategy dfs");
        }
        if args.threads.is_some_and(|t| t > 1) {
            return bad_input("--engine native is single-threaded: drop --threads or use 1");
        }
    }
    if args.symmetry && args.strategy != Strategy::Dfs {
        return bad_input(
            "--symmetry needs --strategy dfs (stateright reduces symmetry only depth first)",
        );
    }
    let threads = args.threads.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    let opts = CheckOptions {
        strategy: args.strategy,
        threads,
        max_states: args.max_states,
        timeout: args.timeout.map(Duration::from_secs),
        progress: true,
        stop_at_first_violation: false,
        stop_at: None,
        symmetry: args.symmetry,
        engine: args.engine,
        properties: only,
    };
    let report = check::run(&setup, &opts);
    if let Some(dir) = &args.trace_out {
        for p in report.violated() {
            let Some(path) = &p.path else { continue };
            let trace = match hunt::counterexample_trace(&setup, path, p.name) {
                Ok(t) => t,
                Err(e) => return bad_input(&format!("cannot encode the trace of {}: {e}", p.name)),
            };
            match write_file(dir, &format!("{}.json", p.name), &trace.to_json()) {
                Ok(f) => eprintln!("wrote {}", f.display()),
                Err(e) => return bad_input(&e),
            }
        }
    }
    if let Some(failed) = emit(args.json, &report, || report.to_table()) {
        return failed;
    }
    code(report.exit_code())
}

fn run_replay(args: ReplayArgs) -> ExitCode {
    let text = match std::fs::read_to_string(&args.trace) {
        Ok(t) => t,
        Err(e) => return bad_input(&format!("{}: cannot read: {e}", args.trace.display())),
    };
    let parsed = Trace::parse(&text).and_then(|t| Ok((replay::replay(&t)?, t.run()?)));
    let (report, run) = match parsed {
        Ok(r) => r,
        Err(e) => return bad_input(&format!("{}: {e}", args.trace.display())),
    };
    if let Some(file) = &args.svg {
        if let Err(e) = std::fs::write(file, run.diagram().svg()) {
            return bad_input(&format!("cannot write {}: {e}", file.display()));
        }
        eprintln!("wrote {}", file.display());
    }
    if args.mermaid {
        print!("{}", run.diagram().mermaid());
        return code(report.exit_code());
    }
    if let Some(failed) = emit(args.json, &report, || report.to_text()) {
        return failed;
    }
    code(report.exit_code())
}

fn run_mutants(args: MutantsArgs) -> ExitCode {
    let all = hunt::targets();
    for name in &args.only {
        if !all.iter().any(|t| t.name == name) {
            let names: Vec<_> = all.iter().map(|t| t.name).collect();
            return bad_input(&format!(
                "--only {name}: unknown target (known: {})",
                names.join(", ")
            ));
        }
    }
    let targets: Vec<_> = all
        .into_iter()
        .filter(|t| args.only.is_empty() || args.only.iter().any(|n| n == t.name))
        .collect();
    let mut catches = Vec::new();
    for t in &targets {
        if !args.json {
            eprintln!("hunting {} {} ...", t.kind, t.name);
        }
        let mut catch = hunt::hunt(t);
        if args.random {
            catch.random = Some(hunt::random_power(t, &args.seeds, args.budget));
        }
        catches.push(catch);
    }
    if let Some(dir) = &args.trace_out {
        for c in &catches {
            if let Some(trace) = c.trace() {
                if let Err(e) = write_file(
                    dir,
                    &format!("{}-{}.json", c.kind, c.target),
                    &trace.to_json(),
                ) {
                    return bad_input(&e);
                }
            }
        }
    }
    if let Some(failed) = emit(args.json, &catches, || hunt::table(&catches)) {
        return failed;
    }
    code(hunt::exit_code(&catches))
}

fn run_simulate(args: SimulateArgs) -> ExitCode {
    let config = if args.config == "large" {
        Ok(simulate::large_config())
    } else {
        presets::load(&args.config)
    };
    let setup = match load_setup(config, &args.protocol, args.mutant.as_deref()) {
        Ok(s) => s,
        Err(e) => return bad_input(&e),
    };
    let seed = args.seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0)
    });
    let mut rerun = format!(
        "plasma-check simulate --seed {seed} --cases {} --steps {} --config {} --protocol {}",
        args.cases, args.steps, args.config, args.protocol
    );
    if args.swarm {
        rerun.push_str(" --swarm");
    }
    if let Some(m) = &args.mutant {
        rerun.push_str(&format!(" --mutant {m}"));
    }
    eprintln!("seed {seed}");
    let bar = indicatif::ProgressBar::new(args.cases);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} cases, {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let start = std::time::Instant::now();
    let opts = simulate::SimOptions {
        seed,
        cases: args.cases,
        steps: args.steps,
        swarm: args.swarm,
    };
    let report = simulate::simulate(&setup, &opts, |cases, steps| {
        bar.set_position(cases);
        let rate = steps as f64 / start.elapsed().as_secs_f64().max(1e-9);
        bar.set_message(format!("{steps} steps, {rate:.0} steps/s"));
    });
    bar.finish_and_clear();
    let mut trace_path = None;
    if let Some(f) = &report.failure {
        if let Some(trace) = &f.trace {
            let name = format!("sim-{seed}-case{}.json", f.case);
            match write_file(&args.trace_out, &name, &trace.to_json()) {
                Ok(p) => trace_path = Some(p),
                Err(e) => return bad_input(&e),
            }
        }
    }
    if args.json {
        let mut v = match serde_json::to_value(&report) {
            Ok(v) => v,
            Err(e) => return bad_input(&format!("cannot encode report: {e}")),
        };
        v["rerun"] = serde_json::Value::String(rerun);
        if let Some(p) = &trace_path {
            v["trace"] = serde_json::Value::String(p.display().to_string());
        }
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
    } else {
        println!(
            "seed {seed}: {} cases, {} steps in {:.1}s ({:.0} steps/s)",
            report.cases_run, report.steps_run, report.seconds, report.steps_per_second
        );
        match &report.failure {
            None => println!("no property failed"),
            Some(f) => {
                println!(
                    "case {} fails {} after {} steps; shrunk to {} steps",
                    f.case, f.property, f.steps_found, f.steps_shrunk
                );
                if let Some(p) = &trace_path {
                    println!("trace:  {}", p.display());
                    println!("replay: plasma-check replay {}", p.display());
                }
                println!("rerun:  {rerun}");
            }
        }
    }
    code(if report.failure.is_some() {
        exit::VIOLATED
    } else {
        exit::VERIFIED
    })
}

fn run_explore(args: ExploreArgs) -> ExitCode {
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
    let model = plasma_check::stateright_model::PlasmaModel::new(setup);
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

fn run_bench(args: BenchArgs) -> ExitCode {
    for p in &args.presets {
        if presets::preset(p).is_none() {
            return bad_input(&format!(
                "--presets {p}: not a preset ({})",
                presets::NAMES.join(", ")
            ));
        }
    }
    for s in &args.strategies {
        if !plasma_check::bench::STRATEGIES.contains(&s.as_str()) {
            return bad_input(&format!(
                "--strategies {s}: expected one of {}",
                plasma_check::bench::STRATEGIES.join(", ")
            ));
        }
    }
    if args.threads.contains(&0) {
        return bad_input("--threads must be at least 1");
    }
    if args.repeat == 0 {
        return bad_input("--repeat must be at least 1");
    }
    let exe = match std::env::current_exe() {
        Ok(e) => e,
        Err(e) => return bad_input(&format!("cannot find this executable: {e}")),
    };
    if args.spin {
        let found = Process::new("spin")
            .arg("-V")
            .output()
            .is_ok_and(|o| o.status.success());
        if !found {
            return bad_input("--spin: SPIN is not installed (Debian: apt-get install spin)");
        }
    }
    let mut rows = Vec::new();
    let mut spin = Vec::new();
    for p in &args.presets {
        for s in &args.strategies {
            for &t in &args.threads {
                if plasma_check::bench::is_native(s) && t != 1 {
                    continue; // single-threaded
                }
                eprintln!("bench: {p} {s} x{t} ...");
                match plasma_check::bench::run_best(&exe, p, s, t, args.repeat) {
                    Ok(r) => rows.push(r),
                    Err(e) => return bad_input(&e),
                }
            }
        }
        if args.spin && plasma_check::bench::SPIN_PRESETS.contains(&p.as_str()) {
            eprintln!("bench: {p} SPIN ...");
            match plasma_check::bench::run_spin_best(p, args.repeat) {
                Ok(r) => spin.push(r),
                Err(e) => return bad_input(&e),
            }
        }
    }
    // SPIN searches depth first, single-threaded, without symmetry: compare it with the native
    // engine's rows, checking every property and checking SPIN's nine.
    let mut comparisons = Vec::new();
    for s in &spin {
        for want in ["native", "native-spin"] {
            let ours = rows
                .iter()
                .find(|r| r.preset == s.preset && r.strategy == want && r.threads == 1);
            let ours = match ours {
                Some(r) => r.clone(),
                None => {
                    eprintln!(
                        "bench: {} {want} (for the comparison with SPIN) ...",
                        s.preset
                    );
                    match plasma_check::bench::run_best(&exe, &s.preset, want, 1, args.repeat) {
                        Ok(r) => r,
                        Err(e) => return bad_input(&e),
                    }
                }
            };
            comparisons.push(plasma_check::bench::compare(&ours, s));
        }
    }
    let report = serde_json::json!({
        "repeat": args.repeat,
        "rows": rows,
        "spin": spin,
        "comparisons": comparisons,
    });
    let text = || {
        let mut t = plasma_check::bench::table(&rows);
        if !spin.is_empty() {
            t.push_str(&plasma_check::bench::spin_table(&spin, &comparisons));
        }
        t
    };
    if let Some(failed) = emit(args.json, &report, text) {
        return failed;
    }
    let spin_ok = spin.iter().all(|s| s.errors == 0) && comparisons.iter().all(|c| c.matched);
    code(if rows.iter().all(|r| r.verified) && spin_ok {
        exit::VERIFIED
    } else {
        exit::NOT_VERIFIED
    })
}

fn run_conform(args: ConformArgs) -> ExitCode {
    use plasma_check::conform;
    let seed = args.seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64 % 1_000_000)
            .unwrap_or(1)
    });
    let traces = match args.traces.as_deref() {
        None => Some(conform::default_traces_dir()),
        Some("none") => None,
        Some(dir) => Some(PathBuf::from(dir)),
    };
    if let Some(dir) = &traces {
        if !dir.is_dir() {
            return bad_input(&format!("--traces {}: not a folder", dir.display()));
        }
    }
    let protocol = match load_protocol(&args.protocol) {
        Ok(p) => p,
        Err(e) => return bad_input(&e),
    };
    let opts = conform::Options {
        protocol,
        node: args.node,
        adapter_dir: args
            .adapter_dir
            .unwrap_or_else(conform::default_adapter_dir),
        traces,
        random: args.random,
        seed,
        steps: args.steps,
        case: args.case,
    };
    let node = match conform::check_environment(&opts) {
        Ok(v) => v,
        Err(e) => return bad_input(&e),
    };
    eprintln!("seed {seed} (node {node})");
    let start = std::time::Instant::now();
    let mut done = 0;
    let report = conform::run(&opts, |r| {
        done += 1;
        if !args.json && !matches!(r.outcome, conform::Outcome::Agreed) {
            eprintln!("{}: {:?}", r.name, r.outcome);
        }
    });
    let report = match report {
        Ok(r) => r,
        Err(e) => return bad_input(&e),
    };
    eprintln!("{done} traces in {:.1}s", start.elapsed().as_secs_f64());
    if let Some(dir) = &args.trace_out {
        for r in &report.results {
            if let (conform::Outcome::Diverged { .. }, Some(t)) = (&r.outcome, &r.profile_trace) {
                match write_file(dir, &format!("conform-{}.json", r.name), &t.to_json()) {
                    Ok(p) => eprintln!("wrote {}", p.display()),
                    Err(e) => return bad_input(&e),
                }
            }
        }
    }
    if let Some(failed) = emit(args.json, &report, || report.to_text()) {
        return failed;
    }
    code(report.exit_code())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        None => run_check(cli.check),
        Some(Command::Check(args)) => run_check(args),
        Some(Command::Replay(args)) => run_replay(args),
        Some(Command::Mutants(args)) => run_mutants(args),
        Some(Command::Simulate(args)) => run_simulate(args),
        Some(Command::Explore(args)) => run_explore(args),
        Some(Command::Bench(args)) => run_bench(args),
        Some(Command::Conform(args)) => run_conform(args),
    }
}
