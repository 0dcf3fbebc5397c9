//! Action coverage, as TLC reports it: per action kind, how often a run had it enabled and how
//! often it led somewhere new. A kind the configuration allows that never led to a new state
//! points at a bound, a preset or a guard that hides it, and the properties then say nothing
//! about the steps it would have taken.

use plasma_model::{ActionKind, Setup};
use serde::{Deserialize, Serialize};

const KINDS: usize = ActionKind::COUNT;

/// Two counters per [`ActionKind`], indexed by [`ActionKind::index`]. Plain arrays, so that a
/// search's hot loop pays one increment per successor and threads merge theirs at the end.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Coverage {
    /// Transitions of the kind generated: enabled in a state that was expanded (in a
    /// simulation, offered at a step).
    pub enabled: [u64; KINDS],
    /// Of those, the ones that reached a state not seen before (a new orbit under symmetry); in
    /// a simulation, the ones chosen.
    pub taken: [u64; KINDS],
}

impl Coverage {
    #[inline]
    pub fn enable(&mut self, kind: ActionKind) {
        self.enabled[kind.index()] += 1;
    }

    #[inline]
    pub fn take(&mut self, kind: ActionKind) {
        self.taken[kind.index()] += 1;
    }

    pub fn merge(&mut self, other: &Coverage) {
        for (a, b) in self.enabled.iter_mut().zip(other.enabled) {
            *a += b;
        }
        for (a, b) in self.taken.iter_mut().zip(other.taken) {
            *a += b;
        }
    }

    pub fn enabled_total(&self) -> u64 {
        self.enabled.iter().sum()
    }

    pub fn taken_total(&self) -> u64 {
        self.taken.iter().sum()
    }

    /// The report's rows, every kind in [`ActionKind::ALL`] order.
    pub fn rows(&self, setup: &Setup) -> Vec<KindCoverage> {
        ActionKind::ALL
            .iter()
            .map(|&k| KindCoverage {
                action: k.name(),
                allowed: k.allowed(setup),
                enabled: self.enabled[k.index()],
                taken: self.taken[k.index()],
            })
            .collect()
    }
}

/// One kind's line of the coverage table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct KindCoverage {
    pub action: &'static str,
    /// Whether the configuration and protocol leave room for the kind at all
    /// ([`ActionKind::allowed`]).
    pub allowed: bool,
    pub enabled: u64,
    pub taken: u64,
}

/// The kinds the setup allows that the run never took.
pub fn never_taken(rows: &[KindCoverage]) -> Vec<&'static str> {
    rows.iter()
        .filter(|r| r.allowed && r.taken == 0)
        .map(|r| r.action)
        .collect()
}

/// The coverage table for the text reports: one line per kind the setup allows (or that ran
/// anyway), the others named on one line, then the `never taken:` line if there is one.
pub fn table(rows: &[KindCoverage], never: &[&'static str]) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(s, "  {:16} {:>12} {:>12}", "action", "enabled", "taken");
    let mut absent = Vec::new();
    for r in rows {
        if !r.allowed && r.enabled == 0 {
            absent.push(r.action);
            continue;
        }
        let note = if r.allowed {
            ""
        } else {
            "  (not allowed by the configuration)"
        };
        let _ = writeln!(
            s,
            "  {:16} {:>12} {:>12}{note}",
            r.action, r.enabled, r.taken
        );
    }
    if !absent.is_empty() {
        let _ = writeln!(s, "  not in this configuration: {}", absent.join(", "));
    }
    if !never.is_empty() {
        let _ = writeln!(
            s,
            "never taken: {} (allowed by the configuration)",
            never.join(", ")
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merging_adds_every_counter() {
        let mut a = Coverage::default();
        a.enable(ActionKind::Push);
        a.take(ActionKind::Push);
        let mut b = Coverage::default();
        b.enable(ActionKind::Push);
        b.enable(ActionKind::Drop);
        a.merge(&b);
        assert_eq!(a.enabled[ActionKind::Push.index()], 2);
        assert_eq!(a.enabled[ActionKind::Drop.index()], 1);
        assert_eq!((a.enabled_total(), a.taken_total()), (3, 1));
    }

    #[test]
    fn never_taken_names_allowed_kinds_only() {
        let row = |action, allowed, enabled, taken| KindCoverage {
            action,
            allowed,
            enabled,
            taken,
        };
        let rows = [
            row("Push", true, 5, 2),
            row("Drop", true, 3, 0),
            row("RestoreTab", false, 0, 0),
            row("Reload", true, 0, 0),
            row("Pull", true, 4, 4),
        ];
        assert_eq!(never_taken(&rows), ["Drop", "Reload"]);
        let text = table(&rows, &never_taken(&rows));
        assert!(text.contains("not in this configuration: RestoreTab"));
        assert!(text.contains("never taken: Drop, Reload (allowed by the configuration)"));
    }
}
