//! Discovery: the legacy and named groups, resource lists of a group version, `/version`.

use crate::differential::runner::{Req, Run};

/// `/api`, `/apis`, `/api/v1` and `/apis/apps/v1`.
pub async fn discovery(r: &mut Run) {
    r.step(
        "core versions",
        Req::get("/api").ignore("/body/serverAddressByClientCIDRs/*/serverAddress"),
    )
    .await;
    r.step("groups", Req::get("/apis")).await;
    r.step("core v1 resources", Req::get("/api/v1")).await;
    r.step("apps v1 resources", Req::get("/apis/apps/v1")).await;
    r.step("apps group", Req::get("/apis/apps")).await;
    r.step("unknown group", Req::get("/apis/nope.example.com"))
        .await;
}

/// `/version`.
pub async fn version(r: &mut Run) {
    r.step(
        "version",
        Req::get("/version")
            .ignore("/body/buildDate")
            .ignore("/body/goVersion")
            .ignore("/body/gitCommit"),
    )
    .await;
}
