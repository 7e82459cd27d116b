//! Kustomize and Helm sources: detection, the Application's options, missing programs,
//! failures and time limits.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use crate::support::source::{Fixture, config_map, source, sources};
use base64_free::encode;
use rekon::model::{Application, HelmParameter, HelmSource, KustomizeSource};
use rekon::source::{SourceError, Sources, Tool, Tools};

const DEPLOYMENT: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: catalog
  labels: {app: catalog}
spec:
  replicas: 1
  selector:
    matchLabels: {app: catalog}
  template:
    metadata:
      labels: {app: catalog}
    spec:
      containers:
        - name: catalog
          image: traefik/whoami:v1.10.2
";

/// A base and a prod overlay that patches the replicas, as kustomize users lay them out.
fn kustomize_layout(f: &Fixture) -> String {
    f.write(
        "catalog/base/kustomization.yaml",
        "resources:\n  - deployment.yaml\n  - config.yaml\n",
    );
    f.write("catalog/base/deployment.yaml", DEPLOYMENT);
    f.write("catalog/base/config.yaml", config_map("catalog-config"));
    f.write(
        "catalog/overlays/prod/kustomization.yaml",
        "resources:\n  - ../../base\npatches:\n  - target: {kind: Deployment, name: catalog}\n    patch: |-\n      - op: replace\n        path: /spec/replicas\n        value: 3\n",
    );
    f.commit("catalog")
}

#[test]
fn kustomize_overlays_render_with_the_application_options() {
    let Some(f) = Fixture::new() else { return };
    if !crate::support::require_kustomize() {
        return;
    }
    let commit = kustomize_layout(&f);
    let (_cache, s) = sources();
    let mut src = source(&f.local_url(), "catalog/overlays/prod");
    let plain = s.render(&src, "catalog-prod", &commit).unwrap();
    assert_eq!(plain.tool, Tool::Kustomize);
    assert_eq!(plain.path, "catalog/overlays/prod");
    let deployment = plain
        .manifests
        .iter()
        .find(|m| m.object()["kind"] == "Deployment")
        .unwrap();
    assert_eq!(deployment.object()["spec"]["replicas"], 3);
    assert!(
        deployment
            .origin
            .starts_with("catalog/overlays/prod (kustomize output):"),
        "{}",
        deployment.origin
    );

    src.kustomize = Some(KustomizeSource {
        name_prefix: Some("prod-".into()),
        name_suffix: Some("-v2".into()),
        namespace: Some("shop".into()),
        images: vec!["traefik/whoami:v1.10.3".into()],
        common_labels: BTreeMap::from([("team".to_string(), "catalog".to_string())]),
        common_annotations: BTreeMap::from([("owner".to_string(), "platform".to_string())]),
    });
    let r = s.render(&src, "catalog-prod", &commit).unwrap();
    let d = &r
        .manifests
        .iter()
        .find(|m| m.object()["kind"] == "Deployment")
        .unwrap()
        .object();
    assert_eq!(d["metadata"]["name"], "prod-catalog-v2");
    assert_eq!(d["metadata"]["namespace"], "shop");
    assert_eq!(d["metadata"]["labels"]["team"], "catalog");
    assert_eq!(d["metadata"]["annotations"]["owner"], "platform");
    assert_eq!(
        d["spec"]["template"]["spec"]["containers"][0]["image"],
        "traefik/whoami:v1.10.3"
    );
    assert_eq!(d["spec"]["replicas"], 3);
    // The user's kustomization was not changed: a plain render is as before.
    assert_eq!(
        s.render(
            &source(&f.local_url(), "catalog/overlays/prod"),
            "x",
            &commit
        )
        .unwrap()
        .manifests,
        plain.manifests
    );
}

#[test]
fn kustomize_failures_carry_the_programs_message() {
    let Some(f) = Fixture::new() else { return };
    if !crate::support::require_kustomize() {
        return;
    }
    f.write(
        "broken/kustomization.yaml",
        "resources:\n  - missing.yaml\n",
    );
    let commit = f.commit("broken");
    let (_cache, s) = sources();
    let err = s
        .render(&source(&f.local_url(), "broken"), "b", &commit)
        .unwrap_err();
    assert!(matches!(err, SourceError::ToolFailed { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains("failed to render broken: "), "{msg}");
    assert!(msg.contains("missing.yaml"), "{msg}");
}

#[test]
fn missing_programs_are_named() {
    let Some(f) = Fixture::new() else { return };
    kustomize_layout(&f);
    f.write(
        "charts/web/Chart.yaml",
        "apiVersion: v2\nname: web\nversion: 0.1.0\n",
    );
    f.write(
        "charts/web/templates/cm.yaml",
        config_map("{{ .Release.Name }}"),
    );
    let commit = f.commit("chart");
    let cache = tempfile::TempDir::new().unwrap();
    let s =
        Sources::new(cache.path().to_path_buf()).with_tools(Tools::from_env().with_search_path(""));
    let err = s
        .render(&source(&f.local_url(), "charts/web"), "web", &commit)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "helm is not installed: needed to render charts/web (Chart.yaml)"
    );
    let err = s
        .render(&source(&f.local_url(), "catalog/base"), "c", &commit)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "kustomize (or kubectl) is not installed: needed to render catalog/base (kustomization.yaml)"
    );
}

#[test]
fn real_helm_renders_a_local_chart_with_values_files_inline_values_and_parameters() {
    let Some(f) = Fixture::new() else { return };
    f.write(
        "charts/web/Chart.yaml",
        "apiVersion: v2\nname: web\nversion: 0.1.0\n",
    );
    f.write("charts/web/values.yaml", "replicas: 1\ngreeting: hello\n");
    f.write("charts/web/values-prod.yaml", "replicas: 2\n");
    f.write(
        "charts/web/templates/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-config\n  namespace: {{ .Release.Namespace }}\ndata:\n  replicas: {{ .Values.replicas | quote }}\n  greeting: {{ .Values.greeting | quote }}\n  tier: {{ .Values.tier | quote }}\n",
    );
    let commit = f.commit("chart");
    let (_cache, s) = sources();
    let app: Application = serde_json::from_value(serde_json::json!({
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
        "metadata": {"name": "web"},
        "spec": {"source": {"repoURL": f.local_url(), "path": "charts/web"},
                 "destination": {"namespace": "shop"}}
    }))
    .unwrap();
    // The real helm (CI builds helm.sh/helm/v4 from its module, tests/realk8s/build.sh); a
    // missing helm's error is `missing_programs_are_named`.
    if !crate::support::require("helm") {
        return;
    }
    let mut app = app;
    app.spec.source.helm = Some(HelmSource {
        value_files: vec!["values-prod.yaml".into()],
        values: Some("greeting: hi\n".into()),
        parameters: vec![HelmParameter {
            name: "tier".into(),
            value: "gold,silver".into(),
            force_string: true,
        }],
        release_name: Some("shopfront".into()),
        ..Default::default()
    });
    let r = s.render_app(&app, &commit).unwrap();
    assert_eq!(r.tool, Tool::Helm);
    let cm = &r.manifests[0];
    assert_eq!(cm.object()["metadata"]["name"], "shopfront-config");
    assert_eq!(cm.object()["metadata"]["namespace"], "shop");
    assert_eq!(cm.object()["data"]["replicas"], "2");
    assert_eq!(cm.object()["data"]["greeting"], "hi");
    assert_eq!(cm.object()["data"]["tier"], "gold,silver");
    assert_eq!(cm.origin, "charts/web/templates/cm.yaml (helm output)");
}

#[cfg(unix)]
fn fake_program(dir: &Path, name: &str, script: &str) {
    use std::os::unix::fs::PermissionsExt;
    let p = dir.join(name);
    std::fs::write(&p, format!("#!/bin/sh\n{script}\n")).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[cfg(unix)]
#[test]
fn a_program_past_its_time_limit_is_stopped() {
    let Some(f) = Fixture::new() else { return };
    let commit = kustomize_layout(&f);
    let bin = tempfile::TempDir::new().unwrap();
    fake_program(bin.path(), "kustomize", "exec sleep 30");
    let cache = tempfile::TempDir::new().unwrap();
    let tools = Tools::from_env()
        .with_search_path(bin.path().as_os_str())
        .with_timeout(Duration::from_millis(300));
    let s = Sources::new(cache.path().to_path_buf()).with_tools(tools);
    let err = s
        .render(&source(&f.local_url(), "catalog/base"), "c", &commit)
        .unwrap_err();
    assert!(matches!(err, SourceError::ToolTimeout { .. }), "{err:?}");
    assert!(
        err.to_string()
            .starts_with("kustomize build did not finish rendering catalog/base within"),
        "{err}"
    );
}

#[cfg(unix)]
#[test]
fn kustomize_is_preferred_and_gets_the_checkout() {
    let Some(f) = Fixture::new() else { return };
    let commit = kustomize_layout(&f);
    let bin = tempfile::TempDir::new().unwrap();
    // A stand-in kustomize that proves it ran on a checkout holding the whole repository.
    fake_program(
        bin.path(),
        "kustomize",
        "test \"$1\" = build || exit 9\ntest -f \"$2/../../base/deployment.yaml\" || { echo \"no base next to $2\" >&2; exit 3; }\nprintf 'apiVersion: v1\\nkind: ConfigMap\\nmetadata:\\n  name: from-fake\\n'",
    );
    fake_program(
        bin.path(),
        "kubectl",
        "echo kubectl must not run >&2; exit 4",
    );
    let cache = tempfile::TempDir::new().unwrap();
    let s = Sources::new(cache.path().to_path_buf())
        .with_tools(Tools::from_env().with_search_path(bin.path().as_os_str()));
    let r = s
        .render(
            &source(&f.local_url(), "catalog/overlays/prod"),
            "c",
            &commit,
        )
        .unwrap();
    assert_eq!(crate::support::source::names(&r), ["from-fake"]);
}

#[test]
fn more_than_one_explicit_source_type_is_refused() {
    let Some(f) = Fixture::new() else { return };
    let commit = kustomize_layout(&f);
    let (_cache, s) = sources();
    let mut src = source(&f.local_url(), "catalog/base");
    src.kustomize = Some(KustomizeSource {
        name_prefix: Some("x-".into()),
        ..Default::default()
    });
    src.helm = Some(HelmSource {
        release_name: Some("x".into()),
        ..Default::default()
    });
    let err = s.render(&src, "c", &commit).unwrap_err();
    assert_eq!(
        err.to_string(),
        "catalog/base: more than one source type is configured (Helm, Kustomize); set only one"
    );
    // An explicit directory source reads a kustomization folder as plain files.
    let mut src = source(&f.local_url(), "catalog/base");
    src.directory = Some(rekon::model::DirectorySource {
        include: Some("*.yaml".into()),
        exclude: Some("kustomization.yaml".into()),
        ..Default::default()
    });
    let r = s.render(&src, "c", &commit).unwrap();
    assert_eq!(r.tool, Tool::Directory);
    assert_eq!(
        crate::support::source::names(&r),
        ["catalog-config", "catalog"]
    );
}

#[cfg(unix)]
#[test]
fn apps_of_one_commit_share_a_checkout_and_refuse_what_it_left_out() {
    let Some(f) = Fixture::new() else { return };
    kustomize_layout(&f);
    f.write("other/kustomization.yaml", "resources:\n  - evil.yaml\n");
    f.symlink("other/evil.yaml", "../../../../../etc/passwd");
    let commit = f.commit("other");
    let bin = tempfile::TempDir::new().unwrap();
    let log = bin.path().join("runs.log");
    fake_program(
        bin.path(),
        "kustomize",
        &format!(
            "pwd >> '{}'\nprintf 'apiVersion: v1\\nkind: ConfigMap\\nmetadata:\\n  name: fake\\n'",
            log.display()
        ),
    );
    let cache = tempfile::TempDir::new().unwrap();
    let s = Sources::new(cache.path().to_path_buf())
        .with_tools(Tools::from_env().with_search_path(bin.path().as_os_str()));
    for path in ["catalog/base", "catalog/overlays/prod"] {
        s.render(&source(&f.local_url(), path), "c", &commit)
            .unwrap();
    }
    let runs = std::fs::read_to_string(&log).unwrap();
    let dirs: Vec<&str> = runs.lines().collect();
    assert_eq!(dirs.len(), 2);
    assert_eq!(dirs[0], dirs[1], "both renders ran in the same checkout");
    // The escaping link was left out of the checkout, so the app that holds it is refused
    // before kustomize runs.
    let err = s
        .render(&source(&f.local_url(), "other"), "o", &commit)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "other/evil.yaml: symbolic link points outside the repository; refused"
    );
    assert_eq!(std::fs::read_to_string(&log).unwrap().lines().count(), 2);
}

#[cfg(unix)]
#[test]
fn helm_gets_release_namespace_values_and_parameters() {
    let Some(f) = Fixture::new() else { return };
    f.write(
        "charts/web/Chart.yaml",
        "apiVersion: v2\nname: web\nversion: 0.1.0\n",
    );
    f.write("charts/web/values-prod.yaml", "replicas: 2\n");
    f.write("charts/shared-values.yaml", "region: eu\n");
    let commit = f.commit("chart");
    let bin = tempfile::TempDir::new().unwrap();
    // A stand-in helm that reports its arguments (and the content of each values file) as a
    // ConfigMap, so the test sees exactly what helm would have been given.
    fake_program(
        bin.path(),
        "helm",
        r#"printf '# Source: web/templates/args.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: args\ndata:\n'
i=0; prev=""
for a in "$@"; do
  i=$((i+1))
  if [ "$prev" = "--values" ]; then
    printf '  a%02d: "%s"\n' "$i" "$(base64 < "$a" | tr -d '\n')"
  else
    printf '  a%02d: "%s"\n' "$i" "$(printf %s "$a" | sed 's/\\/\\\\/g')"
  fi
  prev="$a"
done"#,
    );
    let cache = tempfile::TempDir::new().unwrap();
    let s = Sources::new(cache.path().to_path_buf())
        .with_tools(Tools::from_env().with_search_path(bin.path().as_os_str()));
    let mut app: Application = serde_json::from_value(serde_json::json!({
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
        "metadata": {"name": "web"},
        "spec": {"source": {"repoURL": f.local_url(), "path": "charts/web"},
                 "destination": {"namespace": "shop"}}
    }))
    .unwrap();
    app.spec.source.helm = Some(HelmSource {
        value_files: vec!["values-prod.yaml".into(), "../shared-values.yaml".into()],
        values_object: Some(serde_json::json!({"greeting": "hi"})),
        parameters: vec![
            HelmParameter {
                name: "image.tag".into(),
                value: "6.7.0".into(),
                force_string: false,
            },
            HelmParameter {
                name: "tiers".into(),
                value: "gold,silver".into(),
                force_string: true,
            },
        ],
        release_name: Some("shopfront".into()),
        ..Default::default()
    });
    let r = s.render_app(&app, &commit).unwrap();
    assert_eq!(r.tool, Tool::Helm);
    assert_eq!(
        r.manifests[0].origin,
        "charts/web/templates/args.yaml (helm output)"
    );
    let object = r.manifests[0].object();
    let data = object["data"].as_object().unwrap();
    let args: Vec<&str> = data.values().map(|v| v.as_str().unwrap()).collect();
    assert_eq!(args[0], "template");
    assert_eq!(args[1], "shopfront");
    assert!(args[2].ends_with("/repo/charts/web"), "{}", args[2]);
    assert_eq!(&args[3..6], ["--namespace", "shop", "--include-crds"]);
    assert_eq!(args[6], "--values");
    assert_eq!(args[7], encode(b"replicas: 2\n"));
    assert_eq!(args[8], "--values");
    assert_eq!(args[9], encode(b"region: eu\n"));
    assert_eq!(args[10], "--values");
    assert_eq!(args[11], encode(b"greeting: hi\n"));
    assert_eq!(
        &args[12..],
        [
            "--set",
            "image.tag=6.7.0",
            "--set-string",
            "tiers=gold\\,silver"
        ]
    );

    // Value files must stay inside the repository.
    app.spec.source.helm.as_mut().unwrap().value_files = vec!["../../../etc/passwd".into()];
    let err = s.render_app(&app, &commit).unwrap_err();
    assert!(
        err.to_string().starts_with(
            "charts/web: helm value file '../../../etc/passwd' escapes the repository"
        ),
        "{err}"
    );
}

/// Standard base64, enough for the assertions above (no dependency for one test).
mod base64_free {
    pub fn encode(bytes: &[u8]) -> String {
        const ALPHABET: &[u8; 64] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let b = [
                chunk[0],
                *chunk.get(1).unwrap_or(&0),
                *chunk.get(2).unwrap_or(&0),
            ];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for i in 0..4 {
                if i <= chunk.len() {
                    out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
                } else {
                    out.push('=');
                }
            }
        }
        out
    }
}
