//! The docs cannot drift: every console block they quote runs, and the facts they state are
//! checked against the code.
//!
//! **Quoted output.** A fenced ```` ```text ```` block in the README and the reference pages
//! whose first line is `$ cargo run --release -- ARGS` (or `$ plasma-check ARGS`) is a test: each
//! `$ ` line runs the binary with ARGS, in a fresh directory that links to every top-level entry
//! of the repository but `target/` (so inputs resolve as from the repository root and outputs
//! land in the scratch directory), and its stdout must match the lines below it up to the next
//! `$ ` line, trycmd style:
//!
//! - a line `...` (indentation allowed) matches any number of lines;
//! - `[..]` inside a line matches any text: use it for times, rates, paths and the thread
//!   count of a run on every core (`Bfs x[..]`) only;
//! - `$ ... ARGS > FILE` writes stdout to FILE and expects no quoted output.
//!
//! The exit code is not checked. An HTML comment on the lines just above the fence changes how
//! a block runs:
//!
//! - `<!-- doc-test: long run -->`: more than about 10 s; run only by `cargo test --test docs --
//!   --ignored` (the `long_doc_examples` test);
//! - `<!-- doc-test: not run, REASON -->`: never run (a server that waits for Ctrl-C);
//! - `<!-- doc-test: setup $ plasma-check ARGS -->`: runs first, output not compared (writes a
//!   trace that the block replays); several such lines run in order.
//!
//! A block that does not match fails naming the doc, the line of its command and the first
//! quoted line that no output matches, with the actual output to paste.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

/// The pages whose console blocks run, relative to the repository root.
fn doc_pages() -> Vec<PathBuf> {
    let mut pages = vec![
        PathBuf::from("README.md"),
        PathBuf::from("model/README.md"),
        PathBuf::from("properties/README.md"),
    ];
    let mut reference: Vec<PathBuf> = std::fs::read_dir(root().join("harness/docs"))
        .expect("harness/docs")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .map(|p| p.strip_prefix(root()).expect("under root").to_path_buf())
        .collect();
    reference.sort();
    pages.extend(reference);
    pages
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Mode {
    Default,
    Long,
    NotRun,
}

#[derive(Debug)]
struct Cmd {
    /// 1-based line of the `$ ` line in the doc.
    line: usize,
    text: String,
    args: Vec<String>,
    stdout_to: Option<String>,
    /// The quoted output, with each line's 1-based line number in the doc.
    expected: Vec<(usize, String)>,
}

#[derive(Debug)]
struct Block {
    doc: PathBuf,
    /// 1-based line of the opening fence.
    line: usize,
    mode: Mode,
    setup: Vec<Vec<String>>,
    cmds: Vec<Cmd>,
}

/// Splits a command line into words: whitespace separates, single and double quotes group.
fn words(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut in_word = false;
    for c in s.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => cur.push(c),
            None if c == '\'' || c == '"' => {
                quote = Some(c);
                in_word = true;
            }
            None if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            None => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        out.push(cur);
    }
    out
}

/// The arguments of a `$ ` line, or why it is not a command this test runs.
fn parse_command(cmd: &str) -> Result<(Vec<String>, Option<String>), String> {
    let mut w = words(cmd);
    let mut stdout_to = None;
    if w.len() >= 2 && w[w.len() - 2] == ">" {
        stdout_to = w.pop();
        w.pop();
    }
    let args = if w.first().map(String::as_str) == Some("plasma-check") {
        w[1..].to_vec()
    } else if w.len() >= 3 && w[0] == "cargo" && w[1] == "run" && w[2] == "--release" {
        match w.get(3).map(String::as_str) {
            None => Vec::new(),
            Some("--") => w[4..].to_vec(),
            Some(_) => return Err(format!("only `cargo run --release -- ARGS` runs: `{cmd}`")),
        }
    } else {
        return Err(format!(
            "a tested block runs `plasma-check ARGS` or `cargo run --release -- ARGS` only: `{cmd}`"
        ));
    };
    Ok((args, stdout_to))
}

fn is_command(line: &str) -> bool {
    let Some(cmd) = line.strip_prefix("$ ") else {
        return false;
    };
    let w = words(cmd);
    w.first().is_some_and(|c| c == "plasma-check")
        || (w.len() >= 3 && w[0] == "cargo" && w[1] == "run" && w[2] == "--release")
}

/// Every tested block of one page. `Err` for a block this test cannot run.
fn blocks_of(doc: &Path, text: &str) -> Result<Vec<Block>, String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut blocks = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let fence = lines[i].trim_start();
        let indent = lines[i].len() - fence.len();
        if !fence.starts_with("```") {
            i += 1;
            continue;
        }
        let info = fence.trim_start_matches('`').trim();
        let open = i;
        let mut end = i + 1;
        while end < lines.len() && !lines[end].trim_start().starts_with("```") {
            end += 1;
        }
        let body: Vec<&str> = lines[open + 1..end.min(lines.len())]
            .iter()
            .map(|l| l.get(indent..).unwrap_or(l.trim_start()))
            .collect();
        i = end + 1;
        if info != "text" || !body.first().is_some_and(|l| is_command(l)) {
            continue;
        }
        let here = format!("{}:{}", doc.display(), open + 1);
        // The comments just above the fence.
        let mut mode = Mode::Default;
        let mut setup = Vec::new();
        let mut k = open;
        while k > 0 && lines[k - 1].trim().starts_with("<!--") {
            k -= 1;
        }
        for c in &lines[k..open] {
            let c = c.trim();
            let Some(inner) = c
                .strip_prefix("<!-- doc-test:")
                .and_then(|r| r.strip_suffix("-->"))
            else {
                continue;
            };
            let inner = inner.trim();
            if inner == "long run" {
                mode = Mode::Long;
            } else if inner.starts_with("not run") {
                mode = Mode::NotRun;
            } else if let Some(cmd) = inner.strip_prefix("setup $ ") {
                setup.push(parse_command(cmd).map_err(|e| format!("{here}: {e}"))?.0);
            } else {
                return Err(format!("{here}: unknown doc-test comment `{c}`"));
            }
        }
        let mut cmds: Vec<Cmd> = Vec::new();
        for (n, l) in body.iter().enumerate() {
            let line = open + 2 + n;
            if let Some(cmd) = l.strip_prefix("$ ") {
                let (args, stdout_to) =
                    parse_command(cmd).map_err(|e| format!("{}:{line}: {e}", doc.display()))?;
                cmds.push(Cmd {
                    line,
                    text: cmd.to_string(),
                    args,
                    stdout_to,
                    expected: Vec::new(),
                });
            } else {
                let last = cmds.last_mut().expect("the first line is a command");
                last.expected.push((line, l.to_string()));
            }
        }
        blocks.push(Block {
            doc: doc.to_path_buf(),
            line: open + 1,
            mode,
            setup,
            cmds,
        });
    }
    Ok(blocks)
}

/// Whether one line of output matches one quoted line (`[..]` matches any text).
fn line_matches(pattern: &str, actual: &str) -> bool {
    let pattern = pattern.trim_end();
    let actual = actual.trim_end();
    let parts: Vec<&str> = pattern.split("[..]").collect();
    if parts.len() == 1 {
        return pattern == actual;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !actual.starts_with(first) || actual.len() < first.len() + last.len() {
        return false;
    }
    let mut rest = &actual[first.len()..];
    if !rest.ends_with(last) {
        return false;
    }
    rest = &rest[..rest.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(at) => rest = &rest[at + mid.len()..],
            None => return false,
        }
    }
    true
}

fn is_ellipsis(line: &str) -> bool {
    line.trim() == "..."
}

/// Matches the output against the quoted lines; `Err(index)` is the first quoted line (an index
/// into `expected`, or `expected.len()` for output left over) that no match gets past.
fn output_matches(expected: &[&str], actual: &[&str]) -> Result<(), usize> {
    let trim = |v: &[&str]| {
        let mut n = v.len();
        while n > 0 && v[n - 1].trim().is_empty() {
            n -= 1;
        }
        n
    };
    let (n, m) = (trim(expected), trim(actual));
    // reach[i][j]: the first i quoted lines match the first j output lines.
    let mut reach = vec![vec![false; m + 1]; n + 1];
    reach[0][0] = true;
    for i in 0..=n {
        for j in 0..=m {
            if !reach[i][j] || i == n {
                continue;
            }
            if is_ellipsis(expected[i]) {
                for r in reach[i + 1].iter_mut().skip(j) {
                    *r = true;
                }
            } else if j < m && line_matches(expected[i], actual[j]) {
                reach[i + 1][j + 1] = true;
            }
        }
    }
    if reach[n][m] {
        return Ok(());
    }
    let furthest = (0..=n)
        .rev()
        .find(|&i| reach[i].iter().any(|&r| r))
        .unwrap_or(0);
    Err(furthest)
}

/// A scratch directory that links to the repository's top-level entries but `target/`.
fn scratch() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for entry in std::fs::read_dir(root()).expect("root") {
        let entry = entry.expect("entry");
        let name = entry.file_name();
        if name == "target" || name == ".git" {
            continue;
        }
        #[cfg(unix)]
        std::os::unix::fs::symlink(entry.path(), dir.path().join(&name)).expect("symlink");
    }
    dir
}

fn run(dir: &Path, args: &[String]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_plasma-check"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the binary runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs one block; `Err` says where and how its quoted output is wrong.
fn run_block(block: &Block) -> Result<(), String> {
    let dir = scratch();
    for args in &block.setup {
        run(dir.path(), args);
    }
    for cmd in &block.cmds {
        let stdout = run(dir.path(), &cmd.args);
        let doc = block.doc.display();
        if let Some(file) = &cmd.stdout_to {
            std::fs::write(dir.path().join(file), &stdout).expect("write redirected stdout");
            if !cmd.expected.is_empty() {
                return Err(format!(
                    "{doc}:{}: a command whose stdout goes to a file quotes no output",
                    cmd.line
                ));
            }
            continue;
        }
        let expected: Vec<&str> = cmd.expected.iter().map(|(_, l)| l.as_str()).collect();
        let actual: Vec<&str> = stdout.lines().collect();
        if let Err(i) = output_matches(&expected, &actual) {
            let at = match cmd.expected.get(i) {
                Some((line, text)) => format!("line {line} `{text}` matches no output there"),
                None => "the output goes on after the last quoted line".to_string(),
            };
            return Err(format!(
                "{doc}:{}: `$ {}` (block at line {}): {at}\n--- actual stdout ---\n{stdout}---",
                cmd.line, cmd.text, block.line
            ));
        }
    }
    Ok(())
}

fn all_blocks() -> Vec<Block> {
    let mut blocks = Vec::new();
    for doc in doc_pages() {
        let text = std::fs::read_to_string(root().join(&doc)).expect("doc page");
        blocks.extend(blocks_of(&doc, &text).unwrap_or_else(|e| panic!("{e}")));
    }
    blocks
}

/// Runs the blocks on two threads and fails with every mismatch.
fn run_blocks(blocks: &[&Block]) {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let failures = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let Some(block) = blocks.get(i) else { break };
                if let Err(e) = run_block(block) {
                    failures.lock().unwrap().push((i, e));
                }
            });
        }
    });
    let mut failures = failures.into_inner().unwrap();
    failures.sort();
    assert!(
        failures.is_empty(),
        "{} quoted output(s) differ from the binary's:\n\n{}",
        failures.len(),
        failures
            .into_iter()
            .map(|(_, e)| e)
            .collect::<Vec<_>>()
            .join("\n\n")
    );
}

#[test]
fn doc_examples() {
    let blocks = all_blocks();
    let run: Vec<&Block> = blocks.iter().filter(|b| b.mode == Mode::Default).collect();
    assert!(run.len() >= 5, "the docs' console blocks were not found");
    run_blocks(&run);
}

/// The quoted long runs (`default`, `mutants --random`, ...): `cargo test --release -p
/// plasma-check --test docs -- --ignored`.
#[test]
#[ignore = "long runs: several minutes"]
fn long_doc_examples() {
    let blocks = all_blocks();
    let run: Vec<&Block> = blocks.iter().filter(|b| b.mode == Mode::Long).collect();
    for b in &run {
        eprintln!("{}:{}", b.doc.display(), b.line);
    }
    run_blocks(&run);
}

#[test]
fn the_matcher_elides_only_what_it_is_told() {
    let out = [
        "a",
        "states generated 10, 0.33s, 100 states/s",
        "b",
        "c",
        "verified (10)",
    ];
    let ok = |e: &[&str]| output_matches(e, &out);
    assert_eq!(ok(&["a", "...", "verified (10)"]), Ok(()));
    assert_eq!(
        ok(&[
            "a",
            "states generated 10, [..]s, [..] states/s",
            "...",
            "verified (10)"
        ]),
        Ok(())
    );
    assert_eq!(ok(&["...", "  ...", "verified (10)"]), Ok(()));
    // A changed count fails at its line.
    assert_eq!(ok(&["a", "states generated 11, [..]", "..."]), Err(1));
    assert_eq!(ok(&["a", "...", "verified (11)"]), Err(2));
    // Output left over, and output missing.
    assert_eq!(ok(&["a"]), Err(1));
    assert_eq!(ok(&["a", "...", "verified (10)", "more"]), Err(3));
    assert!(!line_matches("x[..]y[..]z", "xyz y"));
    assert!(line_matches("x[..]y[..]z", "x1y2z"));
}

#[test]
fn a_changed_count_in_a_block_is_reported_with_its_doc_and_line() {
    let doc = "$ plasma-check check --config tiny\nplasma-check: [..]\n...\nverified (372211 unique states)\n";
    let text = format!("intro\n\n```text\n{doc}```\n");
    let blocks = blocks_of(Path::new("X.md"), &text).expect("parses");
    assert_eq!(blocks.len(), 1);
    assert_eq!(blocks[0].line, 3);
    let err = run_block(&blocks[0]).expect_err("372211 is not the count");
    assert!(err.starts_with("X.md:4: "), "{err}");
    assert!(
        err.contains("line 7 `verified (372211 unique states)`"),
        "{err}"
    );
}

// ---- Facts the docs state, checked against the code ----

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The README asks for the Rust version that `Cargo.toml` requires.
#[test]
fn readme_rust_version_is_the_workspace_rust_version() {
    let cargo = read("Cargo.toml");
    let version = cargo
        .lines()
        .find_map(|l| l.trim().strip_prefix("rust-version = "))
        .expect("rust-version in Cargo.toml")
        .trim_matches('"');
    let readme = read("README.md");
    let want = format!("Rust (stable, {version} or newer)");
    assert!(
        readme.contains(&want),
        "README.md must say `{want}` (Cargo.toml's rust-version)"
    );
}

/// The presets a help text or the command-line reference lists, in order.
fn listed_presets(text: &str, start: &str, end: char, sep: char) -> Vec<String> {
    let at = text
        .find(start)
        .unwrap_or_else(|| panic!("`{start}` not found"))
        + start.len();
    let list = &text[at..];
    let list = &list[..list.find(end).expect("end of the list")];
    let list = list.split(':').next().unwrap_or(list);
    list.split(sep)
        .map(|s| s.split_whitespace().collect::<String>())
        .filter(|s| !s.is_empty() && s != "FILE.json")
        .collect()
}

/// `check --help`, `explore --help` and the command-line reference name every preset.
#[test]
fn help_texts_list_every_preset() {
    let names: Vec<String> = plasma_check::presets::NAMES
        .iter()
        .map(|s| s.to_string())
        .collect();
    for cmd in ["check", "explore"] {
        let out = Command::new(env!("CARGO_BIN_EXE_plasma-check"))
            .args([cmd, "--help"])
            .output()
            .expect("runs");
        let help = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            listed_presets(&help, "A preset (", ')', ','),
            names,
            "`plasma-check {cmd} --help` must list presets::NAMES"
        );
    }
    let cli = read("harness/docs/cli.md");
    assert_eq!(
        listed_presets(&cli, "[--config ", ']', '|'),
        names,
        "harness/docs/cli.md's synopsis must list presets::NAMES"
    );
}

fn number_word(n: usize) -> String {
    const WORDS: [&str; 21] = [
        "zero",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
        "thirteen",
        "fourteen",
        "fifteen",
        "sixteen",
        "seventeen",
        "eighteen",
        "nineteen",
        "twenty",
    ];
    WORDS.get(n).map_or(n.to_string(), |w| w.to_string())
}

fn assert_says(doc: &str, text: &str, want: &str) {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.to_lowercase().contains(&want.to_lowercase()),
        "{doc} must say `{want}` (the count in the code)"
    );
}

/// The counts the README states: mutants, documented flaws, properties, choices, snapshots.
#[test]
fn counts_in_the_docs_match_the_code() {
    use plasma_properties::{Expect, Scope};
    let readme = read("README.md");
    let mutants = plasma_model::Mutant::ALL.len();
    let flaws = plasma_check::hunt::documented_flaws().len();
    assert_says(
        "README.md",
        &readme,
        &format!("the {mutants} deliberate bugs"),
    );
    assert_says(
        "README.md",
        &readme,
        &format!("hunts all {mutants} mutants and {flaws} documented flaws"),
    );
    let count = |e: Expect, s: Scope| {
        plasma_properties::all()
            .iter()
            .filter(|p| p.expect == e && p.scope == s)
            .count()
    };
    let safety = count(Expect::Always, Scope::State);
    let liveness = count(Expect::Always, Scope::Quiescent);
    assert_says(
        "README.md",
        &readme,
        &format!("{} safety properties", number_word(safety)),
    );
    assert_says(
        "README.md",
        &readme,
        &format!("{} liveness properties", number_word(liveness)),
    );
    // The numbered choices of model/README.md.
    let model = read("model/README.md");
    let section = &model[model.find("## The choices").expect("choices section")..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |e| e + 3)];
    let choices = section
        .lines()
        .filter(|l| {
            let d = l.split_once(". **").map(|(n, _)| n);
            d.is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
        })
        .count();
    assert_says(
        "README.md",
        &readme,
        &format!("the {choices} numbered choices"),
    );
    // One snapshot per mutant and per documented flaw.
    let snapshots = std::fs::read_dir(root().join("snapshots"))
        .expect("snapshots/")
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "snap"))
        })
        .count();
    assert_eq!(
        snapshots,
        mutants + flaws,
        "one snapshot per mutant and flaw"
    );
    let teeth = read("harness/docs/teeth.md");
    assert_says(
        "harness/docs/teeth.md",
        &teeth,
        &format!("{snapshots} snapshots"),
    );
}

// ---- Links ----

/// Every Markdown page of the repository (not `target/`, `.git/` or `node_modules/`).
fn markdown_pages() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("dir") {
            let path = entry.expect("entry").path();
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            if path.is_dir() {
                if !matches!(name.as_ref(), "target" | ".git" | "node_modules") {
                    walk(&path, out);
                }
            } else if name.ends_with(".md") {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(&root(), &mut out);
    out.sort();
    out
}

/// A page's text outside fenced blocks and inline code, line by line (1-based numbers).
fn prose_lines(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut fenced = false;
    for (n, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        // Drop inline code spans.
        let mut prose = String::new();
        for (k, part) in line.split('`').enumerate() {
            if k % 2 == 0 {
                prose.push_str(part);
            }
        }
        out.push((n + 1, prose));
    }
    out
}

/// GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-' || *c == '_')
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// The anchors of a page's headings (a repeated heading gets `-1`, `-2`, ...).
fn anchors(text: &str) -> Vec<String> {
    let mut seen: Vec<String> = Vec::new();
    let mut fenced = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced || !line.starts_with('#') {
            continue;
        }
        let heading = line.trim_start_matches('#');
        if !heading.starts_with(' ') {
            continue;
        }
        let base = slug(heading);
        let n = seen
            .iter()
            .filter(|s| {
                **s == base
                    || s.strip_prefix(&format!("{base}-"))
                        .is_some_and(|r| r.parse::<u32>().is_ok())
            })
            .count();
        seen.push(if n == 0 { base } else { format!("{base}-{n}") });
    }
    seen
}

/// The targets of the inline links and images on one line of prose.
fn link_targets(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(at) = rest.find("](") {
        let after = &rest[at + 2..];
        let mut depth = 0;
        let mut end = None;
        for (i, c) in after.char_indices() {
            match c {
                '(' => depth += 1,
                ')' if depth == 0 => {
                    end = Some(i);
                    break;
                }
                ')' => depth -= 1,
                _ => {}
            }
        }
        let Some(end) = end else { break };
        let target = after[..end].split_whitespace().next().unwrap_or("");
        out.push(target.to_string());
        rest = &after[end..];
    }
    out
}

/// Every relative link and anchor in the repository's Markdown resolves, and no page refers to
/// a specification file outside the repository.
#[test]
fn every_relative_link_and_anchor_resolves() {
    let mut broken = Vec::new();
    for page in markdown_pages() {
        let text = std::fs::read_to_string(&page).expect("page");
        let name = page
            .strip_prefix(root())
            .expect("under root")
            .display()
            .to_string();
        for (n, prose) in prose_lines(&text) {
            for target in link_targets(&prose) {
                if target.contains("://") || target.starts_with("mailto:") {
                    continue;
                }
                let (path, anchor) = match target.split_once('#') {
                    Some((p, a)) => (p, Some(a)),
                    None => (target.as_str(), None),
                };
                let file = if path.is_empty() {
                    page.clone()
                } else {
                    page.parent().expect("dir").join(path)
                };
                if !file.exists() {
                    broken.push(format!("{name}:{n}: `{target}`: no such file"));
                    continue;
                }
                if let Some(anchor) = anchor {
                    let target_text = std::fs::read_to_string(&file).unwrap_or_default();
                    if !anchors(&target_text).iter().any(|a| a == anchor) {
                        broken.push(format!("{name}:{n}: `{target}`: no such heading"));
                    }
                }
            }
        }
        for (n, line) in text.lines().enumerate() {
            for outside in ["ARCHITECTURE.md", "shared/PROTOCOL.md"] {
                if line.contains(outside) {
                    broken.push(format!(
                        "{name}:{}: refers to `{outside}`, which is not in the repository",
                        n + 1
                    ));
                }
            }
            if line.contains("PROTOCOL.md") && !root().join("model/PROTOCOL.md").exists() {
                broken.push(format!(
                    "{name}:{}: refers to `PROTOCOL.md`, which is not in the repository",
                    n + 1
                ));
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn anchors_follow_github() {
    assert_eq!(
        slug(" Count checks: compare.py (all exact)"),
        "count-checks-comparepy-all-exact"
    );
    assert_eq!(slug(" `replay`"), "replay");
    assert_eq!(
        anchors("# A\n## A\n```\n# B\n```\n## A"),
        ["a", "a-1", "a-2"]
    );
    assert_eq!(
        link_targets("see [x](a.md#b) and ![y](../c.png \"t\") and [z](f(1).md)"),
        ["a.md#b", "../c.png", "f(1).md"]
    );
}

/// The switches of the `replicache` profile, as the conformance page and model choice 20 count
/// them, and the findings the conformance page cites, as NOTES.md numbers them.
#[test]
fn replicache_profile_and_findings_are_counted_right() {
    let hardened = serde_json::to_value(plasma_model::Protocol::hardened()).expect("json");
    let replicache = serde_json::to_value(plasma_model::Protocol::replicache()).expect("json");
    let switches = replicache
        .as_object()
        .expect("object")
        .iter()
        .filter(|(k, v)| hardened.get(k.as_str()) != Some(v))
        .count();
    let n = number_word(switches);
    assert_says(
        "harness/conformance/README.md",
        &read("harness/conformance/README.md"),
        &format!("the hardened protocol with {n} switches"),
    );
    assert_says(
        "model/README.md",
        &read("model/README.md"),
        &format!("`Protocol::replicache()`): {n} switches"),
    );
    let notes = read("harness/conformance/NOTES.md");
    let last = (1..100)
        .take_while(|k| notes.contains(&format!("**F{k}.")))
        .last()
        .expect("findings F1...");
    assert_says(
        "harness/conformance/README.md",
        &read("harness/conformance/README.md"),
        &format!("F1–F{last}"),
    );
}

/// Every field of `check --json`'s report is named in the command-line reference.
#[test]
fn cli_md_names_every_field_of_the_json_report() {
    let out = Command::new(env!("CARGO_BIN_EXE_plasma-check"))
        .args(["check", "--config", "tiny", "--json"])
        .output()
        .expect("runs");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let cli = read("harness/docs/cli.md");
    let missing: Vec<&String> = report
        .as_object()
        .expect("object")
        .keys()
        .filter(|k| !cli.contains(&format!("`{k}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "harness/docs/cli.md does not name {missing:?} of the JSON report"
    );
}
