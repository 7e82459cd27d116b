//! STAND-IN for emu-ssa's server-side apply (replaced at merge): a merge patch of the intent
//! into the live object, recording one trivial managedFields entry per manager.

use serde_json::{Value, json};

/// A field another manager owns with a different value.
#[derive(Debug, Clone)]
pub struct FieldConflict {
    /// The manager that owns the field.
    pub manager: String,
    /// The field, like `.spec.replicas`.
    pub field: String,
}

/// Why an apply was refused.
#[derive(Debug, thiserror::Error)]
pub enum SsaError {
    /// Fields owned by other managers (409 unless forced).
    #[allow(dead_code)]
    #[error("{} conflict(s)", .0.len())]
    Conflicts(Vec<FieldConflict>),
    /// The intent is malformed.
    #[error("{0}")]
    Invalid(String),
}

/// Inputs of one server-side apply.
pub struct ApplyParams<'a> {
    /// The live object, if any.
    pub live: Option<&'a Value>,
    /// The applied configuration.
    pub intent: &'a Value,
    /// The field manager.
    pub manager: &'a str,
    /// Take ownership of conflicting fields.
    pub force: bool,
    /// apiVersion of the request.
    pub api_version: &'a str,
    /// Timestamp for managedFields.
    pub now: &'a str,
    /// `status` when applying to the status subresource.
    pub subresource: Option<&'a str>,
}

/// Merged object with metadata.managedFields updated; a no-op apply returns exactly `live`.
pub fn apply(p: ApplyParams<'_>) -> Result<Value, SsaError> {
    if !p.intent.is_object() {
        return Err(SsaError::Invalid("apply intent is not an object".into()));
    }
    // The stand-in knows no ownership: there is nothing to conflict on, so `force` is moot.
    let _ = p.force;
    let mut intent = p.intent.clone();
    if let Some(meta) = intent.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("managedFields");
    }
    let mut merged = p.live.cloned().unwrap_or_else(|| json!({}));
    json_patch::merge(&mut merged, &intent);
    if Some(&merged) == p.live {
        return Ok(merged);
    }
    set_entry(
        &mut merged,
        p.manager,
        "Apply",
        p.api_version,
        p.now,
        p.subresource,
    );
    Ok(merged)
}

/// Records an `Update` operation by `manager` for fields that differ between old and new.
pub fn record_update(
    old: Option<&Value>,
    new: &mut Value,
    manager: &str,
    api_version: &str,
    now: &str,
    subresource: Option<&str>,
) {
    if old == Some(&*new) {
        return;
    }
    set_entry(new, manager, "Update", api_version, now, subresource);
}

fn set_entry(
    obj: &mut Value,
    manager: &str,
    operation: &str,
    api_version: &str,
    now: &str,
    subresource: Option<&str>,
) {
    let Some(root) = obj.as_object_mut() else {
        return;
    };
    let meta = root.entry("metadata").or_insert_with(|| json!({}));
    let Some(meta) = meta.as_object_mut() else {
        return;
    };
    let fields = meta.entry("managedFields").or_insert_with(|| json!([]));
    let Some(list) = fields.as_array_mut() else {
        return;
    };
    list.retain(|e| {
        e.get("manager").and_then(Value::as_str) != Some(manager)
            || e.get("operation").and_then(Value::as_str) != Some(operation)
            || e.get("subresource").and_then(Value::as_str) != subresource
    });
    let mut entry = json!({"manager": manager, "operation": operation,
        "apiVersion": api_version, "time": now, "fieldsType": "FieldsV1", "fieldsV1": {}});
    if let Some(sub) = subresource {
        entry["subresource"] = json!(sub);
    }
    list.push(entry);
}
