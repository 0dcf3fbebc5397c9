//! A throwaway Postgres cluster: `initdb` into a temporary folder, a server listening on a Unix
//! socket in that folder only (no TCP), stopped and removed when the value is dropped (also when
//! a test fails and unwinds). Debian's `postgresql` package provides the binaries.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A running cluster, owned by this process.
pub struct Cluster {
    dir: tempfile::TempDir,
    bin: PathBuf,
    /// Postgres refuses to run as root: then every command runs as this system user.
    run_as: Option<String>,
    pub port: u16,
    /// The database superuser the cluster was created with.
    pub user: String,
    pub version: String,
}

/// The folder holding `initdb`, `pg_ctl` and `postgres`: `$PLASMA_PG_BIN`, else the newest
/// `/usr/lib/postgresql/*/bin` (Debian), else `pg_config --bindir`.
pub fn find_bin() -> Result<PathBuf, String> {
    if let Ok(dir) = std::env::var("PLASMA_PG_BIN") {
        let dir = PathBuf::from(dir);
        return if dir.join("initdb").is_file() {
            Ok(dir)
        } else {
            Err(format!("PLASMA_PG_BIN={}: no initdb there", dir.display()))
        };
    }
    let mut debian: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").is_file().then_some((v, bin))
        })
        .collect();
    debian.sort();
    if let Some((_, bin)) = debian.pop() {
        return Ok(bin);
    }
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if dir.join("initdb").is_file() {
            return Ok(dir);
        }
    }
    Err(
        "no Postgres found: install Debian's postgresql (apt-get install postgresql) or set \
         PLASMA_PG_BIN to the folder holding initdb"
            .to_string(),
    )
}

fn running_as_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

impl Cluster {
    /// Creates and starts a cluster; the error says which step failed and its output.
    pub fn start() -> Result<Cluster, String> {
        let bin = find_bin()?;
        let dir = tempfile::Builder::new()
            .prefix("plasma-pg-")
            .tempdir()
            .map_err(|e| format!("cannot create a temporary folder: {e}"))?;
        let run_as = running_as_root().then(|| "postgres".to_string());
        if let Some(user) = &run_as {
            let uid = Command::new("id")
                .args(["-u", user])
                .output()
                .ok()
                .filter(|o| o.status.success())
                .and_then(|o| {
                    String::from_utf8_lossy(&o.stdout)
                        .trim()
                        .parse::<u32>()
                        .ok()
                })
                .ok_or_else(|| {
                    format!(
                        "running as root, and there is no system user {user} to run Postgres as"
                    )
                })?;
            std::os::unix::fs::chown(dir.path(), Some(uid), None)
                .map_err(|e| format!("cannot hand {} to {user}: {e}", dir.path().display()))?;
        }
        // A port is still part of the socket's name; nothing listens on TCP.
        let port = 5432 + (std::process::id() % 20000) as u16;
        let mut cluster = Cluster {
            dir,
            bin,
            run_as,
            port,
            user: "plasma".to_string(),
            version: String::new(),
        };
        let data = cluster.data_dir();
        cluster.run(
            "initdb",
            &[
                "-D",
                &data,
                "-U",
                "plasma",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-sync",
                "--no-instructions",
            ],
        )?;
        let socket = cluster.socket_dir().display().to_string();
        let options = format!(
            "-c listen_addresses='' -c unix_socket_directories={socket} -p {port} -c fsync=off \
             -c synchronous_commit=off -c full_page_writes=off -c max_connections=40"
        );
        let log = cluster.dir.path().join("server.log").display().to_string();
        cluster.run(
            "pg_ctl",
            &[
                "-D", &data, "-o", &options, "-l", &log, "-w", "-t", "60", "start",
            ],
        )?;
        let version = cluster.run("postgres", &["--version"])?;
        // "postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)"
        cluster.version = version
            .split_once(") ")
            .map_or(version.as_str(), |(_, v)| v)
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_string();
        Ok(cluster)
    }

    /// The folder whose `.s.PGSQL.<port>` socket the server listens on.
    pub fn socket_dir(&self) -> &Path {
        self.dir.path()
    }

    fn data_dir(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    /// The server's log so far (for error messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    fn run(&self, tool: &str, args: &[&str]) -> Result<String, String> {
        let exe = self.bin.join(tool);
        let mut cmd = match &self.run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(&exe);
                c
            }
            None => Command::new(&exe),
        };
        let out = cmd
            .args(args)
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run {}: {e}", exe.display()))?;
        if !out.status.success() {
            return Err(format!(
                "{tool} failed ({}): {}{}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim(),
                self.log()
            ));
        }
        Ok(String::from_utf8_lossy(&out.stdout).to_string())
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let data = self.data_dir();
        let _ = self.run("pg_ctl", &["-D", &data, "-m", "immediate", "-w", "stop"]);
    }
}
