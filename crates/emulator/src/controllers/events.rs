//! core/v1 Event objects as client-go's event recorder writes them, with repeats of the same
//! (object, reason, message) folded into one Event whose `count` rises.

use serde_json::{Value, json};

use super::EventSpec;
use crate::clock::SimTime;

/// What makes two events "the same" for folding: object, reason, message, type, source.
pub type EventKey = (String, String, String, String, &'static str, String);

/// The folding key of an event.
pub fn event_key(spec: &EventSpec) -> EventKey {
    let who = if spec.involved.uid.is_empty() {
        format!(
            "{}/{}/{}/{}",
            spec.involved.kind,
            spec.involved.namespace,
            spec.involved.name,
            spec.involved.api_version
        )
    } else {
        spec.involved.uid.clone()
    };
    (
        who,
        spec.involved.field_path.clone().unwrap_or_default(),
        spec.reason.clone(),
        spec.message.clone(),
        spec.component,
        spec.event_type.as_str().to_string(),
    )
}

/// The namespace an Event about this object lives in (`default` for cluster-scoped objects).
pub fn event_namespace(spec: &EventSpec) -> &str {
    if spec.involved.namespace.is_empty() {
        "default"
    } else {
        &spec.involved.namespace
    }
}

/// The Event to write: `existing` with its count raised and lastTimestamp moved to `now` (a
/// calendar instant), or a new Event named `<object>.<hex>` (the hex made from `now` and `id`).
pub fn event_object(spec: &EventSpec, existing: Option<&Value>, now: SimTime, id: u64) -> Value {
    let ts = now.rfc3339();
    if let Some(old) = existing {
        let mut e = old.clone();
        let count = old.get("count").and_then(Value::as_i64).unwrap_or(1);
        e["count"] = json!(count + 1);
        e["lastTimestamp"] = json!(ts);
        return e;
    }
    let nanos = u64::try_from(now.unix_millis())
        .unwrap_or(0)
        .saturating_mul(1_000_000)
        .wrapping_add(id);
    let inv = &spec.involved;
    let mut involved = json!({
        "apiVersion": inv.api_version,
        "kind": inv.kind,
        "name": inv.name,
    });
    if !inv.namespace.is_empty() {
        involved["namespace"] = json!(inv.namespace);
    }
    if !inv.uid.is_empty() {
        involved["uid"] = json!(inv.uid);
    }
    if !inv.resource_version.is_empty() {
        involved["resourceVersion"] = json!(inv.resource_version);
    }
    if let Some(fp) = &inv.field_path {
        involved["fieldPath"] = json!(fp);
    }
    let mut source = json!({"component": spec.component});
    if let Some(h) = &spec.host {
        source["host"] = json!(h);
    }
    json!({
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {
            "name": format!("{}.{:x}", inv.name, nanos),
            "namespace": event_namespace(spec),
        },
        "involvedObject": involved,
        "reason": spec.reason,
        "message": spec.message,
        "type": spec.event_type.as_str(),
        "count": 1,
        "firstTimestamp": ts,
        "lastTimestamp": ts,
        "eventTime": null,
        "source": source,
        "reportingComponent": spec.component,
        "reportingInstance": spec.host.clone().unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::super::EventType;
    use super::*;

    #[test]
    fn new_event_and_repeat() {
        let pod = json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "web-1", "namespace": "shop", "uid": "u1", "resourceVersion": "7"}});
        let mut spec = EventSpec::new(&pod, "kubelet", EventType::Warning, "BackOff", "Back-off");
        spec.host = Some("node-1".into());
        let t = SimTime::from_unix_secs(1_714_557_600);
        let e = event_object(&spec, None, t, 3);
        assert!(
            e["metadata"]["name"]
                .as_str()
                .unwrap()
                .starts_with("web-1.")
        );
        assert_eq!(e["metadata"]["namespace"], "shop");
        assert_eq!(e["involvedObject"]["uid"], "u1");
        assert_eq!(e["involvedObject"]["resourceVersion"], "7");
        assert_eq!(e["type"], "Warning");
        assert_eq!(e["count"], 1);
        assert_eq!(
            e["source"],
            json!({"component": "kubelet", "host": "node-1"})
        );
        assert_eq!(e["reportingComponent"], "kubelet");
        assert_ne!(
            e["metadata"]["name"],
            event_object(&spec, None, t, 4)["metadata"]["name"]
        );
        let later = SimTime::from_unix_secs(1_714_557_660);
        let again = event_object(&spec, Some(&e), later, 5);
        assert_eq!(again["count"], 2);
        assert_eq!(again["firstTimestamp"], e["firstTimestamp"]);
        assert_eq!(again["lastTimestamp"], later.rfc3339());
        assert_eq!(again["metadata"]["name"], e["metadata"]["name"]);

        let node = json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "node-1"}});
        let ns_spec = EventSpec::new(&node, "kubelet", EventType::Normal, "Starting", "x");
        assert_eq!(event_namespace(&ns_spec), "default");
        assert_ne!(event_key(&spec), event_key(&ns_spec));
    }
}
