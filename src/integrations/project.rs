//! Argo CD AppProject rules for rekon's own apps: which source repositories, which
//! destinations (cluster and namespace), and which kinds (cluster-scoped kinds must be
//! allowed by `clusterResourceWhitelist`; black- and whitelists of namespaced kinds) an app
//! of the project may use. A sync that breaks them is refused with the rule named.
//!
//! As in Argo CD: patterns are globs, a pattern starting with `!` denies, the project
//! `default` allows everything unless an AppProject named `default` is given, and an empty
//! `clusterResourceWhitelist` allows no cluster-scoped kind at all.

use globset::Glob;
use serde::Deserialize;
use serde_json::Value;

use crate::engine::desired::DesiredObject;
use crate::model::Application;
use crate::yaml;

/// A `{group, kind}` pattern of a resource list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KindPattern {
    /// Group glob (`""` is core, `*` any).
    #[serde(default)]
    pub group: String,
    /// Kind glob.
    #[serde(default)]
    pub kind: String,
}

/// One allowed destination.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProjectDestination {
    /// Server URL glob.
    #[serde(default)]
    pub server: Option<String>,
    /// Cluster name glob (a context for rekon).
    #[serde(default)]
    pub name: Option<String>,
    /// Namespace glob (`!` denies).
    #[serde(default)]
    pub namespace: Option<String>,
}

/// The rules of an AppProject rekon enforces.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProjectSpec {
    /// Repository URL globs.
    #[serde(default)]
    pub source_repos: Vec<String>,
    /// Allowed destinations.
    #[serde(default)]
    pub destinations: Vec<ProjectDestination>,
    /// Cluster-scoped kinds allowed.
    #[serde(default)]
    pub cluster_resource_whitelist: Vec<KindPattern>,
    /// Cluster-scoped kinds denied.
    #[serde(default)]
    pub cluster_resource_blacklist: Vec<KindPattern>,
    /// When set, the only namespaced kinds allowed.
    #[serde(default)]
    pub namespace_resource_whitelist: Option<Vec<KindPattern>>,
    /// Namespaced kinds denied.
    #[serde(default)]
    pub namespace_resource_blacklist: Vec<KindPattern>,
}

/// An AppProject read from an `--apps` file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppProject {
    /// Project name.
    pub name: String,
    /// Its namespace (`argocd` when unset).
    pub namespace: String,
    /// Where it was read (`file:line`).
    pub origin: String,
    /// The rules.
    pub spec: ProjectSpec,
}

impl AppProject {
    /// Every AppProject in a YAML text; other kinds are skipped.
    pub fn parse_all(text: &str, origin: &str) -> Result<Vec<AppProject>, String> {
        let mut out = Vec::new();
        for doc in yaml::parse_documents(text, origin).map_err(|e| e.to_string())? {
            if doc.value.get("kind").and_then(Value::as_str) != Some("AppProject") {
                continue;
            }
            out.push(Self::from_value(
                &doc.value,
                &format!("{origin}:{}", doc.line),
            )?);
        }
        Ok(out)
    }

    /// Reads one AppProject object; `origin` names it in errors.
    pub fn from_value(obj: &Value, origin: &str) -> Result<AppProject, String> {
        let name = obj
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty())
            .ok_or_else(|| format!("{origin}: AppProject has no metadata.name"))?;
        let spec: ProjectSpec = match obj.get("spec") {
            Some(s) => serde_json::from_value(s.clone())
                .map_err(|e| format!("{origin}: AppProject {name} is not valid: {e}"))?,
            None => ProjectSpec::default(),
        };
        Ok(AppProject {
            name: name.to_string(),
            namespace: obj
                .pointer("/metadata/namespace")
                .and_then(Value::as_str)
                .unwrap_or("argocd")
                .to_string(),
            origin: origin.to_string(),
            spec,
        })
    }
}

fn glob_match(pattern: &str, text: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    match Glob::new(pattern) {
        Ok(g) => g.compile_matcher().is_match(text),
        Err(_) => pattern == text,
    }
}

/// Argo CD's allow/deny lists: denied when a `!pattern` matches, else allowed when a plain
/// pattern matches.
fn allowed_by(patterns: &[&str], text: &str) -> bool {
    if patterns
        .iter()
        .filter_map(|p| p.strip_prefix('!'))
        .any(|p| glob_match(p, text))
    {
        return false;
    }
    patterns
        .iter()
        .filter(|p| !p.starts_with('!'))
        .any(|p| glob_match(p, text))
}

/// Repository URLs compare without case and without a trailing `.git` or `/`.
fn normalize_repo(url: &str) -> String {
    url.trim()
        .trim_end_matches('/')
        .trim_end_matches(".git")
        .to_ascii_lowercase()
}

fn kind_matches(list: &[KindPattern], group: &str, kind: &str) -> bool {
    list.iter()
        .any(|p| glob_match(&p.group, group) && glob_match(&p.kind, kind))
}

fn describe_kinds(list: &[KindPattern]) -> String {
    if list.is_empty() {
        return "none".into();
    }
    list.iter()
        .map(|p| {
            let g = if p.group.is_empty() { "\"\"" } else { &p.group };
            format!("{g}/{}", p.kind)
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn describe_destinations(list: &[ProjectDestination]) -> String {
    if list.is_empty() {
        return "none".into();
    }
    list.iter()
        .map(|d| {
            let cluster = d.name.as_deref().or(d.server.as_deref()).unwrap_or("*");
            format!("{cluster}/{}", d.namespace.as_deref().unwrap_or("*"))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn destination_allowed(project: &AppProject, clusters: &[&str], namespace: &str) -> bool {
    let cluster_ok = |d: &ProjectDestination| {
        let globs: Vec<&str> = [d.server.as_deref(), d.name.as_deref()]
            .into_iter()
            .flatten()
            .filter(|g| !g.is_empty())
            .collect();
        globs.is_empty()
            || globs
                .iter()
                .any(|g| clusters.iter().any(|c| glob_match(g, c)))
    };
    let matching: Vec<&ProjectDestination> = project
        .spec
        .destinations
        .iter()
        .filter(|d| cluster_ok(d))
        .collect();
    let patterns: Vec<&str> = matching
        .iter()
        .map(|d| d.namespace.as_deref().unwrap_or("*"))
        .collect();
    allowed_by(&patterns, namespace)
}

/// Checks an app and the objects a sync would apply against its project's rules. `Err`
/// names the project, the rule and the offending value.
pub fn check(
    project: &AppProject,
    app: &Application,
    desired: &[DesiredObject],
) -> Result<(), String> {
    let p = &project.name;
    let repo = normalize_repo(&app.spec.source.repo_url);
    let repos: Vec<String> = project
        .spec
        .source_repos
        .iter()
        .map(|r| match r.strip_prefix('!') {
            Some(rest) => format!("!{}", normalize_repo(rest)),
            None if r == "*" => r.clone(),
            None => normalize_repo(r),
        })
        .collect();
    let repo_patterns: Vec<&str> = repos.iter().map(String::as_str).collect();
    if !allowed_by(&repo_patterns, &repo) {
        return Err(format!(
            "project {p:?} does not allow source repository {} (sourceRepos: {})",
            app.spec.source.repo_url,
            if project.spec.source_repos.is_empty() {
                "none".into()
            } else {
                project.spec.source_repos.join(", ")
            }
        ));
    }
    let dest = &app.spec.destination;
    let clusters: Vec<&str> = [dest.server.as_deref(), dest.name.as_deref()]
        .into_iter()
        .flatten()
        .filter(|c| !c.is_empty())
        .collect();
    let cluster_label = clusters.first().copied().unwrap_or("in-cluster");
    let dest_ns = dest.namespace.as_deref().unwrap_or("");
    let mut namespaces: Vec<&str> = vec![dest_ns];
    namespaces.extend(
        desired
            .iter()
            .map(|d| d.key.namespace.as_str())
            .filter(|n| !n.is_empty()),
    );
    namespaces.sort();
    namespaces.dedup();
    for ns in namespaces {
        if !destination_allowed(project, &clusters, ns) {
            return Err(format!(
                "project {p:?} does not allow destination {cluster_label} namespace {:?} (destinations: {})",
                ns,
                describe_destinations(&project.spec.destinations)
            ));
        }
    }
    for d in desired {
        let (group, kind) = (d.key.group.as_str(), d.key.kind.as_str());
        let what = |scope: &str| {
            let g = if group.is_empty() { "" } else { group };
            let sep = if g.is_empty() { "" } else { "/" };
            format!("{scope} {g}{sep}{kind} {:?} ({})", d.key.name, d.origin)
        };
        if d.key.namespace.is_empty() {
            if !kind_matches(&project.spec.cluster_resource_whitelist, group, kind) {
                return Err(format!(
                    "project {p:?} does not allow {} (clusterResourceWhitelist: {})",
                    what("cluster-scoped"),
                    describe_kinds(&project.spec.cluster_resource_whitelist)
                ));
            }
            if kind_matches(&project.spec.cluster_resource_blacklist, group, kind) {
                return Err(format!(
                    "project {p:?} denies {} (clusterResourceBlacklist: {})",
                    what("cluster-scoped"),
                    describe_kinds(&project.spec.cluster_resource_blacklist)
                ));
            }
        } else {
            if kind_matches(&project.spec.namespace_resource_blacklist, group, kind) {
                return Err(format!(
                    "project {p:?} denies {} (namespaceResourceBlacklist: {})",
                    what("namespaced"),
                    describe_kinds(&project.spec.namespace_resource_blacklist)
                ));
            }
            if let Some(white) = &project.spec.namespace_resource_whitelist
                && !kind_matches(white, group, kind)
            {
                return Err(format!(
                    "project {p:?} does not allow {} (namespaceResourceWhitelist: {})",
                    what("namespaced"),
                    describe_kinds(white)
                ));
            }
        }
    }
    Ok(())
}

/// Checks an app against the project it names among `projects`: an unknown project is a
/// violation, except `default`, which allows everything unless it is defined.
pub fn check_app(
    projects: &[AppProject],
    app: &Application,
    desired: &[DesiredObject],
) -> Result<(), String> {
    let name = app
        .spec
        .project
        .as_deref()
        .filter(|p| !p.is_empty())
        .unwrap_or("default");
    match projects.iter().find(|p| p.name == name) {
        Some(project) => check(project, app, desired),
        None if name == "default" => Ok(()),
        None => Err(format!(
            "project {name:?} does not exist (known projects: {})",
            if projects.is_empty() {
                "none; pass its AppProject with --apps".to_string()
            } else {
                projects
                    .iter()
                    .map(|p| p.name.clone())
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ResourceKey;

    const PROJECT: &str = r#"
apiVersion: argoproj.io/v1alpha1
kind: AppProject
metadata: {name: team-a, namespace: argocd}
spec:
  sourceRepos: ["https://github.com/acme/*", "!https://github.com/acme/secret*"]
  destinations:
    - {name: demo-*, namespace: "team-a-*"}
    - {server: "https://prod.example.com", namespace: "team-a"}
  clusterResourceWhitelist:
    - {group: "", kind: Namespace}
  namespaceResourceBlacklist:
    - {group: "", kind: ResourceQuota}
"#;

    fn app(repo: &str, name: &str, ns: &str) -> Application {
        let text = format!(
            "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {{name: web}}\nspec:\n  project: team-a\n  source: {{repoURL: '{repo}'}}\n  destination: {{name: {name}, namespace: {ns}}}\n"
        );
        Application::parse_all(&text, "a.yaml").unwrap().remove(0)
    }

    fn obj(group: &str, kind: &str, ns: &str, name: &str) -> DesiredObject {
        DesiredObject {
            key: ResourceKey::new(group, kind, ns, name),
            api_version: "v1".into(),
            json: "null".into(),
            origin: "apps/web/x.yaml:1".into(),
            hook: false,
            problem: None,
        }
    }

    fn project() -> AppProject {
        AppProject::parse_all(PROJECT, "p.yaml").unwrap().remove(0)
    }

    #[test]
    fn allows_what_the_rules_allow() {
        let a = app("https://github.com/acme/web.git", "demo-prod", "team-a-web");
        let objs = [
            obj("apps", "Deployment", "team-a-web", "web"),
            obj("", "Namespace", "", "team-a-web"),
        ];
        assert_eq!(check(&project(), &a, &objs), Ok(()));
    }

    #[test]
    fn names_the_broken_rule() {
        let p = project();
        let err = check(
            &p,
            &app("https://github.com/acme/secrets", "demo-prod", "team-a-x"),
            &[],
        )
        .unwrap_err();
        assert!(err.contains("sourceRepos"), "{err}");
        let err = check(
            &p,
            &app("https://github.com/acme/web", "demo-prod", "kube-system"),
            &[],
        )
        .unwrap_err();
        assert!(
            err.contains("destination demo-prod namespace \"kube-system\""),
            "{err}"
        );
        let a = app("https://github.com/acme/web", "demo-prod", "team-a-x");
        let err = check(
            &p,
            &a,
            &[obj("rbac.authorization.k8s.io", "ClusterRole", "", "admin")],
        )
        .unwrap_err();
        assert!(
            err.contains("cluster-scoped rbac.authorization.k8s.io/ClusterRole \"admin\"")
                && err.contains("clusterResourceWhitelist: \"\"/Namespace"),
            "{err}"
        );
        let err = check(&p, &a, &[obj("", "ResourceQuota", "team-a-x", "q")]).unwrap_err();
        assert!(err.contains("namespaceResourceBlacklist"), "{err}");
        let err = check(&p, &a, &[obj("", "ConfigMap", "other", "c")]).unwrap_err();
        assert!(err.contains("namespace \"other\""), "{err}");
    }

    #[test]
    fn default_project_allows_everything_unless_defined() {
        let mut a = app("https://elsewhere/x", "any", "any");
        a.spec.project = None;
        assert_eq!(check_app(&[], &a, &[]), Ok(()));
        a.spec.project = Some("missing".into());
        assert!(
            check_app(&[project()], &a, &[])
                .unwrap_err()
                .contains("does not exist")
        );
    }
}
