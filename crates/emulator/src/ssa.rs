//! Server-side apply and managedFields bookkeeping, as a real API server does them.
//!
//! [`apply`] merges an applied configuration into the live object, removes the fields the
//! manager stopped applying (unless someone else owns them), detects conflicts with other
//! managers, and records ownership in `metadata.managedFields` (FieldsV1). [`record_update`]
//! records ownership for every other kind of write. Both are pure: the caller passes the
//! clock and does the storing.
//!
//! Left to the caller: the `resourceVersion` precondition (read it from the intent before
//! calling), uid/creationTimestamp/generation/resourceVersion assignment, and `dryRun`.
//! Not emulated: version conversion of field sets (an entry keeps the version it was
//! written in), the cap of 10 Update entries, and schema-driven list types for custom
//! resources (their lists are atomic).

use super::defaults::apply_defaults;
use super::fields_schema::ObjectSchema;
use super::fieldset::{FieldSet, path_string};
use super::ssa_managed::{self, ManagerEntry, Operation, describe_manager, strip_meta};
use super::ssa_walk;
use serde_json::{Map, Value, json};

/// The annotation kubectl's client-side apply keeps.
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// Metadata the server owns: an applied configuration never changes it.
const SERVER_METADATA: &[&str] = &[
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "selfLink",
];

/// One field that an apply would change while another manager owns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldConflict {
    /// The other manager's name.
    pub manager: String,
    /// The field in Kubernetes' notation, e.g. `.spec.replicas` or
    /// `.spec.template.spec.containers[name="web"].image`.
    pub field: String,
    /// Whether the other manager's entry is an `Apply` or an `Update` entry.
    pub operation: Operation,
    /// The API version of the other manager's entry.
    pub api_version: String,
    /// The subresource of the other manager's entry, if any.
    pub subresource: Option<String>,
}

impl FieldConflict {
    /// The manager as Kubernetes names it: `"name"` or `"name" using apps/v1`.
    pub fn describe_manager(&self) -> String {
        describe_manager(
            &self.manager,
            self.operation,
            &self.api_version,
            self.subresource.as_deref(),
        )
    }
}

/// Why an apply was refused.
#[derive(Debug, thiserror::Error)]
pub enum SsaError {
    /// Fields owned by other managers would change (HTTP 409 unless `force`).
    #[error("{}", conflict_message(.0))]
    Conflicts(Vec<FieldConflict>),
    /// The applied configuration cannot be merged (HTTP 422 or 400).
    #[error("{0}")]
    Invalid(String),
}

/// What [`apply`] needs.
pub struct ApplyParams<'a> {
    /// The stored object, `None` when the apply creates it.
    pub live: Option<&'a Value>,
    /// The applied configuration (the request body).
    pub intent: &'a Value,
    /// The `fieldManager` query parameter.
    pub manager: &'a str,
    /// The `force` query parameter.
    pub force: bool,
    /// The request's group/version, e.g. `apps/v1`.
    pub api_version: &'a str,
    /// The current time, RFC 3339 (`2024-05-01T10:00:00Z`).
    pub now: &'a str,
    /// `Some("status")` when applying to the status subresource.
    pub subresource: Option<&'a str>,
    /// Whether `.status` is an ordinary field of the main resource: so it is for custom
    /// resources whose CRD declares no status subresource.
    pub status_is_field: bool,
}

/// Kubernetes' message for apply conflicts:
/// `Apply failed with 1 conflict: conflict with "mgr": .spec.replicas`, or for several
/// `Apply failed with 2 conflicts: conflicts with "mgr":\n- .a\n- .b`.
pub fn conflict_message(conflicts: &[FieldConflict]) -> String {
    if let [only] = conflicts {
        return format!(
            "Apply failed with 1 conflict: conflict with {}: {}",
            only.describe_manager(),
            only.field
        );
    }
    let mut managers: Vec<String> = conflicts.iter().map(|c| c.describe_manager()).collect();
    managers.sort();
    managers.dedup();
    let mut lines = Vec::new();
    for manager in &managers {
        lines.push(format!("conflicts with {manager}:"));
        for c in conflicts
            .iter()
            .filter(|c| c.describe_manager() == *manager)
        {
            lines.push(format!("- {}", c.field));
        }
    }
    format!(
        "Apply failed with {} conflicts: {}",
        conflicts.len(),
        lines.join("\n")
    )
}

/// The 409 `Status` a real server returns for apply conflicts, with one
/// `FieldManagerConflict` cause per field (kubectl prints its `--force-conflicts` help
/// when it sees these).
pub fn conflict_status(conflicts: &[FieldConflict]) -> Value {
    let causes: Vec<Value> = conflicts
        .iter()
        .map(|c| {
            json!({
                "reason": "FieldManagerConflict",
                "message": format!("conflict with {}", c.describe_manager()),
                "field": c.field,
            })
        })
        .collect();
    json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": conflict_message(conflicts),
        "reason": "Conflict",
        "details": {"causes": causes},
        "code": 409,
    })
}

/// Merged object with metadata.managedFields updated; a no-op apply returns exactly `live`.
///
/// The result has the server's defaults filled in ([`apply_defaults`]). Without a
/// subresource, `.status` in the intent is ignored (unless `status_is_field`); with
/// `status`, only `.status` (and metadata) is applied. Server-owned metadata (uid,
/// resourceVersion, generation, creationTimestamp, deletionTimestamp) always comes from
/// `live`, and is dropped from the intent on create.
pub fn apply(p: ApplyParams<'_>) -> Result<Value, SsaError> {
    if !p.intent.is_object() {
        return Err(SsaError::Invalid(
            "the applied configuration must be a JSON object".into(),
        ));
    }
    if p.intent
        .pointer("/metadata/managedFields")
        .is_some_and(|m| !m.is_null())
    {
        return Err(SsaError::Invalid(
            "metadata.managedFields must be nil".into(),
        ));
    }
    if let (Some(live), Some(kind)) = (p.live, p.intent.get("kind").and_then(Value::as_str))
        && let Some(live_kind) = live.get("kind").and_then(Value::as_str)
        && live_kind != kind
    {
        return Err(SsaError::Invalid(format!(
            "the kind in the applied configuration ({kind}) does not match the object's kind ({live_kind})"
        )));
    }
    let schema_source = if p.intent.get("kind").is_some() {
        p.intent
    } else {
        p.live.unwrap_or(p.intent)
    };
    let schema = ObjectSchema::of(schema_source);

    let intent = effective_intent(p.intent, p.subresource, p.status_is_field);
    ssa_walk::validate(&schema, &intent).map_err(SsaError::Invalid)?;

    let live_obj = match p.live {
        Some(live) => without_managed_fields(live),
        None => json!({}),
    };
    let original = match p.live {
        Some(live) => ssa_managed::decode(live).unwrap_or_default(),
        None => Vec::new(),
    };
    let mut managers = original.clone();
    if p.live.is_some() && managers.is_empty() {
        // Objects written before anyone tracked ownership: a real server hands every
        // existing field to "before-first-apply" so the first applier meets them as owned.
        let changes = ssa_walk::compare(&schema, &zero_object(&schema), &live_obj);
        let mut set = changes.added.union(&changes.modified);
        strip_meta(&mut set);
        let mut entry =
            ManagerEntry::new("before-first-apply", Operation::Update, p.api_version, None);
        entry.set = set;
        entry.time = Some(p.now.to_string());
        managers.push(entry);
    }

    let self_index = managers
        .iter()
        .position(|e| e.is(p.manager, Operation::Apply, p.api_version, p.subresource));
    let last_set = self_index
        .map(|i| managers[i].set.clone())
        .unwrap_or_default();
    let intent_set = ssa_walk::to_field_set(&schema, &intent);

    let mut merged = ssa_walk::merge(&schema, &live_obj, &intent);
    keep_server_metadata(&mut merged, p.live.map(|_| &live_obj));
    if !last_set.is_empty() {
        let mut managed = intent_set.clone();
        for (i, entry) in managers.iter().enumerate() {
            if Some(i) != self_index {
                managed.extend(&entry.set);
            }
        }
        let to_remove = ssa_walk::ensure_named_fields(&schema, &last_set)
            .difference(&ssa_walk::ensure_named_fields(&schema, &managed));
        ssa_walk::remove_paths(&schema, &mut merged, &to_remove);
    }

    let changes = ssa_walk::compare(&schema, &live_obj, &merged);
    let changed = changes.added.union(&changes.modified);
    let mut conflicts_by_entry: Vec<(usize, FieldSet)> = Vec::new();
    for (i, entry) in managers.iter().enumerate() {
        if Some(i) == self_index {
            continue;
        }
        let overlap = entry.set.intersection(&changed);
        if !overlap.is_empty() {
            conflicts_by_entry.push((i, overlap));
        }
    }
    if !conflicts_by_entry.is_empty() && !p.force {
        let conflicts = describe_conflicts(&managers, &conflicts_by_entry);
        let allowed = if p.manager == "kubectl" {
            last_applied_fields(&schema, p.live)
        } else {
            None
        };
        let remaining: Vec<FieldConflict> = match &allowed {
            Some(allowed) => remaining_conflicts(&managers, &conflicts_by_entry, allowed),
            None => conflicts,
        };
        if !remaining.is_empty() {
            return Err(SsaError::Conflicts(remaining));
        }
    }
    for (i, overlap) in &conflicts_by_entry {
        managers[*i].set.subtract(overlap);
    }
    for (i, entry) in managers.iter_mut().enumerate() {
        if Some(i) != self_index {
            entry.set.subtract(&changes.removed);
        }
    }
    let mut own = intent_set;
    strip_meta(&mut own);
    match self_index {
        Some(i) => {
            managers[i].set = own;
            managers[i].api_version = p.api_version.to_string();
        }
        None => {
            let mut entry =
                ManagerEntry::new(p.manager, Operation::Apply, p.api_version, p.subresource);
            entry.set = own;
            managers.push(entry);
        }
    }
    managers.retain(|e| !e.set.is_empty());

    apply_defaults(schema.group, schema.kind, &mut merged);
    if p.manager == "kubectl" {
        update_last_applied(&mut merged, p.live, p.intent);
    }

    if let Some(live) = p.live
        && merged == live_obj
        && same_ownership(&original, &managers)
    {
        return Ok(live.clone());
    }
    if let Some(entry) = managers
        .iter_mut()
        .find(|e| e.is(p.manager, Operation::Apply, p.api_version, p.subresource))
    {
        entry.time = Some(p.now.to_string());
    }
    ssa_managed::encode(&mut merged, &managers);
    Ok(merged)
}

/// Records an `Update` operation by `manager` for fields that differ between old and new
/// (POST, PUT, merge/json/strategic PATCH); changed fields owned by others move to `manager`.
///
/// Call it after the server's defaults are applied to `new` (a real server records the
/// defaulted fields as the writer's). `old` is `None` on create. The managedFields of `new`
/// are honoured when the request set them (`[{}]` clears them), else those of `old` carry
/// over; writes to a subresource always start from `old`'s.
pub fn record_update(
    old: Option<&Value>,
    new: &mut Value,
    manager: &str,
    api_version: &str,
    now: &str,
    subresource: Option<&str>,
) {
    let mut managers = if subresource.is_none() && ssa_managed::is_reset_request(new) {
        Vec::new()
    } else {
        let from_new = if subresource.is_none() {
            ssa_managed::decode(new).ok().filter(|m| !m.is_empty())
        } else {
            None
        };
        from_new.unwrap_or_else(|| {
            old.and_then(|o| ssa_managed::decode(o).ok())
                .unwrap_or_default()
        })
    };
    let schema_source = if new.get("kind").is_some() {
        &*new
    } else {
        old.unwrap_or(new)
    };
    let schema = ObjectSchema::of(schema_source);
    let old_obj = match old {
        Some(o) => without_managed_fields(o),
        None => zero_object(&schema),
    };
    let new_obj = without_managed_fields(new);
    let changes = ssa_walk::compare(&schema, &old_obj, &new_obj);
    let changed = changes.added.union(&changes.modified);
    for entry in &mut managers {
        entry.set.subtract(&changed);
        entry.set.subtract(&changes.removed);
    }
    let mut current = changed;
    strip_meta(&mut current);
    if !current.is_empty() {
        let index = managers
            .iter()
            .position(|e| e.is(manager, Operation::Update, api_version, subresource));
        let entry = match index {
            Some(i) => &mut managers[i],
            None => {
                managers.push(ManagerEntry::new(
                    manager,
                    Operation::Update,
                    api_version,
                    subresource,
                ));
                let last = managers.len() - 1;
                &mut managers[last]
            }
        };
        entry.set.extend(&current);
        entry.time = Some(now.to_string());
    }
    ssa_managed::encode(new, &managers);
}

/// The intent as it takes part in the apply: `.status` is only applied through the status
/// subresource (where there is one), and the status subresource applies nothing but
/// `.status`.
fn effective_intent(intent: &Value, subresource: Option<&str>, status_is_field: bool) -> Value {
    let mut out = intent.clone();
    if let Value::Object(map) = &mut out {
        match subresource {
            None if status_is_field => {}
            None => {
                map.shift_remove("status");
            }
            Some("status") => {
                map.retain(|k, _| {
                    matches!(k.as_str(), "apiVersion" | "kind" | "metadata" | "status")
                });
            }
            Some(_) => {}
        }
    }
    out
}

fn without_managed_fields(obj: &Value) -> Value {
    let mut out = obj.clone();
    if let Some(Value::Object(meta)) = out.get_mut("metadata") {
        meta.shift_remove("managedFields");
    }
    out
}

/// Puts the server-owned metadata of `live` back (or drops it on create).
fn keep_server_metadata(merged: &mut Value, live: Option<&Value>) {
    let Some(Value::Object(meta)) = merged.get_mut("metadata") else {
        return;
    };
    let live_meta = live
        .and_then(|l| l.get("metadata"))
        .and_then(Value::as_object);
    for field in SERVER_METADATA {
        match live_meta.and_then(|m| m.get(*field)) {
            Some(v) => {
                meta.insert((*field).to_string(), v.clone());
            }
            None => {
                meta.shift_remove(*field);
            }
        }
    }
}

fn same_ownership(before: &[ManagerEntry], after: &[ManagerEntry]) -> bool {
    before.len() == after.len()
        && after
            .iter()
            .all(|a| before.iter().any(|b| b.same_ownership(a)))
}

fn describe_conflicts(
    managers: &[ManagerEntry],
    conflicts_by_entry: &[(usize, FieldSet)],
) -> Vec<FieldConflict> {
    let mut out = Vec::new();
    let mut order: Vec<&(usize, FieldSet)> = conflicts_by_entry.iter().collect();
    order.sort_by_key(|(i, _)| managers[*i].describe());
    for (i, set) in order {
        let entry = &managers[*i];
        for path in set.iter_members_first() {
            out.push(FieldConflict {
                manager: entry.manager.clone(),
                field: path_string(path),
                operation: entry.operation,
                api_version: entry.api_version.clone(),
                subresource: entry.subresource.clone(),
            });
        }
    }
    out
}

fn remaining_conflicts(
    managers: &[ManagerEntry],
    conflicts_by_entry: &[(usize, FieldSet)],
    allowed: &FieldSet,
) -> Vec<FieldConflict> {
    let rest: Vec<(usize, FieldSet)> = conflicts_by_entry
        .iter()
        .map(|(i, set)| (*i, set.difference(allowed)))
        .filter(|(_, set)| !set.is_empty())
        .collect();
    describe_conflicts(managers, &rest)
}

/// The fields of the live object's client-side-apply annotation: kubectl moving from
/// client-side to server-side apply may take these over without `--force-conflicts`.
fn last_applied_fields(schema: &ObjectSchema<'_>, live: Option<&Value>) -> Option<FieldSet> {
    let text = live?
        .pointer("/metadata/annotations")?
        .get(LAST_APPLIED)?
        .as_str()?;
    let parsed: Value = serde_json::from_str(text).ok()?;
    Some(ssa_walk::to_field_set(schema, &parsed))
}

/// Keeps an existing client-side-apply annotation in step with what `kubectl` applies
/// server-side, as a real server does.
fn update_last_applied(merged: &mut Value, live: Option<&Value>, intent: &Value) {
    let has_annotation = live
        .and_then(|l| l.pointer("/metadata/annotations"))
        .and_then(|a| a.get(LAST_APPLIED))
        .is_some();
    if !has_annotation {
        return;
    }
    let mut applied = intent.clone();
    if let Some(Value::Object(annotations)) = applied.pointer_mut("/metadata/annotations") {
        annotations.shift_remove(LAST_APPLIED);
    }
    let text = format!("{}\n", sorted_json(&applied));
    if let Some(Value::Object(annotations)) = merged.pointer_mut("/metadata/annotations") {
        annotations.insert(LAST_APPLIED.to_string(), Value::String(text));
    }
}

/// JSON with object keys sorted, as Go's encoder writes maps.
fn sorted_json(value: &Value) -> String {
    fn sort(value: &Value) -> Value {
        match value {
            Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                let mut out = Map::new();
                for k in keys {
                    out.insert(k.clone(), sort(&map[k]));
                }
                Value::Object(out)
            }
            Value::Array(items) => Value::Array(items.iter().map(sort).collect()),
            other => other.clone(),
        }
    }
    sort(value).to_string()
}

/// The JSON of an empty typed object of this kind as the Go API types serialise it:
/// non-pointer structs are present as `{}`. Creates are compared against it, so a new
/// writer's FieldsV1 marks the same containers with `.` as a real server does.
fn zero_object(schema: &ObjectSchema<'_>) -> Value {
    if !schema.is_builtin() {
        return json!({});
    }
    let pod_template = json!({"metadata": {}, "spec": {"containers": null}});
    match (schema.group, schema.kind) {
        ("apps", "Deployment") => json!({"metadata": {},
            "spec": {"template": pod_template, "strategy": {}}, "status": {}}),
        ("apps", "StatefulSet" | "DaemonSet") => json!({"metadata": {},
            "spec": {"template": pod_template, "updateStrategy": {}}, "status": {}}),
        ("apps", "ReplicaSet") | ("batch", "Job") => {
            json!({"metadata": {}, "spec": {"template": pod_template}, "status": {}})
        }
        ("batch", "CronJob") => json!({"metadata": {},
            "spec": {"jobTemplate": {"metadata": {}, "spec": {"template": pod_template}}},
            "status": {}}),
        ("", "Pod") => json!({"metadata": {}, "spec": {"containers": null}, "status": {}}),
        ("", "Service") | ("networking.k8s.io", "Ingress") => {
            json!({"metadata": {}, "spec": {}, "status": {"loadBalancer": {}}})
        }
        ("", "PersistentVolumeClaim") => {
            json!({"metadata": {}, "spec": {"resources": {}}, "status": {}})
        }
        ("apiextensions.k8s.io", "CustomResourceDefinition") => json!({"metadata": {},
            "spec": {"names": {}}, "status": {"acceptedNames": {}}}),
        ("rbac.authorization.k8s.io", "RoleBinding" | "ClusterRoleBinding") => {
            json!({"metadata": {}, "roleRef": {}})
        }
        ("", "Namespace" | "Node")
        | ("autoscaling", "HorizontalPodAutoscaler")
        | ("policy", "PodDisruptionBudget") => json!({"metadata": {}, "spec": {}, "status": {}}),
        _ => json!({"metadata": {}}),
    }
}

#[cfg(test)]
#[path = "ssa_tests.rs"]
mod tests;
