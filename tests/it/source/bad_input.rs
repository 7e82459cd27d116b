//! Bad input in a repository: each is refused with one message naming the file (and line)
//! or link at fault.

use crate::support::source::{Fixture, config_map, names, source, sources};
use rekon::model::DirectorySource;
use rekon::source::{MAX_MANIFEST_BYTES, SourceError};

/// Commits `files` under `app/` and renders it (recursively).
fn render_app(f: &Fixture, files: &[(&str, &str)]) -> Result<Vec<String>, SourceError> {
    for (name, content) in files {
        f.write(&format!("app/{name}"), content);
    }
    let commit = f.commit("fixture");
    let (_cache, s) = sources();
    let mut src = source(&f.local_url(), "app");
    src.directory = Some(DirectorySource {
        recurse: true,
        ..Default::default()
    });
    s.render(&src, "app", &commit).map(|r| names(&r))
}

#[test]
fn a_yaml_syntax_error_names_file_and_line() {
    let Some(f) = Fixture::new() else { return };
    let text = format!(
        "{}---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [broken\n",
        config_map("ok")
    );
    let err = render_app(&f, &[("bad.yaml", &text)]).unwrap_err();
    assert!(matches!(err, SourceError::Syntax(_)), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.starts_with("app/bad.yaml:11:") || msg.starts_with("app/bad.yaml:12:"),
        "{msg}"
    );
}

#[test]
fn a_json_syntax_error_names_file_and_line() {
    let Some(f) = Fixture::new() else { return };
    let err = render_app(
        &f,
        &[("bad.json", "{\n  \"kind\": \"ConfigMap\",\n  oops\n}\n")],
    )
    .unwrap_err();
    assert!(err.to_string().starts_with("app/bad.json:3:"), "{err}");
}

#[test]
fn documents_without_api_version_kind_or_name_are_named() {
    let Some(f) = Fixture::new() else { return };
    let cases = [
        (
            "kind: ConfigMap\nmetadata:\n  name: a\n",
            "ConfigMap has no apiVersion",
        ),
        (
            "apiVersion: v1\nmetadata:\n  name: a\n",
            "document has no kind",
        ),
        (
            "apiVersion: v1\nkind: Secret\nmetadata:\n  labels: {a: b}\n",
            "Secret has no metadata.name",
        ),
        (
            "- just\n- a list\n",
            "expected a Kubernetes object (a mapping), found a string",
        ),
    ];
    for (i, (body, message)) in cases.iter().enumerate() {
        let name = format!("case{i}.yaml");
        let text = format!("{}---\n{body}", config_map(&format!("ok{i}")));
        let err = render_app(&f, &[(&name, &text)]).unwrap_err();
        assert!(matches!(err, SourceError::InvalidObject { .. }), "{err:?}");
        assert_eq!(err.to_string(), format!("app/{name}:8: {message}"));
        f.remove(&format!("app/{name}"));
    }
}

#[test]
fn duplicate_objects_name_both_origins() {
    let Some(f) = Fixture::new() else { return };
    let err = render_app(
        &f,
        &[
            ("a.yaml", &config_map("same")),
            (
                "sub/b.yaml",
                &format!("{}---\n{}", config_map("other"), config_map("same")),
            ),
        ],
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "duplicate object ConfigMap:same: defined in app/a.yaml:1 and in app/sub/b.yaml:8"
    );
    // The same name in another namespace or kind is another object.
    let ok = render_app(
        &f,
        &[(
            "sub/b.yaml",
            &format!(
                "{}---\n{}",
                config_map("same").replace("metadata:\n", "metadata:\n  namespace: other\n"),
                config_map("same").replace("ConfigMap", "Secret")
            ),
        )],
    )
    .unwrap();
    assert_eq!(ok.len(), 3);
}

#[test]
fn a_file_over_ten_megabytes_is_refused() {
    let Some(f) = Fixture::new() else { return };
    let mut big = config_map("big");
    big.push_str("# ");
    big.push_str(&"x".repeat(MAX_MANIFEST_BYTES as usize));
    big.push('\n');
    let err = render_app(&f, &[("ok.yaml", &config_map("ok")), ("huge.yaml", &big)]).unwrap_err();
    assert!(matches!(err, SourceError::FileTooLarge { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.starts_with("app/huge.yaml: file is "), "{msg}");
    assert!(msg.contains("10 MB limit"), "{msg}");
}

#[test]
fn a_binary_file_is_refused_but_other_extensions_are_ignored() {
    let Some(f) = Fixture::new() else { return };
    f.write("app/logo.png", [0x89u8, b'P', b'N', b'G', 0, 0, 1]);
    let ok = render_app(&f, &[("cm.yaml", &config_map("a"))]).unwrap();
    assert_eq!(ok, ["a"]);
    f.write("app/blob.yaml", [b'a', 0, b'b']);
    let err = render_app(&f, &[]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "app/blob.yaml: binary file (contains NUL bytes); refused"
    );
}

#[test]
fn symlinks_inside_the_repository_are_followed() {
    let Some(f) = Fixture::new() else { return };
    f.write("shared/common.yaml", config_map("shared"));
    f.write("shared/more/x.yaml", config_map("via-dir-link"));
    f.symlink("app/common.yaml", "../shared/common.yaml");
    f.symlink("app/linked", "../shared/more");
    let ok = render_app(&f, &[("cm.yaml", &config_map("own"))]).unwrap();
    assert_eq!(ok, ["own", "shared", "via-dir-link"]);
    // The app path itself may go through a link.
    f.symlink("alias", "app");
    let commit = f.commit("alias");
    let (_cache, s) = sources();
    let r = s
        .render(&source(&f.local_url(), "alias"), "a", &commit)
        .unwrap();
    assert_eq!(names(&r), ["own", "shared"]);
    assert_eq!(r.manifests[1].origin, "alias/common.yaml:1");
}

#[test]
fn symlinks_escaping_the_repository_are_refused() {
    let Some(f) = Fixture::new() else { return };
    f.symlink("app/passwd.yaml", "../../../../etc/passwd");
    let err = render_app(&f, &[("cm.yaml", &config_map("a"))]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "app/passwd.yaml: symbolic link points outside the repository; refused"
    );
    f.remove("app/passwd.yaml");
    f.symlink("app/abs.yaml", "/etc/hostname");
    let err = render_app(&f, &[]).unwrap_err();
    assert!(matches!(err, SourceError::Symlink { .. }), "{err:?}");
    assert!(err.to_string().starts_with("app/abs.yaml: "), "{err}");
}

#[test]
fn symlink_loops_are_refused() {
    let Some(f) = Fixture::new() else { return };
    // A link chain that never ends…
    f.symlink("app/a.yaml", "b.yaml");
    f.symlink("app/b.yaml", "a.yaml");
    let err = render_app(&f, &[]).unwrap_err();
    assert!(matches!(err, SourceError::Symlink { .. }), "{err:?}");
    assert!(err.to_string().contains("symbolic link loop"), "{err}");
    f.remove("app/a.yaml");
    f.remove("app/b.yaml");
    // …and a folder link back to an ancestor, which only recursion would loop on.
    f.symlink("app/sub/up", "..");
    let err = render_app(&f, &[("cm.yaml", &config_map("a"))]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "app/sub/up: symbolic link loop: points back to app"
    );
}

#[test]
fn a_dangling_manifest_link_is_named() {
    let Some(f) = Fixture::new() else { return };
    f.symlink("app/gone.yaml", "nowhere.yaml");
    let err = render_app(&f, &[("cm.yaml", &config_map("a"))]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "app/gone.yaml: symbolic link points to nothing in this commit"
    );
}
