//! Small readers and builders over JSON objects shared by the controllers: metadata,
//! ownerReferences, label selectors, conditions, pod states.

use serde_json::{Map, Value, json};

use crate::clock::{Calendar, SimDuration, SimTime};
use crate::key::{ResourceKey, split_api_version};

pub use crate::value::{at, str_at};

/// The integer at `path`, if it is one.
pub fn i64_at(obj: &Value, path: &[&str]) -> Option<i64> {
    at(obj, path).and_then(Value::as_i64)
}

/// The boolean at `path`, or `false`.
pub fn bool_at(obj: &Value, path: &[&str]) -> bool {
    at(obj, path).and_then(Value::as_bool).unwrap_or(false)
}

/// The array at `path`, or an empty slice.
pub fn array_at<'v>(obj: &'v Value, path: &[&str]) -> &'v [Value] {
    at(obj, path)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// A count such as `spec.replicas`: `default` when absent, clamped to the API's int32 range.
pub fn count_at(obj: &Value, path: &[&str], default: i64) -> i64 {
    i64_at(obj, path)
        .unwrap_or(default)
        .clamp(0, i64::from(i32::MAX))
}

/// Sets `value` at `path`, replacing whatever non-object stands in the way, so a malformed
/// object cannot make a controller panic (as `obj["a"]["b"] = …` would).
pub fn set_path(obj: &mut Value, path: &[&str], value: Value) {
    let Some((last, parents)) = path.split_last() else {
        *obj = value;
        return;
    };
    let mut cur = obj;
    for step in parents {
        if !cur.is_object() {
            *cur = Value::Object(Map::new());
        }
        let Value::Object(m) = cur else { return };
        cur = m.entry(step.to_string()).or_insert(Value::Null);
    }
    if !cur.is_object() {
        *cur = Value::Object(Map::new());
    }
    if let Value::Object(m) = cur {
        m.insert(last.to_string(), value);
    }
}

/// Most creations or deletions one reconcile makes (Kubernetes' burst limit); the changes
/// they cause bring the controller back for the rest.
pub const BURST: usize = 500;

/// `metadata.name`.
pub fn name(obj: &Value) -> &str {
    str_at(obj, &["metadata", "name"])
}

/// `metadata.namespace` (`""` for cluster-scoped objects).
pub fn namespace(obj: &Value) -> &str {
    str_at(obj, &["metadata", "namespace"])
}

/// `metadata.uid`.
pub fn uid(obj: &Value) -> &str {
    str_at(obj, &["metadata", "uid"])
}

/// `metadata.generation` (0 when absent).
pub fn generation(obj: &Value) -> i64 {
    i64_at(obj, &["metadata", "generation"]).unwrap_or(0)
}

/// `metadata.labels` (empty when absent).
pub fn labels(obj: &Value) -> Map<String, Value> {
    at(obj, &["metadata", "labels"])
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}

/// One annotation, or `""`.
pub fn annotation<'v>(obj: &'v Value, key: &str) -> &'v str {
    at(obj, &["metadata", "annotations", key])
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// Whether the object is being deleted (`metadata.deletionTimestamp` is set).
pub fn is_terminating(obj: &Value) -> bool {
    at(obj, &["metadata", "deletionTimestamp"]).is_some_and(|v| !v.is_null())
}

/// `metadata.creationTimestamp` as a simulated instant.
pub fn creation_time(obj: &Value, calendar: Calendar) -> Option<SimTime> {
    calendar.parse(str_at(obj, &["metadata", "creationTimestamp"]))
}

/// The identity of `obj` (a placeholder key if it has no kind or name, which the store
/// never hands out).
pub fn key_of(obj: &Value) -> ResourceKey {
    ResourceKey::of(obj).unwrap_or_else(|| ResourceKey::new("", "", "", ""))
}

/// The controller ownerReference of `obj`, as the key of the owner in `obj`'s namespace.
pub fn controller_key(obj: &Value) -> Option<(ResourceKey, String)> {
    array_at(obj, &["metadata", "ownerReferences"])
        .iter()
        .find(|r| r.get("controller").and_then(Value::as_bool) == Some(true))
        .map(|r| {
            let (group, _) = split_api_version(str_at(r, &["apiVersion"]));
            (
                ResourceKey::new(
                    group,
                    str_at(r, &["kind"]),
                    namespace(obj),
                    str_at(r, &["name"]),
                ),
                str_at(r, &["uid"]).to_string(),
            )
        })
}

/// Whether `obj`'s controller ownerReference points at `owner_uid`.
pub fn is_controlled_by(obj: &Value, owner_uid: &str) -> bool {
    array_at(obj, &["metadata", "ownerReferences"])
        .iter()
        .any(|r| {
            r.get("controller").and_then(Value::as_bool) == Some(true)
                && str_at(r, &["uid"]) == owner_uid
        })
}

/// A controller ownerReference pointing at `owner`.
pub fn controller_ref(owner: &Value) -> Value {
    json!({
        "apiVersion": str_at(owner, &["apiVersion"]),
        "kind": str_at(owner, &["kind"]),
        "name": name(owner),
        "uid": uid(owner),
        "controller": true,
        "blockOwnerDeletion": true,
    })
}

/// Whether a `LabelSelector` (`matchLabels` and `matchExpressions`) selects `labels`.
/// An empty selector selects everything, as in Kubernetes.
pub fn selector_matches(selector: &Value, labels: &Map<String, Value>) -> bool {
    if let Some(ml) = selector.get("matchLabels").and_then(Value::as_object)
        && !map_selects(ml, labels)
    {
        return false;
    }
    for expr in array_at(selector, &["matchExpressions"]) {
        let key = str_at(expr, &["key"]);
        let values: Vec<&str> = array_at(expr, &["values"])
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let have = labels.get(key).and_then(Value::as_str);
        let ok = match str_at(expr, &["operator"]) {
            "In" => have.is_some_and(|v| values.contains(&v)),
            "NotIn" => have.is_none_or(|v| !values.contains(&v)),
            "Exists" => have.is_some(),
            "DoesNotExist" => have.is_none(),
            // An operator the API would have rejected selects nothing.
            _ => false,
        };
        if !ok {
            return false;
        }
    }
    true
}

/// Whether every `key: value` of a plain map selector (a Service's) is among `labels`.
pub fn map_selects(selector: &Map<String, Value>, labels: &Map<String, Value>) -> bool {
    selector.iter().all(|(k, v)| labels.get(k) == Some(v))
}

/// Resolves an int-or-percent field (`maxSurge: 25%`) against `total`, rounding percentages
/// up or down as the Kubernetes helper does.
pub fn int_or_percent(value: Option<&Value>, default: &str, total: i64, round_up: bool) -> i64 {
    let resolve = |s: &str| -> Option<i64> {
        let pct: i64 = s.strip_suffix('%')?.trim().parse().ok()?;
        let scaled = total.saturating_mul(pct);
        Some(if round_up {
            (scaled + 99).div_euclid(100)
        } else {
            scaled.div_euclid(100)
        })
    };
    match value {
        Some(Value::Number(n)) => n.as_i64().unwrap_or(0),
        Some(Value::String(s)) => resolve(s).unwrap_or(0),
        _ => resolve(default).unwrap_or(0),
    }
    .max(0)
}

/// Inserts or replaces the condition of the same `type`, keeping `lastTransitionTime` when
/// the status did not change (so repeated reconciles write nothing new).
pub fn upsert_condition(conditions: &mut Vec<Value>, mut cond: Map<String, Value>, now: &str) {
    let ctype = cond.get("type").cloned().unwrap_or(Value::Null);
    let existing = conditions
        .iter()
        .position(|c| c.get("type") == Some(&ctype));
    let transition = match existing {
        Some(i) if conditions[i].get("status") == cond.get("status") => conditions[i]
            .get("lastTransitionTime")
            .cloned()
            .unwrap_or_else(|| json!(now)),
        _ => json!(now),
    };
    cond.insert("lastTransitionTime".into(), transition);
    match existing {
        Some(i) => conditions[i] = Value::Object(cond),
        None => conditions.push(Value::Object(cond)),
    }
}

/// The condition of `ctype` in a status's `conditions`.
pub fn condition<'v>(obj: &'v Value, ctype: &str) -> Option<&'v Value> {
    array_at(obj, &["status", "conditions"])
        .iter()
        .find(|c| str_at(c, &["type"]) == ctype)
}

/// Whether the condition `ctype` has status `True`.
pub fn condition_true(obj: &Value, ctype: &str) -> bool {
    condition(obj, ctype).is_some_and(|c| str_at(c, &["status"]) == "True")
}

/// JSON equality that treats a `null` member as absent, so a store that drops nulls does
/// not make a controller rewrite the same status forever.
pub fn same_json(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let present = |m: &Map<String, Value>| m.iter().filter(|(_, v)| !v.is_null()).count();
            present(x) == present(y)
                && x.iter()
                    .filter(|(_, v)| !v.is_null())
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_json(v, w)))
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(v, w)| same_json(v, w))
        }
        _ => a == b,
    }
}

/// Whether the object's current `.status` already equals `status`.
pub fn status_is(obj: &Value, status: &Value) -> bool {
    same_json(obj.get("status").unwrap_or(&Value::Null), status)
}

/// `obj` with `.status` replaced, ready for an `UpdateStatus` effect.
pub fn with_status(obj: &Value, status: Value) -> Value {
    let mut out = obj.clone();
    if let Some(m) = out.as_object_mut() {
        m.insert("status".into(), status);
    }
    out
}

/// Inserts `value` under `key` only when it is not zero, mimicking Go's `omitempty` on
/// integer status fields.
pub fn put_nonzero(m: &mut Map<String, Value>, key: &str, value: i64) {
    if value != 0 {
        m.insert(key.into(), json!(value));
    }
}

const SUFFIX_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// Five characters from the API server's `generateName` alphabet, spread from `id` so
/// consecutive ids do not give look-alike names.
pub fn name_suffix(id: u64) -> String {
    let mut x = splitmix(id);
    let mut out = String::with_capacity(5);
    for _ in 0..5 {
        let i = (x % SUFFIX_ALPHABET.len() as u64) as usize;
        out.push(char::from(SUFFIX_ALPHABET[i]));
        x /= SUFFIX_ALPHABET.len() as u64;
    }
    out
}

/// A well-mixed 64-bit value from `x` (splitmix64), for generated ids and hex strings.
pub fn splitmix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A lowercase hex string of `len` digits derived from `seed` (container ids, image digests).
pub fn hex_from(seed: &str, len: usize) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in seed.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    let mut out = String::with_capacity(len + 16);
    let mut i = 0u64;
    while out.len() < len {
        out.push_str(&format!("{:016x}", splitmix(h ^ i)));
        i += 1;
    }
    out.truncate(len);
    out
}

/// `phase` of a Pod (`""` before a kubelet has written one).
pub fn pod_phase(pod: &Value) -> &str {
    str_at(pod, &["status", "phase"])
}

/// Whether a Pod has finished for good (Succeeded or Failed).
pub fn pod_is_terminal(pod: &Value) -> bool {
    matches!(pod_phase(pod), "Succeeded" | "Failed")
}

/// Whether a Pod counts toward its controller's replicas: not finished, not being deleted.
pub fn pod_is_active(pod: &Value) -> bool {
    !pod_is_terminal(pod) && !is_terminating(pod)
}

/// Whether the Pod's `Ready` condition is `True`.
pub fn pod_is_ready(pod: &Value) -> bool {
    condition_true(pod, "Ready")
}

/// When a ready Pod became ready (its `Ready` condition's transition time).
pub fn pod_ready_since(pod: &Value, calendar: Calendar) -> Option<SimTime> {
    condition(pod, "Ready")
        .filter(|c| str_at(c, &["status"]) == "True")
        .and_then(|c| calendar.parse(str_at(c, &["lastTransitionTime"])))
}

/// Whether a Pod is available at `now`: ready for at least `min_ready_secs`. When it is ready
/// but not yet long enough, also returns the instant it will become available.
pub fn pod_availability(
    pod: &Value,
    min_ready_secs: i64,
    now: SimTime,
    calendar: Calendar,
) -> (bool, Option<SimTime>) {
    if !pod_is_ready(pod) {
        return (false, None);
    }
    if min_ready_secs <= 0 {
        return (true, None);
    }
    let since = pod_ready_since(pod, calendar).unwrap_or(now);
    let at = since + SimDuration::from_secs(min_ready_secs.unsigned_abs());
    if at <= now {
        (true, None)
    } else {
        (false, Some(at))
    }
}

/// A new Pod made from a pod template: template labels and annotations plus `extra_labels`,
/// the given name and owner, and the template's spec.
pub fn pod_from_template(
    template: &Value,
    name: &str,
    namespace: &str,
    owner_ref: Value,
    extra_labels: &[(&str, String)],
) -> Value {
    let mut labels = at(template, &["metadata", "labels"])
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    for (k, v) in extra_labels {
        labels.insert((*k).to_string(), json!(v));
    }
    let mut metadata = Map::new();
    metadata.insert("name".into(), json!(name));
    metadata.insert("namespace".into(), json!(namespace));
    if !labels.is_empty() {
        metadata.insert("labels".into(), Value::Object(labels));
    }
    if let Some(ann) = at(template, &["metadata", "annotations"]).filter(|a| a.is_object()) {
        metadata.insert("annotations".into(), ann.clone());
    }
    metadata.insert("ownerReferences".into(), json!([owner_ref]));
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": metadata,
        "spec": at(template, &["spec"]).cloned().unwrap_or_else(|| json!({})),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn label_selectors() {
        let l = labels(json!({"app": "web", "tier": "front"}));
        assert!(selector_matches(&json!({}), &l));
        assert!(selector_matches(
            &json!({"matchLabels": {"app": "web"}}),
            &l
        ));
        assert!(!selector_matches(
            &json!({"matchLabels": {"app": "db"}}),
            &l
        ));
        let exprs = json!({"matchExpressions": [
            {"key": "tier", "operator": "In", "values": ["front", "back"]},
            {"key": "env", "operator": "DoesNotExist"},
            {"key": "app", "operator": "NotIn", "values": ["db"]},
            {"key": "app", "operator": "Exists"}]});
        assert!(selector_matches(&exprs, &l));
        let bad = json!({"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["front"]}]});
        assert!(!selector_matches(&bad, &l));
    }

    #[test]
    fn int_or_percent_rounds_like_kubernetes() {
        assert_eq!(int_or_percent(None, "25%", 3, true), 1);
        assert_eq!(int_or_percent(None, "25%", 3, false), 0);
        assert_eq!(int_or_percent(Some(&json!("50%")), "25%", 5, true), 3);
        assert_eq!(int_or_percent(Some(&json!(2)), "25%", 5, true), 2);
        assert_eq!(int_or_percent(Some(&json!("junk")), "25%", 5, true), 0);
    }

    #[test]
    fn conditions_keep_transition_time_when_status_holds() {
        let mut conds = vec![];
        let c = |s: &str| {
            json!({"type": "Ready", "status": s})
                .as_object()
                .cloned()
                .unwrap()
        };
        upsert_condition(&mut conds, c("False"), "t1");
        upsert_condition(&mut conds, c("False"), "t2");
        assert_eq!(conds[0]["lastTransitionTime"], "t1");
        upsert_condition(&mut conds, c("True"), "t3");
        assert_eq!(conds.len(), 1);
        assert_eq!(conds[0]["lastTransitionTime"], "t3");
    }

    #[test]
    fn set_path_never_panics_on_malformed_objects() {
        let mut v = json!({"spec": "junk"});
        set_path(&mut v, &["spec", "replicas"], json!(3));
        assert_eq!(v, json!({"spec": {"replicas": 3}}));
        let mut v = json!(7);
        set_path(&mut v, &["a", "b", "c"], json!(true));
        assert_eq!(v["a"]["b"]["c"], true);
        assert_eq!(count_at(&json!({"n": -5}), &["n"], 1), 0);
        assert_eq!(
            count_at(&json!({"n": i64::MAX}), &["n"], 1),
            i64::from(i32::MAX)
        );
        assert_eq!(count_at(&json!({}), &["n"], 1), 1);
    }

    #[test]
    fn same_json_ignores_null_members() {
        assert!(same_json(
            &json!({"a": 1, "b": null, "c": [{"d": null}]}),
            &json!({"c": [{}], "a": 1})
        ));
        assert!(!same_json(&json!({"a": 1}), &json!({"a": 2})));
        assert!(!same_json(&json!({"a": 1}), &json!({"a": 1, "b": 0})));
    }

    #[test]
    fn suffixes_use_the_generate_name_alphabet() {
        let a = name_suffix(1);
        let b = name_suffix(2);
        assert_eq!(a.len(), 5);
        assert_ne!(a, b);
        assert!(a.bytes().all(|c| SUFFIX_ALPHABET.contains(&c)));
        assert_eq!(name_suffix(1), a, "deterministic");
        assert_eq!(hex_from("x", 64).len(), 64);
        assert_ne!(hex_from("x", 12), hex_from("y", 12));
    }

    #[test]
    fn controller_references() {
        let owner = json!({"apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": "web-1", "namespace": "shop", "uid": "u1"}});
        let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p",
            "namespace": "shop", "ownerReferences": [controller_ref(&owner)]}});
        assert!(is_controlled_by(&pod, "u1"));
        assert!(!is_controlled_by(&pod, "u2"));
        let (key, uid) = controller_key(&pod).unwrap();
        assert_eq!(key, ResourceKey::new("apps", "ReplicaSet", "shop", "web-1"));
        assert_eq!(uid, "u1");
    }
}
