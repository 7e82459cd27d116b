//! The differences between the emulator and the real kube-apiserver that are accepted, each
//! with why: the README's "does not emulate" list is made from them. The test fails on a
//! difference not listed here and on an entry that no longer matches anything, so each entry
//! pins its difference.

use super::compare::Allow;

const NOT_SERVED: &str = "only the built-in kinds of kinds.rs and CRDs are served: no events.k8s.io, \
     coordination.k8s.io, admissionregistration.k8s.io, certificates.k8s.io, authentication and \
     authorization reviews, …, no autoscaling/v1, Bindings, ComponentStatuses, PodTemplates, \
     ReplicationControllers, and no pods/log, exec, attach, portforward, proxy, eviction, binding, \
     resize, ephemeralcontainers or serviceaccounts/token";
const NO_SCHEMAS: &str = "built-in kinds are not validated, typed or pruned against their schemas \
     (checked: names, labels, ConfigMap and Secret keys, CRDs, immutable fields): invalid specs \
     are stored, unknown fields kept without a warning";
const CR_SCHEMAS: &str =
    "custom resources are not pruned, defaulted or validated against the CRD's openAPIV3Schema";
const POD_TEMPLATE_HASH: &str = "the simulated Deployment controller hashes the pod template its \
     own way: ReplicaSet names and pod-template-hash labels differ";
const GO_WORDS: &str = "malformed requests are refused with the same code and reason, in other words \
     than those of kube-apiserver's Go decoders and parsers";

/// Accepted differences (see [`Allow`] for how an entry matches).
pub static ALLOWED: &[Allow] = &[
    Allow {
        scenario: "discovery",
        step: "groups",
        path: "/body/groups/name=apiregistration.k8s.io|name=events.k8s.io|name=authentication.k8s.io|\
               name=authorization.k8s.io|name=certificates.k8s.io|name=admissionregistration.k8s.io|\
               name=scheduling.k8s.io|name=coordination.k8s.io|name=node.k8s.io|name=resource.k8s.io|\
               name=flowcontrol.apiserver.k8s.io|name=storagemigration.k8s.io",
        reason: NOT_SERVED,
    },
    Allow {
        scenario: "discovery",
        step: "groups",
        path: "/body/groups/name=autoscaling/versions",
        reason: NOT_SERVED,
    },
    Allow {
        scenario: "discovery",
        step: "core v1 resources",
        path: "/body/resources/name=bindings|name=componentstatuses|name=podtemplates|\
               name=replicationcontrollers|name=replicationcontrollers~1scale|\
               name=replicationcontrollers~1status|name=nodes~1proxy|name=pods~1attach|\
               name=pods~1binding|name=pods~1ephemeralcontainers|name=pods~1eviction|\
               name=pods~1exec|name=pods~1log|name=pods~1portforward|name=pods~1proxy|\
               name=pods~1resize|name=serviceaccounts~1token|name=services~1proxy",
        reason: NOT_SERVED,
    },
    Allow {
        scenario: "kubectl-api-resources",
        step: "core, namespaced|versions",
        path: "/body/stdout",
        reason: NOT_SERVED,
    },
    Allow {
        scenario: "discovery|crd-lifecycle",
        step: "*",
        path: "/body/resources/*/storageVersionHash",
        reason: "discovery has no storageVersionHash (only the storage version migrator reads it)",
    },
    Allow {
        scenario: "version",
        step: "version",
        path: "/body/minor|emulationMinor|minCompatibilityMinor|gitVersion",
        reason: "the emulator reports Kubernetes v1.33, as kubectl dispatchers pick a kubectl by the \
                 server's minor version",
    },
    Allow {
        scenario: "configmap-crud",
        step: "list the namespace",
        path: "/body/items/name=kube-root-ca.crt",
        reason: "no root CA publisher: namespaces get no kube-root-ca.crt ConfigMap",
    },
    Allow {
        scenario: "deployment",
        step: "create",
        path: "/body/status",
        reason: "a new object's empty status is left out (kube-apiserver writes status: {})",
    },
    Allow {
        scenario: "deployment",
        step: "available",
        path: "/body/status/conditions/1/message",
        reason: POD_TEMPLATE_HASH,
    },
    Allow {
        scenario: "deployment",
        step: "replicasets",
        path: "/body/items",
        reason: POD_TEMPLATE_HASH,
    },
    Allow {
        scenario: "deployment",
        step: "available",
        path: "/body/status/terminatingReplicas",
        reason: "the simulated Deployment controller does not count terminating replicas \
                 (status.terminatingReplicas)",
    },
    Allow {
        scenario: "patch-strategic",
        step: "directive at the wrong level",
        path: "",
        reason: "strategic merge patch directives are not checked against the kind's fields \
                 (kube-apiserver answers 500)",
    },
    Allow {
        scenario: "label-selectors",
        step: "*",
        path: "/body/message",
        reason: GO_WORDS,
    },
    Allow {
        scenario: "paging",
        step: "a token that is not one",
        path: "/body/message",
        reason: GO_WORDS,
    },
    Allow {
        scenario: "errors-bad-request",
        step: "malformed JSON|wrong kind",
        path: "/body/message",
        reason: GO_WORDS,
    },
    Allow {
        scenario: "tables",
        step: "*",
        path: "/body/columnDefinitions/*/description",
        reason: "Table columns have short or no descriptions (kube-apiserver quotes the API's field \
                 documentation)",
    },
    Allow {
        scenario: "tables",
        step: "table v1beta1",
        path: "",
        reason: "Tables come as meta.k8s.io/v1 even when only v1beta1 is asked for",
    },
    Allow {
        scenario: "tables",
        step: "not acceptable",
        path: "/body/message",
        reason: "a 406 lists the representations the emulator answers in (no protobuf responses)",
    },
    Allow {
        scenario: "crd-lifecycle",
        step: "delete the CRD",
        path: "",
        reason: "a CRD goes at once with its resources (no customresourcecleanup finalizer in \
                 between)",
    },
    Allow {
        scenario: "crd-schema",
        step: "create with unknown fields|create an invalid one|create under the minimum|\
               create with a wrong type|strict field validation",
        path: "",
        reason: CR_SCHEMAS,
    },
    Allow {
        scenario: "crd-subresources",
        step: "get|get the status",
        path: "/body/metadata/managedFields",
        reason: "kube-apiserver records a custom resource's scale writes without a time; the \
                 emulator stamps them",
    },
    Allow {
        scenario: "status",
        step: "an invalid status",
        path: "",
        reason: "objects are stored as sent: fields that kube-apiserver's Go types fill with zero \
                 values (\"\", null) stay absent",
    },
    Allow {
        scenario: "errors-invalid",
        step: "bad deployment|deployment without containers",
        path: "",
        reason: NO_SCHEMAS,
    },
    Allow {
        scenario: "errors-bad-request",
        step: "a number where a string goes|unknown field|unknown field, strict",
        path: "",
        reason: NO_SCHEMAS,
    },
];
