//! Deletes: propagation policies (Background, Foreground, Orphan), finalizers and
//! deletionTimestamp, preconditions, Namespace termination, CRD removal with its objects,
//! and deletecollection.

use std::sync::Arc;

use serde_json::{Value, json};

use super::fields;
use super::kinds::{GroupResource, ResourceType};
use super::selectors::Selectors;
use super::status::{ApiError, Cause};
use super::store::{CommitError, Store, Stored};

/// Finalizer the garbage collector honours to delete dependents first.
pub const FOREGROUND: &str = "foregroundDeletion";
/// Finalizer the garbage collector honours to orphan dependents.
pub const ORPHAN: &str = "orphan";

/// Namespaces the API server refuses to delete.
const PROTECTED_NAMESPACES: [&str; 3] = ["default", "kube-system", "kube-public"];

/// What happens to an object's dependents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Propagation {
    /// Delete the owner now, its dependents after (the default).
    #[default]
    Background,
    /// Delete the dependents first, then the owner.
    Foreground,
    /// Keep the dependents, without their ownerReference.
    Orphan,
}

impl Propagation {
    /// Parses `propagationPolicy`.
    pub fn parse(text: &str) -> Result<Self, ApiError> {
        match text {
            "Background" => Ok(Self::Background),
            "Foreground" => Ok(Self::Foreground),
            "Orphan" => Ok(Self::Orphan),
            other => Err(ApiError::invalid_options(
                "DeleteOptions",
                Cause::new(
                    "FieldValueNotSupported",
                    "propagationPolicy",
                    format!(
                        "Unsupported value: \"{other}\": supported values: \"Foreground\", \"Background\", \"Orphan\", \"nil\""
                    ),
                ),
            )),
        }
    }
}

/// Options of a delete.
#[derive(Debug, Clone, Default)]
pub struct DeleteOptions {
    /// Propagation policy; `None` means the default (Background).
    pub propagation: Option<Propagation>,
    /// Delete only if the uid matches.
    pub uid: Option<String>,
    /// Delete only if the resourceVersion matches.
    pub resource_version: Option<String>,
    /// `dryRun=All`.
    pub dry_run: bool,
    /// The deprecated `orphanDependents: false`, which alone makes a pending delete answer
    /// 202 Accepted (any other pending delete answers 200).
    pub cascade_requested: bool,
}

impl DeleteOptions {
    /// Reads a `DeleteOptions` body (kube sends `{}`; kubectl sends a policy).
    pub fn from_body(body: &Value) -> Result<Self, ApiError> {
        let mut o = Self::default();
        if let Some(p) = body.get("propagationPolicy").and_then(Value::as_str) {
            o.propagation = Some(Propagation::parse(p)?);
        } else if body.get("orphanDependents") == Some(&json!(true)) {
            o.propagation = Some(Propagation::Orphan);
        }
        o.cascade_requested = body.get("orphanDependents") == Some(&json!(false));
        o.uid = body
            .pointer("/preconditions/uid")
            .and_then(Value::as_str)
            .map(String::from);
        o.resource_version = body
            .pointer("/preconditions/resourceVersion")
            .and_then(Value::as_str)
            .map(String::from);
        o.dry_run = body
            .get("dryRun")
            .and_then(Value::as_array)
            .is_some_and(|a| a.iter().any(|v| v == "All"));
        Ok(o)
    }
}

/// The outcome of a delete.
#[derive(Debug, Clone)]
pub enum Deleted {
    /// The object is gone (its last state).
    Gone(Arc<Stored>),
    /// The object is marked for deletion and waits for finalizers.
    Pending(Arc<Stored>),
}

impl Deleted {
    /// The object, whichever the outcome.
    pub fn object(&self) -> &Arc<Stored> {
        match self {
            Deleted::Gone(o) | Deleted::Pending(o) => o,
        }
    }
}

fn finalizers(obj: &Value) -> Vec<String> {
    obj.pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

fn is_crd(gr: &GroupResource) -> bool {
    gr.group == "apiextensions.k8s.io" && gr.resource == "customresourcedefinitions"
}

impl Store {
    /// Deletes one object.
    pub fn delete(
        &self,
        rt: &ResourceType,
        ns: &str,
        name: &str,
        opts: &DeleteOptions,
    ) -> Result<Deleted, ApiError> {
        let gr = rt.group_resource();
        let ns = if rt.namespaced { ns } else { "" };
        if gr.group.is_empty()
            && gr.resource == "namespaces"
            && PROTECTED_NAMESPACES.contains(&name)
        {
            return Err(ApiError::forbidden(
                "",
                "namespaces",
                name,
                "this namespace may not be deleted",
            ));
        }
        for _ in 0..32 {
            let current = self
                .get_stored(&gr, ns, name)
                .ok_or_else(|| ApiError::not_found(&rt.group, &rt.resource, name))?;
            let obj = &current.object;
            if let Some(uid) = &opts.uid
                && uid != current.uid()
            {
                return Err(ApiError::conflict_because(
                    &rt.group,
                    &rt.kind,
                    name,
                    &format!(
                        "the UID in the precondition ({uid}) does not match the UID in record ({}). The object might have been deleted and then recreated",
                        current.uid()
                    ),
                ));
            }
            if let Some(rv) = &opts.resource_version
                && *rv != current.rv.to_string()
            {
                return Err(ApiError::conflict_because(
                    &rt.group,
                    &rt.kind,
                    name,
                    &format!(
                        "the ResourceVersion in the precondition ({rv}) does not match the ResourceVersion in record ({}). The object might have been modified",
                        current.rv
                    ),
                ));
            }
            let mut fins = finalizers(obj);
            let has_dependents = !self.dependents_of(current.uid()).is_empty();
            match opts.propagation {
                Some(Propagation::Foreground)
                    if has_dependents && !fins.iter().any(|f| f == FOREGROUND) =>
                {
                    fins.push(FOREGROUND.into());
                }
                Some(Propagation::Orphan)
                    if has_dependents && !fins.iter().any(|f| f == ORPHAN) =>
                {
                    fins.push(ORPHAN.into());
                }
                _ => {}
            }
            let is_namespace = gr.group.is_empty() && gr.resource == "namespaces";
            let marked = obj.pointer("/metadata/deletionTimestamp").is_some();
            if fins.is_empty() && !is_namespace {
                if opts.dry_run {
                    return Ok(Deleted::Gone(current.clone()));
                }
                if is_crd(&gr) {
                    self.delete_custom_objects(obj);
                }
                match self.commit(&gr, ns, name, Some(&current), None) {
                    Ok(s) => return Ok(Deleted::Gone(s)),
                    Err(CommitError::Stale) => continue,
                    Err(CommitError::Api(e)) => return Err(e),
                }
            }
            if marked && fins == finalizers(obj) {
                return Ok(Deleted::Pending(current.clone()));
            }
            let mut new = obj.clone();
            let now = self.clock().now();
            if let Some(meta) = new.get_mut("metadata").and_then(Value::as_object_mut) {
                if !marked {
                    meta.insert("deletionTimestamp".into(), json!(now));
                    // Namespaces are not deleted gracefully; they get no grace period.
                    if !is_namespace {
                        meta.insert("deletionGracePeriodSeconds".into(), json!(0));
                    }
                    if rt.generation {
                        let g = meta.get("generation").and_then(Value::as_i64).unwrap_or(1);
                        meta.insert("generation".into(), json!(g + 1));
                    }
                }
                if !fins.is_empty() {
                    meta.insert("finalizers".into(), json!(fins));
                }
            }
            if is_namespace {
                new["status"] = json!({"phase": "Terminating"});
            }
            if opts.dry_run {
                return Ok(Deleted::Pending(Arc::new(Stored::new(new, 0))));
            }
            match self.commit(&gr, ns, name, Some(&current), Some(new)) {
                Ok(s) => return Ok(Deleted::Pending(s)),
                Err(CommitError::Stale) => continue,
                Err(CommitError::Api(e)) => return Err(e),
            }
        }
        Err(ApiError::conflict(&rt.group, &rt.resource, name))
    }

    /// Deletes every object a CRD defines (before the CRD itself goes).
    fn delete_custom_objects(&self, crd: &Value) {
        let Some(gr) = super::crd::group_resource(crd) else {
            return;
        };
        let (_, items) = self.list_stored(&gr, None);
        for item in items {
            // Stale means someone else changed or removed it first; removal wins either way.
            let mut current = Some(item);
            while let Some(cur) = current.take() {
                if let Err(CommitError::Stale) =
                    self.commit(&gr, cur.namespace(), cur.name(), Some(&cur), None)
                {
                    current = self.get_stored(&gr, cur.namespace(), cur.name());
                }
            }
        }
    }

    /// Deletes every object of a resource (in one namespace, or all) that the selectors
    /// match; returns what was deleted or marked.
    pub fn delete_collection(
        &self,
        rt: &ResourceType,
        ns: Option<&str>,
        selectors: &Selectors,
        opts: &DeleteOptions,
    ) -> Result<Vec<Deleted>, ApiError> {
        let (_, items) = self.list_stored(&rt.group_resource(), ns);
        let mut out = Vec::new();
        for item in items.iter().filter(|i| selectors.matches(&i.object)) {
            match self.delete(rt, item.namespace(), item.name(), opts) {
                Ok(d) => out.push(d),
                Err(e) if e.code == 404 => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    /// Removes one finalizer in process (controllers, the garbage collector); the object goes
    /// once none is left and it is marked for deletion.
    pub fn remove_finalizer(
        &self,
        rt: &ResourceType,
        ns: &str,
        name: &str,
        finalizer: &str,
        manager: &str,
    ) -> Result<(), ApiError> {
        let r = self.modify(rt, ns, name, None, manager, |o| {
            if let Some(list) = o
                .pointer_mut("/metadata/finalizers")
                .and_then(Value::as_array_mut)
            {
                list.retain(|f| f != finalizer);
            }
        });
        match r {
            Ok(_) => Ok(()),
            Err(e) if e.code == 404 => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Whether an object marked for deletion has nothing left to wait for.
    pub fn is_deletion_complete(obj: &Value) -> bool {
        fields::deletion_complete(obj)
    }
}
