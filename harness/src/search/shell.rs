//! What every engine does around its own frontier loop, written once: the properties a run
//! checks and which of them a new state decides, the limits and Ctrl-C, progress on stderr,
//! when a checkpoint is due, and the report (each counterexample replayed into readable steps).

use crate::search::plan::{Plan, Stop};
use crate::search::report::{replayed_steps, PropertyReport, Report, Search};
use plasma_model::{Action, Setup, World};
use plasma_properties::Property;
use std::io::IsTerminal;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The properties a run checks: the applicable ones, or those of them the plan names.
pub fn selected(setup: &Setup, plan: &Plan) -> Vec<&'static Property> {
    plasma_properties::applicable(&setup.config)
        .filter(|p| plan.properties.as_ref().is_none_or(|o| o.contains(&p.name)))
        .collect()
}

/// One run's shell: its setup and plan, the properties it checks, its clock and progress.
pub(crate) struct Shell<'a> {
    pub setup: &'a Setup,
    pub plan: &'a Plan,
    pub props: Vec<&'static Property>,
    pub start: Instant,
    /// Seconds spent before a resumed run started.
    pub before: f64,
    pub progress: Progress,
    last_checkpoint: Instant,
}

impl<'a> Shell<'a> {
    pub fn new(setup: &'a Setup, plan: &'a Plan) -> Shell<'a> {
        Shell {
            setup,
            plan,
            props: selected(setup, plan),
            start: Instant::now(),
            before: 0.0,
            progress: Progress::new(plan.progress),
            last_checkpoint: Instant::now(),
        }
    }

    /// A shell whose engine reports progress its own way.
    pub fn quiet(setup: &'a Setup, plan: &'a Plan) -> Shell<'a> {
        Shell {
            progress: Progress::new(false),
            ..Shell::new(setup, plan)
        }
    }

    /// Whether finding `p` ends the run: a violation of the property the plan hunts, or of
    /// any when it stops at the first.
    pub fn ends_run(&self, p: &Property) -> bool {
        p.discovery_is_failure()
            && match self.plan.limits.stop {
                Stop::Never => false,
                Stop::FirstViolation => true,
                Stop::Property(name) => p.name == name,
            }
    }

    /// Whether a property decided in `found` (one entry per property) ends the run.
    pub fn hunted<T>(&self, found: &[Option<T>]) -> bool {
        self.props
            .iter()
            .zip(found)
            .any(|(p, f)| f.is_some() && self.ends_run(p))
    }

    /// The properties among `open` (indices into `props`) that `world` decides. It was
    /// stepped from a state that decided none of them, by an action that changed the parts
    /// `changed` marks (`EVERYTHING` for the initial state).
    pub fn decided<'s>(
        &'s self,
        open: impl IntoIterator<Item = usize> + 's,
        world: &'s World,
        changed: u8,
        healed: &'s mut Option<World>,
    ) -> impl Iterator<Item = usize> + 's {
        *healed = None;
        open.into_iter()
            .filter(move |&p| self.props[p].discovered(self.setup, world, changed, healed))
    }

    /// Why the run must stop now, if it must: Ctrl-C, the timeout, or the state limit.
    pub fn limit_reached(&self, generated: usize) -> Option<String> {
        let elapsed = self.start.elapsed();
        let limits = &self.plan.limits;
        if self
            .plan
            .interrupt
            .as_ref()
            .is_some_and(|f| f.load(Ordering::Relaxed))
        {
            return Some(format!(
                "interrupted (Ctrl-C after {:.1}s)",
                elapsed.as_secs_f64()
            ));
        }
        if let Some(t) = limits.timeout.filter(|&t| elapsed >= t) {
            return Some(format!(
                "timeout reached ({:.1}s, --timeout {}s)",
                elapsed.as_secs_f64(),
                t.as_secs()
            ));
        }
        if let Some(n) = limits.max_states.filter(|&n| generated >= n) {
            return Some(format!(
                "state limit reached ({generated} states generated, --max-states {n})"
            ));
        }
        None
    }

    /// The folder to write a checkpoint into, when one is due.
    pub fn checkpoint_due(&self) -> Option<&'a Path> {
        let c = self.plan.checkpoint.as_ref()?;
        (self.last_checkpoint.elapsed() >= c.every).then_some(c.dir.as_path())
    }

    /// Notes a checkpoint written (`what` says of what) or why it could not be (the run's
    /// stop reason).
    pub fn checkpointed(
        &mut self,
        what: String,
        written: Instant,
        result: std::io::Result<()>,
    ) -> Option<String> {
        self.last_checkpoint = Instant::now();
        let dir = self.plan.checkpoint.as_ref().map(|c| c.dir.display());
        let dir = dir.map(|d| d.to_string()).unwrap_or_default();
        match result {
            Ok(()) => {
                if self.plan.progress {
                    eprintln!(
                        "checkpoint: {what}, written to {dir} in {:.1}s",
                        written.elapsed().as_secs_f64()
                    );
                }
                None
            }
            Err(e) => Some(format!("cannot write the checkpoint to {dir}: {e}")),
        }
    }

    /// Seconds of the whole run, resumed runs included.
    pub fn seconds(&self) -> f64 {
        self.before + self.start.elapsed().as_secs_f64()
    }

    /// The report: `paths` holds what each property's search discovered (a counterexample
    /// or an example), each replayed into readable steps.
    pub fn report(self, search: Search, paths: Vec<Option<Vec<Action>>>) -> Report {
        self.progress.finish();
        let complete = search.stop_reason.is_none();
        let properties = self
            .props
            .iter()
            .zip(paths)
            .map(|(p, path)| {
                let trace = path.as_ref().map(|a| replayed_steps(self.setup, a));
                PropertyReport::of(p, complete, path, trace)
            })
            .collect();
        let seconds = self.seconds();
        Report::of_search(self.setup, self.plan, search, seconds, properties)
    }
}

/// A line of progress: states, rate and time so far.
pub(crate) fn progress_line(
    states: usize,
    unique: usize,
    depth: usize,
    elapsed: Duration,
) -> String {
    let rate = states as f64 / elapsed.as_secs_f64().max(1e-9);
    format!(
        "{unique} unique states, {states} generated, depth {depth}, {:.0} states/s, {:.0}s",
        rate,
        elapsed.as_secs_f64()
    )
}

/// Progress on stderr: a spinner's message on a terminal (5 times a second), else a line
/// every 10 seconds. Threads share it: a tick that finds another thread reporting skips.
pub(crate) struct Progress {
    on: bool,
    bar: Option<indicatif::ProgressBar>,
    last: Mutex<Instant>,
    /// Appended to every line: what is known of the rest of the run (the BFS's estimate).
    pub estimate: String,
}

impl Progress {
    pub fn new(on: bool) -> Progress {
        let bar = (on && std::io::stderr().is_terminal()).then(|| {
            let bar = indicatif::ProgressBar::new_spinner();
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        Progress {
            on,
            bar,
            last: Mutex::new(Instant::now()),
            estimate: String::new(),
        }
    }

    /// Reports, if it is time to, with `line` computing the message.
    pub fn tick(&self, line: impl FnOnce() -> String) {
        if !self.on {
            return;
        }
        let Ok(mut last) = self.last.try_lock() else {
            return;
        };
        let every = if self.bar.is_some() { 200 } else { 10_000 };
        if last.elapsed() < Duration::from_millis(every) {
            return;
        }
        *last = Instant::now();
        let message = format!("{}{}", line(), self.estimate);
        match &self.bar {
            Some(bar) => bar.set_message(message),
            None => eprintln!("progress: {message}"),
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
