//! Lists: label and field selectors, paging with `limit` and `continue`, and Tables.

use serde_json::json;

use super::{configmap, core, deployment, group};
use crate::differential::runner::{Req, Run, TABLE};

/// ConfigMaps `c1`…`cN` labelled `set=<set>`, `n=<i>`, `odd` on odd ones.
async fn configmaps(r: &mut Run, set: &str, count: usize) {
    let cms = core(&r.ns, "configmaps", "");
    for i in 1..=count {
        let mut labels = json!({"set": set, "n": i.to_string()});
        if i % 2 == 1 {
            labels["odd"] = json!("");
        }
        let body = configmap(&format!("c{i}"), labels, json!({"i": i.to_string()}));
        r.step(&format!("create c{i}"), Req::post(&cms, body)).await;
    }
}

/// Equality, inequality, set-based and existence selectors, and malformed ones.
pub async fn label_selectors(r: &mut Run) {
    configmaps(r, "labels", 4).await;
    let cms = core(&r.ns, "configmaps", "");
    for selector in [
        "set%3Dlabels",
        "set%3Dlabels%2Cn%21%3D2",
        "n%20in%20(1%2C3%2C4)",
        "set%3Dlabels%2Cn%20notin%20(1%2C3)",
        "odd",
        "set%2C%21odd",
        "n%3E2",
        "n%3D%3D4",
        "set%3D%3D%3D",
        "n%20in%20(",
        "Bad%20Key%3D1",
    ] {
        let query = selector.replace("%3D", "=").replace("%2C", ",");
        r.step(
            &format!("labelSelector {query}"),
            Req::get(format!("{cms}?labelSelector={selector}")),
        )
        .await;
    }
}

/// `metadata.name` and `metadata.namespace` selectors, and a field not supported.
pub async fn field_selectors(r: &mut Run) {
    configmaps(r, "fields", 3).await;
    let cms = core(&r.ns, "configmaps", "");
    let ns = r.ns.clone();
    for selector in [
        "metadata.name%3Dc2".to_string(),
        "metadata.name%21%3Dc2%2Cmetadata.name%21%3Dkube-root-ca.crt".to_string(),
        format!("metadata.namespace%3D{ns}%2Cmetadata.name%3Dc1"),
        "metadata.namespace%3Dother".to_string(),
        "data.i%3D1".to_string(),
        "metadata.name".to_string(),
    ] {
        r.step(
            &format!("fieldSelector {selector}"),
            Req::get(format!("{cms}?fieldSelector={selector}")),
        )
        .await;
    }
    r.step(
        "across namespaces",
        Req::get(format!(
            "/api/v1/configmaps?fieldSelector=metadata.namespace%3D{ns}%2Cmetadata.name%3Dc3"
        )),
    )
    .await;
}

/// `limit` and `continue`: pages in order, `remainingItemCount`, the last page without a
/// token, a token that is not one.
pub async fn paging(r: &mut Run) {
    configmaps(r, "pages", 5).await;
    let cms = format!(
        "{}?labelSelector=set%3Dpages",
        core(&r.ns, "configmaps", "")
    );
    let mut page = r.step("page 1", Req::get(format!("{cms}&limit=2"))).await;
    let mut n = 2;
    while let Some(token) = page["metadata"]["continue"]
        .as_str()
        .filter(|t| !t.is_empty())
    {
        let token = token.to_string();
        page = r
            .step(
                &format!("page {n}"),
                Req::get(format!("{cms}&limit=2&continue={token}")),
            )
            .await;
        n += 1;
        if n > 5 {
            break;
        }
    }
    r.step("limit 0", Req::get(format!("{cms}&limit=0"))).await;
    r.step(
        "a token that is not one",
        Req::get(format!("{cms}&limit=2&continue=bm90LWEtdG9rZW4")),
    )
    .await;
}

/// `Accept: application/json;as=Table;…`: the columns and rows of ConfigMaps and
/// Deployments, of one object, and with `includeObject`.
pub async fn tables(r: &mut Run) {
    configmaps(r, "tables", 2).await;
    let cms = format!(
        "{}?labelSelector=set%3Dtables",
        core(&r.ns, "configmaps", "")
    );
    let age = "/body/rows/*/cells/2";
    r.step(
        "configmaps",
        Req::get(&cms).header("Accept", TABLE).ignore(age),
    )
    .await;
    r.step(
        "one configmap",
        Req::get(core(&r.ns, "configmaps", "c1"))
            .header("Accept", TABLE)
            .ignore(age),
    )
    .await;
    r.step(
        "without objects",
        Req::get(format!("{cms}&includeObject=None"))
            .header("Accept", TABLE)
            .ignore(age),
    )
    .await;
    r.step(
        "with objects",
        Req::get(format!("{cms}&includeObject=Object"))
            .header("Accept", TABLE)
            .ignore(age),
    )
    .await;
    let deployments = group("apps/v1", &r.ns, "deployments", "");
    let mut d = deployment("tabled", 0);
    d["spec"]["paused"] = json!(true);
    r.step(
        "create a deployment",
        Req::post(&deployments, d)
            .ignore("/body/status")
            .ignore("/body/metadata"),
    )
    .await;
    r.step(
        "deployments",
        Req::get(format!("{deployments}?includeObject=None"))
            .header("Accept", TABLE)
            .ignore("/body/rows/*/cells/4")
            .ignore("/body/metadata"),
    )
    .await;
    r.step(
        "table or json",
        Req::get(&cms)
            .header("Accept", format!("{TABLE},application/json"))
            .ignore(age),
    )
    .await;
    r.step(
        "table v1beta1",
        Req::get(&cms)
            .header(
                "Accept",
                "application/json;as=Table;g=meta.k8s.io;v=v1beta1",
            )
            .ignore(age),
    )
    .await;
    r.step(
        "not acceptable",
        Req::get(&cms).header("Accept", "application/xml"),
    )
    .await;
}
