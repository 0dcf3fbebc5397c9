//! The explorer in a real browser: start `plasma-check explore` on a free loopback port, render
//! it in headless Chromium, and assert on the DOM. Needs Debian's `chromium` (`.ci/run` installs
//! it); without it the test is skipped with a message, unless PLASMA_REQUIRE_BROWSER is set
//! (CI sets it), in which case it fails.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Kills the explorer when the test ends, however it ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn chromium() -> Option<PathBuf> {
    let candidates = [
        std::env::var("CHROMIUM").ok(),
        Some("/usr/bin/chromium".to_string()),
        Some("/usr/bin/chromium-browser".to_string()),
    ];
    candidates
        .into_iter()
        .flatten()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

fn http(port: u16, method: &str, path: &str) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    out.split_once("\r\n\r\n").map(|(_, body)| body.to_string())
}

fn browser(chrome: &Path, profile: &Path, extra: &[&str], url: &str) -> String {
    let out = Command::new(chrome)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--virtual-time-budget=15000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(url)
        .output()
        .expect("chromium runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn explorer_renders_model_properties_and_counterexample_svg() {
    let Some(chrome) = chromium() else {
        assert!(
            std::env::var_os("PLASMA_REQUIRE_BROWSER").is_none(),
            "PLASMA_REQUIRE_BROWSER is set but chromium is not installed"
        );
        eprintln!("SKIPPED: chromium not installed (apt-get install chromium)");
        return;
    };
    let port = free_port();
    let server = Server(
        Command::new(env!("CARGO_BIN_EXE_plasma-check"))
            .args(["explore", "--config", "tiny", "--mutant", "no-dedup"])
            .args(["--addr", &format!("127.0.0.1:{port}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("explore starts"),
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    while http(port, "GET", "/.status").is_none() {
        assert!(Instant::now() < deadline, "explorer did not come up");
        std::thread::sleep(Duration::from_millis(100));
    }
    http(port, "POST", "/.runtocompletion").expect("run to completion");
    // Wait for the mutant's counterexample to be discovered.
    let path = loop {
        assert!(Instant::now() < deadline, "no counterexample discovered");
        let status = http(port, "GET", "/.status").unwrap_or_default();
        let v: serde_json::Value = serde_json::from_str(&status).unwrap_or_default();
        let found = v["properties"].as_array().and_then(|ps| {
            ps.iter()
                .find(|p| p[1] == "at-most-once" && p[2].is_string())
                .and_then(|p| p[2].as_str().map(String::from))
        });
        if let Some(p) = found {
            break p;
        }
        std::thread::sleep(Duration::from_millis(200));
    };

    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("browser");
    std::fs::create_dir_all(&out).expect("dir");
    let profile = out.join(format!("profile-{port}"));
    let base = format!("http://127.0.0.1:{port}/");

    let dom = browser(&chrome, &profile, &["--dump-dom"], &base);
    assert!(dom.contains("PlasmaModel"), "model name in {dom:.2000}");
    let tiny = plasma_check::presets::preset("tiny").expect("tiny");
    for p in plasma_properties::applicable(&tiny) {
        assert!(dom.contains(p.name), "property {} listed", p.name);
    }
    assert!(
        dom.contains("Counterexample found"),
        "a counterexample is listed"
    );
    let status = http(port, "GET", "/.status").unwrap_or_default();
    let v: serde_json::Value = serde_json::from_str(&status).unwrap_or_default();
    assert!(v["unique_state_count"].as_u64().unwrap_or(0) > 0);
    assert!(dom.contains("Unique States"), "state counts shown");

    let step_url = format!("{base}#/steps/{path}");
    let dom = browser(&chrome, &profile, &["--dump-dom"], &step_url);
    assert!(dom.contains("<svg"), "the step's sequence diagram renders");
    assert!(
        dom.contains("BROKEN: at-most-once"),
        "the broken property is marked"
    );

    let shot = out.join("explorer.png");
    let _ = std::fs::remove_file(&shot);
    browser(
        &chrome,
        &profile,
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1400,1000",
        ],
        &step_url,
    );
    let size = std::fs::metadata(&shot).map(|m| m.len()).unwrap_or(0);
    assert!(
        size > 10_000,
        "screenshot {} has {size} bytes",
        shot.display()
    );
    eprintln!("screenshot: {}", shot.display());
    drop(server);
    assert!(
        http(port, "GET", "/.status").is_none(),
        "the explorer is shut down"
    );
}
