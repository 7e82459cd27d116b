//! Decoding the Kubernetes protobuf encoding (`application/vnd.kubernetes.protobuf`) of the
//! objects kubectl's typed clients send: `kubectl create namespace|configmap|secret|
//! serviceaccount|deployment|service|job|cronjob|role|rolebinding|clusterrole|
//! clusterrolebinding|ingress|poddisruptionbudget|quota` and `kubectl run`. Each type is a
//! table of field numbers from k8s.io/api's generated.proto; a field the tables do not know
//! is refused by name rather than dropped. Responses stay JSON (kubectl accepts both).

use serde_json::{Map, Value, json};

use super::defaults::base64_encode;

/// The four bytes that start every Kubernetes protobuf body.
pub const MAGIC: &[u8] = b"k8s\0";

#[derive(Clone, Copy)]
enum Ty {
    Str,
    Bool,
    Int,
    Time,
    IntOrStr,
    Msg(&'static [F]),
    MapStr,
    MapBytes,
    MapQty,
    /// Dropped (status, which the server resets on create anyway).
    Skip,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Card {
    /// A Go value field: always encoded, omitted from JSON when zero.
    One,
    /// A Go pointer: encoded only when set, kept even when zero.
    Opt,
    /// A repeated field or a map.
    Many,
    /// An embedded struct whose fields JSON inlines.
    Inline,
}

#[derive(Clone, Copy)]
struct F {
    n: u64,
    name: &'static str,
    ty: Ty,
    card: Card,
}

const fn one(n: u64, name: &'static str, ty: Ty) -> F {
    F {
        n,
        name,
        ty,
        card: Card::One,
    }
}
const fn opt(n: u64, name: &'static str, ty: Ty) -> F {
    F {
        n,
        name,
        ty,
        card: Card::Opt,
    }
}
const fn many(n: u64, name: &'static str, ty: Ty) -> F {
    F {
        n,
        name,
        ty,
        card: Card::Many,
    }
}

use Ty::*;

static OWNER_REF: &[F] = &[
    one(5, "apiVersion", Str),
    one(1, "kind", Str),
    one(3, "name", Str),
    one(4, "uid", Str),
    opt(6, "controller", Bool),
    opt(7, "blockOwnerDeletion", Bool),
];
static OBJECT_META: &[F] = &[
    one(1, "name", Str),
    one(2, "generateName", Str),
    one(3, "namespace", Str),
    one(4, "selfLink", Str),
    one(5, "uid", Str),
    one(6, "resourceVersion", Str),
    one(7, "generation", Int),
    one(8, "creationTimestamp", Time),
    opt(9, "deletionTimestamp", Time),
    opt(10, "deletionGracePeriodSeconds", Int),
    many(11, "labels", MapStr),
    many(12, "annotations", MapStr),
    many(13, "ownerReferences", Msg(OWNER_REF)),
    many(14, "finalizers", Str),
];
static SELECTOR_REQ: &[F] = &[
    one(1, "key", Str),
    one(2, "operator", Str),
    many(3, "values", Str),
];
static LABEL_SELECTOR: &[F] = &[
    many(1, "matchLabels", MapStr),
    many(2, "matchExpressions", Msg(SELECTOR_REQ)),
];
static LOCAL_REF: &[F] = &[one(1, "name", Str)];
static OBJECT_REF: &[F] = &[
    one(1, "kind", Str),
    one(2, "namespace", Str),
    one(3, "name", Str),
    one(4, "uid", Str),
    one(5, "apiVersion", Str),
    one(6, "resourceVersion", Str),
    one(7, "fieldPath", Str),
];
static KEY_SELECTOR: &[F] = &[
    one(1, "localObjectReference", Msg(LOCAL_REF)),
    one(2, "key", Str),
    opt(3, "optional", Bool),
];
static FIELD_SELECTOR: &[F] = &[one(1, "apiVersion", Str), one(2, "fieldPath", Str)];
static ENV_SOURCE: &[F] = &[
    opt(1, "fieldRef", Msg(FIELD_SELECTOR)),
    opt(3, "configMapKeyRef", Msg(KEY_SELECTOR)),
    opt(4, "secretKeyRef", Msg(KEY_SELECTOR)),
];
static ENV_VAR: &[F] = &[
    one(1, "name", Str),
    one(2, "value", Str),
    opt(3, "valueFrom", Msg(ENV_SOURCE)),
];
static CONTAINER_PORT: &[F] = &[
    one(1, "name", Str),
    one(2, "hostPort", Int),
    F {
        n: 3,
        name: "containerPort",
        ty: Int,
        card: Card::Opt,
    },
    one(4, "protocol", Str),
    one(5, "hostIP", Str),
];
static RESOURCES: &[F] = &[many(1, "limits", MapQty), many(2, "requests", MapQty)];
static CONTAINER: &[F] = &[
    one(1, "name", Str),
    one(2, "image", Str),
    many(3, "command", Str),
    many(4, "args", Str),
    one(5, "workingDir", Str),
    many(6, "ports", Msg(CONTAINER_PORT)),
    many(7, "env", Msg(ENV_VAR)),
    F {
        n: 8,
        name: "resources",
        ty: Msg(RESOURCES),
        card: Card::Opt,
    },
    one(13, "terminationMessagePath", Str),
    one(14, "imagePullPolicy", Str),
    one(16, "stdin", Bool),
    one(17, "stdinOnce", Bool),
    one(18, "tty", Bool),
    one(20, "terminationMessagePolicy", Str),
    opt(24, "restartPolicy", Str),
];
static POD_SPEC: &[F] = &[
    many(2, "containers", Msg(CONTAINER)),
    one(3, "restartPolicy", Str),
    opt(4, "terminationGracePeriodSeconds", Int),
    opt(5, "activeDeadlineSeconds", Int),
    one(6, "dnsPolicy", Str),
    many(7, "nodeSelector", MapStr),
    one(8, "serviceAccountName", Str),
    one(9, "serviceAccount", Str),
    one(10, "nodeName", Str),
    one(11, "hostNetwork", Bool),
    one(12, "hostPID", Bool),
    one(13, "hostIPC", Bool),
    many(15, "imagePullSecrets", Msg(LOCAL_REF)),
    one(16, "hostname", Str),
    one(17, "subdomain", Str),
    one(19, "schedulerName", Str),
    many(20, "initContainers", Msg(CONTAINER)),
    opt(21, "automountServiceAccountToken", Bool),
    one(24, "priorityClassName", Str),
    opt(30, "enableServiceLinks", Bool),
];
static POD_TEMPLATE: &[F] = &[
    F {
        n: 1,
        name: "metadata",
        ty: Msg(OBJECT_META),
        card: Card::Opt,
    },
    F {
        n: 2,
        name: "spec",
        ty: Msg(POD_SPEC),
        card: Card::Opt,
    },
];
static ROLLING_UPDATE: &[F] = &[
    opt(1, "maxUnavailable", IntOrStr),
    opt(2, "maxSurge", IntOrStr),
];
static STRATEGY: &[F] = &[
    one(1, "type", Str),
    opt(2, "rollingUpdate", Msg(ROLLING_UPDATE)),
];
static DEPLOYMENT_SPEC: &[F] = &[
    opt(1, "replicas", Int),
    opt(2, "selector", Msg(LABEL_SELECTOR)),
    F {
        n: 3,
        name: "template",
        ty: Msg(POD_TEMPLATE),
        card: Card::Opt,
    },
    F {
        n: 4,
        name: "strategy",
        ty: Msg(STRATEGY),
        card: Card::Opt,
    },
    one(5, "minReadySeconds", Int),
    opt(6, "revisionHistoryLimit", Int),
    one(7, "paused", Bool),
    opt(9, "progressDeadlineSeconds", Int),
];
static JOB_SPEC: &[F] = &[
    opt(1, "parallelism", Int),
    opt(2, "completions", Int),
    opt(3, "activeDeadlineSeconds", Int),
    opt(4, "selector", Msg(LABEL_SELECTOR)),
    opt(5, "manualSelector", Bool),
    F {
        n: 6,
        name: "template",
        ty: Msg(POD_TEMPLATE),
        card: Card::Opt,
    },
    opt(7, "backoffLimit", Int),
    opt(8, "ttlSecondsAfterFinished", Int),
    opt(9, "completionMode", Str),
    opt(10, "suspend", Bool),
];
static JOB_TEMPLATE: &[F] = &[
    F {
        n: 1,
        name: "metadata",
        ty: Msg(OBJECT_META),
        card: Card::Opt,
    },
    F {
        n: 2,
        name: "spec",
        ty: Msg(JOB_SPEC),
        card: Card::Opt,
    },
];
static CRONJOB_SPEC: &[F] = &[
    one(1, "schedule", Str),
    opt(2, "startingDeadlineSeconds", Int),
    one(3, "concurrencyPolicy", Str),
    opt(4, "suspend", Bool),
    F {
        n: 5,
        name: "jobTemplate",
        ty: Msg(JOB_TEMPLATE),
        card: Card::Opt,
    },
    opt(6, "successfulJobsHistoryLimit", Int),
    opt(7, "failedJobsHistoryLimit", Int),
    opt(8, "timeZone", Str),
];
static SERVICE_PORT: &[F] = &[
    one(1, "name", Str),
    one(2, "protocol", Str),
    F {
        n: 3,
        name: "port",
        ty: Int,
        card: Card::Opt,
    },
    one(4, "targetPort", IntOrStr),
    one(5, "nodePort", Int),
    opt(6, "appProtocol", Str),
];
static SERVICE_SPEC: &[F] = &[
    many(1, "ports", Msg(SERVICE_PORT)),
    many(2, "selector", MapStr),
    one(3, "clusterIP", Str),
    one(4, "type", Str),
    many(5, "externalIPs", Str),
    one(7, "sessionAffinity", Str),
    one(8, "loadBalancerIP", Str),
    many(9, "loadBalancerSourceRanges", Str),
    one(10, "externalName", Str),
    one(11, "externalTrafficPolicy", Str),
    one(12, "healthCheckNodePort", Int),
    one(13, "publishNotReadyAddresses", Bool),
    opt(17, "ipFamilyPolicy", Str),
    many(18, "clusterIPs", Str),
    many(19, "ipFamilies", Str),
    opt(20, "allocateLoadBalancerNodePorts", Bool),
    opt(21, "loadBalancerClass", Str),
    opt(22, "internalTrafficPolicy", Str),
];
static NAMESPACE_SPEC: &[F] = &[many(1, "finalizers", Str)];
static POLICY_RULE: &[F] = &[
    many(1, "verbs", Str),
    many(2, "apiGroups", Str),
    many(3, "resources", Str),
    many(4, "resourceNames", Str),
    many(5, "nonResourceURLs", Str),
];
static AGGREGATION: &[F] = &[many(1, "clusterRoleSelectors", Msg(LABEL_SELECTOR))];
static SUBJECT: &[F] = &[
    one(1, "kind", Str),
    one(2, "apiGroup", Str),
    one(3, "name", Str),
    one(4, "namespace", Str),
];
static ROLE_REF: &[F] = &[
    one(1, "apiGroup", Str),
    one(2, "kind", Str),
    one(3, "name", Str),
];
static BACKEND_PORT: &[F] = &[one(1, "name", Str), one(2, "number", Int)];
static SERVICE_BACKEND: &[F] = &[
    one(1, "name", Str),
    F {
        n: 2,
        name: "port",
        ty: Msg(BACKEND_PORT),
        card: Card::Opt,
    },
];
static TYPED_REF: &[F] = &[
    opt(1, "apiGroup", Str),
    one(2, "kind", Str),
    one(3, "name", Str),
];
static INGRESS_BACKEND: &[F] = &[
    opt(3, "resource", Msg(TYPED_REF)),
    opt(4, "service", Msg(SERVICE_BACKEND)),
];
static HTTP_PATH: &[F] = &[
    one(1, "path", Str),
    F {
        n: 2,
        name: "backend",
        ty: Msg(INGRESS_BACKEND),
        card: Card::Opt,
    },
    opt(3, "pathType", Str),
];
static HTTP_RULE: &[F] = &[many(1, "paths", Msg(HTTP_PATH))];
static RULE_VALUE: &[F] = &[opt(1, "http", Msg(HTTP_RULE))];
static INGRESS_RULE: &[F] = &[
    one(1, "host", Str),
    F {
        n: 2,
        name: "",
        ty: Msg(RULE_VALUE),
        card: Card::Inline,
    },
];
static INGRESS_TLS: &[F] = &[many(1, "hosts", Str), one(2, "secretName", Str)];
static INGRESS_SPEC: &[F] = &[
    opt(1, "defaultBackend", Msg(INGRESS_BACKEND)),
    many(2, "tls", Msg(INGRESS_TLS)),
    many(3, "rules", Msg(INGRESS_RULE)),
    opt(4, "ingressClassName", Str),
];
static PDB_SPEC: &[F] = &[
    opt(1, "minAvailable", IntOrStr),
    opt(2, "selector", Msg(LABEL_SELECTOR)),
    opt(3, "maxUnavailable", IntOrStr),
    opt(4, "unhealthyPodEvictionPolicy", Str),
];
static SCOPED_REQ: &[F] = &[
    one(1, "scopeName", Str),
    one(2, "operator", Str),
    many(3, "values", Str),
];
static SCOPE_SELECTOR: &[F] = &[many(1, "matchExpressions", Msg(SCOPED_REQ))];
static QUOTA_SPEC: &[F] = &[
    many(1, "hard", MapQty),
    many(2, "scopes", Str),
    opt(3, "scopeSelector", Msg(SCOPE_SELECTOR)),
];

const META: F = F {
    n: 1,
    name: "metadata",
    ty: Msg(OBJECT_META),
    card: Card::Opt,
};

static NAMESPACE: &[F] = &[
    META,
    F {
        n: 2,
        name: "spec",
        ty: Msg(NAMESPACE_SPEC),
        card: Card::Opt,
    },
    one(3, "status", Skip),
];
static CONFIG_MAP: &[F] = &[
    META,
    many(2, "data", MapStr),
    many(3, "binaryData", MapBytes),
    opt(4, "immutable", Bool),
];
static SECRET: &[F] = &[
    META,
    many(2, "data", MapBytes),
    one(3, "type", Str),
    many(4, "stringData", MapStr),
    opt(5, "immutable", Bool),
];
static SERVICE_ACCOUNT: &[F] = &[
    META,
    many(2, "secrets", Msg(OBJECT_REF)),
    many(3, "imagePullSecrets", Msg(LOCAL_REF)),
    opt(4, "automountServiceAccountToken", Bool),
];
static POD: &[F] = &[
    META,
    F {
        n: 2,
        name: "spec",
        ty: Msg(POD_SPEC),
        card: Card::Opt,
    },
    one(3, "status", Skip),
];
static SERVICE: &[F] = &[
    META,
    F {
        n: 2,
        name: "spec",
        ty: Msg(SERVICE_SPEC),
        card: Card::Opt,
    },
    one(3, "status", Skip),
];
static DEPLOYMENT: &[F] = &[
    META,
    F {
        n: 2,
        name: "spec",
        ty: Msg(DEPLOYMENT_SPEC),
        card: Card::Opt,
    },
    one(3, "status", Skip),
];
static JOB: &[F] = &[
    META,
    F {
        n: 2,
        name: "spec",
        ty: Msg(JOB_SPEC),
        card: Card::Opt,
    },
    one(3, "status", Skip),
];
static CRONJOB: &[F] = &[
    META,
    F {
        n: 2,
        name: "spec",
        ty: Msg(CRONJOB_SPEC),
        card: Card::Opt,
    },
    one(3, "status", Skip),
];
static ROLE: &[F] = &[META, many(2, "rules", Msg(POLICY_RULE))];
static CLUSTER_ROLE: &[F] = &[
    META,
    many(2, "rules", Msg(POLICY_RULE)),
    opt(3, "aggregationRule", Msg(AGGREGATION)),
];
static BINDING: &[F] = &[
    META,
    many(2, "subjects", Msg(SUBJECT)),
    F {
        n: 3,
        name: "roleRef",
        ty: Msg(ROLE_REF),
        card: Card::Opt,
    },
];
static INGRESS: &[F] = &[
    META,
    F {
        n: 2,
        name: "spec",
        ty: Msg(INGRESS_SPEC),
        card: Card::Opt,
    },
    one(3, "status", Skip),
];
static PDB: &[F] = &[
    META,
    F {
        n: 2,
        name: "spec",
        ty: Msg(PDB_SPEC),
        card: Card::Opt,
    },
    one(3, "status", Skip),
];
static QUOTA: &[F] = &[
    META,
    F {
        n: 2,
        name: "spec",
        ty: Msg(QUOTA_SPEC),
        card: Card::Opt,
    },
    one(3, "status", Skip),
];

fn schema(api_version: &str, kind: &str) -> Option<&'static [F]> {
    Some(match (api_version, kind) {
        ("v1", "Namespace") => NAMESPACE,
        ("v1", "ConfigMap") => CONFIG_MAP,
        ("v1", "Secret") => SECRET,
        ("v1", "ServiceAccount") => SERVICE_ACCOUNT,
        ("v1", "Pod") => POD,
        ("v1", "Service") => SERVICE,
        ("v1", "ResourceQuota") => QUOTA,
        ("apps/v1", "Deployment") => DEPLOYMENT,
        ("batch/v1", "Job") => JOB,
        ("batch/v1", "CronJob") => CRONJOB,
        ("rbac.authorization.k8s.io/v1", "Role") => ROLE,
        ("rbac.authorization.k8s.io/v1", "ClusterRole") => CLUSTER_ROLE,
        ("rbac.authorization.k8s.io/v1", "RoleBinding" | "ClusterRoleBinding") => BINDING,
        ("networking.k8s.io/v1", "Ingress") => INGRESS,
        ("policy/v1", "PodDisruptionBudget") => PDB,
        _ => return None,
    })
}

enum Raw<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
}

fn varint(buf: &[u8], i: &mut usize) -> Result<u64, String> {
    let mut v: u64 = 0;
    for shift in (0..64).step_by(7) {
        let b = *buf.get(*i).ok_or("truncated varint")?;
        *i += 1;
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Ok(v);
        }
    }
    Err("varint too long".into())
}

fn read<'a>(buf: &'a [u8], i: &mut usize, wire: u64) -> Result<Raw<'a>, String> {
    match wire {
        0 => Ok(Raw::Varint(varint(buf, i)?)),
        2 => {
            let len = usize::try_from(varint(buf, i)?).map_err(|_| "length overflow")?;
            let end = i
                .checked_add(len)
                .filter(|e| *e <= buf.len())
                .ok_or("truncated field")?;
            let s = &buf[*i..end];
            *i = end;
            Ok(Raw::Bytes(s))
        }
        1 => {
            *i = i
                .checked_add(8)
                .filter(|e| *e <= buf.len())
                .ok_or("truncated fixed64")?;
            Ok(Raw::Varint(0))
        }
        5 => {
            *i = i
                .checked_add(4)
                .filter(|e| *e <= buf.len())
                .ok_or("truncated fixed32")?;
            Ok(Raw::Varint(0))
        }
        w => Err(format!("unsupported wire type {w}")),
    }
}

/// The fields of a message, as (number, raw value) pairs.
fn fields(buf: &[u8]) -> Result<Vec<(u64, Raw<'_>)>, String> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < buf.len() {
        let key = varint(buf, &mut i)?;
        out.push((key >> 3, read(buf, &mut i, key & 7)?));
    }
    Ok(out)
}

fn text(raw: &Raw<'_>) -> Result<String, String> {
    match raw {
        Raw::Bytes(b) => String::from_utf8(b.to_vec()).map_err(|_| "invalid UTF-8".to_string()),
        Raw::Varint(_) => Err("expected a string".into()),
    }
}

fn bytes<'a>(raw: &Raw<'a>) -> Result<&'a [u8], String> {
    match raw {
        Raw::Bytes(b) => Ok(b),
        Raw::Varint(_) => Err("expected bytes".into()),
    }
}

fn int(raw: &Raw<'_>) -> Result<i64, String> {
    match raw {
        // Go encodes negative int32/int64 as 64-bit two's complement varints.
        Raw::Varint(v) => Ok(*v as i64),
        Raw::Bytes(_) => Err("expected an integer".into()),
    }
}

fn time(buf: &[u8]) -> Result<Option<String>, String> {
    let mut seconds = 0i64;
    for (n, raw) in fields(buf)? {
        if n == 1 {
            seconds = int(&raw)?;
        }
    }
    if seconds == 0 {
        return Ok(None);
    }
    let t = jiff::Timestamp::from_second(seconds).map_err(|e| e.to_string())?;
    Ok(Some(t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()))
}

fn quantity(buf: &[u8]) -> Result<Value, String> {
    for (n, raw) in fields(buf)? {
        if n == 1 {
            return Ok(json!(text(&raw)?));
        }
    }
    Ok(json!("0"))
}

fn int_or_string(buf: &[u8]) -> Result<Value, String> {
    let (mut ty, mut i, mut s) = (0, 0, String::new());
    for (n, raw) in fields(buf)? {
        match n {
            1 => ty = int(&raw)?,
            2 => i = int(&raw)?,
            3 => s = text(&raw)?,
            _ => {}
        }
    }
    Ok(if ty == 1 { json!(s) } else { json!(i) })
}

fn map_entry(buf: &[u8], ty: Ty) -> Result<(String, Value), String> {
    let (mut key, mut value) = (String::new(), Value::Null);
    for (n, raw) in fields(buf)? {
        match n {
            1 => key = text(&raw)?,
            2 => {
                value = match ty {
                    MapBytes => json!(base64_encode(bytes(&raw)?)),
                    MapQty => quantity(bytes(&raw)?)?,
                    _ => json!(text(&raw)?),
                }
            }
            _ => {}
        }
    }
    if value.is_null() {
        value = match ty {
            MapQty => json!("0"),
            _ => json!(""),
        };
    }
    Ok((key, value))
}

fn is_zero(v: &Value) -> bool {
    match v {
        Value::String(s) => s.is_empty(),
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_i64() == Some(0),
        Value::Null => true,
        _ => false,
    }
}

fn message(buf: &[u8], schema: &[F], path: &str) -> Result<Map<String, Value>, String> {
    let mut out = Map::new();
    for (n, raw) in fields(buf)? {
        let f = schema
            .iter()
            .find(|f| f.n == n)
            .ok_or_else(|| format!("field {n} of {path} is not supported by the emulator"))?;
        let here = if f.name.is_empty() {
            path.to_string()
        } else {
            format!("{path}.{}", f.name)
        };
        let value = match f.ty {
            Skip => continue,
            Str => json!(text(&raw)?),
            Bool => json!(int(&raw)? != 0),
            Int => json!(int(&raw)?),
            Time => match time(bytes(&raw)?)? {
                Some(t) => json!(t),
                None => continue,
            },
            IntOrStr => int_or_string(bytes(&raw)?)?,
            Msg(sub) => Value::Object(message(bytes(&raw)?, sub, &here)?),
            MapStr | MapBytes | MapQty => {
                let (k, v) = map_entry(bytes(&raw)?, f.ty)?;
                let m = out.entry(f.name).or_insert_with(|| json!({}));
                if let Some(m) = m.as_object_mut() {
                    m.insert(k, v);
                }
                continue;
            }
        };
        match f.card {
            Card::Many => {
                let list = out.entry(f.name).or_insert_with(|| json!([]));
                if let Some(l) = list.as_array_mut() {
                    l.push(value);
                }
            }
            Card::Inline => {
                if let Value::Object(m) = value {
                    out.extend(m);
                }
            }
            Card::One if is_zero(&value) => {}
            Card::One | Card::Opt => {
                out.insert(f.name.to_string(), value);
            }
        }
    }
    Ok(out)
}

/// Decodes a protobuf request body into the JSON object it stands for.
pub fn decode(body: &[u8]) -> Result<Value, String> {
    let envelope = body
        .strip_prefix(MAGIC)
        .ok_or("the body does not start with the Kubernetes protobuf prefix")?;
    let (mut api_version, mut kind, mut raw) = (String::new(), String::new(), &[][..]);
    for (n, r) in fields(envelope)? {
        match n {
            1 => {
                for (m, tr) in fields(bytes(&r)?)? {
                    match m {
                        1 => api_version = text(&tr)?,
                        2 => kind = text(&tr)?,
                        _ => {}
                    }
                }
            }
            2 => raw = bytes(&r)?,
            3 if !bytes(&r)?.is_empty() => {
                return Err("compressed protobuf bodies are not supported".into());
            }
            _ => {}
        }
    }
    let schema = schema(&api_version, &kind).ok_or_else(|| {
        format!(
            "protobuf bodies of {api_version} {kind} are not supported by the emulator; send JSON"
        )
    })?;
    let mut obj = Map::new();
    obj.insert("apiVersion".into(), json!(api_version));
    obj.insert("kind".into(), json!(kind));
    obj.extend(message(raw, schema, &kind)?);
    Ok(Value::Object(obj))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u64, wire: u64) -> Vec<u8> {
        enc_varint((n << 3) | wire)
    }

    fn enc_varint(mut v: u64) -> Vec<u8> {
        let mut out = Vec::new();
        loop {
            let b = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                out.push(b);
                return out;
            }
            out.push(b | 0x80);
        }
    }

    fn ld(n: u64, data: &[u8]) -> Vec<u8> {
        let mut out = key(n, 2);
        out.extend(enc_varint(data.len() as u64));
        out.extend_from_slice(data);
        out
    }

    #[test]
    fn decodes_a_config_map() {
        let meta = [
            ld(1, b"cfg"),
            ld(3, b"default"),
            ld(8, &[]),
            ld(11, &[ld(1, b"app"), ld(2, b"web")].concat()),
        ]
        .concat();
        let cm = [
            ld(1, &meta),
            ld(2, &[ld(1, b"k"), ld(2, b"v")].concat()),
            ld(3, &[ld(1, b"b"), ld(2, b"hi")].concat()),
        ]
        .concat();
        let type_meta = [ld(1, b"v1"), ld(2, b"ConfigMap")].concat();
        let body = [
            MAGIC.to_vec(),
            ld(1, &type_meta),
            ld(2, &cm),
            ld(3, b""),
            ld(4, b""),
        ]
        .concat();
        let v = decode(&body).unwrap();
        assert_eq!(
            v,
            json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "cfg", "namespace": "default", "labels": {"app": "web"}},
                "data": {"k": "v"}, "binaryData": {"b": "aGk="}})
        );
    }

    #[test]
    fn refuses_unknown_fields_and_kinds() {
        let type_meta = [ld(1, b"v1"), ld(2, b"ConfigMap")].concat();
        let body = [MAGIC.to_vec(), ld(1, &type_meta), ld(2, &ld(99, b"x"))].concat();
        assert!(decode(&body).unwrap_err().contains("field 99 of ConfigMap"));
        let type_meta = [ld(1, b"v1"), ld(2, b"Node")].concat();
        let body = [MAGIC.to_vec(), ld(1, &type_meta)].concat();
        assert!(decode(&body).unwrap_err().contains("not supported"));
        assert!(decode(b"{}").is_err());
        assert!(decode(&[MAGIC, &[0x0a, 0xff]].concat()).is_err());
    }

    #[test]
    fn bytes_fields_become_standard_base64() {
        let type_meta = [ld(1, b"v1"), ld(2, b"ConfigMap")].concat();
        let entry = |k: &[u8], v: &[u8]| ld(3, &[ld(1, k), ld(2, v)].concat());
        let cm = [
            ld(1, &ld(1, b"cfg")),
            entry(b"a", b"f"),
            entry(b"b", b"fo"),
            entry(b"c", b"foo"),
            entry(b"d", b"foobar"),
        ]
        .concat();
        let body = [MAGIC.to_vec(), ld(1, &type_meta), ld(2, &cm)].concat();
        let v = decode(&body).unwrap();
        assert_eq!(
            v["binaryData"],
            json!({"a": "Zg==", "b": "Zm8=", "c": "Zm9v", "d": "Zm9vYmFy"})
        );
    }
}
