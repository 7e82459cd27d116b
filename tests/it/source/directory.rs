//! Rendering plain folders of manifests straight from a commit: recurse, include/exclude
//! globs, multi-document YAML, JSON objects and Lists, and the render cache.

use crate::support::source::{Fixture, config_map, names, source, sources};
use rekon::model::DirectorySource;
use rekon::source::{SourceError, Tool};

fn layout(f: &Fixture) -> String {
    f.write(
        "apps/web/all.yaml",
        format!(
            "# leading comment\n{}---\n---\n# only a comment\n---\n{}",
            config_map("a"),
            config_map("b")
        ),
    );
    f.write(
        "apps/web/list.yml",
        "apiVersion: v1\nkind: List\nitems:\n  - apiVersion: v1\n    kind: Service\n    metadata: {name: c}\n  - apiVersion: v1\n    kind: Service\n    metadata: {name: d}\n",
    );
    f.write(
        "apps/web/object.json",
        r#"{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "e"}}"#,
    );
    f.write(
        "apps/web/list.json",
        r#"{"apiVersion": "v1", "kind": "List", "items": [
             {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "f"}}]}"#,
    );
    f.write("apps/web/README.md", "not a manifest: ignored\n");
    f.write("apps/web/nested/g.yaml", config_map("g"));
    f.write("apps/web/nested/deeper/h.yaml", config_map("h"));
    f.write("apps/web/env-usw2/i.yaml", config_map("i"));
    f.write("apps/other/x.yaml", config_map("x"));
    f.commit("layout")
}

#[test]
fn reads_yaml_json_lists_and_multi_document_files() {
    let Some(f) = Fixture::new() else { return };
    let commit = layout(&f);
    let (_cache, s) = sources();
    let r = s
        .render(&source(&f.local_url(), "apps/web"), "web", &commit)
        .unwrap();
    assert_eq!(r.tool, Tool::Directory);
    assert_eq!(r.commit, commit);
    assert_eq!(r.path, "apps/web");
    // Git's tree order: all.yaml, list.json, list.yml, object.json; no sub-folders.
    assert_eq!(names(&r), ["a", "b", "f", "c", "d", "e"]);
    let origins: Vec<&str> = r.manifests.iter().map(|m| m.origin.as_str()).collect();
    assert_eq!(
        origins,
        [
            "apps/web/all.yaml:2",
            "apps/web/all.yaml:12",
            "apps/web/list.json:1",
            "apps/web/list.yml:1",
            "apps/web/list.yml:1",
            "apps/web/object.json:1"
        ]
    );
}

#[test]
fn recurse_include_and_exclude_follow_argo_cd() {
    let Some(f) = Fixture::new() else { return };
    let commit = layout(&f);
    let (_cache, s) = sources();
    let with = |recurse: bool, include: Option<&str>, exclude: Option<&str>| {
        let mut src = source(&f.local_url(), "apps/web");
        src.directory = Some(DirectorySource {
            recurse,
            include: include.map(String::from),
            exclude: exclude.map(String::from),
        });
        let mut n = names(&s.render(&src, "web", &commit).unwrap());
        n.sort();
        n
    };
    assert_eq!(
        with(true, None, None),
        ["a", "b", "c", "d", "e", "f", "g", "h", "i"]
    );
    assert_eq!(with(true, Some("*.json"), None), ["e", "f"]);
    assert_eq!(
        with(true, Some("{object.json,env-usw2/*}"), None),
        ["e", "i"]
    );
    assert_eq!(
        with(true, None, Some("nested/*")),
        ["a", "b", "c", "d", "e", "f", "i"]
    );
    assert_eq!(with(false, Some("*.yaml"), Some("list*")), ["a", "b"]);
}

#[test]
fn the_root_path_and_a_dot_path_are_the_same() {
    let Some(f) = Fixture::new() else { return };
    f.write("cm.yaml", config_map("root"));
    let commit = f.commit("root");
    let (_cache, s) = sources();
    for path in [".", "", "./"] {
        let r = s
            .render(&source(&f.local_url(), path), "root", &commit)
            .unwrap();
        assert_eq!(names(&r), ["root"], "path {path:?}");
        assert_eq!(r.manifests[0].origin, "cm.yaml:1");
    }
}

#[test]
fn renders_the_asked_commit_not_the_working_tree() {
    let Some(f) = Fixture::new() else { return };
    f.write("app/cm.yaml", config_map("old"));
    let old = f.commit("old");
    f.write("app/cm.yaml", config_map("new"));
    let new = f.commit("new");
    f.write("app/cm.yaml", config_map("uncommitted"));
    let (_cache, s) = sources();
    let src = source(&f.local_url(), "app");
    assert_eq!(names(&s.render(&src, "a", &old).unwrap()), ["old"]);
    assert_eq!(names(&s.render(&src, "a", &new).unwrap()), ["new"]);
}

#[test]
fn a_cache_hit_returns_identical_output() {
    let Some(f) = Fixture::new() else { return };
    let commit = layout(&f);
    let (_cache, s) = sources();
    let src = source(&f.file_url(), "apps/web");
    let first = s.render(&src, "web", &commit).unwrap();
    let before = s.render_cache_stats();
    let second = s.render(&src, "web", &commit).unwrap();
    let after = s.render_cache_stats();
    assert_eq!(first, second);
    assert_eq!(after.hits, before.hits + 1);
    assert_eq!(after.misses, before.misses);
    // Other options are another entry.
    let mut recursive = src.clone();
    recursive.directory = Some(DirectorySource {
        recurse: true,
        ..Default::default()
    });
    assert_ne!(s.render(&recursive, "web", &commit).unwrap(), first);
    assert_eq!(s.render_cache_stats().entries, 2);
}

#[test]
fn renders_from_a_cloned_remote_and_fetches_a_missing_commit() {
    let Some(f) = Fixture::new() else { return };
    f.write("app/cm.yaml", config_map("one"));
    let one = f.commit("one");
    let (_cache, s) = sources();
    let url = f.file_url();
    assert_eq!(s.resolve(&url, "main", false).unwrap(), one);
    f.write("app/cm.yaml", config_map("two"));
    let two = f.commit("two");
    // The engine may learn of a commit elsewhere (a webhook, another rekon).
    let r = s.render(&source(&url, "app"), "a", &two).unwrap();
    assert_eq!(names(&r), ["two"]);
}

#[test]
fn path_escapes_are_refused() {
    let Some(f) = Fixture::new() else { return };
    f.write("app/cm.yaml", config_map("a"));
    let commit = f.commit("c");
    let (_cache, s) = sources();
    for path in ["../..", "app/../../etc", "/etc", "/"] {
        let err = s
            .render(&source(&f.local_url(), path), "a", &commit)
            .unwrap_err();
        assert!(
            matches!(err, SourceError::PathEscapes { .. }),
            "{path}: {err:?}"
        );
        let msg = err.to_string();
        assert!(
            msg.starts_with(&format!("path '{path}' escapes the repository ")),
            "{msg}"
        );
    }
    // `..` that stays inside is fine.
    let r = s
        .render(&source(&f.local_url(), "app/../app"), "a", &commit)
        .unwrap();
    assert_eq!(names(&r), ["a"]);
}

#[test]
fn a_missing_path_or_commit_is_named() {
    let Some(f) = Fixture::new() else { return };
    f.write("app/cm.yaml", config_map("a"));
    let commit = f.commit("c");
    let (_cache, s) = sources();
    let err = s
        .render(&source(&f.local_url(), "apps/nope"), "a", &commit)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "path 'apps/nope' not found in commit {} of {}",
            &commit[..7],
            f.local_url()
        )
    );
    // A file is not an app folder.
    let err = s
        .render(&source(&f.local_url(), "app/cm.yaml"), "a", &commit)
        .unwrap_err();
    assert!(matches!(err, SourceError::PathNotFound { .. }), "{err:?}");
    let missing = "0123456789abcdef0123456789abcdef01234567";
    let err = s
        .render(&source(&f.local_url(), "app"), "a", missing)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "commit {missing} is not in {} (resolve it first)",
            f.local_url()
        )
    );
}
