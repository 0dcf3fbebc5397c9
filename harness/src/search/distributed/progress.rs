//! Progress of a timely run, printed by worker 0 of process 0 from the counts every owner
//! sends with its keys each level: on a terminal the spinner's message, else a line on stderr
//! every 10 seconds. `--json` output on stdout is untouched.

use super::wire::Stats;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

pub struct Progress {
    on: bool,
    bar: Option<indicatif::ProgressBar>,
    start: Instant,
    last: Instant,
    /// When the level before was in, and the new states of each level so far.
    level_at: Instant,
    sizes: Vec<usize>,
}

impl Progress {
    pub fn new(on: bool, bar: Option<indicatif::ProgressBar>, start: Instant) -> Progress {
        Progress {
            on,
            bar: bar.filter(|_| on),
            start,
            last: Instant::now(),
            level_at: Instant::now(),
            sizes: Vec::new(),
        }
    }

    /// Level `level` is in, with every owner's counts.
    pub fn level(&mut self, level: u32, stats: &[Stats]) {
        if !self.on {
            return;
        }
        let new: u64 = stats.iter().map(|s| s.new).sum();
        let expanded_per_second = self.sizes.last().copied().unwrap_or(0) as f64
            / self.level_at.elapsed().as_secs_f64().max(1e-9);
        self.level_at = Instant::now();
        self.sizes.resize(level as usize, 0);
        self.sizes.push(new as usize);
        let every = Duration::from_millis(if self.bar.is_some() { 200 } else { 10_000 });
        if self.last.elapsed() < every {
            return;
        }
        self.last = Instant::now();
        let line = self.line(level, stats, expanded_per_second);
        match &self.bar {
            Some(bar) => bar.set_message(line),
            None => eprintln!("progress: {line}"),
        }
    }

    fn line(&self, level: u32, stats: &[Stats], expanded_per_second: f64) -> String {
        let elapsed = self.start.elapsed().as_secs_f64().max(1e-9);
        let unique: u64 = stats.iter().map(|s| s.unique).sum();
        let generated: u64 = 1 + stats.iter().map(|s| s.generated).sum::<u64>();
        // Per process: its workers' states, and its memory (every worker reads its process's).
        let mut processes: BTreeMap<u32, (u64, u64)> = BTreeMap::new();
        for s in stats {
            let p = processes.entry(s.process).or_default();
            p.0 += s.unique;
            p.1 = p.1.max(s.rss);
        }
        let each: Vec<String> = processes
            .iter()
            .map(|(p, (u, rss))| {
                format!(
                    "process {p} {:.0} states/s, {} MB",
                    *u as f64 / elapsed,
                    rss >> 20
                )
            })
            .collect();
        let estimate = match crate::search::bfs::estimate(&self.sizes, expanded_per_second) {
            Some((ahead, seconds)) => format!(
                "; estimate: about {} states in all, {seconds:.0}s to go",
                unique + ahead
            ),
            None => String::new(),
        };
        format!(
            "level {level}: {} new, {unique} unique states, {generated} generated, {:.0} states/s, {elapsed:.0}s ({}){estimate}",
            self.sizes.last().copied().unwrap_or(0),
            unique as f64 / elapsed,
            each.join("; ")
        )
    }

    pub fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

/// This process's resident memory, in bytes (0 where /proc is not there).
pub fn rss_bytes() -> u64 {
    let Ok(text) = std::fs::read_to_string("/proc/self/statm") else {
        return 0;
    };
    let pages: u64 = text
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    pages * u64::try_from(page).unwrap_or(4096)
}
