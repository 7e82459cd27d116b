//! `Status` errors, worded and shaped exactly as the Kubernetes API server writes them, so
//! kubectl prints its usual messages and kube-rs parses them into `Error::Api`.

use serde_json::{Map, Value, json};

use super::kinds::ResourceType;

/// The body of kube-apiserver's 404 for paths no API group serves.
const PAGE_NOT_FOUND: &str = "404 page not found";

/// One entry of `details.causes`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cause {
    /// Machine-readable reason, e.g. `FieldValueInvalid` or `FieldManagerConflict`.
    pub reason: String,
    /// Human-readable message.
    pub message: String,
    /// The field at fault, e.g. `metadata.name` or `.spec.replicas`.
    pub field: String,
}

/// A failed API call: HTTP code, reason and message, rendered as a `Status` object.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{reason} ({code}): {message}")]
pub struct ApiError {
    /// HTTP status code.
    pub code: u16,
    /// `reason` of the Status (`NotFound`, `Conflict`, ...).
    pub reason: &'static str,
    /// `message` of the Status.
    pub message: String,
    /// `details`, when Kubernetes sends some.
    pub details: Option<Map<String, Value>>,
}

/// The way Kubernetes names a resource in messages: `configmaps` or `deployments.apps`.
pub fn qualified_resource(group: &str, resource: &str) -> String {
    if group.is_empty() {
        resource.to_string()
    } else {
        format!("{resource}.{group}")
    }
}

fn resource_details(group: &str, resource: &str, name: &str) -> Map<String, Value> {
    let mut d = Map::new();
    if !name.is_empty() {
        d.insert("name".into(), json!(name));
    }
    if !group.is_empty() {
        d.insert("group".into(), json!(group));
    }
    d.insert("kind".into(), json!(resource));
    d
}

impl Cause {
    /// A cause from its three parts.
    pub fn new(reason: &str, field: &str, message: impl Into<String>) -> Self {
        Self {
            reason: reason.to_string(),
            message: message.into(),
            field: field.to_string(),
        }
    }
}

impl ApiError {
    fn new(code: u16, reason: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            reason,
            message: message.into(),
            details: None,
        }
    }

    fn with_details(mut self, details: Map<String, Value>) -> Self {
        self.details = Some(details);
        self
    }

    /// 404 for an object that does not exist.
    pub fn not_found(group: &str, resource: &str, name: &str) -> Self {
        let qr = qualified_resource(group, resource);
        Self::new(404, "NotFound", format!("{qr} \"{name}\" not found"))
            .with_details(resource_details(group, resource, name))
    }

    /// The plain-text 404 of a path outside every served group version (an unknown group,
    /// a CRD's resource after the CRD went); see [`ApiError::is_page_not_found`].
    pub fn page_not_found() -> Self {
        Self::new(404, "NotFound", PAGE_NOT_FOUND)
    }

    /// Whether this is [`ApiError::page_not_found`], answered as text, not as a Status.
    pub fn is_page_not_found(&self) -> bool {
        self.code == 404 && self.message == PAGE_NOT_FOUND && self.details.is_none()
    }

    /// 404 for a resource a served group version does not have.
    pub fn no_route() -> Self {
        Self::new(
            404,
            "NotFound",
            "the server could not find the requested resource",
        )
        .with_details(Map::new())
    }

    /// 409 for a create whose name is taken.
    pub fn already_exists(group: &str, resource: &str, name: &str) -> Self {
        let qr = qualified_resource(group, resource);
        Self::new(
            409,
            "AlreadyExists",
            format!("{qr} \"{name}\" already exists"),
        )
        .with_details(resource_details(group, resource, name))
    }

    /// 409 for a write based on a stale resourceVersion.
    pub fn conflict(group: &str, resource: &str, name: &str) -> Self {
        Self::conflict_because(
            group,
            resource,
            name,
            "the object has been modified; please apply your changes to the latest version and try again",
        )
    }

    /// 409 with a custom explanation (failed preconditions).
    pub fn conflict_because(group: &str, resource: &str, name: &str, why: &str) -> Self {
        let qr = qualified_resource(group, resource);
        Self::new(
            409,
            "Conflict",
            format!("Operation cannot be fulfilled on {qr} \"{name}\": {why}"),
        )
        .with_details(resource_details(group, resource, name))
    }

    /// 409 for a server-side apply that touches fields other managers own. `conflicts`
    /// holds (manager, apiVersion of its entry when it is an `Update` entry, field): real
    /// servers name the version only for `Update` managers.
    pub fn apply_conflicts(conflicts: &[(String, Option<String>, String)]) -> Self {
        let who = |m: &str, v: &Option<String>| match v {
            Some(v) => format!("\"{m}\" using {v}"),
            None => format!("\"{m}\""),
        };
        let n = conflicts.len();
        let mut message = format!(
            "Apply failed with {n} conflict{}: ",
            if n == 1 { "" } else { "s" }
        );
        // Group the fields by manager, as the real message does.
        let mut groups: Vec<(String, Vec<&str>)> = Vec::new();
        for (m, v, f) in conflicts {
            let w = who(m, v);
            match groups.iter_mut().find(|(g, _)| *g == w) {
                Some(g) => g.1.push(f),
                None => groups.push((w, vec![f])),
            }
        }
        // Kubernetes prints the managers sorted.
        groups.sort_by(|a, b| a.0.cmp(&b.0));
        let parts: Vec<String> = groups
            .iter()
            .map(|(w, fields)| {
                if n == 1 {
                    format!("conflict with {w}: {}", fields[0])
                } else {
                    let list: Vec<String> = fields.iter().map(|f| format!("- {f}")).collect();
                    format!("conflicts with {w}:\n{}", list.join("\n"))
                }
            })
            .collect();
        message.push_str(&parts.join("\n"));
        let causes: Vec<Value> = conflicts
            .iter()
            .map(|(m, v, f)| {
                json!({"reason": "FieldManagerConflict",
                    "message": format!("conflict with {}", who(m, v)), "field": f})
            })
            .collect();
        let mut d = Map::new();
        d.insert("causes".into(), Value::Array(causes));
        Self::new(409, "Conflict", message).with_details(d)
    }

    /// 422 with field causes, worded `Kind "name" is invalid: field: message, ...`.
    pub fn invalid(rt: &ResourceType, name: &str, causes: Vec<Cause>) -> Self {
        Self::invalid_kind(&rt.group, &rt.kind, name, causes)
    }

    /// 422 for a kind given by name (see [`ApiError::invalid`]).
    pub fn invalid_kind(group: &str, kind: &str, name: &str, causes: Vec<Cause>) -> Self {
        let summary: Vec<String> = causes
            .iter()
            .map(|c| {
                if c.field.is_empty() {
                    c.message.clone()
                } else {
                    format!("{}: {}", c.field, c.message)
                }
            })
            .collect();
        let summary = if summary.len() == 1 {
            summary[0].clone()
        } else {
            format!("[{}]", summary.join(", "))
        };
        let mut d = Map::new();
        if !name.is_empty() {
            d.insert("name".into(), json!(name));
        }
        if !group.is_empty() {
            d.insert("group".into(), json!(group));
        }
        d.insert("kind".into(), json!(kind));
        d.insert(
            "causes".into(),
            Value::Array(
                causes
                    .iter()
                    .map(|c| json!({"reason": c.reason, "message": c.message, "field": c.field}))
                    .collect(),
            ),
        );
        Self::new(
            422,
            "Invalid",
            format!(
                "{} \"{name}\" is invalid: {summary}",
                qualified_resource(group, kind)
            ),
        )
        .with_details(d)
    }

    /// 400.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "BadRequest", message)
    }

    /// 403 with a reason, e.g. for deleting a system namespace.
    pub fn forbidden(group: &str, resource: &str, name: &str, why: &str) -> Self {
        let qr = qualified_resource(group, resource);
        Self::new(
            403,
            "Forbidden",
            format!("{qr} \"{name}\" is forbidden: {why}"),
        )
        .with_details(resource_details(group, resource, name))
    }

    /// 403 for a create in a terminating namespace.
    pub fn namespace_terminating(group: &str, resource: &str, name: &str, ns: &str) -> Self {
        let qr = qualified_resource(group, resource);
        let why = format!(
            "unable to create new content in namespace {ns} because it is being terminated"
        );
        let mut d = resource_details(group, resource, name);
        d.insert(
            "causes".into(),
            json!([{"reason": "NamespaceTerminating", "message": why, "field": "metadata.namespace"}]),
        );
        Self::new(
            403,
            "Forbidden",
            format!("{qr} \"{name}\" is forbidden: {why}"),
        )
        .with_details(d)
    }

    /// 405.
    pub fn method_not_allowed() -> Self {
        Self::new(
            405,
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource",
        )
        .with_details(Map::new())
    }

    /// 406, listing the representations the emulator answers in.
    pub fn not_acceptable() -> Self {
        Self::new(
            406,
            "NotAcceptable",
            "406: Not Acceptable\n\nAvailable representations: application/json, application/yaml, application/json;stream=watch",
        )
        .with_details(Map::new())
    }

    /// 415 for a patch without a Content-Type, in kube-apiserver's generic words.
    pub fn no_media_type() -> Self {
        Self::new(415, "UnsupportedMediaType", "415: Unsupported Media Type")
            .with_details(Map::new())
    }

    /// 415.
    pub fn unsupported_media_type(content_type: &str, accepted: &[&str]) -> Self {
        let _ = content_type;
        Self::new(
            415,
            "UnsupportedMediaType",
            format!(
                "the body of the request was in an unknown format - accepted media types include: {}",
                accepted.join(", ")
            ),
        )
    }

    /// 410 for a resourceVersion older than the event log.
    pub fn expired(requested: u64, oldest: u64) -> Self {
        Self::new(
            410,
            "Expired",
            format!("too old resource version: {requested} ({oldest})"),
        )
    }

    /// 401, as for a token the server no longer accepts.
    pub fn unauthorized() -> Self {
        Self::new(401, "Unauthorized", "Unauthorized")
    }

    /// 429 with `details.retryAfterSeconds` (the router adds the `Retry-After` header).
    pub fn too_many_requests(retry_after: std::time::Duration) -> Self {
        let secs = retry_after.as_secs_f64().ceil() as u64;
        let mut d = Map::new();
        d.insert("retryAfterSeconds".into(), json!(secs));
        Self::new(
            429,
            "TooManyRequests",
            "the server has received too many requests and has asked us to try again later (rekon fault switch)",
        )
        .with_details(d)
    }

    /// An error answered by a fault switch (`error-rate`).
    pub fn injected(code: u16) -> Self {
        let reason = match code {
            500 => "InternalError",
            503 => "ServiceUnavailable",
            504 => "Timeout",
            429 => "TooManyRequests",
            409 => "Conflict",
            404 => "NotFound",
            _ => "Unknown",
        };
        Self::new(
            code,
            reason,
            format!("injected error {code} (rekon fault switch error-rate)"),
        )
    }

    /// 403 as RBAC words it: `User "…" cannot VERB resource "…" in API group "…"`.
    pub fn rbac_forbidden(
        group: &str,
        resource: &str,
        verb: &str,
        namespace: &str,
        name: &str,
    ) -> Self {
        let qr = qualified_resource(group, resource);
        let scope = if namespace.is_empty() {
            "at the cluster scope".to_string()
        } else {
            format!("in the namespace \"{namespace}\"")
        };
        let subject = if name.is_empty() {
            qr.clone()
        } else {
            format!("{qr} \"{name}\"")
        };
        Self::new(
            403,
            "Forbidden",
            format!(
                "{subject} is forbidden: User \"rekon-test\" cannot {verb} resource \"{resource}\" in API group \"{group}\" {scope}"
            ),
        )
        .with_details(resource_details(group, resource, name))
    }

    /// 500 for what should not happen.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(500, "InternalError", message)
    }

    /// 422 for a request option out of range (`dryRun`, `fieldManager`), worded as the
    /// validation of `kind` (`DeleteOptions`, `PatchOptions`, …) words it.
    pub fn invalid_options(kind: &str, cause: Cause) -> Self {
        Self::invalid_kind("meta.k8s.io", kind, "", vec![cause])
    }

    /// 422 as kube-apiserver answers a patch that does not apply (a failed JSON patch `test`,
    /// a path that is not there), without saying more.
    pub fn patch_rejected() -> Self {
        Self::new(
            422,
            "Invalid",
            "the server rejected our request due to an error in our request",
        )
        .with_details(Map::new())
    }

    /// 500 without a reason, as kube-apiserver answers a watch from a resourceVersion that
    /// is not a number.
    pub fn unparsable_resource_version(rv: &str) -> Self {
        Self::new(
            500,
            "",
            format!(
                "resourceVersion: Invalid value: \"{rv}\": strconv.ParseUint: parsing \"{rv}\": invalid syntax"
            ),
        )
    }

    /// The error as a `Status` object (without a `reason` when it has none).
    pub fn to_status(&self) -> Value {
        let mut s = json!({"kind": "Status", "apiVersion": "v1", "metadata": {},
            "status": "Failure", "message": self.message, "reason": self.reason});
        if self.reason.is_empty() {
            s.as_object_mut().map(|o| o.shift_remove("reason"));
        }
        if let Some(d) = &self.details {
            s["details"] = Value::Object(d.clone());
        }
        s["code"] = json!(self.code);
        s
    }
}

/// A `Status` of success, as sent for an immediate delete of most built-in kinds.
pub fn success_status(group: &str, resource: &str, name: &str, uid: &str) -> Value {
    let mut d = resource_details(group, resource, name);
    d.insert("uid".into(), json!(uid));
    json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
        "details": d})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_found_reads_like_kubernetes() {
        let s = ApiError::not_found("apps", "deployments", "web").to_status();
        assert_eq!(s["message"], "deployments.apps \"web\" not found");
        assert_eq!(s["reason"], "NotFound");
        assert_eq!(s["code"], 404);
        assert_eq!(s["details"]["group"], "apps");
        let s = ApiError::not_found("", "configmaps", "x").to_status();
        assert_eq!(s["message"], "configmaps \"x\" not found");
        assert!(s["details"].get("group").is_none());
    }

    #[test]
    fn apply_conflicts_group_fields_by_manager() {
        let e = ApiError::apply_conflicts(&[
            ("a".into(), Some("v1".into()), ".data.x".into()),
            ("a".into(), Some("v1".into()), ".data.y".into()),
            ("b".into(), None, ".data.z".into()),
        ]);
        assert_eq!(e.code, 409);
        assert_eq!(
            e.message,
            "Apply failed with 3 conflicts: conflicts with \"a\" using v1:\n- .data.x\n- .data.y\nconflicts with \"b\":\n- .data.z"
        );
        let one = ApiError::apply_conflicts(&[("kubectl".into(), None, ".spec.replicas".into())]);
        assert_eq!(
            one.message,
            "Apply failed with 1 conflict: conflict with \"kubectl\": .spec.replicas"
        );
        let causes = e.to_status()["details"]["causes"].clone();
        assert_eq!(causes[2]["field"], ".data.z");
        assert_eq!(causes[0]["reason"], "FieldManagerConflict");
    }
}
