//! Flux's objects read with kstatus semantics (Ready, Reconciling, Stalled, observed
//! generation), their revisions, suspension and messages; Kustomizations and HelmReleases
//! mapped onto rekon's app snapshot; and the patches the flux CLI writes to reconcile,
//! suspend and resume.

use serde_json::{Value, json};

use crate::engine::health::{self, condition};
use crate::engine::json::{annotation, str_at};
use crate::model::{
    AppSnapshot, GroupKind, Health, HealthStatus, ManagedBy, ResourceKey, ResourceStatus,
    SyncStatus, short_sha,
};

/// kustomize-controller's group.
pub const KUSTOMIZE_GROUP: &str = "kustomize.toolkit.fluxcd.io";
/// helm-controller's group.
pub const HELM_GROUP: &str = "helm.toolkit.fluxcd.io";
/// source-controller's group.
pub const SOURCE_GROUP: &str = "source.toolkit.fluxcd.io";
/// The image reflector's and automation controller's group.
pub const IMAGE_GROUP: &str = "image.toolkit.fluxcd.io";
/// The annotation that asks a Flux controller to reconcile now (an opaque token).
pub const REQUESTED_AT: &str = "reconcile.fluxcd.io/requestedAt";
/// The label kustomize-controller puts on every object it applies: the Kustomization's name.
pub const KS_NAME_LABEL: &str = "kustomize.toolkit.fluxcd.io/name";
/// The label kustomize-controller puts on every object it applies: its namespace.
pub const KS_NAMESPACE_LABEL: &str = "kustomize.toolkit.fluxcd.io/namespace";

/// Every Flux kind rekon watches, with its group.
pub const KINDS: [(&str, &str); 9] = [
    (KUSTOMIZE_GROUP, "Kustomization"),
    (HELM_GROUP, "HelmRelease"),
    (SOURCE_GROUP, "GitRepository"),
    (SOURCE_GROUP, "OCIRepository"),
    (SOURCE_GROUP, "HelmRepository"),
    (SOURCE_GROUP, "HelmChart"),
    (IMAGE_GROUP, "ImageRepository"),
    (IMAGE_GROUP, "ImagePolicy"),
    (IMAGE_GROUP, "ImageUpdateAutomation"),
];

/// Whether a group/kind is one of Flux's.
pub fn is_flux_kind(group: &str, kind: &str) -> bool {
    KINDS.iter().any(|(g, k)| *g == group && *k == kind)
}

/// A Flux object's state as the flux CLI shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FluxStatus {
    /// kstatus health (Suspended when `spec.suspend`).
    pub health: Health,
    /// The Ready condition's status: `True`, `False`, `Unknown`, or empty when absent.
    pub ready: String,
    /// The Ready condition's reason.
    pub reason: String,
    /// The Ready condition's message (or "waiting to be reconciled").
    pub message: String,
    /// `spec.suspend`.
    pub suspended: bool,
    /// The revision it applied or stored: `lastAppliedRevision`, `artifact.revision`,
    /// `lastAttemptedRevision`, `latestRef.tag` (whichever the kind has).
    pub revision: String,
    /// `status.lastHandledReconcileAt`.
    pub last_handled: String,
}

/// Reasons of a Ready=False condition that mean the last attempt failed (kstatus calls it
/// InProgress; rekon shows Degraded so a broken Kustomization never looks merely busy).
fn is_failure_reason(reason: &str) -> bool {
    reason.ends_with("Failed")
        || matches!(
            reason,
            "RetriesExceeded" | "InstallFailed" | "UpgradeFailed" | "MissingRollbackTarget"
        )
}

/// Reads a Flux object's state.
pub fn status(obj: &Value) -> FluxStatus {
    let suspended = obj.pointer("/spec/suspend").and_then(Value::as_bool) == Some(true);
    let ready = condition(obj, "Ready");
    let ready_status = ready.and_then(|c| str_at(c, "/status")).unwrap_or("");
    let reason = ready
        .and_then(|c| str_at(c, "/reason"))
        .unwrap_or("")
        .to_string();
    // kustomize-controller ends an apply error's message with a newline: trimmed, so it
    // stays one line in the CLI's refusals and the TUI's status line.
    let message = match ready.map(|c| str_at(c, "/message").unwrap_or("").trim()) {
        Some(m) if !m.is_empty() => m.to_string(),
        Some(_) => reason.clone(),
        None => "waiting to be reconciled".to_string(),
    };
    let kstatus = health::assess(obj).unwrap_or(HealthStatus::new(Health::Unknown, ""));
    let health_word = match kstatus.status {
        Health::Progressing if ready_status == "False" && is_failure_reason(&reason) => {
            Health::Degraded
        }
        // No conditions and no observed generation: never reconciled.
        _ if obj.pointer("/status/conditions").is_none() && !suspended => Health::Progressing,
        h => h,
    };
    let revision = [
        "/status/lastAppliedRevision",
        "/status/artifact/revision",
        "/status/lastAttemptedRevision",
        "/status/latestRef/tag",
        "/status/lastPushCommit",
    ]
    .iter()
    .map(|p| str_at(obj, p).unwrap_or(""))
    .find(|r| !r.is_empty())
    .unwrap_or("")
    .to_string();
    FluxStatus {
        health: health_word,
        ready: ready_status.to_string(),
        reason,
        message,
        suspended,
        revision,
        last_handled: str_at(obj, "/status/lastHandledReconcileAt")
            .unwrap_or("")
            .to_string(),
    }
}

/// The commit (or digest) of a Flux revision: `main@sha1:abc…` → `abc…`,
/// `latest@sha256:…` → the digest, legacy `main/abc…` → `abc…`, anything else as is.
pub fn revision_commit(revision: &str) -> &str {
    if let Some((_, hash)) = revision.rsplit_once('@') {
        return hash.split_once(':').map_or(hash, |(_, h)| h);
    }
    if let Some((_, hash)) = revision.split_once(':') {
        return hash;
    }
    match revision.rsplit_once('/') {
        Some((_, h)) if h.len() >= 40 && h.bytes().all(|b| b.is_ascii_hexdigit()) => h,
        _ => revision,
    }
}

/// A Flux revision as the TUI shows it: `main@sha1:0123456…` as `main@0123456`, hashes cut
/// to 7, tags and versions as they are.
pub fn short_revision(revision: &str) -> String {
    let commit = revision_commit(revision);
    let is_hash = commit.len() >= 12 && commit.chars().all(|c| c.is_ascii_hexdigit());
    if !is_hash {
        return revision.to_string();
    }
    let short = short_sha(commit);
    match revision.split_once('@') {
        Some((branch, _)) if !branch.is_empty() => format!("{branch}@{short}"),
        _ => short.to_string(),
    }
}

/// A reference to another object in a Flux spec (`sourceRef`, `chartRef`, `dependsOn[]`):
/// the namespace defaults to the referrer's.
pub fn reference(
    r: &Value,
    group: &str,
    default_kind: &str,
    namespace: &str,
) -> Option<ResourceKey> {
    let name = r.get("name")?.as_str()?;
    if name.is_empty() {
        return None;
    }
    let kind = match str_at(r, "/kind").unwrap_or("") {
        "" => default_kind,
        k => k,
    };
    let ns = match str_at(r, "/namespace").unwrap_or("") {
        "" => namespace,
        n => n,
    };
    Some(ResourceKey::new(
        group_of_kind(kind).unwrap_or(group),
        kind,
        ns,
        name,
    ))
}

/// The group of a Flux kind named in a reference.
pub fn group_of_kind(kind: &str) -> Option<&'static str> {
    KINDS.iter().find(|(_, k)| *k == kind).map(|(g, _)| *g)
}

/// The source of a Kustomization (`spec.sourceRef`) or HelmRelease (`spec.chartRef`, else
/// the HelmChart source-controller makes for `spec.chart`: `<namespace>-<name>` in the
/// source's namespace).
pub fn source_of(obj: &Value) -> Option<ResourceKey> {
    let key = ResourceKey::of(obj)?;
    match key.kind.as_str() {
        "Kustomization" => reference(
            obj.pointer("/spec/sourceRef")?,
            SOURCE_GROUP,
            "GitRepository",
            &key.namespace,
        ),
        "HelmRelease" => {
            if let Some(r) = obj.pointer("/spec/chartRef") {
                return reference(r, SOURCE_GROUP, "OCIRepository", &key.namespace);
            }
            let src = obj.pointer("/spec/chart/spec/sourceRef")?;
            let src_ns = match str_at(src, "/namespace").unwrap_or("") {
                "" => key.namespace.as_str(),
                n => n,
            };
            Some(ResourceKey::new(
                SOURCE_GROUP,
                "HelmChart",
                src_ns,
                format!("{}-{}", key.namespace, key.name),
            ))
        }
        "HelmChart" => reference(
            obj.pointer("/spec/sourceRef")?,
            SOURCE_GROUP,
            "HelmRepository",
            &key.namespace,
        ),
        "ImageUpdateAutomation" => reference(
            obj.pointer("/spec/sourceRef")?,
            SOURCE_GROUP,
            "GitRepository",
            &key.namespace,
        ),
        "ImagePolicy" => reference(
            obj.pointer("/spec/imageRepositoryRef")?,
            IMAGE_GROUP,
            "ImageRepository",
            &key.namespace,
        ),
        _ => None,
    }
}

/// `spec.dependsOn` of a Kustomization or HelmRelease, as keys of the same kind.
pub fn depends_on(obj: &Value) -> Vec<ResourceKey> {
    let Some(key) = ResourceKey::of(obj) else {
        return Vec::new();
    };
    obj.pointer("/spec/dependsOn")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|d| reference(d, &key.group, &key.kind, &key.namespace))
        .map(|mut k| {
            // dependsOn never names a kind: it is always the referrer's own kind.
            k.group = key.group.clone();
            k.kind = key.kind.clone();
            k
        })
        .collect()
}

/// One `status.inventory.entries[]` item: `<namespace>_<name>_<group>_<kind>` and `v`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InventoryEntry {
    /// The object.
    pub key: ResourceKey,
    /// Its API version.
    pub version: String,
}

/// Parses one inventory id. Names and namespaces cannot hold `_`, groups and kinds neither,
/// so splitting from both ends is unambiguous; the group may be empty (core kinds).
pub fn parse_inventory_id(id: &str, version: &str) -> Option<InventoryEntry> {
    let (rest, kind) = id.rsplit_once('_')?;
    let (rest, group) = rest.rsplit_once('_')?;
    let (namespace, name) = rest.split_once('_')?;
    if kind.is_empty() || name.is_empty() {
        return None;
    }
    Some(InventoryEntry {
        key: ResourceKey::new(group, kind, namespace, name),
        version: version.to_string(),
    })
}

/// The inventory id of an object key.
pub fn inventory_id(key: &ResourceKey) -> String {
    format!("{}_{}_{}_{}", key.namespace, key.name, key.group, key.kind)
}

/// `status.inventory.entries` (Kustomizations, and HelmReleases since helm-controller 1.x).
pub fn inventory(obj: &Value) -> Vec<InventoryEntry> {
    obj.pointer("/status/inventory/entries")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|e| {
            parse_inventory_id(
                str_at(e, "/id").unwrap_or(""),
                str_at(e, "/v").unwrap_or(""),
            )
        })
        .collect()
}

/// What the live cache knows of an inventory object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LiveState {
    /// Its kind is not watched (yet).
    Unknown,
    /// Not in the cluster.
    Missing,
    /// In the cluster, with its health (`None` for kinds without one).
    Present(Option<HealthStatus>),
}

/// The app row of a Kustomization or HelmRelease. `source` is its source object when
/// known; `live` tells what the live cache knows of an inventory object.
pub fn snapshot(
    obj: &Value,
    cluster: &str,
    source: Option<&Value>,
    live: &dyn Fn(&ResourceKey) -> LiveState,
) -> AppSnapshot {
    let key = ResourceKey::of(obj).unwrap_or_else(|| ResourceKey::new("", "", "", ""));
    let st = status(obj);
    let is_hr = key.kind == "HelmRelease";
    let source_revision = source
        .and_then(|s| str_at(s, "/status/artifact/revision"))
        .unwrap_or("");
    let (repo_url, path, target) = if is_hr {
        let chart = match str_at(obj, "/spec/chart/spec/chart").unwrap_or("") {
            "" => source.and_then(|s| str_at(s, "/spec/chart")).unwrap_or(""),
            c => c,
        };
        let version = match str_at(obj, "/spec/chart/spec/version").unwrap_or("") {
            "" => "*",
            v => v,
        };
        (
            source
                .and_then(|s| str_at(s, "/spec/url"))
                .unwrap_or("")
                .to_string(),
            chart.to_string(),
            version.to_string(),
        )
    } else {
        let reference = source.and_then(|s| s.pointer("/spec/ref"));
        let target = reference
            .and_then(|r| {
                ["branch", "tag", "semver", "name", "commit", "digest"]
                    .iter()
                    .find_map(|k| r.get(*k).and_then(Value::as_str))
            })
            .unwrap_or("")
            .to_string();
        (
            source
                .and_then(|s| str_at(s, "/spec/url"))
                .unwrap_or("")
                .to_string(),
            match str_at(obj, "/spec/path").unwrap_or("") {
                "" => "./".to_string(),
                p => p.to_string(),
            },
            target,
        )
    };
    let applied = if is_hr {
        str_at(obj, "/status/lastAttemptedRevision").unwrap_or("")
    } else {
        str_at(obj, "/status/lastAppliedRevision").unwrap_or("")
    };
    let sync = if st.suspended && applied.is_empty() {
        SyncStatus::Unknown
    } else if is_hr {
        match st.ready.as_str() {
            "True" => SyncStatus::Synced,
            "False" => SyncStatus::OutOfSync,
            _ => SyncStatus::Unknown,
        }
    } else if applied.is_empty() || source_revision.is_empty() {
        SyncStatus::Unknown
    } else if applied == source_revision && st.ready == "True" {
        SyncStatus::Synced
    } else {
        SyncStatus::OutOfSync
    };
    let resources = inventory(obj)
        .into_iter()
        .map(|e| {
            let (health, message) = match live(&e.key) {
                LiveState::Unknown | LiveState::Present(None) => (None, String::new()),
                LiveState::Missing => (Some(Health::Missing), "not in the cluster".to_string()),
                LiveState::Present(Some(h)) => (Some(h.status), h.message),
            };
            ResourceStatus {
                group: e.key.group.clone(),
                version: e.version,
                kind: e.key.kind.clone(),
                namespace: e.key.namespace.clone(),
                name: e.key.name.clone(),
                sync: if health == Some(Health::Missing) {
                    SyncStatus::OutOfSync
                } else {
                    SyncStatus::Synced
                },
                health,
                message,
                requires_pruning: false,
            }
        })
        .collect::<Vec<_>>();
    let last_sync = condition(obj, "Ready")
        .filter(|c| str_at(c, "/status").unwrap_or("") == "True")
        .map(|c| str_at(c, "/lastTransitionTime").unwrap_or("").to_string())
        .filter(|t| !t.is_empty());
    let revision = if applied.is_empty() {
        None
    } else if is_hr {
        Some(applied.to_string())
    } else {
        Some(revision_commit(applied).to_string())
    };
    AppSnapshot {
        name: key.name.clone(),
        namespace: key.namespace.clone(),
        managed_by: ManagedBy::Flux,
        kind: key.kind.clone(),
        cluster: cluster.to_string(),
        destination_namespace: str_at(obj, "/spec/targetNamespace")
            .unwrap_or("")
            .to_string(),
        repo_url,
        path,
        target_revision: target,
        revision,
        sync,
        health: st.health,
        message: if st.suspended {
            format!("suspended; {}", st.message)
        } else {
            st.message
        },
        auto_sync: !st.suspended,
        last_sync,
        resources: std::sync::Arc::new(resources),
        operation: None,
        origin: Default::default(),
        detail: None,
    }
}

/// The merge patch `flux reconcile` writes: the requestedAt annotation with a fresh token
/// (the flux CLI uses the time, RFC 3339 with nanoseconds).
pub fn reconcile_patch(token: &str) -> Value {
    json!({"metadata": {"annotations": {REQUESTED_AT: token}}})
}

/// The merge patch of `flux suspend`.
pub fn suspend_patch() -> Value {
    json!({"spec": {"suspend": true}})
}

/// The merge patch of `flux resume`: unsuspend and ask for a reconcile at once.
pub fn resume_patch(token: &str) -> Value {
    json!({"spec": {"suspend": false}, "metadata": {"annotations": {REQUESTED_AT: token}}})
}

/// A fresh reconcile token.
pub fn new_token(now: jiff::Timestamp) -> String {
    now.strftime("%Y-%m-%dT%H:%M:%S%.9fZ").to_string()
}

/// Where a reconcile request stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReconcileProgress {
    /// The controller has not handled the token yet, or is still working.
    Waiting(String),
    /// Handled and Ready.
    Ready(String),
    /// Handled and failed (Stalled, or Ready=False with a failure reason).
    Failed(String),
}

/// How a reconcile requested with `token` stands, as the flux CLI judges it: first
/// `lastHandledReconcileAt` must equal the token, then kstatus must say Current (Ready=True
/// at the current generation).
pub fn reconcile_progress(obj: &Value, token: &str) -> ReconcileProgress {
    let st = status(obj);
    if annotation(obj, REQUESTED_AT) != Some(token) {
        return ReconcileProgress::Waiting("the request was replaced by another one".into());
    }
    if st.last_handled != token {
        return ReconcileProgress::Waiting(
            "waiting for the controller to pick up the request".into(),
        );
    }
    match st.health {
        Health::Healthy if st.ready == "True" => ReconcileProgress::Ready(st.message),
        Health::Degraded => ReconcileProgress::Failed(st.message),
        _ => ReconcileProgress::Waiting(st.message),
    }
}

/// The group/kind pairs of the kinds an inventory names, for watching them.
pub fn inventory_kinds(obj: &Value) -> Vec<GroupKind> {
    let mut kinds: Vec<GroupKind> = inventory(obj)
        .into_iter()
        .map(|e| e.key.group_kind())
        .collect();
    kinds.sort();
    kinds.dedup();
    kinds
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ks(ready: &str, reason: &str) -> Value {
        json!({
            "apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
            "metadata": {"name": "apps", "namespace": "flux-system", "generation": 2,
                "annotations": {REQUESTED_AT: "t1"}},
            "spec": {"path": "./apps", "sourceRef": {"kind": "GitRepository", "name": "platform"},
                "dependsOn": [{"name": "infra"}]},
            "status": {"observedGeneration": 2, "lastHandledReconcileAt": "t1",
                "lastAppliedRevision": "main@sha1:0123456789abcdef0123456789abcdef01234567",
                "conditions": [{"type": "Ready", "status": ready, "reason": reason, "message": "Applied revision: main@sha1:0123"}],
                "inventory": {"entries": [
                    {"id": "apps_web_apps_Deployment", "v": "v1"},
                    {"id": "_apps__Namespace", "v": "v1"}
                ]}}
        })
    }

    #[test]
    fn reads_kstatus_and_revision() {
        let st = status(&ks("True", "ReconciliationSucceeded"));
        assert_eq!(st.health, Health::Healthy);
        assert_eq!(
            st.revision,
            "main@sha1:0123456789abcdef0123456789abcdef01234567"
        );
        assert_eq!(status(&ks("False", "BuildFailed")).health, Health::Degraded);
        let mut failed = ks("False", "ReconciliationFailed");
        failed["status"]["conditions"][0]["message"] =
            json!("Deployment/apps/web dry-run failed (Invalid): spec.selector: Required value\n");
        assert_eq!(
            status(&failed).message,
            "Deployment/apps/web dry-run failed (Invalid): spec.selector: Required value"
        );
        assert_eq!(
            status(&ks("False", "DependencyNotReady")).health,
            Health::Progressing
        );
        let mut old = ks("True", "ReconciliationSucceeded");
        old["metadata"]["generation"] = json!(3);
        assert_eq!(status(&old).health, Health::Progressing);
        let mut suspended = ks("True", "x");
        suspended["spec"]["suspend"] = json!(true);
        assert_eq!(status(&suspended).health, Health::Suspended);
        assert!(status(&suspended).suspended);
    }

    #[test]
    fn revisions_are_shortened_but_tags_kept() {
        assert_eq!(
            short_revision("main@sha1:0123456789abcdef0123456789abcdef01234567"),
            "main@0123456"
        );
        assert_eq!(short_revision("v0.25.0"), "v0.25.0");
        assert_eq!(short_revision("6.5.0"), "6.5.0");
        assert_eq!(
            short_revision("sha256:0123456789abcdef0123456789abcdef"),
            "0123456"
        );
    }

    #[test]
    fn parses_revisions_and_inventory() {
        assert_eq!(revision_commit("main@sha1:abc"), "abc");
        assert_eq!(revision_commit("latest@sha256:def"), "def");
        assert_eq!(revision_commit("sha256:def"), "def");
        assert_eq!(revision_commit("6.7.0"), "6.7.0");
        let inv = inventory(&ks("True", ""));
        assert_eq!(
            inv[0].key,
            ResourceKey::new("apps", "Deployment", "apps", "web")
        );
        assert_eq!(inv[1].key, ResourceKey::new("", "Namespace", "", "apps"));
        assert_eq!(inventory_id(&inv[0].key), "apps_web_apps_Deployment");
        assert!(parse_inventory_id("nonsense", "v1").is_none());
    }

    #[test]
    fn references_default_to_the_referrers_namespace() {
        let obj = ks("True", "");
        assert_eq!(
            source_of(&obj),
            Some(ResourceKey::new(
                SOURCE_GROUP,
                "GitRepository",
                "flux-system",
                "platform"
            ))
        );
        assert_eq!(
            depends_on(&obj),
            [ResourceKey::new(
                KUSTOMIZE_GROUP,
                "Kustomization",
                "flux-system",
                "infra"
            )]
        );
        let hr = json!({"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
            "metadata": {"name": "redis", "namespace": "cache"},
            "spec": {"chart": {"spec": {"chart": "redis", "sourceRef": {"kind": "HelmRepository",
                "name": "bitnami", "namespace": "flux-system"}}}}});
        assert_eq!(
            source_of(&hr),
            Some(ResourceKey::new(
                SOURCE_GROUP,
                "HelmChart",
                "flux-system",
                "cache-redis"
            ))
        );
    }

    #[test]
    fn snapshot_compares_applied_and_source_revisions() {
        let src = json!({"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository",
            "metadata": {"name": "platform", "namespace": "flux-system"},
            "spec": {"url": "https://example.com/platform.git", "ref": {"branch": "main"}},
            "status": {"artifact": {"revision": "main@sha1:0123456789abcdef0123456789abcdef01234567"}}});
        let none = |_: &ResourceKey| LiveState::Missing;
        let s = snapshot(
            &ks("True", "ReconciliationSucceeded"),
            "c",
            Some(&src),
            &none,
        );
        assert_eq!(s.managed_by, ManagedBy::Flux);
        assert_eq!(s.sync, SyncStatus::Synced);
        assert_eq!(
            s.revision.as_deref(),
            Some("0123456789abcdef0123456789abcdef01234567")
        );
        assert_eq!(s.target_revision, "main");
        assert_eq!(s.resources[0].health, Some(Health::Missing));
        let mut newer = src.clone();
        newer["status"]["artifact"]["revision"] = json!("main@sha1:ffff");
        let s = snapshot(&ks("True", ""), "c", Some(&newer), &none);
        assert_eq!(s.sync, SyncStatus::OutOfSync);
    }

    #[test]
    fn reconcile_progress_waits_for_the_token_then_ready() {
        let obj = ks("True", "ReconciliationSucceeded");
        assert!(matches!(
            reconcile_progress(&obj, "t1"),
            ReconcileProgress::Ready(_)
        ));
        assert!(matches!(
            reconcile_progress(&obj, "t2"),
            ReconcileProgress::Waiting(_)
        ));
        let failed = ks("False", "HealthCheckFailed");
        assert!(matches!(
            reconcile_progress(&failed, "t1"),
            ReconcileProgress::Failed(_)
        ));
    }
}
