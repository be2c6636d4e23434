//! The harness's imports point one way (DESIGN.md, "Where the arrows may
//! point"): every top-level module sits on a floor, and a module may use
//! only modules on lower floors. Inside a module, the files beside each
//! other (the children of one folder) may not use each other in a circle.
//! A folder's `mod.rs` is the module's face: it may use its children and
//! they may use it.
//!
//! The check reads `harness/src` as text: every `use` tree and every
//! `crate::…`, `super::…` or `self::…` path outside comments, including the
//! ones in attributes such as `#[serde(with = "crate::…")]`. It relies on
//! rustfmt's layout (an inline `mod x {` ends at the `}` with its own
//! indentation), which CI enforces. A new top-level module needs a floor in
//! [`FLOORS`] before the check passes.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Top-level modules and their floors, top first. A module may use only
/// modules with a smaller number, so modules on one floor never know each
/// other and the floors cannot form a circle.
const FLOORS: &[(&str, u32)] = &[
    ("cli", 13),
    ("shrink", 12),
    ("gate", 12),
    ("suite", 11),
    ("report", 10),
    // What a sweep exercised, counted from plans, records and verdicts.
    ("coverage", 9),
    ("check", 8),
    ("sim", 7),
    ("plan", 6),
    ("scenario", 5),
    ("target", 4),
    // The handles a target's host software gets.
    ("disk", 3),
    ("clock", 3),
    // The disk and clock faults in force, which those handles consult.
    ("host_faults", 2),
    ("record", 2),
    ("history", 1),
    ("fault", 1),
    ("seed", 0),
    ("duration", 0),
];

/// Arrows the floors would allow but the data flow forbids (DESIGN.md:
/// "Nothing downstream reaches back upstream"): these modules work on what
/// a run left behind, never on the simulator that produced it.
const NEVER: &[(&str, &str)] = &[("check", "sim"), ("coverage", "sim"), ("report", "sim")];

/// One source file: its path for messages, its module path
/// (`report/html/mod.rs` is `["report", "html"]`, `lib.rs` is `[]`) and
/// its text.
struct Source {
    file: String,
    module: Vec<String>,
    text: String,
}

/// Where a path was written.
#[derive(Clone, Debug)]
struct Site {
    file: String,
    line: usize,
}

impl std::fmt::Display for Site {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

fn module_of(relative: &Path) -> Vec<String> {
    let mut parts: Vec<String> = relative
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let last = parts.pop().expect("a file name");
    let stem = last.strip_suffix(".rs").unwrap_or(&last);
    if stem != "mod" && stem != "lib" {
        parts.push(stem.to_string());
    }
    parts
}

fn read_sources(root: &Path) -> Vec<Source> {
    fn walk(dir: &Path, root: &Path, out: &mut Vec<Source>) {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
            .map(|e| e.expect("a directory entry").path())
            .collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                walk(&path, root, out);
            } else if path.extension().is_some_and(|x| x == "rs") {
                let relative = path.strip_prefix(root).expect("under the root");
                out.push(Source {
                    file: format!("harness/src/{}", relative.display()),
                    module: module_of(relative),
                    text: std::fs::read_to_string(&path)
                        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display())),
                });
            }
        }
    }
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out
}

/// A line without its `//` comment (doc comments included).
fn code(line: &str) -> &str {
    line.find("//").map_or(line, |i| &line[..i])
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The tokens of a use tree: identifiers, `*`, `::`, `{`, `}` and `,`.
fn tokens(tree: &str) -> Vec<String> {
    let chars: Vec<char> = tree.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if is_ident(c) {
            let start = i;
            while i < chars.len() && is_ident(chars[i]) {
                i += 1;
            }
            out.push(chars[start..i].iter().collect());
            continue;
        }
        match c {
            ':' if chars.get(i + 1) == Some(&':') => {
                out.push("::".into());
                i += 1;
            }
            '{' | '}' | ',' | '*' => out.push(c.to_string()),
            _ => {}
        }
        i += 1;
    }
    out
}

/// One path of a flattened use tree, and the name it binds.
#[derive(Debug, PartialEq)]
struct UsePath {
    segments: Vec<String>,
    name: String,
}

/// Flattens a use tree (`a::{b, c::{d, e as f}, self}`) into its paths.
fn flatten(tree: &str) -> Vec<UsePath> {
    let tokens = tokens(tree);
    let mut out = Vec::new();
    let mut pos = 0;
    flatten_at(&tokens, &mut pos, Vec::new(), &mut out);
    out
}

fn flatten_at(tokens: &[String], pos: &mut usize, prefix: Vec<String>, out: &mut Vec<UsePath>) {
    let mut segments = prefix;
    while let Some(token) = tokens.get(*pos) {
        *pos += 1;
        match token.as_str() {
            "{" => {
                while *pos < tokens.len() && tokens[*pos] != "}" {
                    flatten_at(tokens, pos, segments.clone(), out);
                    if tokens.get(*pos).is_some_and(|t| t == ",") {
                        *pos += 1;
                    }
                }
                *pos += 1;
                return;
            }
            "self" if !segments.is_empty() => {}
            _ => segments.push(token.clone()),
        }
        match tokens.get(*pos).map(String::as_str) {
            Some("::") => *pos += 1,
            Some("as") => {
                let alias = tokens.get(*pos + 1).cloned().unwrap_or_default();
                *pos += 2;
                out.push(UsePath {
                    segments,
                    name: alias,
                });
                return;
            }
            _ => break,
        }
    }
    let name = segments.last().cloned().unwrap_or_default();
    out.push(UsePath { segments, name });
}

/// The `use` statements of a file, each with the line it starts on.
fn use_statements(lines: &[&str]) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (i, line) in lines.iter().enumerate() {
        let line = code(line).trim();
        if current.is_none() {
            let rest = ["use ", "pub use ", "pub(crate) use ", "pub(super) use "]
                .iter()
                .find_map(|p| line.strip_prefix(p));
            if let Some(rest) = rest {
                current = Some((i + 1, String::new()));
                current.as_mut().expect("just set").1.push_str(rest);
            }
        } else if let Some((_, text)) = current.as_mut() {
            text.push(' ');
            text.push_str(line);
        }
        if current.as_ref().is_some_and(|(_, t)| t.contains(';')) {
            let (line, text) = current.take().expect("a statement");
            let tree = text.split(';').next().unwrap_or_default().to_string();
            out.push((line, tree));
        }
    }
    out
}

/// Every `crate::`, `super::` and `self::` path written in a line of code,
/// up to its last plain segment.
fn inline_paths(line: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for root in ["crate", "super", "self"] {
        let mut from = 0;
        while let Some(found) = line[from..].find(&format!("{root}::")) {
            let start = from + found;
            from = start + root.len();
            let boundary = line[..start]
                .chars()
                .next_back()
                .is_none_or(|c| !is_ident(c));
            if !boundary {
                continue;
            }
            let mut segments = Vec::new();
            let mut rest = &line[start..];
            loop {
                let end = rest.find(|c: char| !is_ident(c)).unwrap_or(rest.len());
                if end == 0 {
                    break;
                }
                segments.push(rest[..end].to_string());
                rest = &rest[end..];
                match rest.strip_prefix("::") {
                    Some(next) => rest = next,
                    None => break,
                }
            }
            out.push(segments);
        }
    }
    out
}

/// Makes a path absolute (from the crate root), or `None` for a path into
/// another crate. `current` is the module the line is in.
fn absolute(segments: &[String], current: &[String]) -> Option<Vec<String>> {
    let mut base = current.to_vec();
    let mut rest = segments;
    match rest.first().map(String::as_str) {
        Some("crate") => {
            base.clear();
            rest = &rest[1..];
        }
        Some("super") | Some("self") => {
            while let Some(first) = rest.first() {
                match first.as_str() {
                    "super" => {
                        base.pop()?;
                    }
                    "self" => {}
                    _ => break,
                }
                rest = &rest[1..];
            }
        }
        _ => return None,
    }
    base.extend(rest.iter().filter(|s| *s != "*").cloned());
    Some(base)
}

/// The module each line of a file is in: the file's own, or an inline
/// `mod x {` inside it (which rustfmt closes with a `}` at its indentation).
fn line_modules(lines: &[&str], module: &[String]) -> Vec<Vec<String>> {
    let mut stack: Vec<(String, String)> = Vec::new();
    let mut out = Vec::with_capacity(lines.len());
    for line in lines {
        let indent: String = line.chars().take_while(|c| c.is_whitespace()).collect();
        let trimmed = code(line).trim();
        if stack.last().is_some_and(|(i, _)| *i == indent) && trimmed == "}" {
            stack.pop();
        }
        let mut current = module.to_vec();
        current.extend(stack.iter().map(|(_, name)| name.clone()));
        out.push(current);
        let declaration = trimmed
            .trim_start_matches("pub(crate) ")
            .trim_start_matches("pub ")
            .strip_prefix("mod ");
        if let Some(name) = declaration.and_then(|d| d.strip_suffix(" {")) {
            stack.push((indent, name.trim().to_string()));
        }
    }
    out
}

/// One arrow between two modules, and one place that draws it.
type Arrows = BTreeMap<(String, String), Site>;

/// What the layering rules find wrong in a set of sources, one message per
/// problem.
fn violations(sources: &[Source], floors: &[(&str, u32)], never: &[(&str, &str)]) -> Vec<String> {
    let floor: BTreeMap<&str, u32> = floors.iter().copied().collect();
    let modules: BTreeSet<Vec<String>> = sources.iter().map(|s| s.module.clone()).collect();

    // What each folder module re-exports from its children: `pub use
    // child::Name` lets a sibling's `super::Name` reach `child`.
    let mut reexports: BTreeMap<Vec<String>, BTreeMap<String, String>> = BTreeMap::new();
    for source in sources {
        let lines: Vec<&str> = source.text.lines().collect();
        for (_, tree) in use_statements(&lines) {
            for path in flatten(&tree) {
                let Some(first) = path.segments.first() else {
                    continue;
                };
                let child = if first == "self" {
                    path.segments.get(1)
                } else {
                    Some(first)
                };
                let Some(child) = child else { continue };
                let mut child_module = source.module.clone();
                child_module.push(child.clone());
                if modules.contains(&child_module) {
                    reexports
                        .entry(source.module.clone())
                        .or_default()
                        .insert(path.name.clone(), child.clone());
                }
            }
        }
    }

    let mut problems = Vec::new();
    let mut arrows: BTreeMap<Vec<String>, Arrows> = BTreeMap::new();
    for source in sources {
        let lines: Vec<&str> = source.text.lines().collect();
        let in_module = line_modules(&lines, &source.module);
        let mut paths: Vec<(usize, Vec<String>)> = Vec::new();
        for (line, tree) in use_statements(&lines) {
            paths.extend(flatten(&tree).into_iter().map(|p| (line, p.segments)));
        }
        for (i, line) in lines.iter().enumerate() {
            paths.extend(inline_paths(code(line)).into_iter().map(|p| (i + 1, p)));
        }
        paths.sort();
        paths.dedup();
        for (line, segments) in paths {
            let Some(to) = absolute(&segments, &in_module[line - 1]) else {
                continue;
            };
            let site = Site {
                file: source.file.clone(),
                line,
            };
            let from = &source.module;
            let shared = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
            if shared >= from.len() || shared >= to.len() {
                // A module using its own children, or a child using its
                // parent: the folder's face.
                continue;
            }
            let parent = from[..shared].to_vec();
            let (a, mut b) = (from[shared].clone(), to[shared].clone());
            let mut b_module = parent.clone();
            b_module.push(b.clone());
            if !modules.contains(&b_module) {
                match reexports.get(&parent).and_then(|r| r.get(&b)) {
                    Some(child) => b = child.clone(),
                    None if parent.is_empty() => {
                        problems.push(format!("{site}: crate::{b} is not a module of the harness"));
                        continue;
                    }
                    // An item of the parent's own file.
                    None => continue,
                }
                if b == a {
                    continue;
                }
            }
            if parent.is_empty() {
                for m in [&a, &b] {
                    if !floor.contains_key(m.as_str()) {
                        problems.push(format!(
                            "{site}: module `{m}` has no floor: give it one in FLOORS (harness/tests/layers.rs)"
                        ));
                    }
                }
                if let (Some(fa), Some(fb)) = (floor.get(a.as_str()), floor.get(b.as_str())) {
                    if fb >= fa {
                        problems.push(format!(
                            "{site}: `{a}` (floor {fa}) uses `{b}` (floor {fb}): an import must point to a lower floor; move what `{a}` needs down instead"
                        ));
                    }
                }
                if never.contains(&(a.as_str(), b.as_str())) {
                    problems.push(format!(
                        "{site}: `{a}` uses `{b}`, which it must never do (see NEVER in harness/tests/layers.rs); move what `{a}` needs into the records it reads"
                    ));
                }
            }
            arrows
                .entry(parent)
                .or_default()
                .entry((a, b))
                .or_insert(site);
        }
    }
    for module in modules.iter().filter(|m| m.len() == 1) {
        if !floor.contains_key(module[0].as_str()) {
            problems.push(format!(
                "module `{}` has no floor: give it one in FLOORS (harness/tests/layers.rs)",
                module[0]
            ));
        }
    }
    // Between top-level modules the floors already rule circles out.
    for (parent, arrows) in arrows.iter().filter(|(p, _)| !p.is_empty()) {
        if let Some(circle) = find_circle(arrows) {
            let place = if parent.is_empty() {
                "the crate".to_string()
            } else {
                format!("`{}`", parent.join("::"))
            };
            let mut message = format!(
                "a circle between the modules of {place}: {}",
                circle.join(" -> ")
            );
            for pair in circle.windows(2) {
                let site = &arrows[&(pair[0].clone(), pair[1].clone())];
                message.push_str(&format!("\n  {} -> {} at {site}", pair[0], pair[1]));
            }
            problems.push(message);
        }
    }
    // One message per place, however many names a line imports.
    let mut seen = BTreeSet::new();
    problems.retain(|p| seen.insert(p.clone()));
    problems
}

/// A circle in a graph of arrows, as the names along it (first = last).
fn find_circle(arrows: &Arrows) -> Option<Vec<String>> {
    let mut next: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (a, b) in arrows.keys() {
        next.entry(a).or_default().push(b);
    }
    // Depth-first search; a node met again while on the path closes a circle.
    fn visit<'a>(
        node: &'a str,
        next: &BTreeMap<&'a str, Vec<&'a str>>,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) -> Option<Vec<String>> {
        if let Some(i) = path.iter().position(|n| *n == node) {
            let mut circle: Vec<String> = path[i..].iter().map(|s| s.to_string()).collect();
            circle.push(node.to_string());
            return Some(circle);
        }
        if !done.insert(node) {
            return None;
        }
        path.push(node);
        for n in next.get(node).into_iter().flatten() {
            if let Some(circle) = visit(n, next, path, done) {
                return Some(circle);
            }
        }
        path.pop();
        None
    }
    let mut done = BTreeSet::new();
    for start in next.keys() {
        if let Some(circle) = visit(start, &next, &mut Vec::new(), &mut done) {
            return Some(circle);
        }
    }
    None
}

#[test]
fn harness_imports_point_down_and_form_no_circle() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let sources = read_sources(&root);
    assert!(sources.len() > 20, "read {} files", sources.len());
    let problems = violations(&sources, FLOORS, NEVER);
    assert!(
        problems.is_empty(),
        "{} layering problems (DESIGN.md, \"Where the arrows may point\"):\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[cfg(test)]
mod check_itself {
    use super::*;

    fn source(file: &str, text: &str) -> Source {
        Source {
            file: file.to_string(),
            module: module_of(Path::new(file)),
            text: text.to_string(),
        }
    }

    const FLOORS: &[(&str, u32)] = &[("top", 2), ("middle", 1), ("bottom", 0)];

    fn tree(files: &[(&str, &str)]) -> Vec<Source> {
        let mut sources = vec![source(
            "lib.rs",
            "pub mod bottom;\npub mod middle;\npub mod top;\n",
        )];
        sources.extend(files.iter().map(|(f, t)| source(f, t)));
        sources
    }

    #[test]
    fn use_trees_flatten_into_paths_and_names() {
        let paths = flatten("super::{self, parse::ScenarioError, a::{b as c, d}}");
        let flat: Vec<(String, &str)> = paths
            .iter()
            .map(|p| (p.segments.join("::"), p.name.as_str()))
            .collect();
        assert_eq!(
            flat,
            [
                ("super".to_string(), "super"),
                ("super::parse::ScenarioError".into(), "ScenarioError"),
                ("super::a::b".into(), "c"),
                ("super::a::d".into(), "d"),
            ]
        );
    }

    #[test]
    fn downward_imports_pass() {
        let sources = tree(&[
            ("top.rs", "use crate::middle::{self, Thing};\n"),
            ("middle.rs", "fn f() { crate::bottom::g() }\n"),
            ("bottom.rs", "pub fn g() {}\n"),
        ]);
        assert_eq!(violations(&sources, FLOORS, &[]), Vec::<String>::new());
    }

    #[test]
    fn an_upward_import_is_named_with_its_file_and_line() {
        let sources = tree(&[
            ("top.rs", "use crate::middle::Thing;\n"),
            (
                "middle.rs",
                "// crate::top in a comment is fine\n#[serde(with = \"crate::top::adapter\")]\nstruct Thing;\n",
            ),
            ("bottom.rs", ""),
        ]);
        let problems = violations(&sources, FLOORS, &[]);
        assert_eq!(problems.len(), 1, "{problems:#?}");
        assert!(
            problems[0].starts_with("middle.rs:2: `middle` (floor 1) uses `top` (floor 2)"),
            "{}",
            problems[0]
        );
    }

    #[test]
    fn an_arrow_the_data_flow_forbids_fails_whatever_the_floors() {
        let sources = tree(&[
            ("top.rs", "fn f() -> u64 { crate::bottom::N }\n"),
            ("middle.rs", ""),
            ("bottom.rs", "pub const N: u64 = 1;\n"),
        ]);
        assert!(violations(&sources, FLOORS, &[]).is_empty());
        let problems = violations(&sources, FLOORS, &[("top", "bottom")]);
        assert_eq!(problems.len(), 1, "{problems:#?}");
        assert!(problems[0].starts_with("top.rs:1: `top` uses `bottom`, which it must never do"));
    }

    #[test]
    fn super_in_an_inline_module_reaches_the_files_parent() {
        let sources = tree(&[
            ("top.rs", ""),
            (
                "bottom.rs",
                "fn f() {}\n\n#[cfg(test)]\nmod tests {\n    use super::super::middle::Thing;\n}\n",
            ),
            ("middle.rs", "use super::bottom;\n"),
        ]);
        let problems = violations(&sources, FLOORS, &[]);
        assert_eq!(problems.len(), 1, "{problems:#?}");
        assert!(problems[0].starts_with("bottom.rs:5: `bottom` (floor 0) uses `middle`"));
    }

    #[test]
    fn modules_on_one_floor_do_not_know_each_other_and_new_ones_need_a_floor() {
        let floors = &[("a", 0), ("b", 0)];
        let sources = vec![
            source("lib.rs", ""),
            source("a.rs", "use crate::b::X;\n"),
            source("b.rs", ""),
            source("c.rs", ""),
        ];
        let problems = violations(&sources, floors, &[]);
        assert_eq!(problems.len(), 2, "{problems:#?}");
        assert!(problems[0].contains("`a` (floor 0) uses `b` (floor 0)"));
        assert!(problems[1].starts_with("module `c` has no floor"));
    }

    #[test]
    fn a_circle_between_sibling_files_is_found_through_reexports() {
        let sources = tree(&[
            ("top.rs", ""),
            ("bottom.rs", ""),
            (
                "middle/mod.rs",
                "mod parse;\nmod validate;\npub use parse::{Error, parse};\npub use validate::validate;\npub struct Spec;\n",
            ),
            (
                "middle/parse.rs",
                "use super::Spec;\npub struct Error;\npub fn parse() { super::validate() }\n",
            ),
            ("middle/validate.rs", "use super::Error;\npub fn validate() {}\n"),
        ]);
        let problems = violations(&sources, FLOORS, &[]);
        assert_eq!(problems.len(), 1, "{problems:#?}");
        assert!(
            problems[0].starts_with(
                "a circle between the modules of `middle`: parse -> validate -> parse"
            ),
            "{}",
            problems[0]
        );
        assert!(problems[0].contains("parse -> validate at middle/parse.rs:3"));
        assert!(problems[0].contains("validate -> parse at middle/validate.rs:1"));
    }
}
