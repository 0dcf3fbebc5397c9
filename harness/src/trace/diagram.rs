//! Sequence diagrams of a path: one lifeline per tab and one for the server, an arrow per
//! delivered message, notes for local steps, and the properties that break marked where they
//! break. Rendered as Mermaid text (for issues and pull requests) or as SVG (for the explorer
//! and `replay --svg`).

use plasma_model::{describe, Action, Msg, Setup, World};
use std::fmt::Write;

/// A lane: a tab or the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lane {
    Tab(u8),
    Server,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// Something local to one lane.
    Note { lane: Lane, text: String },
    /// A message delivered from one lane to another.
    Arrow {
        from: Lane,
        to: Lane,
        text: String,
        reply: bool,
    },
    /// A property that fails from this step on.
    Broken { text: String },
}

/// The events of a path (states `worlds[0..=n]`, actions `actions[0..n]`) and the names of the
/// tabs ever created.
pub struct Diagram {
    pub tabs: Vec<String>,
    pub events: Vec<Event>,
}

fn short(m: &Msg) -> String {
    describe::msg(m)
}

impl Diagram {
    /// The diagram of a run; `numbers` holds the message number each step names (a trace's own
    /// numbers, or [`crate::trace::Numbering::lowest_numbers`] for a path of model actions).
    pub fn of(
        setup: &Setup,
        worlds: &[World],
        actions: &[Action],
        numbers: &[Option<u32>],
    ) -> Diagram {
        let mut events = Vec::new();
        let mut broken: Vec<&'static str> = Vec::new();
        let always: Vec<_> = plasma_properties::applicable(&setup.config)
            .filter(|p| p.expect == plasma_properties::Expect::Always)
            .collect();
        for (i, a) in actions.iter().enumerate() {
            let (before, after) = (&worlds[i], &worlds[i + 1]);
            let n = numbers.get(i).copied().flatten();
            let tag = n.map(|n| format!(" (msg {n})")).unwrap_or_default();
            let text = describe::step(before, a, after);
            // On a tab's own lifeline, "tab 0 (c0) " says nothing the lane does not.
            let local = |tab: u8| {
                let own = format!(
                    "tab {tab} (c{}) ",
                    before.tabs.get(usize::from(tab)).map_or(0, |t| t.client)
                );
                text.strip_prefix(&own).unwrap_or(&text).to_string()
            };
            match a {
                Action::Deliver(m) => {
                    let tab = Lane::Tab(m.tab());
                    let (from, to, reply) = match m {
                        Msg::PushReq { .. } | Msg::PullReq { .. } => (tab, Lane::Server, false),
                        _ => (Lane::Server, tab, true),
                    };
                    let outcome = text.split(" => ").nth(1).map(|o| format!(": {o}"));
                    events.push(Event::Arrow {
                        from,
                        to,
                        text: format!("{}{tag}{}", short(m), outcome.unwrap_or_default()),
                        reply,
                    });
                }
                Action::Drop(m) | Action::Duplicate(m) => events.push(Event::Note {
                    lane: Lane::Server,
                    text: format!(
                        "network {}s {}{tag}",
                        if matches!(a, Action::Drop(_)) {
                            "drop"
                        } else {
                            "duplicate"
                        },
                        short(m)
                    ),
                }),
                Action::Logout { .. } | Action::Login { .. } => events.push(Event::Note {
                    lane: Lane::Server,
                    text,
                }),
                Action::OpenTab { .. } => {
                    let t = (after.tabs.len() - 1) as u8;
                    events.push(Event::Note {
                        lane: Lane::Tab(t),
                        text,
                    });
                }
                Action::Mutate { tab, .. }
                | Action::Push { tab }
                | Action::Pull { tab }
                | Action::Reload { tab }
                | Action::DuplicateTab { tab }
                | Action::CloseTab { tab }
                | Action::RestoreTab { tab }
                | Action::ResetLocalState { tab } => events.push(Event::Note {
                    lane: Lane::Tab(*tab),
                    text: local(*tab),
                }),
            }
            for p in &always {
                if !broken.contains(&p.name) && !p.check(setup, after) {
                    broken.push(p.name);
                    events.push(Event::Broken {
                        text: format!("{} broken: {}", p.name, p.about),
                    });
                }
            }
        }
        let last = worlds.last().cloned().unwrap_or_else(|| World::init(setup));
        let tabs = last
            .tabs
            .iter()
            .enumerate()
            .map(|(i, t)| format!("tab {i} (c{})", t.client))
            .collect();
        Diagram { tabs, events }
    }

    fn lane_id(lane: Lane) -> String {
        match lane {
            Lane::Tab(t) => format!("T{t}"),
            Lane::Server => "S".into(),
        }
    }

    /// Mermaid `sequenceDiagram` text.
    pub fn mermaid(&self) -> String {
        // Mermaid ends a statement at ';' and reads '#...;' as an entity: escape both.
        let clean = |s: &str| {
            s.chars().fold(String::new(), |mut out, c| {
                match c {
                    '#' => out.push_str("#35;"),
                    ';' => out.push_str("#59;"),
                    c => out.push(c),
                }
                out
            })
        };
        let mut s = String::from("sequenceDiagram\n");
        for (i, name) in self.tabs.iter().enumerate() {
            let _ = writeln!(s, "    participant T{i} as {}", clean(name));
        }
        let _ = writeln!(s, "    participant S as server");
        for e in &self.events {
            match e {
                Event::Note { lane, text } => {
                    let _ = writeln!(s, "    Note over {}: {}", Self::lane_id(*lane), clean(text));
                }
                Event::Arrow {
                    from,
                    to,
                    text,
                    reply,
                } => {
                    let arrow = if *reply { "--)" } else { "-)" };
                    let _ = writeln!(
                        s,
                        "    {}{arrow}{}: {}",
                        Self::lane_id(*from),
                        Self::lane_id(*to),
                        clean(text)
                    );
                }
                Event::Broken { text } => {
                    let _ = writeln!(s, "    Note over S: BROKEN {}", clean(text));
                }
            }
        }
        s
    }

    /// A standalone SVG picture of the same diagram.
    pub fn svg(&self) -> String {
        const LANE_W: usize = 170;
        const ROW_H: usize = 34;
        const TOP: usize = 50;
        let x = |lane: Lane| -> usize {
            let i = match lane {
                Lane::Tab(t) => usize::from(t),
                Lane::Server => self.tabs.len(),
            };
            20 + LANE_W * i + LANE_W / 2
        };
        let lanes = self.tabs.len() + 1;
        // Text runs right of its anchor: make room for the longest line (about 6 px a char).
        let text_end = self
            .events
            .iter()
            .map(|e| match e {
                Event::Note { lane, text } => x(*lane) + 6 + 6 * text.len(),
                Event::Arrow { from, to, text, .. } => x(*from).min(x(*to)) + 4 + 6 * text.len(),
                Event::Broken { text } => 16 + 6 * (text.len() + 8),
            })
            .max()
            .unwrap_or(0);
        let width = (LANE_W * lanes + 40).max(text_end + 20);
        let height = TOP + ROW_H * (self.events.len() + 1) + 20;
        let esc = |t: &str| {
            t.replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
        };
        let mut s = String::new();
        let _ = write!(
            s,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="monospace" font-size="10">"#
        );
        // The explorer's page is dark: the picture brings its own background.
        let _ = write!(s, r##"<rect width="100%" height="100%" fill="#fff"/>"##);
        let _ = write!(
            s,
            r##"<defs><marker id="arrow" markerWidth="8" markerHeight="8" refX="8" refY="4" orient="auto"><path d="M0,0 L8,4 L0,8 z" fill="#333"/></marker></defs>"##
        );
        let mut names: Vec<(Lane, String)> = self
            .tabs
            .iter()
            .enumerate()
            .map(|(i, n)| (Lane::Tab(i as u8), n.clone()))
            .collect();
        names.push((Lane::Server, "server".into()));
        for (lane, name) in &names {
            let cx = x(*lane);
            let _ = write!(
                s,
                r##"<rect x="{}" y="10" width="{}" height="24" fill="#e8eef8" stroke="#446"/><text x="{cx}" y="26" text-anchor="middle" font-size="12">{}</text><line x1="{cx}" y1="34" x2="{cx}" y2="{}" stroke="#99a" stroke-dasharray="4,3"/>"##,
                cx - LANE_W / 2 + 10,
                LANE_W - 20,
                esc(name),
                height - 10
            );
        }
        for (i, e) in self.events.iter().enumerate() {
            let y = TOP + ROW_H * (i + 1);
            match e {
                Event::Note { lane, text } => {
                    let cx = x(*lane);
                    let _ = write!(
                        s,
                        r##"<circle cx="{cx}" cy="{y}" r="3" fill="#446"/><text x="{}" y="{}">{}</text>"##,
                        cx + 6,
                        y + 4,
                        esc(text)
                    );
                }
                Event::Arrow {
                    from,
                    to,
                    text,
                    reply,
                } => {
                    let (x1, x2) = (x(*from), x(*to));
                    let dash = if *reply {
                        r#" stroke-dasharray="6,3""#
                    } else {
                        ""
                    };
                    let _ = write!(
                        s,
                        r##"<line x1="{x1}" y1="{y}" x2="{x2}" y2="{y}" stroke="#333"{dash} marker-end="url(#arrow)"/><text x="{}" y="{}">{}</text>"##,
                        x1.min(x2) + 4,
                        y - 4,
                        esc(text)
                    );
                }
                Event::Broken { text } => {
                    let _ = write!(
                        s,
                        r##"<rect x="10" y="{}" width="{}" height="20" fill="#fdd" stroke="#c00"/><text x="16" y="{}" fill="#c00" font-weight="bold">BROKEN: {}</text>"##,
                        y - 14,
                        width - 20,
                        y,
                        esc(text)
                    );
                }
            }
        }
        s.push_str("</svg>");
        s
    }
}
