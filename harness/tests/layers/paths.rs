//! The paths a source file writes: use trees flattened, `crate::`,
//! `super::` and `self::` paths in code and attributes, each made absolute
//! from the module the line is in.

use std::path::{Path, PathBuf};

/// One source file: its path for messages, its module path
/// (`report/html/mod.rs` is `["report", "html"]`, `lib.rs` is `[]`) and
/// its text.
pub struct Source {
    pub file: String,
    pub module: Vec<String>,
    pub text: String,
}

/// Where a path was written.
#[derive(Clone, Debug)]
pub struct Site {
    pub file: String,
    pub line: usize,
}

impl std::fmt::Display for Site {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

pub fn module_of(relative: &Path) -> Vec<String> {
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

pub fn read_sources(root: &Path) -> Vec<Source> {
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
pub fn code(line: &str) -> &str {
    line.find("//").map_or(line, |i| &line[..i])
}

pub fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The tokens of a use tree: identifiers, `*`, `::`, `{`, `}` and `,`.
pub fn tokens(tree: &str) -> Vec<String> {
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
pub struct UsePath {
    pub segments: Vec<String>,
    pub name: String,
}

/// Flattens a use tree (`a::{b, c::{d, e as f}, self}`) into its paths.
pub fn flatten(tree: &str) -> Vec<UsePath> {
    let tokens = tokens(tree);
    let mut out = Vec::new();
    let mut pos = 0;
    flatten_at(&tokens, &mut pos, Vec::new(), &mut out);
    out
}

pub fn flatten_at(tokens: &[String], pos: &mut usize, prefix: Vec<String>, out: &mut Vec<UsePath>) {
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
pub fn use_statements(lines: &[&str]) -> Vec<(usize, String)> {
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
pub fn inline_paths(line: &str) -> Vec<Vec<String>> {
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
pub fn absolute(segments: &[String], current: &[String]) -> Option<Vec<String>> {
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
pub fn line_modules(lines: &[&str], module: &[String]) -> Vec<Vec<String>> {
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
