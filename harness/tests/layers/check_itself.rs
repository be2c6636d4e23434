//! The check run on small made-up trees, to show each rule fails when it
//! should and names the place.

use super::paths::{flatten, module_of, Source};
use super::rules::violations;
use std::path::Path;

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
        problems[0]
            .starts_with("a circle between the modules of `middle`: parse -> validate -> parse"),
        "{}",
        problems[0]
    );
    assert!(problems[0].contains("parse -> validate at middle/parse.rs:3"));
    assert!(problems[0].contains("validate -> parse at middle/validate.rs:1"));
}

#[test]
fn an_exported_macro_belongs_to_the_module_that_defines_it() {
    let sources = tree(&[
        (
            "bottom/mod.rs",
            "mod macros;\npub fn record() {}\n",
        ),
        (
            "bottom/macros.rs",
            "#[macro_export]\n#[doc(hidden)]\nmacro_rules! low {\n    () => { $crate::bottom::record() };\n}\n#[macro_export]\nmacro_rules! also_low {\n    () => { $crate::low!() };\n}\n",
        ),
        ("middle.rs", "fn f() { crate::low!(); crate::high!() }\n"),
        (
            "top.rs",
            "#[macro_export]\nmacro_rules! high {\n    () => {};\n}\n",
        ),
    ]);
    let problems = violations(&sources, FLOORS, &[]);
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert!(
        problems[0].contains("middle.rs:1: `middle` (floor 1) uses `top` (floor 2)"),
        "{}",
        problems[0]
    );
}
