//! Writes: create, update (PUT), the four kinds of patch, and server-side apply. Each write
//! reads the current object, computes its result outside the store lock, and commits only if
//! the object is still the one it read (retrying otherwise). A write that changes nothing
//! commits nothing: no resourceVersion, generation or timestamp moves and no event is sent.
//! `dryRun=All` computes everything and commits nothing.

use std::sync::Arc;

use serde_json::{Value, json};

use super::fields;
use super::immutable;
use super::kinds::ResourceType;
use super::patch;
use super::ssa;
use super::status::{ApiError, Cause};
use super::store::{CommitError, Store, Stored};

const MAX_ATTEMPTS: usize = 32;

/// How a write is made.
#[derive(Debug, Clone, Default)]
pub struct WriteOptions {
    /// The field manager recorded in managedFields.
    pub manager: String,
    /// `dryRun=All`: compute, do not persist.
    pub dry_run: bool,
    /// Server-side apply: take over conflicting fields.
    pub force: bool,
}

impl WriteOptions {
    /// A plain write by `manager`.
    pub fn by(manager: &str) -> Self {
        Self {
            manager: manager.to_string(),
            ..Self::default()
        }
    }
}

/// The body of a PATCH, by content type.
#[derive(Debug, Clone)]
pub enum PatchBody {
    /// `application/apply-patch+yaml`: server-side apply.
    Apply(Value),
    /// `application/merge-patch+json` (RFC 7386).
    Merge(Value),
    /// `application/json-patch+json` (RFC 6902).
    Json(Value),
    /// `application/strategic-merge-patch+json`.
    Strategic(Value),
}

/// The outcome of a write.
#[derive(Debug, Clone)]
pub struct Written {
    /// The object as stored (or as it would be, for a dry run).
    pub object: Arc<Stored>,
    /// The write created the object.
    pub created: bool,
    /// The write changed something (false for no-ops).
    pub changed: bool,
}

/// What `finish_update` does besides carrying server fields over.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Checks {
    /// Record an `Update` in managedFields (apply records its own).
    pub record: bool,
    /// Refuse changes to immutable fields.
    pub immutable: bool,
}

impl Checks {
    /// Client updates and patches.
    pub const ALL: Checks = Checks {
        record: true,
        immutable: true,
    };
    /// Server-side apply (managed fields come from the apply).
    pub const APPLY: Checks = Checks {
        record: false,
        immutable: true,
    };
    /// In-process controllers, which write what real controllers write through
    /// subresources the emulator does not have (such as a Pod's binding).
    pub const IN_PROCESS: Checks = Checks {
        record: true,
        immutable: false,
    };
}

/// What a write computed from the current object.
pub(crate) enum Step {
    /// A new object, ready to store.
    Create(Value),
    /// The new state of an existing object.
    Update(Value),
    /// Nothing changes.
    Unchanged(Arc<Stored>),
}

impl Store {
    /// Runs a write: `compute` turns the current object into a step; the step is committed
    /// unless it changes nothing or `dry_run` is set.
    pub(crate) fn run_write(
        &self,
        rt: &ResourceType,
        ns: &str,
        name: &str,
        dry_run: bool,
        mut compute: impl FnMut(Option<&Arc<Stored>>) -> Result<Step, ApiError>,
    ) -> Result<Written, ApiError> {
        let gr = rt.group_resource();
        for _ in 0..MAX_ATTEMPTS {
            let current = self.get_stored(&gr, ns, name);
            let (mut new, created) = match compute(current.as_ref())? {
                Step::Unchanged(s) => {
                    return Ok(Written {
                        object: s,
                        created: false,
                        changed: false,
                    });
                }
                Step::Create(v) => (v, true),
                Step::Update(v) => (v, false),
            };
            let remove = !created && fields::deletion_complete(&new);
            if dry_run {
                if gr.group.is_empty() && gr.resource == "services" {
                    self.preview_service_allocation(
                        &mut new,
                        current.as_deref().map(|s| &s.object),
                    )?;
                }
                return Ok(Written {
                    object: Arc::new(Stored::new(new, 0)),
                    created,
                    changed: true,
                });
            }
            let result = self.commit(
                &gr,
                ns,
                name,
                current.as_ref(),
                (!remove).then_some(new.clone()),
            );
            match result {
                // The write that lets a deletion complete answers with the object as written
                // (its last finalizer gone), at the version it had: that state is never stored.
                Ok(_) if remove => {
                    let rv = current.as_ref().map_or(0, |c| c.rv);
                    return Ok(Written {
                        object: Arc::new(Stored::new(new, rv)),
                        created,
                        changed: true,
                    });
                }
                Ok(object) => {
                    return Ok(Written {
                        object,
                        created,
                        changed: true,
                    });
                }
                Err(CommitError::Stale) => continue,
                Err(CommitError::Api(e)) => return Err(e),
            }
        }
        Err(ApiError::conflict(&rt.group, &rt.resource, name))
    }

    /// Creates an object (POST). `ns` is the request namespace (empty when cluster-scoped).
    pub fn create(
        &self,
        rt: &ResourceType,
        ns: &str,
        mut obj: Value,
        opts: &WriteOptions,
    ) -> Result<Written, ApiError> {
        fields::check_body(rt, &mut obj, ns, None)?;
        let rv = obj
            .pointer("/metadata/resourceVersion")
            .and_then(Value::as_str);
        if rv.is_some_and(|r| !r.is_empty()) {
            return Err(ApiError::bad_request(
                "resourceVersion should not be set on objects to be created",
            ));
        }
        let mut name = obj
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        if name.is_empty()
            && let Some(prefix) = obj
                .pointer("/metadata/generateName")
                .and_then(Value::as_str)
        {
            name = fields::generated_name(prefix);
            obj["metadata"]["name"] = json!(name);
        }
        let ns = if rt.namespaced { ns } else { "" };
        fields::validate(rt, &obj)?;
        let api_version = rt.api_version();
        let written = self.run_write(rt, ns, &name, opts.dry_run, |current| {
            if current.is_some() {
                return Err(ApiError::already_exists(&rt.group, &rt.resource, &name));
            }
            let mut o = obj.clone();
            fields::prepare_new(rt, &mut o, ns, &name);
            let now = self.clock().now();
            ssa::record_update(None, &mut o, &opts.manager, &api_version, &now, None);
            fields::stamp_new(rt, &mut o, &now);
            Ok(Step::Create(o))
        })?;
        if written.created && !opts.dry_run {
            self.establish_crd(rt, &written.object);
        }
        Ok(written)
    }

    /// Accepts a new CRD's names and establishes it, as kube-apiserver's naming and
    /// establishing controllers do a moment after the create (whose answer shows neither).
    fn establish_crd(&self, rt: &ResourceType, created: &Stored) {
        if !(rt.group == "apiextensions.k8s.io" && rt.resource == "customresourcedefinitions") {
            return;
        }
        let mut established = created.object.clone();
        crate::crd::set_status(&mut established, None);
        let status = established["status"].take();
        // Only a concurrent change of the new CRD can refuse this; its own write establishes it.
        let rv = created.rv.to_string();
        let _ = self.update_status(rt, "", created.name(), status, Some(&rv), "kube-apiserver");
    }

    /// Replaces an object (PUT), on the main resource or a subresource (`status`,
    /// `finalize`). A resourceVersion in the body must match the stored one.
    pub fn update(
        &self,
        rt: &ResourceType,
        ns: &str,
        name: &str,
        mut obj: Value,
        sub: Option<&str>,
        opts: &WriteOptions,
    ) -> Result<Written, ApiError> {
        fields::check_body(rt, &mut obj, ns, Some(name))?;
        if sub.is_none() {
            fields::validate(rt, &obj)?;
        }
        let precondition = obj
            .pointer("/metadata/resourceVersion")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(String::from);
        self.run_write(rt, ns, name, opts.dry_run, |current| {
            let current =
                current.ok_or_else(|| ApiError::not_found(&rt.group, &rt.resource, name))?;
            if let Some(rv) = &precondition
                && *rv != current.rv.to_string()
            {
                return Err(ApiError::conflict(&rt.group, &rt.resource, name));
            }
            self.finish_update(rt, current, obj.clone(), sub, opts, Checks::ALL)
        })
    }

    /// Patches an object. Apply patches create missing objects; the others need one.
    pub fn patch(
        &self,
        rt: &ResourceType,
        ns: &str,
        name: &str,
        body: PatchBody,
        sub: Option<&str>,
        opts: &WriteOptions,
    ) -> Result<Written, ApiError> {
        let doc = match body {
            PatchBody::Apply(intent) => return self.apply(rt, ns, name, intent, sub, opts),
            PatchBody::Strategic(_) if rt.custom => {
                return Err(ApiError::unsupported_media_type(
                    "application/strategic-merge-patch+json",
                    &[
                        "application/json-patch+json",
                        "application/merge-patch+json",
                        "application/apply-patch+yaml",
                    ],
                ));
            }
            other => other,
        };
        self.run_write(rt, ns, name, opts.dry_run, |current| {
            let current = current.ok_or_else(|| ApiError::not_found(&rt.group, &rt.resource, name))?;
            let mut target = current.object.clone();
            target["apiVersion"] = json!(rt.api_version());
            apply_patch(&mut target, &doc)?;
            if !target.is_object() {
                return Err(ApiError::bad_request("the patch turned the object into something else than an object"));
            }
            let rv = target.pointer("/metadata/resourceVersion").and_then(Value::as_str).unwrap_or("");
            if !rv.is_empty() && rv != current.rv.to_string() {
                return Err(ApiError::conflict(&rt.group, &rt.resource, name));
            }
            let patched_name = target.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("");
            if patched_name != name {
                return Err(ApiError::bad_request(format!(
                    "the name of the object ({patched_name}) does not match the name on the URL ({name})"
                )));
            }
            if sub.is_none() {
                fields::validate(rt, &target)?;
            }
            self.finish_update(rt, current, target, sub, opts, Checks::ALL)
        })
    }

    /// Server-side apply of `intent` by `opts.manager`.
    fn apply(
        &self,
        rt: &ResourceType,
        ns: &str,
        name: &str,
        mut intent: Value,
        sub: Option<&str>,
        opts: &WriteOptions,
    ) -> Result<Written, ApiError> {
        if opts.manager.is_empty() {
            return Err(ApiError::invalid_options(
                "PatchOptions",
                Cause::new(
                    "FieldValueRequired",
                    "fieldManager",
                    "Required value: is required for apply patch",
                ),
            ));
        }
        fields::check_body(rt, &mut intent, ns, Some(name))?;
        if intent.get("apiVersion").is_none() || intent.get("kind").is_none() {
            return Err(ApiError::bad_request(
                "apiVersion and kind must be set in an applied configuration",
            ));
        }
        let precondition = intent
            .pointer("/metadata/resourceVersion")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(String::from);
        if let Some(meta) = intent.get_mut("metadata").and_then(Value::as_object_mut) {
            for f in [
                "resourceVersion",
                "uid",
                "creationTimestamp",
                "generation",
                "managedFields",
                "selfLink",
            ] {
                meta.remove(f);
            }
            if rt.namespaced && !ns.is_empty() {
                meta.insert("namespace".into(), json!(ns));
            }
        }
        intent["apiVersion"] = json!(rt.api_version());
        match sub {
            Some(_) => {
                let status = intent.get("status").cloned();
                let meta = intent.get("metadata").cloned().unwrap_or(json!({}));
                let mut only = json!({"apiVersion": rt.api_version(), "kind": rt.kind,
                    "metadata": {"name": meta.get("name"), "namespace": meta.get("namespace")}});
                if only["metadata"]["namespace"].is_null()
                    && let Some(m) = only["metadata"].as_object_mut()
                {
                    m.remove("namespace");
                }
                if let Some(s) = status {
                    only["status"] = s;
                }
                intent = only;
            }
            None => {
                fields::validate(rt, &intent)?;
                if rt.status
                    && let Some(o) = intent.as_object_mut()
                {
                    o.remove("status");
                }
            }
        }
        let api_version = rt.api_version();
        let ns = if rt.namespaced { ns } else { "" };
        let written = self.run_write(rt, ns, name, opts.dry_run, |current| {
            if let Some(rv) = &precondition
                && current.is_none_or(|c| *rv != c.rv.to_string())
            {
                return Err(ApiError::conflict(&rt.group, &rt.resource, name));
            }
            if sub.is_some() && current.is_none() {
                return Err(ApiError::not_found(&rt.group, &rt.resource, name));
            }
            let now = self.clock().now();
            let live = current.map(|c| &c.object);
            let merged = ssa::apply(ssa::ApplyParams {
                live,
                intent: &intent,
                manager: &opts.manager,
                force: opts.force,
                api_version: &api_version,
                now: &now,
                subresource: sub,
                status_is_field: rt.custom && !rt.status,
            })
            .map_err(|e| ssa_error(e, live, rt, name))?;
            if !merged.is_object() {
                return Err(ApiError::internal(
                    "server-side apply produced something else than an object",
                ));
            }
            match current {
                None => {
                    let mut o = merged;
                    fields::prepare_new(rt, &mut o, ns, name);
                    fields::stamp_new(rt, &mut o, &now);
                    Ok(Step::Create(o))
                }
                Some(cur) => self.finish_update(rt, cur, merged, sub, opts, Checks::APPLY),
            }
        })?;
        if written.created && !opts.dry_run {
            self.establish_crd(rt, &written.object);
        }
        Ok(written)
    }

    /// The common end of every update: server fields from the stored object, managed fields
    /// for non-apply writes, immutable fields, generation, and no-op detection.
    pub(crate) fn finish_update(
        &self,
        rt: &ResourceType,
        current: &Arc<Stored>,
        mut new: Value,
        sub: Option<&str>,
        opts: &WriteOptions,
        checks: Checks,
    ) -> Result<Step, ApiError> {
        let old = &current.object;
        fields::carry_over(rt, old, &mut new, sub);
        if checks.immutable && sub.is_none() {
            immutable::check(rt, old, &new)?;
        }
        if checks.immutable {
            immutable::no_new_finalizers(rt, old, &new)?;
        }
        if checks.record {
            let now = self.clock().now();
            ssa::record_update(
                Some(old),
                &mut new,
                &opts.manager,
                &rt.api_version(),
                &now,
                sub,
            );
        }
        fields::bump_generation(rt, old, &mut new);
        Ok(if fields::same_ignoring_times(old, &new) {
            Step::Unchanged(current.clone())
        } else {
            Step::Update(new)
        })
    }

    /// Reads, changes and writes back an object in process, as `manager` (for controllers
    /// and the garbage collector). `sub` is `None` or `Some("status")`.
    pub fn modify(
        &self,
        rt: &ResourceType,
        ns: &str,
        name: &str,
        sub: Option<&str>,
        manager: &str,
        mut change: impl FnMut(&mut Value),
    ) -> Result<Written, ApiError> {
        let opts = WriteOptions::by(manager);
        self.run_write(rt, ns, name, false, |current| {
            let current =
                current.ok_or_else(|| ApiError::not_found(&rt.group, &rt.resource, name))?;
            let mut new = current.object.clone();
            change(&mut new);
            self.finish_update(rt, current, new, sub, &opts, Checks::IN_PROCESS)
        })
    }

    /// Replaces the status of an object in process, as `manager` (for controllers); with
    /// `expected_rv`, only if the object is still at that resourceVersion (else a conflict).
    pub fn update_status(
        &self,
        rt: &ResourceType,
        ns: &str,
        name: &str,
        status: Value,
        expected_rv: Option<&str>,
        manager: &str,
    ) -> Result<Written, ApiError> {
        let opts = WriteOptions::by(manager);
        self.run_write(rt, ns, name, false, |current| {
            let current =
                current.ok_or_else(|| ApiError::not_found(&rt.group, &rt.resource, name))?;
            if let Some(rv) = expected_rv
                && rv != current.rv.to_string()
            {
                return Err(ApiError::conflict(&rt.group, &rt.resource, name));
            }
            let mut new = current.object.clone();
            if let Some(m) = new.as_object_mut() {
                m.insert("status".into(), status.clone());
            }
            self.finish_update(rt, current, new, Some("status"), &opts, Checks::IN_PROCESS)
        })
    }
}

/// A patch error as kube-apiserver answers it: a patch that does not apply is a bare 422,
/// a document of the wrong shape a 400 in the words of Go's JSON decoder.
pub(crate) fn patch_error(e: patch::PatchError, doc: &Value) -> ApiError {
    match e {
        patch::PatchError::Failed(_) => ApiError::patch_rejected(),
        // A JSON patch that is not a list of operations.
        patch::PatchError::Invalid(_) if !doc.is_array() => {
            undecodable_patch(doc, "[]handlers.jsonPatchOp")
        }
        patch::PatchError::Invalid(why) => {
            ApiError::bad_request(format!("the patch could not be applied: {why}"))
        }
    }
}

/// 400 for a patch document Go cannot decode into `target`.
fn undecodable_patch(doc: &Value, target: &str) -> ApiError {
    let found = match doc {
        Value::Object(_) => "object",
        Value::Array(_) => "array",
        Value::String(_) => "string",
        Value::Number(_) => "number",
        Value::Bool(_) => "bool",
        Value::Null => "null",
    };
    ApiError::bad_request(format!(
        "error decoding patch: json: cannot unmarshal {found} into Go value of type {target}"
    ))
}

fn apply_patch(target: &mut Value, doc: &PatchBody) -> Result<(), ApiError> {
    match doc {
        PatchBody::Merge(p) => {
            if !p.is_object() {
                return Err(undecodable_patch(p, "map[string]interface {}"));
            }
            patch::merge_patch(target, p);
            Ok(())
        }
        PatchBody::Json(p) => patch::json_patch(target, p).map_err(|e| patch_error(e, p)),
        PatchBody::Strategic(p) if !p.is_object() => {
            Err(undecodable_patch(p, "map[string]interface {}"))
        }
        PatchBody::Strategic(p) => {
            patch::strategic_merge_patch(target, p).map_err(|e| patch_error(e, p))
        }
        PatchBody::Apply(_) => Err(ApiError::internal("apply patches are not plain patches")),
    }
}

/// Turns SSA errors into Status errors; a conflicting manager's `Update` entry names its
/// apiVersion, as on a real server.
fn ssa_error(e: ssa::SsaError, live: Option<&Value>, rt: &ResourceType, name: &str) -> ApiError {
    match e {
        ssa::SsaError::Conflicts(cs) => {
            let entries = live
                .and_then(|l| l.pointer("/metadata/managedFields"))
                .and_then(Value::as_array);
            let version_of = |m: &str| {
                let mine = entries
                    .into_iter()
                    .flatten()
                    .filter(|e| e.get("manager").and_then(Value::as_str) == Some(m));
                let mut update = None;
                for e in mine {
                    match e.get("operation").and_then(Value::as_str) {
                        Some("Apply") => return None,
                        _ => {
                            update = e
                                .get("apiVersion")
                                .and_then(Value::as_str)
                                .map(String::from)
                        }
                    }
                }
                update
            };
            let triples: Vec<(String, Option<String>, String)> = cs
                .into_iter()
                .map(|c| (version_of(&c.manager), c))
                .map(|(v, c)| (c.manager, v, c.field))
                .collect();
            ApiError::apply_conflicts(&triples)
        }
        ssa::SsaError::Invalid(msg) => ApiError::invalid(
            rt,
            name,
            vec![super::status::Cause::new("FieldValueInvalid", "", msg)],
        ),
    }
}
