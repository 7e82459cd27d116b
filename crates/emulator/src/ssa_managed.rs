//! `metadata.managedFields`: reading the entries of a live object and writing them back in
//! the order and shape a real API server uses.

use super::fieldset::{FieldSet, field_path};
use serde_json::{Map, Value, json};

/// The operation a managedFields entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Operation {
    /// Server-side apply.
    Apply,
    /// Any other write (POST, PUT, merge/json/strategic PATCH).
    Update,
}

impl Operation {
    /// The wire word (`Apply` or `Update`).
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Apply => "Apply",
            Operation::Update => "Update",
        }
    }
}

/// One managedFields entry: a manager and the fields it owns.
#[derive(Debug, Clone)]
pub struct ManagerEntry {
    /// The field manager's name.
    pub manager: String,
    /// Apply or Update.
    pub operation: Operation,
    /// The API version the fields are expressed in.
    pub api_version: String,
    /// RFC 3339 time of the manager's last change, when known.
    pub time: Option<String>,
    /// The subresource written (`status`), if any.
    pub subresource: Option<String>,
    /// The owned fields.
    pub set: FieldSet,
    /// The entry as read, with what it said, so unchanged entries are written back verbatim.
    original: Option<(Value, FieldSet, String, Option<String>)>,
}

impl ManagerEntry {
    /// A new entry that was not read from an object.
    pub fn new(
        manager: &str,
        operation: Operation,
        api_version: &str,
        subresource: Option<&str>,
    ) -> Self {
        Self {
            manager: manager.to_string(),
            operation,
            api_version: api_version.to_string(),
            time: None,
            subresource: subresource.map(str::to_string),
            set: FieldSet::new(),
            original: None,
        }
    }

    /// Whether this entry is the one for (manager, operation, subresource) — and for Update
    /// entries also the API version, as Kubernetes keys them.
    pub fn is(
        &self,
        manager: &str,
        operation: Operation,
        api_version: &str,
        subresource: Option<&str>,
    ) -> bool {
        self.manager == manager
            && self.operation == operation
            && self.subresource.as_deref() == subresource
            && (operation == Operation::Apply || self.api_version == api_version)
    }

    /// The manager as Kubernetes names it in conflict messages:
    /// `"name"`, `"name" with subresource "status"`, `"name" using apps/v1`.
    pub fn describe(&self) -> String {
        describe_manager(
            &self.manager,
            self.operation,
            &self.api_version,
            self.subresource.as_deref(),
        )
    }

    fn to_json(&self) -> Value {
        if let Some((raw, set, api_version, time)) = &self.original
            && *set == self.set
            && *api_version == self.api_version
            && *time == self.time
        {
            return raw.clone();
        }
        let mut map = Map::new();
        if !self.manager.is_empty() {
            map.insert("manager".into(), json!(self.manager));
        }
        map.insert("operation".into(), json!(self.operation.as_str()));
        if !self.api_version.is_empty() {
            map.insert("apiVersion".into(), json!(self.api_version));
        }
        if let Some(time) = &self.time {
            map.insert("time".into(), json!(time));
        }
        map.insert("fieldsType".into(), json!("FieldsV1"));
        map.insert("fieldsV1".into(), self.set.to_fields_v1());
        if let Some(sub) = &self.subresource {
            map.insert("subresource".into(), json!(sub));
        }
        Value::Object(map)
    }

    /// Whether two entries say the same thing, apart from their time.
    pub fn same_ownership(&self, other: &ManagerEntry) -> bool {
        self.manager == other.manager
            && self.operation == other.operation
            && self.api_version == other.api_version
            && self.subresource == other.subresource
            && self.set == other.set
    }
}

/// Kubernetes' rendering of a manager identity in conflict messages.
pub fn describe_manager(
    manager: &str,
    operation: Operation,
    api_version: &str,
    subresource: Option<&str>,
) -> String {
    let mut out = json!(manager).to_string();
    if let Some(sub) = subresource {
        out.push_str(&format!(" with subresource {}", json!(sub)));
    }
    if operation == Operation::Update {
        out.push_str(&format!(" using {api_version}"));
    }
    out
}

/// Reads `metadata.managedFields`; an absent or empty list gives no entries.
pub fn decode(obj: &Value) -> Result<Vec<ManagerEntry>, String> {
    let Some(raw) = obj.pointer("/metadata/managedFields") else {
        return Ok(Vec::new());
    };
    let entries = match raw {
        Value::Null => return Ok(Vec::new()),
        Value::Array(items) => items,
        _ => return Err("metadata.managedFields is not a list".to_string()),
    };
    let mut out: Vec<ManagerEntry> = Vec::with_capacity(entries.len());
    for (i, entry) in entries.iter().enumerate() {
        let text = |name: &str| entry.get(name).and_then(Value::as_str);
        let operation = match text("operation") {
            Some("Apply") => Operation::Apply,
            Some("Update") => Operation::Update,
            other => {
                return Err(format!(
                    "metadata.managedFields[{i}].operation: unsupported value {other:?}"
                ));
            }
        };
        match text("fieldsType") {
            Some("FieldsV1") | None => {}
            Some(other) => {
                return Err(format!(
                    "metadata.managedFields[{i}].fieldsType: unsupported value {other:?}"
                ));
            }
        }
        let set = match entry.get("fieldsV1") {
            None | Some(Value::Null) => FieldSet::new(),
            Some(v) => FieldSet::from_fields_v1(v)
                .map_err(|e| format!("metadata.managedFields[{i}].fieldsV1: {e}"))?,
        };
        let manager = text("manager").unwrap_or("").to_string();
        let api_version = text("apiVersion").unwrap_or("").to_string();
        let subresource = text("subresource")
            .filter(|s| !s.is_empty())
            .map(str::to_string);
        let time = text("time").map(str::to_string);
        if out
            .iter()
            .any(|e| e.is(&manager, operation, &api_version, subresource.as_deref()))
        {
            return Err(format!(
                "metadata.managedFields[{i}]: duplicate entry for manager {manager:?}"
            ));
        }
        out.push(ManagerEntry {
            original: Some((
                entry.clone(),
                set.clone(),
                api_version.clone(),
                time.clone(),
            )),
            manager,
            operation,
            api_version,
            time,
            subresource,
            set,
        });
    }
    Ok(out)
}

/// Whether a request asks to clear managedFields (`managedFields: [{}]`).
pub fn is_reset_request(obj: &Value) -> bool {
    matches!(
        obj.pointer("/metadata/managedFields"),
        Some(Value::Array(items)) if items.len() == 1 && items[0].as_object().is_some_and(Map::is_empty)
    )
}

/// Writes the entries into `obj.metadata.managedFields` in Kubernetes' order (operation,
/// time, manager, apiVersion, subresource); entries that own nothing are dropped, and the
/// field is removed when no entry is left.
pub fn encode(obj: &mut Value, entries: &[ManagerEntry]) {
    let mut kept: Vec<&ManagerEntry> = entries.iter().filter(|e| !e.set.is_empty()).collect();
    kept.sort_by(|a, b| {
        a.operation
            .cmp(&b.operation)
            .then_with(|| seconds(a.time.as_deref()).cmp(&seconds(b.time.as_deref())))
            .then_with(|| a.manager.cmp(&b.manager))
            .then_with(|| a.api_version.cmp(&b.api_version))
            .then_with(|| a.subresource.cmp(&b.subresource))
    });
    let Some(obj_map) = obj.as_object_mut() else {
        return;
    };
    if kept.is_empty() {
        if let Some(Value::Object(meta)) = obj_map.get_mut("metadata") {
            meta.shift_remove("managedFields");
        }
        return;
    }
    let meta = obj_map
        .entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()));
    if !meta.is_object() {
        *meta = Value::Object(Map::new());
    }
    if let Value::Object(meta) = meta {
        meta.insert(
            "managedFields".into(),
            Value::Array(kept.iter().map(|e| e.to_json()).collect()),
        );
    }
}

fn seconds(time: Option<&str>) -> i64 {
    time.and_then(|t| t.parse::<jiff::Timestamp>().ok())
        .map(|t| t.as_second())
        .unwrap_or(0)
}

/// The paths a real server never records as owned (identity and server-set metadata).
pub fn strip_meta(set: &mut FieldSet) {
    const STRIPPED: &[&[&str]] = &[
        &["apiVersion"],
        &["kind"],
        &["metadata"],
        &["metadata", "name"],
        &["metadata", "namespace"],
        &["metadata", "creationTimestamp"],
        &["metadata", "selfLink"],
        &["metadata", "uid"],
        &["metadata", "clusterName"],
        &["metadata", "generation"],
        &["metadata", "managedFields"],
        &["metadata", "resourceVersion"],
    ];
    for path in STRIPPED {
        set.remove(&field_path(path));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_and_sort_like_kubernetes() {
        let obj = json!({"metadata": {"managedFields": [
            {"manager": "b", "operation": "Update", "apiVersion": "v1",
             "time": "2024-01-01T00:00:00Z", "fieldsType": "FieldsV1",
             "fieldsV1": {"f:data": {"f:x": {}}}},
            {"manager": "a", "operation": "Apply", "apiVersion": "v1",
             "time": "2024-02-01T00:00:00Z", "fieldsType": "FieldsV1",
             "fieldsV1": {"f:data": {"f:y": {}}}}
        ]}});
        let entries = decode(&obj).unwrap();
        assert_eq!(entries.len(), 2);
        let mut out = json!({"metadata": {}});
        encode(&mut out, &entries);
        let list = out.pointer("/metadata/managedFields").unwrap();
        assert_eq!(list[0]["manager"], "a");
        assert_eq!(list[1], obj["metadata"]["managedFields"][0]);
        assert_eq!(entries[0].describe(), "\"b\" using v1");
    }

    #[test]
    fn rejects_bad_entries_and_spots_resets() {
        assert!(decode(&json!({"metadata": {"managedFields": [{"operation": "Merge"}]}})).is_err());
        assert!(decode(&json!({"metadata": {"managedFields": {}}})).is_err());
        let dup = json!({"metadata": {"managedFields": [
            {"manager": "a", "operation": "Apply"}, {"manager": "a", "operation": "Apply"}]}});
        assert!(decode(&dup).is_err());
        assert!(is_reset_request(
            &json!({"metadata": {"managedFields": [{}]}})
        ));
        assert!(!is_reset_request(
            &json!({"metadata": {"managedFields": []}})
        ));
    }

    #[test]
    fn describes_subresource_managers() {
        assert_eq!(
            describe_manager("ctl", Operation::Apply, "v1", Some("status")),
            "\"ctl\" with subresource \"status\""
        );
    }
}
