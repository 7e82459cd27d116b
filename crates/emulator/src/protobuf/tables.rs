//! The field tables of the kinds kubectl sends as protobuf, from k8s.io/api's generated.proto.

#[derive(Clone, Copy)]
pub(super) enum Ty {
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
pub(super) enum Card {
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
pub(super) struct F {
    pub(super) n: u64,
    pub(super) name: &'static str,
    pub(super) ty: Ty,
    pub(super) card: Card,
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

pub(super) fn schema(api_version: &str, kind: &str) -> Option<&'static [F]> {
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
