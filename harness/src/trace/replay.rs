//! Replay: run a trace step by step, show each step and the state it reaches, and name every
//! property that fails and at which step.

use crate::trace::{Run, Trace, TraceAction, TraceError};
use plasma_properties::Expect;
use serde::Serialize;
use std::fmt::Write;

#[derive(Clone, Debug, Serialize)]
pub struct ReplayStep {
    pub step: usize,
    pub action: TraceAction,
    pub text: String,
    pub state: String,
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Failure {
    pub property: &'static str,
    pub kind: &'static str,
    /// The first step after which the property fails (0: in the initial state).
    pub step: usize,
    pub about: &'static str,
}

#[derive(Clone, Debug, Serialize)]
pub struct ReplayReport {
    pub protocol: String,
    pub mutant: Option<String>,
    pub steps: Vec<ReplayStep>,
    pub failures: Vec<Failure>,
}

/// Every `always` property that fails somewhere in the run, with the first step it fails at.
pub fn failures(run: &Run) -> Vec<Failure> {
    plasma_properties::applicable(&run.setup.config)
        .filter(|p| p.expect == Expect::Always)
        .filter_map(|p| {
            let step = run.worlds.iter().position(|w| !p.check(&run.setup, w))?;
            Some(Failure {
                property: p.name,
                kind: p.kind(),
                step,
                about: p.about,
            })
        })
        .collect()
}

pub fn replay(trace: &Trace) -> Result<ReplayReport, TraceError> {
    let run = trace.run()?;
    let texts = run.step_texts();
    let steps = trace
        .actions
        .iter()
        .zip(texts)
        .enumerate()
        .map(|(i, (action, text))| ReplayStep {
            step: i + 1,
            action: action.clone(),
            text,
            state: plasma_model::describe::world(&run.worlds[i + 1]),
        })
        .collect();
    Ok(ReplayReport {
        protocol: run.setup.protocol.name().to_string(),
        mutant: trace.mutant.clone(),
        steps,
        failures: failures(&run),
    })
}

impl ReplayReport {
    pub fn exit_code(&self) -> i32 {
        if self.failures.is_empty() {
            crate::exit::VERIFIED
        } else {
            crate::exit::VIOLATED
        }
    }

    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let mutant = self
            .mutant
            .as_ref()
            .map(|m| format!(", mutant {m}"))
            .unwrap_or_default();
        let _ = writeln!(
            s,
            "replay: protocol {}{mutant}, {} steps",
            self.protocol,
            self.steps.len()
        );
        for st in &self.steps {
            let _ = writeln!(s, "  {:>2}. {}", st.step, st.text);
            let _ = writeln!(s, "      => {}", st.state);
            for f in self.failures.iter().filter(|f| f.step == st.step) {
                let _ = writeln!(s, "      !! {} fails: {}", f.property, f.about);
            }
        }
        if self.failures.is_empty() {
            let _ = writeln!(s, "\nno property fails");
        } else {
            let _ = writeln!(s, "\nproperties that fail:");
            for f in &self.failures {
                let _ = writeln!(s, "  {} ({}) at step {}", f.property, f.kind, f.step);
            }
        }
        s
    }
}
