//! Action coverage, as TLC reports it: per action kind, how often a run had it enabled, how
//! often it took it, and (in an exhaustive search) how often that led to a state not seen
//! before. A kind the configuration allows that a run never took points at a bound, a preset or
//! a guard that hides it, and the properties then say nothing about the steps it would have
//! taken. An exhaustive search takes every action enabled in a state it expands, so there
//! `taken` equals `enabled` and the verdict "never taken" is the same on every engine; which
//! transition reaches a state first depends on the search order, so `new_states` does not.

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
    /// In a search, the transitions that reached a state not seen before (a new orbit under
    /// symmetry); in a simulation, the ones chosen.
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

    /// A search's rows, every kind in [`ActionKind::ALL`] order: each enabled action was
    /// taken, and `new_states` of them reached a state not seen before.
    pub fn search_rows(&self, setup: &Setup) -> Vec<KindCoverage> {
        self.rows(setup, |i| (self.enabled[i], Some(self.taken[i])))
    }

    /// A simulation's rows: how often each kind was offered at a step, and chosen.
    pub fn simulation_rows(&self, setup: &Setup) -> Vec<KindCoverage> {
        self.rows(setup, |i| (self.taken[i], None))
    }

    /// Rows whose `taken` and `new_states` come from `counts` (by kind index).
    fn rows(
        &self,
        setup: &Setup,
        counts: impl Fn(usize) -> (u64, Option<u64>),
    ) -> Vec<KindCoverage> {
        ActionKind::ALL
            .iter()
            .map(|&k| {
                let (taken, new_states) = counts(k.index());
                KindCoverage {
                    action: k.name(),
                    allowed: k.allowed(setup),
                    enabled: self.enabled[k.index()],
                    taken,
                    new_states,
                }
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
    /// An exhaustive search's transitions of this kind that reached a state first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_states: Option<u64>,
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
    let search = rows.iter().any(|r| r.new_states.is_some());
    let _ = write!(s, "  {:16} {:>12} {:>12}", "action", "enabled", "taken");
    let _ = writeln!(s, "{}", if search { "   new states" } else { "" });
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
        let new = r
            .new_states
            .map(|n| format!(" {n:>12}"))
            .unwrap_or_default();
        let _ = writeln!(
            s,
            "  {:16} {:>12} {:>12}{new}{note}",
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
            new_states: None,
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
