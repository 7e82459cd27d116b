//! PersistentVolumeClaim binder with a dynamic provisioner: a Pending claim is bound at once
//! to a volume `pvc-<uid>` of the requested size.

use serde_json::{Value, json};

use super::meta;
use super::{CONTROLLER_MANAGER, Ctx, Effect, EventSpec, EventType, Outcome};

const PROVISIONER: &str = "rancher.io/local-path";

/// One reconcile step for a PersistentVolumeClaim.
pub fn reconcile(pvc: &Value, _ctx: &mut Ctx<'_>) -> Outcome {
    let mut out = Outcome::new(CONTROLLER_MANAGER);
    if meta::is_terminating(pvc) {
        return out;
    }
    let volume = match meta::str_at(pvc, &["spec", "volumeName"]) {
        "" => format!("pvc-{}", meta::uid(pvc)),
        v => v.to_string(),
    };
    if meta::str_at(pvc, &["spec", "volumeName"]).is_empty() {
        let mut bound = pvc.clone();
        meta::set_path(&mut bound, &["spec", "volumeName"], json!(volume));
        if let Some(md) = bound.get_mut("metadata").and_then(Value::as_object_mut) {
            let ann = md.entry("annotations").or_insert_with(|| json!({}));
            if let Some(ann) = ann.as_object_mut() {
                ann.insert("pv.kubernetes.io/bind-completed".into(), json!("yes"));
                ann.insert("pv.kubernetes.io/bound-by-controller".into(), json!("yes"));
                ann.insert(
                    "volume.beta.kubernetes.io/storage-provisioner".into(),
                    json!(PROVISIONER),
                );
                ann.insert(
                    "volume.kubernetes.io/storage-provisioner".into(),
                    json!(PROVISIONER),
                );
            }
        }
        out.push(Effect::Update(bound));
        out.event(EventSpec::new(
            pvc,
            "persistentvolume-controller",
            EventType::Normal,
            "ProvisioningSucceeded",
            format!("Successfully provisioned volume {volume}"),
        ));
    }
    let storage = meta::at(pvc, &["spec", "resources", "requests", "storage"])
        .cloned()
        .unwrap_or_else(|| json!("1Gi"));
    let access_modes = meta::at(pvc, &["spec", "accessModes"])
        .cloned()
        .unwrap_or_else(|| json!(["ReadWriteOnce"]));
    let status = json!({
        "accessModes": access_modes,
        "capacity": {"storage": storage},
        "phase": "Bound",
    });
    if !meta::status_is(pvc, &status) {
        out.push(Effect::UpdateStatus(meta::with_status(pvc, status)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::test_world::*;
    use super::*;
    use crate::clock::SimTime;

    #[test]
    fn binds_a_pending_claim() {
        let pvc = json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": {"name": "data", "namespace": "shop", "uid": "abc"},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "5Gi"}}},
            "status": {"phase": "Pending"}});
        let out = step(&pvc, &FakeWorld::default(), SimTime::from_unix_secs(0));
        let up = updated(&out)[0];
        assert_eq!(up["spec"]["volumeName"], "pvc-abc");
        assert_eq!(
            up["metadata"]["annotations"]["pv.kubernetes.io/bind-completed"],
            "yes"
        );
        let st = status(&out).unwrap();
        assert_eq!(st["phase"], "Bound");
        assert_eq!(st["capacity"]["storage"], "5Gi");
        assert_eq!(reasons(&out), vec!["ProvisioningSucceeded"]);
        let mut bound = meta::with_status(up, st.clone());
        bound["metadata"]["resourceVersion"] = json!("2");
        assert!(
            step(&bound, &FakeWorld::default(), SimTime::from_unix_secs(1))
                .effects
                .is_empty()
        );
    }
}
