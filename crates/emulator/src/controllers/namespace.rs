//! Namespace controller: a Namespace being deleted turns Terminating, everything in it is
//! deleted, and once it is empty the `kubernetes` finalizer is removed (after which the API
//! server removes the Namespace).

use serde_json::{Value, json};

use super::meta;
use super::{CONTROLLER_MANAGER, Ctx, Effect, Outcome};
use crate::clock::SimDuration;

/// One reconcile step for a Namespace.
pub fn reconcile(ns: &Value, ctx: &mut Ctx<'_>) -> Outcome {
    let mut out = Outcome::new(CONTROLLER_MANAGER);
    let now = ctx.now_str();
    if !meta::is_terminating(ns) {
        if meta::str_at(ns, &["status", "phase"]).is_empty() {
            out.push(Effect::UpdateStatus(meta::with_status(
                ns,
                json!({"phase": "Active"}),
            )));
        }
        return out;
    }
    let contents = ctx.world.namespace_contents(meta::name(ns));
    let remaining: Vec<&Value> = contents.iter().map(|o| o.as_ref()).collect();
    for obj in &remaining {
        if !meta::is_terminating(obj) {
            out.push(Effect::Delete(meta::key_of(obj)));
        }
    }
    let waiting_on_finalizers: Vec<&&Value> = remaining
        .iter()
        .filter(|o| !meta::array_at(o, &["metadata", "finalizers"]).is_empty())
        .collect();

    let mut conditions = meta::array_at(ns, &["status", "conditions"]).to_vec();
    let cond = |ctype: &str, status: &str, reason: &str, message: String| {
        json!({"type": ctype, "status": status, "reason": reason, "message": message})
            .as_object()
            .cloned()
            .unwrap_or_default()
    };
    for (ctype, reason, message) in [
        (
            "NamespaceDeletionDiscoveryFailure",
            "ResourcesDiscovered",
            "All resources successfully discovered",
        ),
        (
            "NamespaceDeletionGroupVersionParsingFailure",
            "ParsedGroupVersions",
            "All legacy kube types successfully parsed",
        ),
        (
            "NamespaceDeletionContentFailure",
            "ContentDeleted",
            "All content successfully deleted, may be waiting on finalization",
        ),
    ] {
        meta::upsert_condition(
            &mut conditions,
            cond(ctype, "False", reason, message.to_string()),
            &now,
        );
    }
    let remaining_msg = if remaining.is_empty() {
        (
            "False",
            "ContentRemoved",
            "All content successfully removed".to_string(),
        )
    } else {
        let mut kinds: Vec<String> = remaining
            .iter()
            .map(|o| meta::str_at(o, &["kind"]).to_lowercase())
            .collect();
        kinds.sort();
        kinds.dedup();
        (
            "True",
            "SomeResourcesRemain",
            format!(
                "Some resources are remaining: {} has {} resource instances",
                kinds.join(", "),
                remaining.len()
            ),
        )
    };
    meta::upsert_condition(
        &mut conditions,
        cond(
            "NamespaceContentRemaining",
            remaining_msg.0,
            remaining_msg.1,
            remaining_msg.2,
        ),
        &now,
    );
    let finalizer_msg = if waiting_on_finalizers.is_empty() {
        (
            "False",
            "ContentHasNoFinalizers",
            "All content-preserving finalizers finished".to_string(),
        )
    } else {
        (
            "True",
            "SomeFinalizersRemain",
            format!(
                "Some content in the namespace has finalizers remaining: {} resource instances",
                waiting_on_finalizers.len()
            ),
        )
    };
    meta::upsert_condition(
        &mut conditions,
        cond(
            "NamespaceFinalizersRemaining",
            finalizer_msg.0,
            finalizer_msg.1,
            finalizer_msg.2,
        ),
        &now,
    );
    let status = json!({"conditions": conditions, "phase": "Terminating"});
    if !meta::status_is(ns, &status) {
        out.push(Effect::UpdateStatus(meta::with_status(ns, status)));
    }

    if remaining.is_empty() {
        let finalizers = meta::array_at(ns, &["spec", "finalizers"]);
        if finalizers.iter().any(|f| f == "kubernetes") {
            let mut done = ns.clone();
            let kept = finalizers
                .iter()
                .filter(|f| *f != "kubernetes")
                .cloned()
                .collect();
            meta::set_path(&mut done, &["spec", "finalizers"], Value::Array(kept));
            out.push(Effect::Update(done));
        }
    } else {
        // Objects with finalizers leave on their own time; look again.
        out.requeue(SimDuration::from_secs(5));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::test_world::*;
    use super::*;
    use crate::clock::SimTime;

    fn ns() -> Value {
        json!({"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": "shop", "deletionTimestamp": "2024-05-01T10:00:00Z"},
            "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}})
    }

    #[test]
    fn terminating_namespace_deletes_its_contents() {
        let world = FakeWorld::with([
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": "shop"}}),
            json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w", "namespace": "shop",
                "deletionTimestamp": "2024-05-01T10:00:00Z", "finalizers": ["example.com/cleanup"]}}),
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "b", "namespace": "other"}}),
        ]);
        let out = step(&ns(), &world, SimTime::from_unix_secs(0));
        let gone = deleted(&out);
        assert_eq!(gone.len(), 1);
        assert_eq!(gone[0].name, "a");
        let st = status(&out).unwrap();
        assert_eq!(st["phase"], "Terminating");
        assert!(
            updated(&out).is_empty(),
            "finalizer stays while content remains"
        );
        assert!(requeue(&out).is_some());
    }

    #[test]
    fn empty_namespace_drops_its_finalizer() {
        let out = step(&ns(), &FakeWorld::default(), SimTime::from_unix_secs(0));
        let up = updated(&out)[0];
        assert_eq!(up["spec"]["finalizers"], json!([]));
    }

    #[test]
    fn live_namespace_is_marked_active() {
        let fresh = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}});
        let out = step(&fresh, &FakeWorld::default(), SimTime::from_unix_secs(0));
        assert_eq!(status(&out).unwrap()["phase"], "Active");
        let active = meta::with_status(&fresh, json!({"phase": "Active"}));
        assert!(
            step(&active, &FakeWorld::default(), SimTime::from_unix_secs(0))
                .effects
                .is_empty()
        );
    }
}
