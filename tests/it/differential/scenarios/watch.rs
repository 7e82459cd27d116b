//! Watches: resuming from a resourceVersion, bookmarks, initial events with their end
//! bookmark, selectors, live events, and 410 Gone for a resourceVersion the watch cache of a
//! resource does not reach back to.

use serde_json::json;

use super::{configmap, core, crd, established, rv};
use crate::differential::runner::{Patch, Req, Run};

/// Read a watch to its end (its `timeoutSeconds`).
const ALL: usize = usize::MAX;

/// Changes after a resourceVersion come back in order, whichever rv the watch starts at.
pub async fn resume(r: &mut Run) {
    let cms = core(&r.ns, "configmaps", "");
    let cm = core(&r.ns, "configmaps", "w");
    let created = r
        .step(
            "create",
            Req::post(&cms, configmap("w", json!({}), json!({"n": "0"}))),
        )
        .await;
    let first = r
        .step(
            "patch 1",
            Req::patch(&cm, Patch::Merge, json!({"data": {"n": "1"}})),
        )
        .await;
    r.step(
        "patch 2",
        Req::patch(&cm, Patch::Merge, json!({"data": {"n": "2"}})),
    )
    .await;
    r.step("delete", Req::delete(&cm)).await;
    let path = |from: &str| format!("{cms}?watch=1&resourceVersion={from}&timeoutSeconds=1");
    r.watch("from the create", path(&rv(&created)), ALL).await;
    r.watch("from the first patch", path(&rv(&first)), ALL)
        .await;
    r.watch("not a resourceVersion", path("abc"), ALL).await;
}

/// `allowWatchBookmarks`: a quiet watch gets no bookmark in its first seconds (the real
/// server's come about every minute, as the emulator's; their shape is that of the
/// initial-events-end bookmark, in `initial_events`).
pub async fn bookmarks(r: &mut Run) {
    let cms = core(&r.ns, "configmaps", "");
    let created = r
        .step(
            "create",
            Req::post(&cms, configmap("b", json!({}), json!({}))),
        )
        .await;
    let path = format!(
        "{cms}?watch=1&resourceVersion={}&allowWatchBookmarks=true&timeoutSeconds=3",
        rv(&created)
    );
    r.watch("no bookmark within 3 s", path, ALL).await;
}

/// `sendInitialEvents=true`: the current objects as ADDED, then the
/// `k8s.io/initial-events-end` bookmark; and the parameters it requires.
pub async fn initial_events(r: &mut Run) {
    let cms = core(&r.ns, "configmaps", "");
    for name in ["i1", "i2"] {
        let body = configmap(name, json!({"set": "init"}), json!({}));
        r.step(&format!("create {name}"), Req::post(&cms, body))
            .await;
    }
    let query = "watch=1&labelSelector=set%3Dinit&timeoutSeconds=3&sendInitialEvents=true";
    let path = format!("{cms}?{query}&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true");
    r.watch("initial events", path, 3).await;
    let path = format!("{cms}?{query}&allowWatchBookmarks=true");
    r.watch("without resourceVersionMatch", path, ALL).await;
    let path = format!("{cms}?{query}&resourceVersionMatch=NotOlderThan");
    r.watch("without bookmarks", path, ALL).await;
}

/// A label selector: an object leaving the selection is DELETED, coming back ADDED.
pub async fn selector(r: &mut Run) {
    let cms = core(&r.ns, "configmaps", "");
    let cm = core(&r.ns, "configmaps", "s");
    let created = r
        .step(
            "create",
            Req::post(&cms, configmap("s", json!({"tier": "a"}), json!({}))),
        )
        .await;
    for (step, tier) in [("leave", "b"), ("return", "a")] {
        let patch = json!({"metadata": {"labels": {"tier": tier}}});
        r.step(step, Req::patch(&cm, Patch::Merge, patch)).await;
    }
    r.step("delete", Req::delete(&cm)).await;
    let path = format!(
        "{cms}?watch=1&resourceVersion={}&labelSelector=tier%3Da&timeoutSeconds=1",
        rv(&created)
    );
    r.watch("tier=a", path, ALL).await;
    let path = format!(
        "{cms}?watch=1&resourceVersion={}&fieldSelector=metadata.name%3Ds&timeoutSeconds=1",
        rv(&created)
    );
    r.watch("metadata.name=s", path, ALL).await;
}

/// Events of writes made while the watch is open; a watch from `0` starts with the current
/// state.
pub async fn live(r: &mut Run) {
    let cms = core(&r.ns, "configmaps", "");
    let cm = core(&r.ns, "configmaps", "l");
    let open = r
        .open_watch(format!(
            "{cms}?watch=1&labelSelector=live%3Dyes&timeoutSeconds=10"
        ))
        .await;
    let body = configmap("l", json!({"live": "yes"}), json!({"n": "0"}));
    r.step("create", Req::post(&cms, body)).await;
    let patch = json!({"data": {"n": "1"}});
    r.step("patch", Req::patch(&cm, Patch::Merge, patch)).await;
    r.finish_watch("events", open, 2).await;
    let path =
        format!("{cms}?watch=1&resourceVersion=0&labelSelector=live%3Dyes&timeoutSeconds=10");
    r.watch("from 0", path, 1).await;
}

/// A resourceVersion from before a custom resource's type existed is older than anything
/// its watch cache holds: 410 Gone, in the stream.
pub async fn gone(r: &mut Run) {
    let cms = core(&r.ns, "configmaps", "");
    let before = r
        .step(
            "create",
            Req::post(&cms, configmap("before", json!({}), json!({}))),
        )
        .await;
    let definition = crd("gone.diff.rekon.dev", "Relic", "relics", None, json!({}));
    let crds = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions";
    r.step("create a CRD", Req::post(crds, definition).ignore("/body"))
        .await;
    let name = format!("{crds}/relics.gone.diff.rekon.dev");
    r.wait("established", Req::get(name).ignore("/body"), established)
        .await;
    let relics = format!("/apis/gone.diff.rekon.dev/v1/namespaces/{}/relics", r.ns);
    let relic = json!({"apiVersion": "gone.diff.rekon.dev/v1", "kind": "Relic",
        "metadata": {"name": "r"}});
    r.step("create a custom resource", Req::post(&relics, relic))
        .await;
    let path = format!(
        "{relics}?watch=1&resourceVersion={}&timeoutSeconds=2",
        rv(&before)
    );
    r.watch("from before the type", path, ALL).await;
}
