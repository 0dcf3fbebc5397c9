//! Named configurations, and loading a configuration from a file.

use plasma_model::Config;
use std::path::Path;

/// Preset names, smallest first.
pub const NAMES: [&str; 12] = [
    "tiny",
    "small",
    "default",
    "auth",
    "devices",
    "user-switch",
    "interplay",
    "interplay-faults",
    "tabs3",
    "wide",
    "wide-faults",
    "big",
];

/// A named preset.
pub fn preset(name: &str) -> Option<Config> {
    match name {
        // One installation, a second tab, one reset: the identity plumbing. Leaves out faults
        // and auth changes (one user). Under the hardened protocol a reload is a self-loop
        // (nothing in memory to lose), so no preset takes it there.
        "tiny" => Some(Config {
            installs: 1,
            tabs: 2,
            rows: 1,
            max_mutations: 2,
            drops: 0,
            duplicates: 0,
            max_in_flight: 2,
            max_resets: 1,
            ..Config::default()
        }),
        // Adds a drop and a duplicate. Leaves out auth changes.
        "small" => Some(Config {
            installs: 1,
            tabs: 2,
            rows: 1,
            max_mutations: 2,
            drops: 1,
            duplicates: 1,
            max_in_flight: 2,
            max_resets: 1,
            ..Config::default()
        }),
        // The richest configuration that completes in about a minute on 2 cores: a third
        // mutation (so a client has a pending tail behind an applied head), a drop, a duplicate,
        // a reset and a second tab. Leaves out auth changes (see `interplay-faults`).
        "default" => Some(Config {
            installs: 1,
            tabs: 2,
            rows: 1,
            max_mutations: 3,
            drops: 1,
            duplicates: 1,
            max_in_flight: 2,
            max_resets: 1,
            ..Config::default()
        }),
        // Two installations (two groups) of two users, a logout and a login; one private
        // last-write-wins row, a resolveConflict (keep the larger) row and a CRDT counter.
        // One tab per installation (no tab to open, duplicate or restore: `interplay` has
        // them), no reset, no faults.
        "auth" => Some(Config {
            installs: 2,
            tabs: 2,
            rows: 1,
            max_mutations: 2,
            drops: 0,
            duplicates: 0,
            max_in_flight: 2,
            max_resets: 0,
            users: 2,
            private_rows: 1,
            max_rows: 1,
            counter_rows: 1,
            max_auth_changes: 2,
        }),
        // Two devices of one user (two installations, two IndexedDBs): under the page's
        // `clientGroupID: currentUser.id` they share one clientGroupID. One tab each, one user,
        // no reset, no faults: only what two groups of one user share.
        "devices" => Some(Config {
            installs: 2,
            max_resets: 0,
            ..preset("tiny")?
        }),
        // One browser shared by two people: user 0 signs out and user 1 signs in, with
        // mutations pending in the one IndexedDB. One tab (no tab to open, duplicate or
        // restore: `interplay` has them), no reset, no faults.
        "user-switch" => Some(Config {
            tabs: 1,
            max_resets: 0,
            users: 2,
            max_auth_changes: 2,
            ..preset("tiny")?
        }),
        // Where tabs meet a user switch: two tabs of one installation shared by two users, a
        // logout and a login, and a row private to user 0 (so `auth.read` and `auth.write`
        // change with the user). A tab closed before the switch is reopened (or duplicated,
        // or opened anew) after it, a closed tab's slice waits for its author as an orphan,
        // and each tab writes as whoever is signed in. Leaves out faults and resets (see
        // `interplay-faults`); a reload is a self-loop under the hardened protocol.
        "interplay" => Some(Config {
            tabs: 2,
            max_resets: 0,
            users: 2,
            private_rows: 1,
            max_auth_changes: 2,
            ..preset("tiny")?
        }),
        // `interplay` with a reset, a drop and a duplicate: every action kind the hardened
        // protocol has fires (a reload is a self-loop there), and each feature meets the
        // others: a reset beside a reopened tab, auth changes with a lost or repeated request,
        // orphan recovery across a user switch.
        "interplay-faults" => Some(Config {
            drops: 1,
            duplicates: 1,
            max_resets: 1,
            ..preset("interplay")?
        }),
        // `tiny` with a third tab: where symmetry reduction pays (tabs and their clientIDs
        // are interchangeable), 8,381,438 states or 1,566,879 orbits. Leaves out faults and
        // auth changes.
        "tabs3" => Some(Config {
            installs: 1,
            tabs: 3,
            rows: 1,
            max_mutations: 2,
            drops: 0,
            duplicates: 0,
            max_in_flight: 2,
            max_resets: 1,
            ..Config::default()
        }),
        // Larger than `default`: three tabs and three mutations (with a reset, no faults):
        // 21,093,710 orbits under symmetry (`check --config wide --symmetry`). Leaves out auth
        // changes.
        "wide" => Some(Config {
            installs: 1,
            tabs: 3,
            rows: 1,
            max_mutations: 3,
            drops: 0,
            duplicates: 0,
            max_in_flight: 2,
            max_resets: 1,
            ..Config::default()
        }),
        // `wide` with a drop and a duplicate. Leaves out auth changes.
        "wide-faults" => Some(Config {
            drops: 1,
            duplicates: 1,
            ..preset("wide")?
        }),
        // The scale preset: two installations, three tabs, three rows, a reset, a drop and a
        // duplicate: 1,021,528,768 states, verified in 23 minutes on 2 cores
        // (`check --config big --disk DIR --expect-states 1100000000`). Leaves out auth
        // changes (one user).
        "big" => Some(Config {
            installs: 2,
            tabs: 3,
            rows: 3,
            ..preset("small")?
        }),
        _ => None,
    }
}

/// A preset name, or a path to a JSON file holding a configuration object (unknown fields are an
/// error, missing ones take their defaults). The error names the input and what is wrong.
pub fn load(spec: &str) -> Result<Config, String> {
    let config = match preset(spec) {
        Some(c) => c,
        None => {
            let path = Path::new(spec);
            if !path.exists() {
                return Err(format!(
                    "--config {spec}: not a preset ({}) and no such file",
                    NAMES.join(", ")
                ));
            }
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("--config {spec}: cannot read: {e}"))?;
            serde_json::from_str::<Config>(&text)
                .map_err(|e| format!("--config {spec}: not a valid configuration: {e}"))?
        }
    };
    config
        .validate()
        .map_err(|e| format!("--config {spec}: {e}"))?;
    Ok(config)
}
