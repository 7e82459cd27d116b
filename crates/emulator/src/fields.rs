//! What the API server does to every written object besides merging: checking the body
//! against the URL, validating names and labels, keeping server-set fields (uid,
//! creationTimestamp, resourceVersion, generation, deletion fields) authoritative, keeping
//! `.status` and the rest apart across the status subresource, and kind-specific touches
//! (Namespace lifecycle, CRD status, Service IPs).

use serde_json::{Map, Value, json};

use super::crd;
use super::defaults;
use super::kinds::ResourceType;
use super::status::{ApiError, Cause};

/// Metadata fields only the server writes.
const SERVER_META: [&str; 6] = [
    "uid",
    "creationTimestamp",
    "resourceVersion",
    "generation",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
];

/// Makes sure `obj` is an object (callers check bodies first; this keeps indexing safe).
fn ensure_object(obj: &mut Value) {
    if !obj.is_object() {
        *obj = json!({});
    }
}

fn meta_mut(obj: &mut Value) -> &mut Map<String, Value> {
    ensure_object(obj);
    if !obj.get("metadata").is_some_and(Value::is_object) {
        obj["metadata"] = json!({});
    }
    match obj.get_mut("metadata") {
        Some(Value::Object(m)) => m,
        // Both were made objects just above.
        _ => unreachable!("metadata is an object"),
    }
}

/// Checks a request body against the URL: an object of this group and kind, in this
/// namespace, with this name (filled in when the body has none).
pub fn check_body(
    rt: &ResourceType,
    obj: &mut Value,
    ns: &str,
    url_name: Option<&str>,
) -> Result<(), ApiError> {
    if !obj.is_object() {
        return Err(ApiError::bad_request(
            "the request body must be a JSON or YAML object",
        ));
    }
    let api_version = obj.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    if !api_version.is_empty() {
        let (group, _) = crate::key::split_api_version(api_version);
        // A custom resource is decoded at the request's version: no conversion of the body.
        if group != rt.group || (rt.custom && api_version != rt.api_version()) {
            return Err(ApiError::bad_request(format!(
                "the API version in the data ({api_version}) does not match the expected API version ({})",
                rt.api_version()
            )));
        }
    }
    let kind = obj.get("kind").and_then(Value::as_str).unwrap_or("");
    if !kind.is_empty() && kind != rt.kind {
        return Err(ApiError::bad_request(format!(
            "the kind in the data ({kind}) does not match the expected kind ({})",
            rt.kind
        )));
    }
    let meta = meta_mut(obj);
    if rt.namespaced {
        match meta.get("namespace").and_then(Value::as_str) {
            Some(body_ns) if !body_ns.is_empty() && body_ns != ns => {
                return Err(ApiError::bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request",
                ));
            }
            _ => {}
        }
    }
    if let Some(url_name) = url_name {
        match meta.get("name").and_then(Value::as_str) {
            Some(n) if !n.is_empty() && n != url_name => {
                return Err(ApiError::bad_request(format!(
                    "the name of the object ({n}) does not match the name on the URL ({url_name})"
                )));
            }
            Some(n) if !n.is_empty() => {}
            _ => {
                meta.insert("name".into(), json!(url_name));
            }
        }
    }
    Ok(())
}

/// A random name suffix, as `generateName` gets (5 characters from the same alphabet).
pub fn generated_name(prefix: &str) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let bytes = uuid::Uuid::new_v4().into_bytes();
    let suffix: String = bytes[..5]
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect();
    format!("{prefix}{suffix}")
}

fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

fn is_dns_subdomain(s: &str) -> bool {
    s.len() <= 253 && s.split('.').all(is_dns_label)
}

fn is_label_value(v: &str) -> bool {
    v.is_empty()
        || (v.len() <= 63
            && v.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
            && v.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
            && v.bytes().last().is_some_and(|b| b.is_ascii_alphanumeric()))
}

fn is_qualified_name(k: &str) -> bool {
    let (prefix, name) = match k.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, k),
    };
    prefix.is_none_or(is_dns_subdomain) && !name.is_empty() && is_label_value(name)
}

const QUALIFIED_NAME_MSG: &str = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const LABEL_VALUE_MSG: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

/// What is wrong with a label value, in the API server's words (length first).
fn label_value_problems(v: &Value) -> Vec<String> {
    let Some(s) = v.as_str() else {
        return vec![LABEL_VALUE_MSG.to_string()];
    };
    let mut problems = Vec::new();
    if s.len() > 63 {
        problems.push("must be no more than 63 bytes".to_string());
    }
    let shaped = |t: &str| {
        t.is_empty()
            || (t
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
                && t.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
                && t.bytes().last().is_some_and(|b| b.is_ascii_alphanumeric()))
    };
    if !shaped(s) {
        problems.push(LABEL_VALUE_MSG.to_string());
    }
    problems
}

/// What is wrong with a label key, in the API server's words.
fn qualified_name_problems(k: &str) -> Vec<String> {
    let (prefix, name) = match k.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, k),
    };
    let mut problems = Vec::new();
    if let Some(p) = prefix
        && !is_dns_subdomain(p)
    {
        problems.push(format!("prefix part {SUBDOMAIN_MSG}"));
    }
    if name.is_empty() {
        problems.push("name part must be non-empty".to_string());
    } else {
        if name.len() > 63 {
            problems.push("name part must be no more than 63 bytes".to_string());
        }
        if !label_value_problems(&Value::from(name))
            .iter()
            .all(|p| p.starts_with("must be no more"))
        {
            problems.push(QUALIFIED_NAME_MSG.to_string());
        }
    }
    problems
}

/// What is wrong with a ConfigMap's or Secret's key, in the API server's words.
fn config_key_problems(key: &str) -> Vec<String> {
    let mut problems = Vec::new();
    if key.len() > 253 {
        problems.push("must be no more than 253 bytes".to_string());
    }
    if key.is_empty()
        || !key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        problems.push("a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')".to_string());
    }
    match key {
        "." => problems.push("must not be '.'".to_string()),
        ".." => problems.push("must not be '..'".to_string()),
        k if k.starts_with("..") => problems.push("must not start with '..'".to_string()),
        _ => {}
    }
    problems
}

const SUBDOMAIN_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL_MSG: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const DNS1035_MSG: &str = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";

fn name_problem(rt: &ResourceType, name: &str) -> Option<String> {
    match (rt.group.as_str(), rt.resource.as_str()) {
        ("", "namespaces") => (!is_dns_label(name)).then(|| LABEL_MSG.to_string()),
        ("", "services") => (!(is_dns_label(name)
            && name.starts_with(|c: char| c.is_ascii_lowercase())))
        .then(|| DNS1035_MSG.to_string()),
        ("rbac.authorization.k8s.io", _) => {
            if name == "." || name == ".." {
                Some(format!("may not be '{name}'"))
            } else if name.contains('/') || name.contains('%') {
                Some("may not contain '/' or '%'".to_string())
            } else {
                None
            }
        }
        _ => (!is_dns_subdomain(name)).then(|| SUBDOMAIN_MSG.to_string()),
    }
}

/// Validates what the emulator checks of a written object: its name, its labels, and CRDs.
pub fn validate(rt: &ResourceType, obj: &Value) -> Result<(), ApiError> {
    let name = obj
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    let mut causes = Vec::new();
    if name.is_empty() {
        causes.push(Cause::new(
            "FieldValueRequired",
            "metadata.name",
            "Required value: name or generateName is required",
        ));
    } else if let Some(problem) = name_problem(rt, name) {
        causes.push(Cause::new(
            "FieldValueInvalid",
            "metadata.name",
            format!("Invalid value: \"{name}\": {problem}"),
        ));
    }
    if let Some(labels) = obj.pointer("/metadata/labels").and_then(Value::as_object) {
        for (k, v) in labels {
            if !is_qualified_name(k) {
                for problem in qualified_name_problems(k) {
                    causes.push(Cause::new(
                        "FieldValueInvalid",
                        "metadata.labels",
                        format!("Invalid value: \"{k}\": {problem}"),
                    ));
                }
            }
            for problem in label_value_problems(v) {
                causes.push(Cause::new(
                    "FieldValueInvalid",
                    "metadata.labels",
                    format!("Invalid value: {v}: {problem}"),
                ));
            }
        }
    }
    if rt.group.is_empty() && matches!(rt.kind.as_str(), "ConfigMap" | "Secret") {
        for field in ["data", "binaryData"] {
            let keys = obj.get(field).and_then(Value::as_object);
            for key in keys.into_iter().flat_map(|m| m.keys()) {
                for problem in config_key_problems(key) {
                    causes.push(Cause::new(
                        "FieldValueInvalid",
                        &format!("{field}[{key}]"),
                        format!("Invalid value: \"{key}\": {problem}"),
                    ));
                }
            }
        }
    }
    causes.extend(super::immutable::annotations_size(obj));
    if is_crd(rt) {
        causes.extend(crd::validate(obj));
    }
    if causes.is_empty() {
        Ok(())
    } else {
        Err(ApiError::invalid(rt, name, causes))
    }
}

fn is_crd(rt: &ResourceType) -> bool {
    rt.group == "apiextensions.k8s.io" && rt.resource == "customresourcedefinitions"
}

fn is_namespace(rt: &ResourceType) -> bool {
    rt.group.is_empty() && rt.resource == "namespaces"
}

/// Prepares a new object before its managed fields are recorded: storage apiVersion, kind,
/// URL namespace and name, no server fields, no status (for kinds with a status
/// subresource), defaults.
pub fn prepare_new(rt: &ResourceType, obj: &mut Value, ns: &str, name: &str) {
    ensure_object(obj);
    obj["apiVersion"] = json!(rt.storage_api_version());
    obj["kind"] = json!(rt.kind);
    let meta = meta_mut(obj);
    meta.insert("name".into(), json!(name));
    if rt.namespaced {
        meta.insert("namespace".into(), json!(ns));
    } else {
        meta.remove("namespace");
    }
    for f in SERVER_META {
        meta.remove(f);
    }
    meta.remove("selfLink");
    if rt.status
        && let Some(o) = obj.as_object_mut()
    {
        o.remove("status");
    }
    drop_empty_metadata(obj);
    defaults::apply_defaults(&rt.group, &rt.kind, obj);
}

/// Sets what the server sets on create: uid, creationTimestamp, generation, and the
/// kind-specific fields (Namespace phase and finalizer, CRD status).
pub fn stamp_new(rt: &ResourceType, obj: &mut Value, now: &str) {
    let name = obj
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let meta = meta_mut(obj);
    meta.insert("uid".into(), json!(uuid::Uuid::new_v4().to_string()));
    meta.insert("creationTimestamp".into(), json!(now));
    if rt.generation {
        meta.insert("generation".into(), json!(1));
    }
    if is_namespace(rt) {
        let labels = meta.entry("labels").or_insert_with(|| json!({}));
        if let Some(l) = labels.as_object_mut() {
            l.insert("kubernetes.io/metadata.name".into(), json!(name));
        }
        if obj.pointer("/spec/finalizers").is_none() {
            if !obj.get("spec").is_some_and(Value::is_object) {
                obj["spec"] = json!({});
            }
            obj["spec"]["finalizers"] = json!(["kubernetes"]);
        }
        obj["status"] = json!({"phase": "Active"});
    }
    if is_crd(rt) {
        // Established right after, by the store, as kube-apiserver's controllers do.
        obj["status"] = crd::initial_status(obj);
    }
}

/// Makes an updated object consistent with the stored one: server fields come from `old`;
/// a main-resource write keeps the old status, a status write keeps everything but status,
/// a `finalize` write changes only `spec.finalizers`; then kind-specific fields and defaults.
/// Managed fields of `new` are kept.
pub fn carry_over(rt: &ResourceType, old: &Value, new: &mut Value, sub: Option<&str>) {
    ensure_object(new);
    let managed = new.pointer("/metadata/managedFields").cloned();
    match sub {
        Some("status") => {
            let status = new.get("status").cloned();
            *new = old.clone();
            set_or_remove(new, "status", status);
        }
        Some("finalize") => {
            let fins = new.pointer("/spec/finalizers").cloned();
            *new = old.clone();
            if let Some(spec) = new.get_mut("spec").and_then(Value::as_object_mut) {
                match fins {
                    Some(f) => spec.insert("finalizers".into(), f),
                    None => spec.remove("finalizers"),
                };
            }
        }
        _ => {
            if rt.status {
                set_or_remove(new, "status", old.get("status").cloned());
            }
        }
    }
    new["apiVersion"] = json!(rt.storage_api_version());
    new["kind"] = json!(rt.kind);
    let old_meta = old.get("metadata").and_then(Value::as_object);
    let meta = meta_mut(new);
    for f in ["name", "namespace"].into_iter().chain(SERVER_META) {
        match old_meta.and_then(|m| m.get(f)) {
            Some(v) => meta.insert(f.into(), v.clone()),
            None => meta.remove(f),
        };
    }
    meta.remove("selfLink");
    match managed {
        Some(m) => meta.insert("managedFields".into(), m),
        None => meta.remove("managedFields"),
    };
    if is_namespace(rt) {
        let name = old.pointer("/metadata/name").cloned().unwrap_or(json!(""));
        let labels = meta.entry("labels").or_insert_with(|| json!({}));
        if let Some(l) = labels.as_object_mut() {
            l.insert("kubernetes.io/metadata.name".into(), name);
        }
        if sub != Some("finalize") {
            let fins = old.pointer("/spec/finalizers").cloned();
            if let Some(spec) = new.get_mut("spec").and_then(Value::as_object_mut) {
                match fins {
                    Some(f) => spec.insert("finalizers".into(), f),
                    None => spec.remove("finalizers"),
                };
            } else if let Some(f) = fins {
                new["spec"] = json!({"finalizers": f});
            }
        }
    }
    if rt.group.is_empty() && rt.resource == "services" {
        keep_service_allocation(old, new);
    }
    if is_crd(rt) {
        crd::set_status(new, Some(old));
    }
    drop_empty_metadata(new);
    defaults::apply_defaults(&rt.group, &rt.kind, new);
}

/// Drops empty `labels`, `annotations`, `finalizers` and `ownerReferences`, and the empty
/// `data` and `binaryData` of a ConfigMap or Secret: the API server stores Go structs whose
/// empty collections are omitted, so they never read back (nor count as managed fields).
fn drop_empty_metadata(obj: &mut Value) {
    let kind = obj.get("kind").and_then(Value::as_str).unwrap_or_default();
    let core = obj.get("apiVersion").and_then(Value::as_str) == Some("v1");
    if core
        && matches!(kind, "ConfigMap" | "Secret")
        && let Some(map) = obj.as_object_mut()
    {
        for key in ["data", "binaryData"] {
            if map
                .get(key)
                .is_some_and(|v| v.is_null() || v.as_object().is_some_and(|o| o.is_empty()))
            {
                map.shift_remove(key);
            }
        }
    }
    if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        for key in ["labels", "annotations", "finalizers", "ownerReferences"] {
            let empty = match meta.get(key) {
                Some(Value::Array(a)) => a.is_empty(),
                Some(Value::Object(o)) => o.is_empty(),
                Some(Value::Null) => true,
                _ => false,
            };
            if empty {
                meta.remove(key);
            }
        }
    }
}

fn set_or_remove(obj: &mut Value, key: &str, value: Option<Value>) {
    if let Some(o) = obj.as_object_mut() {
        match value {
            Some(v) => o.insert(key.into(), v),
            None => o.remove(key),
        };
    }
}

/// A Service update that leaves out the cluster IP or node ports keeps the allocated ones.
fn keep_service_allocation(old: &Value, new: &mut Value) {
    let Some(old_spec) = old.get("spec") else {
        return;
    };
    let Some(spec) = new.get_mut("spec").and_then(Value::as_object_mut) else {
        return;
    };
    let empty =
        |v: Option<&Value>| v.is_none_or(|v| v.as_str().is_some_and(str::is_empty) || v.is_null());
    if empty(spec.get("clusterIP")) {
        for f in ["clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy"] {
            if let Some(v) = old_spec.get(f)
                && (f == "clusterIP" || spec.get(f).is_none())
            {
                spec.insert(f.into(), v.clone());
            }
        }
    }
    let old_ports = old_spec.get("ports").and_then(Value::as_array);
    if let (Some(old_ports), Some(ports)) = (
        old_ports,
        spec.get_mut("ports").and_then(Value::as_array_mut),
    ) {
        for p in ports.iter_mut() {
            if p.get("nodePort").is_some() {
                continue;
            }
            let same = old_ports
                .iter()
                .find(|o| o.get("port") == p.get("port") && o.get("protocol") == p.get("protocol"));
            if let Some(np) = same.and_then(|o| o.get("nodePort"))
                && let Some(po) = p.as_object_mut()
            {
                po.insert("nodePort".into(), np.clone());
            }
        }
    }
}

/// Sets `metadata.generation` of an update: the old one, plus one when anything outside
/// metadata (and outside status, for kinds with a status subresource) changed.
pub fn bump_generation(rt: &ResourceType, old: &Value, new: &mut Value) {
    if !rt.generation {
        return;
    }
    let old_gen = old
        .pointer("/metadata/generation")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    let changed = match (old.as_object(), new.as_object()) {
        (Some(o), Some(n)) => {
            let relevant = |k: &String| k != "metadata" && !(rt.status && k == "status");
            o.keys()
                .chain(n.keys())
                .filter(|k| relevant(k))
                .any(|k| o.get(k) != n.get(k))
        }
        _ => true,
    };
    let generation = if changed { old_gen + 1 } else { old_gen };
    meta_mut(new).insert("generation".into(), json!(generation));
}

/// Whether two objects are equal once managedFields timestamps are ignored (a write that
/// only moves those timestamps is a no-op, as on a real API server).
pub fn same_ignoring_times(a: &Value, b: &Value) -> bool {
    if a == b {
        return true;
    }
    let (Some(ao), Some(bo)) = (a.as_object(), b.as_object()) else {
        return false;
    };
    if ao.len() != bo.len() {
        return false;
    }
    ao.iter().all(|(k, av)| {
        let Some(bv) = bo.get(k) else {
            return false;
        };
        if k != "metadata" {
            return av == bv;
        }
        let (Some(am), Some(bm)) = (av.as_object(), bv.as_object()) else {
            return av == bv;
        };
        am.len() == bm.len()
            && am.iter().all(|(mk, amv)| match bm.get(mk) {
                None => false,
                Some(bmv) if mk == "managedFields" => same_entries(amv, bmv),
                Some(bmv) => amv == bmv,
            })
    })
}

fn same_entries(a: &Value, b: &Value) -> bool {
    let (Some(a), Some(b)) = (a.as_array(), b.as_array()) else {
        return a == b;
    };
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| match (x.as_object(), y.as_object()) {
                (Some(xo), Some(yo)) => {
                    xo.len() == yo.len()
                        && xo.iter().all(|(k, v)| k == "time" || yo.get(k) == Some(v))
                }
                _ => x == y,
            })
}

/// Whether an object marked for deletion has no finalizer left and must go now.
pub fn deletion_complete(obj: &Value) -> bool {
    let empty = |p: &str| {
        obj.pointer(p)
            .and_then(Value::as_array)
            .is_none_or(Vec::is_empty)
    };
    obj.pointer("/metadata/deletionTimestamp").is_some()
        && empty("/metadata/finalizers")
        && (obj.get("kind") != Some(&json!("Namespace")) || empty("/spec/finalizers"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::Registry;

    fn rt(group: &str, resource: &str) -> ResourceType {
        let r = Registry::builtin();
        let v = if group == "autoscaling" { "v2" } else { "v1" };
        (**r.get(group, v, resource).unwrap()).clone()
    }

    #[test]
    fn names_are_validated_per_kind() {
        let cm = rt("", "configmaps");
        let ok = json!({"metadata": {"name": "a.b-c"}});
        assert!(validate(&cm, &ok).is_ok());
        let e = validate(&cm, &json!({"metadata": {"name": "Bad_Name"}})).unwrap_err();
        assert_eq!(e.code, 422);
        assert!(e.message.starts_with("ConfigMap \"Bad_Name\" is invalid: metadata.name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain"), "{}", e.message);
        let e = validate(&cm, &json!({"metadata": {}})).unwrap_err();
        assert_eq!(
            e.to_status()["details"]["causes"][0]["reason"],
            "FieldValueRequired"
        );
        assert!(validate(&rt("", "services"), &json!({"metadata": {"name": "1abc"}})).is_err());
        assert!(validate(&rt("", "namespaces"), &json!({"metadata": {"name": "a.b"}})).is_err());
        let cr = rt("rbac.authorization.k8s.io", "clusterroles");
        assert!(
            validate(
                &cr,
                &json!({"metadata": {"name": "system:aggregate-to-view"}})
            )
            .is_ok()
        );
        let bad_label = json!({"metadata": {"name": "x", "labels": {"app": "has space"}}});
        assert!(validate(&cm, &bad_label).is_err());
        let good_label = json!({"metadata": {"name": "x", "labels": {"app.kubernetes.io/name": "web", "e": ""}}});
        assert!(validate(&cm, &good_label).is_ok());
    }

    #[test]
    fn body_must_match_the_url() {
        let cm = rt("", "configmaps");
        let mut o =
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"namespace": "a"}});
        assert_eq!(check_body(&cm, &mut o, "b", None).unwrap_err().code, 400);
        let mut o = json!({"apiVersion": "apps/v1", "kind": "ConfigMap", "metadata": {}});
        assert_eq!(check_body(&cm, &mut o, "b", None).unwrap_err().code, 400);
        let mut o = json!({"kind": "ConfigMap", "metadata": {"name": "x"}});
        assert_eq!(
            check_body(&cm, &mut o, "b", Some("y")).unwrap_err().code,
            400
        );
        let mut o = json!({"kind": "ConfigMap"});
        check_body(&cm, &mut o, "b", Some("y")).unwrap();
        assert_eq!(o["metadata"]["name"], "y");
    }

    #[test]
    fn status_and_server_fields_are_kept_apart() {
        let deploy = rt("apps", "deployments");
        let mut old = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "d", "namespace": "n", "uid": "u1", "resourceVersion": "5",
                "generation": 3, "creationTimestamp": "t"},
            "spec": {"replicas": 1}, "status": {"replicas": 1}});
        // Stored objects always carry their defaults.
        defaults::apply_defaults("apps", "Deployment", &mut old);
        let mut new = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "d", "namespace": "n", "uid": "forged", "labels": {"a": "b"}},
            "spec": {"replicas": 2}, "status": {"replicas": 9}});
        carry_over(&deploy, &old, &mut new, None);
        bump_generation(&deploy, &old, &mut new);
        assert_eq!(new["metadata"]["uid"], "u1");
        assert_eq!(new["metadata"]["resourceVersion"], "5");
        assert_eq!(new["metadata"]["generation"], 4);
        assert_eq!(new["status"]["replicas"], 1);
        assert_eq!(new["metadata"]["labels"]["a"], "b");
        let mut st = new.clone();
        st["spec"]["replicas"] = json!(7);
        st["status"]["replicas"] = json!(2);
        carry_over(&deploy, &old, &mut st, Some("status"));
        bump_generation(&deploy, &old, &mut st);
        assert_eq!(st["spec"]["replicas"], 1);
        assert_eq!(st["status"]["replicas"], 2);
        assert_eq!(st["metadata"]["generation"], 3);
    }

    #[test]
    fn timestamps_alone_do_not_make_a_change() {
        let a = json!({"metadata": {"name": "x", "managedFields": [{"manager": "m", "time": "1"}]}, "data": {}});
        let mut b = a.clone();
        b["metadata"]["managedFields"][0]["time"] = json!("2");
        assert!(same_ignoring_times(&a, &b));
        b["metadata"]["managedFields"][0]["manager"] = json!("n");
        assert!(!same_ignoring_times(&a, &b));
        let mut c = a.clone();
        c["data"] = json!({"k": "v"});
        assert!(!same_ignoring_times(&a, &c));
    }

    #[test]
    fn namespaces_get_their_lifecycle_fields() {
        let ns = rt("", "namespaces");
        let mut o = json!({"metadata": {"name": "shop"}});
        prepare_new(&ns, &mut o, "", "shop");
        stamp_new(&ns, &mut o, "2025-01-01T00:00:00Z");
        assert_eq!(
            o["metadata"]["labels"]["kubernetes.io/metadata.name"],
            "shop"
        );
        assert_eq!(o["spec"]["finalizers"], json!(["kubernetes"]));
        assert_eq!(o["status"]["phase"], "Active");
        assert!(o["metadata"].get("namespace").is_none());
        let mut del = o.clone();
        del["metadata"]["deletionTimestamp"] = json!("t");
        assert!(!deletion_complete(&del));
        del["spec"]["finalizers"] = json!([]);
        assert!(deletion_complete(&del));
    }
}
