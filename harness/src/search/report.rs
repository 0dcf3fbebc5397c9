//! What a check found, as a table for people and as JSON for machines.

use crate::exit;
use crate::search::coverage::{self, never_taken, Coverage, KindCoverage};
use crate::search::plan::{Engine, Strategy};
use plasma_model::Config;
use serde::Serialize;
use std::fmt::Write;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// An `always` property held in every state of a complete run.
    Holds,
    /// An `always` property failed: a counterexample exists.
    Violated,
    /// A `sometimes` property was witnessed.
    ExampleFound,
    /// A `sometimes` property was never witnessed.
    NotReached,
    /// An `always` property held in the states visited, but the run stopped early.
    Unknown,
}

impl Status {
    /// A property's status after a run: whether it was discovered (a counterexample for an
    /// `always`, an example for a `sometimes`) and whether the run was complete.
    pub fn of(p: &plasma_properties::Property, discovered: bool, complete: bool) -> Status {
        match (p.discovery_is_failure(), discovered, complete) {
            (true, true, _) => Status::Violated,
            (true, false, true) => Status::Holds,
            (true, false, false) => Status::Unknown,
            (false, true, _) => Status::ExampleFound,
            (false, false, _) => Status::NotReached,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Status::Holds => "holds",
            Status::Violated => "VIOLATED",
            Status::ExampleFound => "example found",
            Status::NotReached => "NOT REACHED",
            Status::Unknown => "unknown (stopped early)",
        }
    }
}

/// One step of a counterexample or example.
#[derive(Clone, Debug, Serialize)]
pub struct Step {
    pub text: String,
    pub action: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct PropertyReport {
    pub name: &'static str,
    pub kind: &'static str,
    pub status: Status,
    /// Length of the discovered path (counterexample or example), if any.
    pub steps: Option<usize>,
    pub about: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace: Option<Vec<Step>>,
    /// The discovered path as model actions (encode it with `Trace::encode`).
    #[serde(skip)]
    pub path: Option<Vec<plasma_model::Action>>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub verified: bool,
    pub complete: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_reason: Option<String>,
    pub config: Config,
    pub protocol: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mutant: Option<String>,
    pub strategy: Strategy,
    pub engine: Engine,
    pub threads: usize,
    /// One state per symmetry orbit: `unique_states` counts orbits.
    pub symmetry: bool,
    pub states: usize,
    pub unique_states: usize,
    pub max_depth: usize,
    pub seconds: f64,
    pub states_per_second: f64,
    pub properties: Vec<PropertyReport>,
    /// Per action kind, in `ActionKind::ALL` order: transitions enabled (each one taken) and
    /// those that reached a state first.
    pub coverage: Vec<KindCoverage>,
    /// The estimated probability that two distinct states shared a 64-bit fingerprint, so
    /// that one of them was taken for visited and never expanded ([`collision_probability`]).
    pub collision_probability: f64,
    /// Every state was stored whole (`--exact`): no collision was possible.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub exact: bool,
    /// The kinds the configuration allows that the run never took.
    pub never_taken: Vec<&'static str>,
    /// The counters miss the part of the run before a resumed checkpoint (one written before
    /// checkpoints kept them).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub coverage_partial: bool,
}

impl PropertyReport {
    /// A property's verdict from a search: `path` is what it discovered (a counterexample or an
    /// example), `trace` that path's readable steps.
    pub(crate) fn of(
        p: &plasma_properties::Property,
        complete: bool,
        path: Option<Vec<plasma_model::Action>>,
        trace: Option<Vec<Step>>,
    ) -> Self {
        PropertyReport {
            name: p.name,
            kind: p.kind(),
            status: Status::of(p, path.is_some(), complete),
            steps: path.as_ref().map(Vec::len),
            about: p.about,
            trace,
            path,
        }
    }
}

/// What one search measured, whichever engine ran it.
pub(crate) struct Search {
    pub stop_reason: Option<String>,
    pub states: usize,
    pub unique_states: usize,
    pub max_depth: usize,
    pub coverage: Coverage,
    pub coverage_partial: bool,
}

impl Report {
    /// The report of a search of `setup` run with `opts`.
    pub(crate) fn of_search(
        setup: &plasma_model::Setup,
        plan: &crate::search::plan::Plan,
        search: Search,
        seconds: f64,
        properties: Vec<PropertyReport>,
    ) -> Self {
        let rows = search.coverage.search_rows(setup);
        Report {
            config: setup.config.clone(),
            protocol: setup.protocol.name().to_string(),
            mutant: setup.mutant.map(|m| m.name().to_string()),
            strategy: plan.engine.strategy(),
            engine: plan.engine.engine(),
            threads: plan.engine.threads(),
            symmetry: plan.symmetry,
            complete: search.stop_reason.is_none(),
            stop_reason: search.stop_reason,
            verified: false,
            states: search.states,
            unique_states: search.unique_states,
            max_depth: search.max_depth,
            seconds,
            states_per_second: search.states as f64 / seconds.max(1e-9),
            properties,
            coverage: rows.clone(),
            exact: plan.engine.exact(),
            collision_probability: if plan.engine.exact() {
                0.0
            } else {
                collision_probability(search.unique_states)
            },
            never_taken: never_taken(&rows),
            coverage_partial: search.coverage_partial,
        }
        .finalize()
    }

    pub(crate) fn finalize(mut self) -> Self {
        self.verified = self.exit_code() == exit::VERIFIED;
        self
    }

    pub fn violated(&self) -> impl Iterator<Item = &PropertyReport> {
        self.properties
            .iter()
            .filter(|p| p.status == Status::Violated)
    }

    pub fn exit_code(&self) -> i32 {
        if self.violated().next().is_some() {
            exit::VIOLATED
        } else if !self.complete
            || self
                .properties
                .iter()
                .any(|p| matches!(p.status, Status::NotReached | Status::Unknown))
        {
            exit::NOT_VERIFIED
        } else {
            exit::VERIFIED
        }
    }

    /// One word for the verdict.
    pub fn verdict(&self) -> &'static str {
        match self.exit_code() {
            exit::VERIFIED => "verified",
            exit::VIOLATED => "VIOLATED",
            _ => "NOT VERIFIED",
        }
    }

    pub fn to_table(&self) -> String {
        let mut s = String::new();
        let c = &self.config;
        let _ = writeln!(
            s,
            "plasma-check: protocol {}, {} installs, {} tabs, {} rows, {} mutations, {} drops, {} duplicates (max {} in flight, {} resets); {:?} x{}{}{}",
            self.protocol, c.installs, c.tabs, c.rows, c.max_mutations, c.drops, c.duplicates,
            c.max_in_flight, c.max_resets, self.strategy, self.threads,
            match self.engine {
                crate::search::plan::Engine::Native => ", native engine",
                crate::search::plan::Engine::Timely => ", timely engine",
                _ => "",
            },
            if self.symmetry { ", symmetry (unique states are orbits)" } else { "" }
        );
        let width = self
            .properties
            .iter()
            .map(|p| p.name.len())
            .max()
            .unwrap_or(0);
        let _ = writeln!(s, "\n  {:width$}  {:20}  status", "property", "kind");
        for p in &self.properties {
            let steps = p.steps.map(|n| format!(" ({n} steps)")).unwrap_or_default();
            let _ = writeln!(
                s,
                "  {:width$}  {:20}  {}{}",
                p.name,
                p.kind,
                p.status.label(),
                steps
            );
        }
        let _ = writeln!(
            s,
            "\n  states generated {}, unique {}, max depth {}, {:.2}s, {:.0} states/s",
            self.states, self.unique_states, self.max_depth, self.seconds, self.states_per_second
        );
        if self.exact {
            let _ = writeln!(
                s,
                "  fingerprint collision: none possible (--exact: every state stored whole)"
            );
        } else {
            let _ = writeln!(
                s,
                "  fingerprint collision: probability {} that two of the {} states shared a 64-bit fingerprint and one was never expanded",
                odds(self.collision_probability),
                self.unique_states
            );
        }
        let partial = if self.coverage_partial {
            " (partial: the run before the checkpoint it resumed is not counted)"
        } else {
            ""
        };
        let _ = writeln!(s, "\n  action coverage{partial}:");
        s.push_str(&coverage::table(&self.coverage, &self.never_taken));
        for p in self.violated() {
            let _ = writeln!(s, "\ncounterexample for {} ({}):", p.name, p.about);
            for (i, step) in p.trace.iter().flatten().enumerate() {
                let _ = writeln!(s, "  {:>2}. {}", i + 1, step.text);
            }
        }
        if let Some(why) = &self.stop_reason {
            let _ = writeln!(s, "\nstopped early: {why}");
        }
        let not_reached: Vec<_> = self
            .properties
            .iter()
            .filter(|p| p.status == Status::NotReached)
            .map(|p| p.name)
            .collect();
        if !not_reached.is_empty() {
            let _ = writeln!(
                s,
                "\nnever witnessed: {} (their always-properties may pass vacuously)",
                not_reached.join(", ")
            );
        }
        let _ = writeln!(
            s,
            "\n{} ({} unique states)",
            self.verdict(),
            self.unique_states
        );
        s
    }
}

/// The probability that storing `states` distinct states as 64-bit fingerprints (as every
/// engine does, stateright included) put two of them on one fingerprint: each new state
/// misses when its fingerprint equals one of those stored before it, so the expected number of
/// misses is about `n (n - 1) / 2^65`, and the probability of at least one is
/// `1 - exp(-n (n - 1) / 2^65)` (the birthday bound; TLC reports the same kind of estimate).
/// About 1 in 37 at 10^9 states, 1 in 3.7 million at 10^7.
pub fn collision_probability(states: usize) -> f64 {
    let n = states as f64;
    let expected = n * (n - 1.0).max(0.0) / 2f64.powi(65);
    -(-expected).exp_m1()
}

/// A probability as a person reads it: "1 in 37", "1 in 3.7e12", or "0".
pub fn odds(p: f64) -> String {
    if p <= 0.0 {
        return "0".into();
    }
    let one_in = 1.0 / p;
    if one_in < 1e6 {
        format!("1 in {one_in:.0}")
    } else {
        format!("1 in {one_in:.1e}")
    }
}

/// The readable steps of a path of actions, replayed from the initial state.
pub fn replayed_steps(setup: &plasma_model::Setup, path: &[plasma_model::Action]) -> Vec<Step> {
    let worlds = match plasma_model::replay(setup, path) {
        Ok(w) => w,
        Err(e) => unreachable!("a found path replays: {e}"),
    };
    worlds
        .windows(2)
        .zip(path)
        .map(|(w, a)| Step {
            text: plasma_model::describe::step(&w[0], a, &w[1]),
            action: format!("{a:?}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_billion_states_collide_about_once_in_37_runs() {
        let p = collision_probability(1_000_000_000);
        assert!((1.0 / p - 37.4).abs() < 0.5, "1 in {}", 1.0 / p);
        assert_eq!(odds(p), "1 in 37");
        assert_eq!(collision_probability(1), 0.0);
        assert_eq!(odds(0.0), "0");
        assert_eq!(odds(collision_probability(372_210)), "1 in 2.7e8");
    }
}
