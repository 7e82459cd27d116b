//! The layering `src/lib.rs` describes, checked on the source text: no module imports a
//! sibling that imports it back (at any depth, in rekon and in the emulator crate), and the
//! engine stays pure. A path counts as an import wherever it is written: `use` lines, paths
//! in code and in doc links alike.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A module path inside a crate, e.g. `["engine", "plan", "tasks"]`.
type ModPath = Vec<String>;

/// Every `.rs` file below `dir`, with the module path it defines.
fn modules(dir: &Path) -> Vec<(ModPath, String)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path.strip_prefix(dir).unwrap().with_extension("");
                let mut segments: ModPath = rel
                    .iter()
                    .map(|s| s.to_string_lossy().into_owned())
                    .collect();
                if matches!(
                    segments.last().map(String::as_str),
                    Some("mod" | "lib" | "main")
                ) {
                    segments.pop();
                }
                out.push((segments, std::fs::read_to_string(&path).unwrap()));
            }
        }
    }
    out
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The paths written after `crate::` or `super::` in `text`, each with the byte offset where
/// it starts and its root; a group (`crate::{a, b::c}`) yields one path per member.
fn paths(text: &str) -> Vec<(usize, &'static str, Vec<String>)> {
    let mut out = Vec::new();
    for root in ["crate", "super"] {
        let needle = format!("{root}::");
        let mut from = 0;
        while let Some(found) = text[from..].find(&needle) {
            let start = from + found;
            from = start + needle.len();
            let before = text[..start].chars().next_back();
            if before.is_some_and(|c| is_ident_char(c) || c == ':') {
                continue;
            }
            let mut segments = Vec::new();
            let mut rest = &text[from..];
            loop {
                let ident: String = rest.chars().take_while(|c| is_ident_char(*c)).collect();
                if ident.is_empty() {
                    break;
                }
                rest = &rest[ident.len()..];
                segments.push(ident);
                match rest.strip_prefix("::") {
                    Some(next) => rest = next,
                    None => break,
                }
            }
            if rest.starts_with('{') {
                for member in group_members(rest) {
                    let mut path = segments.clone();
                    path.push(member);
                    out.push((start, root, path));
                }
            } else if !segments.is_empty() {
                out.push((start, root, segments));
            }
        }
    }
    out
}

/// The first name of each member of the `{…}` group `text` starts with.
fn group_members(text: &str) -> Vec<String> {
    let mut members = Vec::new();
    let mut depth = 0;
    let mut member = String::new();
    for c in text.chars() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 1 => members.push(std::mem::take(&mut member)),
            _ if depth >= 1 => member.push(c),
            _ => {}
        }
        if depth == 0 {
            members.push(member);
            break;
        }
    }
    members
        .iter()
        .map(|m| {
            m.trim()
                .chars()
                .take_while(|c| is_ident_char(*c))
                .collect::<String>()
        })
        .filter(|m| m.starts_with(|c: char| c.is_ascii_alphabetic()))
        .collect()
}

/// Edges between sibling modules: `a -> b` when a file in `a` names something in `b` and
/// both sit under the same parent.
fn sibling_edges(dir: &Path) -> BTreeMap<ModPath, BTreeMap<ModPath, String>> {
    let modules = modules(dir);
    let known: BTreeSet<&ModPath> = modules.iter().map(|(m, _)| m).collect();
    let mut edges: BTreeMap<ModPath, BTreeMap<ModPath, String>> = BTreeMap::new();
    for (me, text) in &modules {
        // Past the first inline module (`mod tests {`), `super` is this file's module.
        let inline_at = text
            .match_indices("mod ")
            .find(|(i, _)| {
                let line_start = text[..*i].rfind('\n').map_or(0, |n| n + 1);
                let head = text[line_start..*i].trim();
                let tail = &text[*i + 4..];
                let name: String = tail.chars().take_while(|c| is_ident_char(*c)).collect();
                (head.is_empty() || head.starts_with("pub"))
                    && !name.is_empty()
                    && tail[name.len()..].starts_with(" {")
            })
            .map_or(text.len(), |(i, _)| i);
        for (at, root, path) in paths(text) {
            let mut target: ModPath = if root == "crate" {
                Vec::new()
            } else if at < inline_at {
                me[..me.len().saturating_sub(1)].to_vec()
            } else {
                me.clone()
            };
            let mut rest = path.as_slice();
            while rest.first().is_some_and(|s| s == "super") {
                target.pop();
                rest = &rest[1..];
            }
            target.extend(rest.iter().cloned());
            // The longest prefix that is a module of its own.
            while !target.is_empty() && !known.contains(&target) {
                target.pop();
            }
            let common = me.iter().zip(&target).take_while(|(a, b)| a == b).count();
            if common >= me.len() || common >= target.len() {
                continue; // a module and its parent or child
            }
            let line = text[..at].matches('\n').count() + 1;
            let file = format!("{}:{line}", me.join("/"));
            edges
                .entry(me[..=common].to_vec())
                .or_default()
                .entry(target[..=common].to_vec())
                .or_insert(file);
        }
    }
    edges
}

/// Every group of sibling modules that import each other, with one line per import.
fn cycles(dir: &Path) -> Vec<String> {
    let edges = sibling_edges(dir);
    let reaches = |from: &ModPath, to: &ModPath| {
        let mut seen = BTreeSet::new();
        let mut todo = vec![from.clone()];
        while let Some(m) = todo.pop() {
            if &m == to {
                return true;
            }
            if seen.insert(m.clone()) {
                todo.extend(edges.get(&m).into_iter().flat_map(|e| e.keys().cloned()));
            }
        }
        false
    };
    let mut found = Vec::new();
    for (from, targets) in &edges {
        for (to, at) in targets {
            if reaches(to, from) {
                found.push(format!(
                    "{} -> {} (e.g. {at})",
                    from.join("::"),
                    to.join("::")
                ));
            }
        }
    }
    found
}

fn crate_src(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

#[test]
fn no_module_of_rekon_imports_one_that_imports_it_back() {
    let found = cycles(&crate_src("src"));
    assert!(found.is_empty(), "module cycles:\n{}", found.join("\n"));
}

#[test]
fn no_module_of_the_emulator_imports_one_that_imports_it_back() {
    let found = cycles(&crate_src("crates/emulator/src"));
    assert!(found.is_empty(), "module cycles:\n{}", found.join("\n"));
}

#[test]
fn the_engine_imports_only_model_and_yaml() {
    let edges = sibling_edges(&crate_src("src"));
    let engine = vec!["engine".to_string()];
    let above: Vec<String> = edges
        .get(&engine)
        .into_iter()
        .flatten()
        .filter(|(to, _)| !matches!(to[0].as_str(), "model" | "yaml"))
        .map(|(to, at)| format!("{} (e.g. {at})", to.join("::")))
        .collect();
    assert!(above.is_empty(), "the engine imports {}", above.join(", "));
}

#[test]
fn the_checker_sees_a_cycle_through_a_group_import_and_a_doc_link() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path();
    std::fs::create_dir_all(src.join("b")).unwrap();
    std::fs::write(src.join("lib.rs"), "mod a;\nmod b;\n").unwrap();
    std::fs::write(src.join("a.rs"), "use crate::{b::inner::X, c};\n").unwrap();
    std::fs::write(src.join("b/mod.rs"), "pub mod inner;\n").unwrap();
    std::fs::write(
        src.join("b/inner.rs"),
        "/// See [`super::super::a`].\npub struct X;\n#[cfg(test)]\nmod tests {\n    use super::X;\n}\n",
    )
    .unwrap();
    let found = cycles(src);
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found[0].starts_with("a -> b (e.g. a:1)"), "{found:?}");
    assert!(found[1].starts_with("b -> a (e.g. b/inner:1)"), "{found:?}");
    // Without the doc link, no cycle: `super::X` in the inline test module is the file itself.
    std::fs::write(
        src.join("b/inner.rs"),
        "pub struct X;\n#[cfg(test)]\nmod tests {\n    use super::X;\n}\n",
    )
    .unwrap();
    assert!(cycles(src).is_empty());
}
