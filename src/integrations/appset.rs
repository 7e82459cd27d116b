//! ApplicationSets for rekon's own apps: the List, Cluster, Git directory and Matrix
//! generators, and the template filled with their parameters, the way Argo CD's
//! ApplicationSet controller does it.
//!
//! Templates are filled as Argo CD fills them: without `goTemplate`, `{{param}}` tags
//! (spaces allowed inside) are replaced by flat parameters and unknown tags stay as written
//! (fasttemplate); with `goTemplate: true`, `{{.param}}` and `{{ .path.basename }}` look up
//! nested parameters and an unknown one is an error (Go template functions and pipelines
//! are not supported and are reported as such). Per-generator `template` overrides,
//! `templatePatch`, selectors on generators and the other generators (SCM, pull request,
//! cluster decision resource, plugin, Git files, merge) are not supported: an ApplicationSet
//! using them is refused with the field named.

use std::collections::BTreeMap;

use globset::GlobBuilder;
use serde_json::{Map, Value, json};

use crate::model::Application;
use crate::yaml;

/// Matrix generators may nest one level (Argo CD's limit).
const MAX_MATRIX_DEPTH: usize = 2;

/// An ApplicationSet read from an `--apps` file.
#[derive(Debug, Clone, PartialEq)]
pub struct ApplicationSet {
    /// Name.
    pub name: String,
    /// Namespace (`argocd` when unset): the generated Applications' namespace by default.
    pub namespace: String,
    /// Where it was read (`file:line`).
    pub origin: String,
    /// `spec` as written.
    pub spec: Value,
}

impl ApplicationSet {
    /// Every ApplicationSet in a YAML text; other kinds are skipped.
    pub fn parse_all(text: &str, origin: &str) -> Result<Vec<ApplicationSet>, String> {
        let mut out = Vec::new();
        for doc in yaml::parse_documents(text, origin).map_err(|e| e.to_string())? {
            let v = &doc.value;
            if v.get("kind").and_then(Value::as_str) != Some("ApplicationSet") {
                continue;
            }
            let at = format!("{origin}:{}", doc.line);
            let name = v
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .filter(|n| !n.is_empty())
                .ok_or_else(|| format!("{at}: ApplicationSet has no metadata.name"))?;
            out.push(ApplicationSet {
                name: name.to_string(),
                namespace: v
                    .pointer("/metadata/namespace")
                    .and_then(Value::as_str)
                    .unwrap_or("argocd")
                    .to_string(),
                origin: at,
                spec: v.get("spec").cloned().unwrap_or(Value::Null),
            });
        }
        Ok(out)
    }

    fn go_template(&self) -> bool {
        self.spec.get("goTemplate") == Some(&json!(true))
    }
}

/// A cluster the Cluster generator offers: a kubeconfig context rekon knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterInfo {
    /// The context name.
    pub name: String,
    /// The API server URL.
    pub server: String,
    /// Labels (none for kubeconfig contexts; a selector matching labels selects nothing).
    pub labels: BTreeMap<String, String>,
}

/// What the generators need from outside.
pub trait GeneratorContext {
    /// The known clusters.
    fn clusters(&self) -> Vec<ClusterInfo>;
    /// Every folder of `repo_url` at `revision`, as paths relative to the repository root
    /// (`apps/web`), without the root itself.
    fn directories(&self, repo_url: &str, revision: &str) -> Result<Vec<String>, String>;
}

/// One set of parameters: flat (`path.basename`) for fasttemplate, nested for Go templates.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Params {
    /// Flat names to values.
    pub flat: BTreeMap<String, String>,
    /// The same parameters as a JSON object.
    pub nested: Map<String, Value>,
}

impl Params {
    fn merged(&self, other: &Params) -> Params {
        let mut out = self.clone();
        out.flat.extend(other.flat.clone());
        for (k, v) in &other.nested {
            out.nested.insert(k.clone(), v.clone());
        }
        out
    }
}

fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Flattens nested values into `a.b` names, as Argo CD's List generator does for
/// fasttemplate.
fn flatten(prefix: &str, v: &Value, out: &mut BTreeMap<String, String>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                let name = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&name, v, out);
            }
        }
        other => {
            out.insert(prefix.to_string(), scalar_text(other));
        }
    }
}

/// Argo CD's "normalized" names: lower case, anything but `[a-z0-9-.]` becomes `-`.
fn normalized(name: &str) -> String {
    name.to_ascii_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// Expands an ApplicationSet into the Applications its generators produce, in generator
/// order. Two parameter sets that produce the same Application name are an error, as in
/// Argo CD.
pub fn expand(
    set: &ApplicationSet,
    ctx: &dyn GeneratorContext,
) -> Result<Vec<Application>, String> {
    let at = format!("ApplicationSet {} ({})", set.name, set.origin);
    let generators = set
        .spec
        .get("generators")
        .and_then(Value::as_array)
        .filter(|g| !g.is_empty())
        .ok_or_else(|| format!("{at}: spec.generators is empty"))?;
    let template = set
        .spec
        .get("template")
        .filter(|t| t.is_object())
        .ok_or_else(|| format!("{at}: spec.template is missing"))?;
    if set.spec.get("templatePatch").is_some_and(|v| !v.is_null()) {
        return Err(format!(
            "{at}: spec.templatePatch is not supported by rekon"
        ));
    }
    let go = set.go_template();
    let mut apps: Vec<Application> = Vec::new();
    for (i, g) in generators.iter().enumerate() {
        let params = generate(g, ctx, go, 0).map_err(|e| format!("{at}: generators[{i}]: {e}"))?;
        for p in params {
            let rendered =
                render_value(template, &p, go).map_err(|e| format!("{at}: template: {e}"))?;
            let app = to_application(&rendered, set).map_err(|e| format!("{at}: {e}"))?;
            if let Some(dup) = apps
                .iter()
                .find(|a| a.qualified_name() == app.qualified_name())
            {
                return Err(format!(
                    "{at}: two parameter sets generate the same Application {}",
                    dup.qualified_name()
                ));
            }
            apps.push(app);
        }
    }
    Ok(apps)
}

fn to_application(rendered: &Value, set: &ApplicationSet) -> Result<Application, String> {
    let mut doc = json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": rendered.get("metadata").cloned().unwrap_or(json!({})),
        "spec": rendered.get("spec").cloned().unwrap_or(Value::Null),
    });
    if doc.pointer("/metadata/namespace").is_none()
        && let Some(m) = doc.get_mut("metadata").and_then(Value::as_object_mut)
    {
        m.insert("namespace".into(), json!(set.namespace));
    }
    let name = doc
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if name.is_empty() {
        return Err("the template gives an Application without metadata.name".into());
    }
    let app: Application = serde_json::from_value(doc)
        .map_err(|e| format!("the template gives an invalid Application {name}: {e}"))?;
    if app.spec.source.repo_url.trim().is_empty() {
        return Err(format!(
            "the template gives Application {name} without spec.source.repoURL"
        ));
    }
    Ok(app)
}

/// The parameter sets of one generator.
fn generate(
    g: &Value,
    ctx: &dyn GeneratorContext,
    go: bool,
    depth: usize,
) -> Result<Vec<Params>, String> {
    let Some(map) = g.as_object() else {
        return Err("a generator must be an object".into());
    };
    for field in ["selector", "template"] {
        if map.contains_key(field) {
            return Err(format!(
                "generator field {field:?} is not supported by rekon"
            ));
        }
    }
    let (kind, body) = map
        .iter()
        .find(|(k, _)| !matches!(k.as_str(), "selector" | "template"))
        .ok_or("a generator names no kind")?;
    match kind.as_str() {
        "list" => list(body),
        "clusters" => clusters(body, ctx),
        "git" => git(body, ctx),
        "matrix" => matrix(body, ctx, go, depth),
        other => Err(format!(
            "the {other} generator is not supported by rekon (supported: list, clusters, git directories, matrix)"
        )),
    }
}

fn list(body: &Value) -> Result<Vec<Params>, String> {
    let elements = match body.get("elements") {
        Some(Value::Array(a)) => a.clone(),
        Some(_) => return Err("list.elements must be a list".into()),
        None => Vec::new(),
    };
    let elements = match body.get("elementsYaml").and_then(Value::as_str) {
        Some(text) => {
            let doc =
                yaml::parse_documents(text, "list.elementsYaml").map_err(|e| e.to_string())?;
            match doc.into_iter().next().map(|d| d.value) {
                Some(Value::Array(a)) => [elements, a].concat(),
                _ => return Err("list.elementsYaml must hold a YAML list".into()),
            }
        }
        None => elements,
    };
    elements
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let obj = e
                .as_object()
                .ok_or_else(|| format!("list.elements[{i}] must be an object"))?;
            let mut p = Params {
                nested: obj.clone(),
                ..Params::default()
            };
            flatten("", e, &mut p.flat);
            Ok(p)
        })
        .collect()
}

fn clusters(body: &Value, ctx: &dyn GeneratorContext) -> Result<Vec<Params>, String> {
    let match_labels: BTreeMap<String, String> = body
        .pointer("/selector/matchLabels")
        .and_then(Value::as_object)
        .map(|m| m.iter().map(|(k, v)| (k.clone(), scalar_text(v))).collect())
        .unwrap_or_default();
    if body.pointer("/selector/matchExpressions").is_some() {
        return Err("clusters.selector.matchExpressions is not supported by rekon".into());
    }
    let values = body
        .get("values")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut out = Vec::new();
    for c in ctx.clusters() {
        if !match_labels.iter().all(|(k, v)| c.labels.get(k) == Some(v)) {
            continue;
        }
        let labels: Map<String, Value> = c
            .labels
            .iter()
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect();
        let mut p = Params::default();
        p.flat.insert("name".into(), c.name.clone());
        p.flat.insert("nameNormalized".into(), normalized(&c.name));
        p.flat.insert("server".into(), c.server.clone());
        for (k, v) in &c.labels {
            p.flat.insert(format!("metadata.labels.{k}"), v.clone());
        }
        p.nested.insert("name".into(), json!(c.name));
        p.nested
            .insert("nameNormalized".into(), json!(normalized(&c.name)));
        p.nested.insert("server".into(), json!(c.server));
        p.nested.insert(
            "metadata".into(),
            json!({"labels": labels, "annotations": {}}),
        );
        // Values may use the cluster's own parameters.
        let mut rendered_values = Map::new();
        for (k, v) in &values {
            let text = fill_fast(&scalar_text(v), &p.flat);
            p.flat.insert(format!("values.{k}"), text.clone());
            rendered_values.insert(k.clone(), json!(text));
        }
        p.nested
            .insert("values".into(), Value::Object(rendered_values));
        out.push(p);
    }
    Ok(out)
}

fn git(body: &Value, ctx: &dyn GeneratorContext) -> Result<Vec<Params>, String> {
    let repo = body
        .get("repoURL")
        .and_then(Value::as_str)
        .filter(|r| !r.is_empty())
        .ok_or("git.repoURL is missing")?;
    let revision = body
        .get("revision")
        .and_then(Value::as_str)
        .unwrap_or("HEAD");
    if body.get("files").is_some() {
        return Err("the git files generator is not supported by rekon (use directories)".into());
    }
    let dirs = body
        .get("directories")
        .and_then(Value::as_array)
        .filter(|d| !d.is_empty())
        .ok_or("git.directories is missing")?;
    let mut include = Vec::new();
    let mut exclude = Vec::new();
    for d in dirs {
        let path = d
            .get("path")
            .and_then(Value::as_str)
            .ok_or("git.directories[].path is missing")?;
        let glob = GlobBuilder::new(path)
            .literal_separator(true)
            .build()
            .map_err(|e| format!("git.directories path {path:?}: {e}"))?
            .compile_matcher();
        if d.get("exclude") == Some(&json!(true)) {
            exclude.push(glob);
        } else {
            include.push(glob);
        }
    }
    let mut found: Vec<String> = ctx
        .directories(repo, revision)?
        .into_iter()
        .filter(|p| include.iter().any(|g| g.is_match(p)) && !exclude.iter().any(|g| g.is_match(p)))
        .collect();
    found.sort();
    Ok(found
        .into_iter()
        .map(|path| directory_params(&path))
        .collect())
}

fn directory_params(path: &str) -> Params {
    let segments: Vec<&str> = path.split('/').collect();
    let basename = segments.last().copied().unwrap_or("");
    let mut p = Params::default();
    p.flat.insert("path".into(), path.to_string());
    p.flat.insert("path.path".into(), path.to_string());
    p.flat.insert("path.basename".into(), basename.to_string());
    p.flat
        .insert("path.basenameNormalized".into(), normalized(basename));
    for (i, s) in segments.iter().enumerate() {
        p.flat.insert(format!("path[{i}]"), s.to_string());
    }
    p.nested.insert(
        "path".into(),
        json!({"path": path, "basename": basename, "basenameNormalized": normalized(basename),
            "segments": segments}),
    );
    p
}

fn matrix(
    body: &Value,
    ctx: &dyn GeneratorContext,
    go: bool,
    depth: usize,
) -> Result<Vec<Params>, String> {
    if depth >= MAX_MATRIX_DEPTH {
        return Err("matrix generators nest at most one level".into());
    }
    let children = body
        .get("generators")
        .and_then(Value::as_array)
        .ok_or("matrix.generators is missing")?;
    if children.len() != 2 {
        return Err(format!(
            "matrix.generators must hold exactly 2 generators, not {}",
            children.len()
        ));
    }
    let first = generate(&children[0], ctx, go, depth + 1)?;
    let mut out = Vec::new();
    for a in &first {
        // The second generator may use the first one's parameters (e.g. a path).
        let second_spec = render_value(&children[1], a, go)?;
        for b in generate(&second_spec, ctx, go, depth + 1)? {
            out.push(a.merged(&b));
        }
    }
    Ok(out)
}

/// Fills every string of `template` (keys included) with `params`.
pub fn render_value(template: &Value, params: &Params, go: bool) -> Result<Value, String> {
    Ok(match template {
        Value::String(s) => Value::String(fill(s, params, go)?),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| render_value(v, params, go))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(map) => {
            let mut out = Map::new();
            for (k, v) in map {
                out.insert(fill(k, params, go)?, render_value(v, params, go)?);
            }
            Value::Object(out)
        }
        other => other.clone(),
    })
}

fn fill(text: &str, params: &Params, go: bool) -> Result<String, String> {
    if go {
        fill_go(text, &params.nested)
    } else {
        Ok(fill_fast(text, &params.flat))
    }
}

/// fasttemplate: `{{ name }}` replaced when known, left as written otherwise.
fn fill_fast(text: &str, params: &BTreeMap<String, String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find("}}") {
            Some(end) => {
                let tag = &after[..end];
                match params.get(tag.trim()) {
                    Some(v) => out.push_str(v),
                    None => {
                        out.push_str("{{");
                        out.push_str(tag);
                        out.push_str("}}");
                    }
                }
                rest = &after[end + 2..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// A Go template reduced to field lookups: `{{.a.b}}`, `{{ .a }}`, `{{- .a -}}`.
fn fill_go(text: &str, params: &Map<String, Value>) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find("}}")
            .ok_or_else(|| format!("unclosed {{{{ in {text:?}"))?;
        let expr = after[..end]
            .trim()
            .trim_start_matches('-')
            .trim_end_matches('-')
            .trim();
        let path = expr.strip_prefix('.').filter(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_alphanumeric() || c == '.' || c == '_')
        });
        let Some(path) = path else {
            return Err(format!(
                "{{{{{expr}}}}} is not a plain field lookup such as {{{{.path.basename}}}}; Go template functions are not supported"
            ));
        };
        let mut value = params.get(path.split('.').next().unwrap_or(""));
        for part in path.split('.').skip(1) {
            value = value.and_then(|v| v.get(part));
        }
        let value = value.ok_or_else(|| format!("no parameter .{path}"))?;
        out.push_str(&scalar_text(value));
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Ctx;
    impl GeneratorContext for Ctx {
        fn clusters(&self) -> Vec<ClusterInfo> {
            vec![
                ClusterInfo {
                    name: "demo-staging".into(),
                    server: "https://s".into(),
                    labels: BTreeMap::new(),
                },
                ClusterInfo {
                    name: "demo-prod".into(),
                    server: "https://p".into(),
                    labels: BTreeMap::new(),
                },
            ]
        }
        fn directories(&self, _: &str, _: &str) -> Result<Vec<String>, String> {
            Ok(["apps", "apps/web", "apps/api", "apps/web/base", "docs"]
                .map(String::from)
                .to_vec())
        }
    }

    fn set(yaml_text: &str) -> ApplicationSet {
        ApplicationSet::parse_all(yaml_text, "set.yaml")
            .unwrap()
            .remove(0)
    }

    #[test]
    fn fasttemplate_leaves_unknown_tags() {
        let mut p = BTreeMap::new();
        p.insert("a".to_string(), "1".to_string());
        assert_eq!(fill_fast("x-{{a}}-{{ a }}-{{b}}", &p), "x-1-1-{{b}}");
    }

    #[test]
    fn go_template_looks_up_fields_and_refuses_functions() {
        let p = directory_params("apps/web");
        assert_eq!(
            fill_go("{{ .path.basename }}-{{.path.path}}", &p.nested).unwrap(),
            "web-apps/web"
        );
        assert!(
            fill_go("{{ .nope }}", &p.nested)
                .unwrap_err()
                .contains("no parameter .nope")
        );
        assert!(
            fill_go("{{ upper .path.basename }}", &p.nested)
                .unwrap_err()
                .contains("not supported")
        );
    }

    #[test]
    fn list_generator() {
        let s = set(r#"
kind: ApplicationSet
metadata: {name: guestbook}
spec:
  generators:
    - list:
        elements:
          - {cluster: demo-staging, env: {name: staging}}
          - {cluster: demo-prod, env: {name: prod}}
  template:
    metadata: {name: 'guestbook-{{env.name}}'}
    spec:
      source: {repoURL: 'https://x/repo.git', path: 'envs/{{env.name}}'}
      destination: {name: '{{cluster}}', namespace: guestbook}
"#);
        let apps = expand(&s, &Ctx).unwrap();
        let names: Vec<String> = apps.iter().map(|a| a.qualified_name()).collect();
        assert_eq!(names, ["argocd/guestbook-staging", "argocd/guestbook-prod"]);
        assert_eq!(apps[1].spec.source.path(), "envs/prod");
        assert_eq!(apps[1].spec.destination.name.as_deref(), Some("demo-prod"));
    }

    #[test]
    fn cluster_generator_uses_the_known_contexts() {
        let s = set(r#"
kind: ApplicationSet
metadata: {name: base, namespace: platform}
spec:
  generators: [{clusters: {values: {tier: 'gold-{{name}}'}}}]
  template:
    metadata: {name: 'base-{{nameNormalized}}', labels: {tier: '{{values.tier}}'}}
    spec:
      source: {repoURL: 'https://x/repo.git', path: base}
      destination: {server: '{{server}}', namespace: base}
"#);
        let apps = expand(&s, &Ctx).unwrap();
        assert_eq!(apps.len(), 2);
        assert_eq!(apps[0].qualified_name(), "platform/base-demo-staging");
        assert_eq!(
            apps[0].spec.destination.server.as_deref(),
            Some("https://s")
        );
        assert_eq!(apps[1].metadata.labels["tier"], "gold-demo-prod");
        let selective = set(r#"
kind: ApplicationSet
metadata: {name: none}
spec:
  generators: [{clusters: {selector: {matchLabels: {env: prod}}}}]
  template:
    metadata: {name: 'x-{{name}}'}
    spec: {source: {repoURL: r}}
"#);
        assert!(expand(&selective, &Ctx).unwrap().is_empty());
    }

    #[test]
    fn git_directory_generator_with_go_template() {
        let s = set(r#"
kind: ApplicationSet
metadata: {name: apps}
spec:
  goTemplate: true
  generators:
    - git:
        repoURL: https://x/repo.git
        revision: main
        directories: [{path: 'apps/*'}, {path: apps/api, exclude: true}]
  template:
    metadata: {name: '{{.path.basename}}'}
    spec:
      source: {repoURL: https://x/repo.git, targetRevision: main, path: '{{.path.path}}'}
      destination: {name: demo-prod, namespace: '{{.path.basename}}'}
"#);
        let apps = expand(&s, &Ctx).unwrap();
        let names: Vec<&str> = apps.iter().map(|a| a.metadata.name.as_str()).collect();
        assert_eq!(names, ["web"]);
        assert_eq!(apps[0].spec.source.path(), "apps/web");
    }

    #[test]
    fn matrix_generator_crosses_clusters_and_directories() {
        let s = set(r#"
kind: ApplicationSet
metadata: {name: everywhere}
spec:
  generators:
    - matrix:
        generators:
          - clusters: {}
          - git:
              repoURL: https://x/repo.git
              directories: [{path: 'apps/*'}]
  template:
    metadata: {name: '{{path.basename}}-{{name}}'}
    spec:
      source: {repoURL: https://x/repo.git, path: '{{path}}'}
      destination: {name: '{{name}}', namespace: '{{path.basename}}'}
"#);
        let apps = expand(&s, &Ctx).unwrap();
        let names: Vec<&str> = apps.iter().map(|a| a.metadata.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "api-demo-staging",
                "web-demo-staging",
                "api-demo-prod",
                "web-demo-prod"
            ]
        );
    }

    #[test]
    fn refuses_unsupported_generators_and_duplicates() {
        let s = set(r#"
kind: ApplicationSet
metadata: {name: scm}
spec:
  generators: [{scmProvider: {}}]
  template: {metadata: {name: x}, spec: {source: {repoURL: r}}}
"#);
        let err = expand(&s, &Ctx).unwrap_err();
        assert!(
            err.contains("scmProvider generator is not supported")
                && err.contains("ApplicationSet scm (set.yaml:"),
            "{err}"
        );
        let dup = set(r#"
kind: ApplicationSet
metadata: {name: dup}
spec:
  generators: [{list: {elements: [{a: '1'}, {a: '2'}]}}]
  template: {metadata: {name: same}, spec: {source: {repoURL: r}}}
"#);
        assert!(
            expand(&dup, &Ctx)
                .unwrap_err()
                .contains("same Application argocd/same")
        );
    }
}
