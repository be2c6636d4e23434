//! The rules: arrows between top-level modules point to lower floors and
//! avoid the forbidden pairs; the files of one folder form no circle.

use super::paths::{
    absolute, code, flatten, inline_paths, line_modules, use_statements, Site, Source,
};
use std::collections::{BTreeMap, BTreeSet};

/// One arrow between two modules, and one place that draws it.
pub type Arrows = BTreeMap<(String, String), Site>;

/// What the layering rules find wrong in a set of sources, one message per
/// problem.
pub fn violations(
    sources: &[Source],
    floors: &[(&str, u32)],
    never: &[(&str, &str)],
) -> Vec<String> {
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

    // `#[macro_export]` puts a macro at the crate root whichever module
    // defines it, so `crate::name!` (or `$crate::name!` in another macro)
    // is an arrow to the top-level module that defines `name`.
    for source in sources {
        let Some(top) = source.module.first() else {
            continue;
        };
        let lines: Vec<&str> = source.text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            if code(line).trim() != "#[macro_export]" {
                continue;
            }
            let name = lines[i + 1..]
                .iter()
                .map(|l| code(l).trim())
                .find(|l| !l.is_empty() && !l.starts_with("#["))
                .and_then(|l| l.strip_prefix("macro_rules!"))
                .map(|rest| rest.trim_end_matches('{').trim());
            if let Some(name) = name {
                reexports
                    .entry(Vec::new())
                    .or_default()
                    .insert(name.to_string(), top.clone());
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
                            "{site}: module `{m}` has no floor: give it one in FLOORS (harness/tests/layers/main.rs)"
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
                        "{site}: `{a}` uses `{b}`, which it must never do (see NEVER in harness/tests/layers/main.rs); move what `{a}` needs into the records it reads"
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
                "module `{}` has no floor: give it one in FLOORS (harness/tests/layers/main.rs)",
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
pub fn find_circle(arrows: &Arrows) -> Option<Vec<String>> {
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
