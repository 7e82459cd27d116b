//! The router: a tower `Service` answering every request of the emulated API server. The
//! same service backs the in-process `kube::Client` and the HTTP listener.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use http::{HeaderMap, Method, Request, Response, header};
use http_body_util::{BodyExt, Limited, StreamBody};
use serde_json::Value;

use super::audit::{Audit, AuditEntry};
use super::delete::{DeleteOptions, Deleted, Propagation};
use super::discovery;
use super::faults::{self, Faults};
use super::kinds::ResourceType;
use super::openapi;
use super::render::{self, ResponseBody};
use super::request::{self, DiscoveryFormat, Format, Query, ResourcePath, Route};
use super::scale;
use super::selectors::{FieldSelector, LabelSelector, Selectors};
use super::status::{ApiError, success_status};
use super::store::Store;
use super::table::IncludeObject;
use super::watch::{self, WatchParams};
use super::write::{PatchBody, WriteOptions};

/// Largest request body accepted (the real limit is 3 MiB per object; big CRDs come close).
const MAX_BODY: usize = 32 * 1024 * 1024;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

struct Shared {
    store: Store,
    audit: Arc<Audit>,
    faults: Arc<Faults>,
    bookmark_interval: Duration,
    server_address: String,
}

/// The emulated API server as a tower service. Cheap to clone.
#[derive(Clone)]
pub struct Router {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Router {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Router")
            .field("server_address", &self.shared.server_address)
            .finish()
    }
}

impl<B> tower::Service<Request<B>> for Router
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = Response<ResponseBody>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let router = self.clone();
        Box::pin(async move { Ok(router.handle(req).await) })
    }
}

fn header_str(h: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

impl Router {
    /// A router over `store`, recording requests in `audit` and misbehaving as `faults`
    /// say. `server_address` is what `/api` reports as the server's address.
    pub fn new(
        store: Store,
        audit: Arc<Audit>,
        faults: Arc<Faults>,
        bookmark_interval: Duration,
        server_address: String,
    ) -> Self {
        Self {
            shared: Arc::new(Shared {
                store,
                audit,
                faults,
                bookmark_interval,
                server_address,
            }),
        }
    }

    /// Answers one request.
    pub async fn handle<B>(&self, req: Request<B>) -> Response<ResponseBody>
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        let (parts, body) = req.into_parts();
        let route = request::route(parts.uri.path());
        if route == Route::Faults {
            return self.faults(&parts.method, body).await;
        }
        if let Some(e) = self
            .shared
            .faults
            .before(parts.uri.path(), &parts.headers)
            .await
        {
            return render::error_response(&e);
        }
        let query = Query::parse(parts.uri.query());
        let accept = header_str(&parts.headers, header::ACCEPT);
        if let Route::Resource(rp) = route {
            let body = if matches!(
                parts.method,
                Method::POST | Method::PUT | Method::PATCH | Method::DELETE
            ) {
                match Limited::new(body, MAX_BODY).collect().await {
                    Ok(c) => c.to_bytes(),
                    Err(e) => {
                        return render::error_response(&ApiError::bad_request(format!(
                            "cannot read the request body: {e}"
                        )));
                    }
                }
            } else {
                Bytes::new()
            };
            return self.resource(&parts.method, &parts.headers, rp, &query, body);
        }
        if parts.method != Method::GET && parts.method != Method::HEAD {
            return render::error_response(&ApiError::method_not_allowed());
        }
        let registry = self.shared.store.registry();
        match route {
            Route::Version => render::json_response(200, &super::version_info()),
            Route::Health => {
                render::bytes_response(200, "text/plain; charset=utf-8", Bytes::from_static(b"ok"))
            }
            Route::CoreVersions | Route::Groups => {
                let core = route == Route::CoreVersions;
                match request::discovery_format(accept) {
                    DiscoveryFormat::AggregatedV2 => aggregated(
                        &registry,
                        core,
                        "apidiscovery.k8s.io/v2",
                        discovery::AGGREGATED_V2,
                    ),
                    DiscoveryFormat::AggregatedV2Beta1 => aggregated(
                        &registry,
                        core,
                        "apidiscovery.k8s.io/v2beta1",
                        discovery::AGGREGATED_V2BETA1,
                    ),
                    DiscoveryFormat::Legacy if core => render::json_response(
                        200,
                        &discovery::core_versions(&self.shared.server_address),
                    ),
                    DiscoveryFormat::Legacy => {
                        render::json_response(200, &discovery::group_list(&registry))
                    }
                }
            }
            Route::Group(g) => match discovery::group(&registry, &g) {
                Some(doc) => render::json_response(200, &doc),
                None => render::error_response(&ApiError::page_not_found()),
            },
            Route::Resources { group, version } => {
                match discovery::resource_list(&registry, &group, &version) {
                    Some(doc) => render::json_response(200, &doc),
                    None => render::error_response(&ApiError::page_not_found()),
                }
            }
            Route::OpenApiV2 => openapi::v2(accept),
            Route::OpenApiRoot => render::json_response(200, &openapi::root(&registry)),
            Route::OpenApiDoc { group, version } => {
                match openapi::document(&registry, &group, &version) {
                    Some(doc) => render::json_response(200, &doc),
                    None => render::error_response(&ApiError::no_route()),
                }
            }
            Route::Audit => render::bytes_response(
                200,
                "application/x-ndjson",
                Bytes::from(self.shared.audit.json_lines()),
            ),
            Route::Resource(_) | Route::Faults | Route::Unknown => {
                render::error_response(&ApiError::page_not_found())
            }
        }
    }

    /// `GET /rekon/faults` shows the switches; `PUT` replaces them (JSON or a SPEC).
    async fn faults<B>(&self, method: &Method, body: B) -> Response<ResponseBody>
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        let f = &self.shared.faults;
        match *method {
            Method::GET | Method::HEAD => render::json_response(200, &f.view()),
            Method::PUT => {
                let body = match Limited::new(body, 1024 * 1024).collect().await {
                    Ok(c) => c.to_bytes(),
                    Err(e) => {
                        return render::error_response(&ApiError::bad_request(format!(
                            "cannot read the request body: {e}"
                        )));
                    }
                };
                let (spec, actions) = match faults::parse_put(&body) {
                    Ok(p) => p,
                    Err(e) => return render::error_response(&ApiError::bad_request(e.to_string())),
                };
                if let Err(e) = f.set(spec) {
                    return render::error_response(&ApiError::bad_request(e.to_string()));
                }
                if let Err(e) = f.act(&self.shared.store, &actions) {
                    return render::error_response(&ApiError::bad_request(e));
                }
                render::json_response(200, &f.view())
            }
            _ => render::error_response(&ApiError::method_not_allowed()),
        }
    }

    fn resource(
        &self,
        method: &Method,
        headers: &HeaderMap,
        rp: ResourcePath,
        query: &Query,
        body: Bytes,
    ) -> Response<ResponseBody> {
        let mut entry = AuditEntry {
            seq: 0,
            verb: String::new(),
            group: rp.group.clone(),
            version: rp.version.clone(),
            resource: rp.resource.clone(),
            subresource: rp.subresource.clone(),
            namespace: rp.namespace.clone().unwrap_or_default(),
            name: rp.name.clone().unwrap_or_default(),
            field_manager: String::new(),
            dry_run: false,
            code: 0,
        };
        if entry.name.is_empty() && *method == Method::POST {
            // A create names its object in the body; the log should name it too.
            entry.name = created_name(&body);
        }
        let response = match self.dispatch(method, headers, &rp, query, body, &mut entry) {
            Ok(r) => r,
            Err(e) => render::error_response(&e),
        };
        if !entry.verb.is_empty() {
            entry.code = response.status().as_u16();
            self.shared.audit.record(entry);
        }
        response
    }

    fn dispatch(
        &self,
        method: &Method,
        headers: &HeaderMap,
        rp: &ResourcePath,
        query: &Query,
        body: Bytes,
        entry: &mut AuditEntry,
    ) -> Result<Response<ResponseBody>, ApiError> {
        let store = &self.shared.store;
        let registry = store.registry();
        let rt = match registry.get(&rp.group, &rp.version, &rp.resource) {
            Some(rt) => rt.clone(),
            // A served group version answers with a Status; any other path with the plain
            // text kube-apiserver's mux answers with.
            None if registry
                .types()
                .iter()
                .any(|t| t.group == rp.group && t.version == rp.version) =>
            {
                return Err(ApiError::no_route());
            }
            None => return Err(ApiError::page_not_found()),
        };
        if !rt.namespaced && rp.namespace.is_some() {
            return Err(ApiError::no_route());
        }
        let sub = rp.subresource.as_deref();
        let sub_ok = match sub {
            None => true,
            Some("status") => rt.status,
            Some("scale") => rt.scale.is_some(),
            Some("finalize") => rt.group.is_empty() && rt.resource == "namespaces",
            Some(_) => false,
        };
        if !sub_ok {
            return Err(ApiError::no_route());
        }
        let watch_requested = rp.legacy_watch || query.flag("watch");
        let verb = match (method.clone(), rp.name.is_some(), sub) {
            (Method::GET, false, None) if watch_requested => "watch",
            (Method::GET, false, None) => "list",
            (Method::GET, true, _) if rp.legacy_watch => "watch",
            (Method::GET, true, Some("finalize")) => return Err(ApiError::method_not_allowed()),
            (Method::GET, true, _) => "get",
            (Method::POST, false, None) => "create",
            (Method::PUT, true, _) => "update",
            (Method::PATCH, true, Some("finalize")) => return Err(ApiError::method_not_allowed()),
            (Method::PATCH, true, _) => "patch",
            (Method::DELETE, true, None) => "delete",
            (Method::DELETE, false, None) => "deletecollection",
            _ => return Err(ApiError::method_not_allowed()),
        };
        if rt.namespaced && rp.namespace.is_none() && !matches!(verb, "list" | "watch") {
            return Err(ApiError::no_route());
        }
        entry.verb = verb.to_string();
        let ns = rp.namespace.clone().unwrap_or_default();
        let name = rp.name.clone().unwrap_or_default();
        self.shared.faults.check_forbidden(&rt, verb, &ns, &name)?;
        // Only writes take dryRun (a read ignores it, as kube-apiserver's options do).
        let dry_run = match verb {
            "create" | "update" | "patch" | "delete" | "deletecollection" => query.dry_run(verb)?,
            _ => false,
        };
        entry.dry_run = dry_run;
        let accept = header_str(headers, header::ACCEPT);
        let include = IncludeObject::parse(query.get("includeObject"));
        match verb {
            "get" => {
                let format = request::response_format(accept)?;
                let obj = store
                    .get_stored(&rt.group_resource(), &ns, &name)
                    .ok_or_else(|| ApiError::not_found(&rt.group, &rt.resource, &name))?;
                if sub == Some("scale") {
                    return Ok(render::json_response(200, &scale::scale_view(&rt, &obj)));
                }
                Ok(render::object_response(200, &rt, &obj, format, include))
            }
            "list" => {
                let format = request::response_format(accept)?;
                let selectors = selectors(&rt, query)?;
                let (rv, items) = list(store, &rt, rp.namespace.as_deref(), &selectors);
                if format == Format::Object
                    && let Some(page) = super::paging::page(store, query, items.clone(), rv)?
                {
                    return Ok(render::list_page_response(&rt, &page));
                }
                Ok(render::list_response(&rt, &items, rv, format, include))
            }
            "watch" => {
                let format = request::response_format(accept)?;
                let mut selectors = selectors(&rt, query)?;
                if rp.name.is_some() {
                    selectors.fields.0.push(super::selectors::FieldTerm {
                        field: "metadata.name".into(),
                        value: name.clone(),
                        negated: false,
                    });
                }
                let send_initial = query.get("sendInitialEvents").map(|v| v == "true");
                if send_initial == Some(true)
                    && query.get("resourceVersionMatch") != Some("NotOlderThan")
                {
                    return Err(ApiError::invalid_options(
                        "ListOptions",
                        super::status::Cause::new(
                            "FieldValueForbidden",
                            "resourceVersionMatch",
                            "Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan",
                        ),
                    ));
                }
                let start = watch::start_of(query.get("resourceVersion"), send_initial)?;
                let timeout = query
                    .get("timeoutSeconds")
                    .and_then(|t| t.parse::<u64>().ok())
                    .filter(|t| *t > 0)
                    .map(Duration::from_secs);
                let params = WatchParams {
                    rt: rt.clone(),
                    namespace: rp.namespace.clone(),
                    selectors,
                    start,
                    // The end of the initial events is told only to clients that take
                    // bookmarks.
                    initial_events_end: send_initial == Some(true)
                        && query.flag("allowWatchBookmarks"),
                    bookmarks: query.flag("allowWatchBookmarks"),
                    timeout,
                    format,
                    include,
                    bookmark_interval: self.shared.bookmark_interval,
                };
                let stream = watch::watch_stream(store.clone(), params)
                    .map(|b| Ok::<_, Infallible>(http_body::Frame::data(b)));
                let mut r = Response::new(StreamBody::new(stream).boxed_unsync());
                if let Ok(v) = header::HeaderValue::from_str(render::watch_content_type(format)) {
                    r.headers_mut().insert(header::CONTENT_TYPE, v);
                }
                Ok(r)
            }
            "create" | "update" | "patch" => {
                let ct = request::content_type(header_str(headers, header::CONTENT_TYPE));
                let manager = match query.get("fieldManager").filter(|m| !m.is_empty()) {
                    Some(m) => m.to_string(),
                    None if ct == "application/apply-patch+yaml" => String::new(),
                    None => {
                        request::manager_from_user_agent(header_str(headers, header::USER_AGENT))
                    }
                };
                entry.field_manager = manager.clone();
                let force = query.flag("force");
                if force && ct != "application/apply-patch+yaml" {
                    return Err(ApiError::bad_request(
                        "force flag must only be set for apply patches",
                    ));
                }
                let opts = WriteOptions {
                    manager,
                    dry_run,
                    force,
                };
                self.write(verb, &rt, &ns, &name, sub, &ct, &body, &opts)
            }
            "delete" => {
                let mut opts = if body.iter().all(u8::is_ascii_whitespace) {
                    DeleteOptions::default()
                } else {
                    let v: Value = serde_json::from_slice(&body).map_err(|e| {
                        ApiError::bad_request(format!(
                            "the DeleteOptions body is not valid JSON: {e}"
                        ))
                    })?;
                    DeleteOptions::from_body(&v)?
                };
                if let Some(p) = query.get("propagationPolicy") {
                    opts.propagation = Some(Propagation::parse(p)?);
                }
                opts.dry_run |= dry_run;
                entry.dry_run = opts.dry_run;
                match store.delete(&rt, &ns, &name, &opts)? {
                    Deleted::Gone(obj) if !rt.custom => Ok(render::json_response(
                        200,
                        &success_status(&rt.group, &rt.resource, &name, obj.uid()),
                    )),
                    Deleted::Gone(obj) => Ok(render::object_response(
                        200,
                        &rt,
                        &obj,
                        Format::Object,
                        include,
                    )),
                    Deleted::Pending(obj) => Ok(render::object_response(
                        if opts.cascade_requested { 202 } else { 200 },
                        &rt,
                        &obj,
                        Format::Object,
                        include,
                    )),
                }
            }
            "deletecollection" => {
                let selectors = selectors(&rt, query)?;
                let mut opts = DeleteOptions {
                    dry_run,
                    ..DeleteOptions::default()
                };
                if let Some(p) = query.get("propagationPolicy") {
                    opts.propagation = Some(Propagation::parse(p)?);
                }
                let ns_filter = rt
                    .namespaced
                    .then_some(ns.as_str())
                    .filter(|n| !n.is_empty());
                let deleted = store.delete_collection(&rt, ns_filter, &selectors, &opts)?;
                let items: Vec<_> = deleted.iter().map(|d| d.object().clone()).collect();
                Ok(render::list_response(
                    &rt,
                    &items,
                    store.resource_version(),
                    Format::Object,
                    include,
                ))
            }
            _ => Err(ApiError::method_not_allowed()),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn write(
        &self,
        verb: &str,
        rt: &ResourceType,
        ns: &str,
        name: &str,
        sub: Option<&str>,
        ct: &str,
        body: &[u8],
        opts: &WriteOptions,
    ) -> Result<Response<ResponseBody>, ApiError> {
        let store = &self.shared.store;
        let written = match (verb, sub) {
            ("create", _) => store.create(rt, ns, parse_object(body, ct)?, opts)?,
            ("update", Some("scale")) => {
                let wanted = parse_object(body, ct)?;
                store.write_scale(rt, ns, name, opts, |_| Ok(wanted.clone()))?
            }
            ("update", _) => store.update(rt, ns, name, parse_object(body, ct)?, sub, opts)?,
            ("patch", Some("scale")) => {
                let doc = parse_patch(body, ct)?;
                store.write_scale(rt, ns, name, opts, |current| {
                    let mut s = current.clone();
                    match &doc {
                        PatchBody::Merge(p) | PatchBody::Strategic(p) | PatchBody::Apply(p) => {
                            super::patch::merge_patch(&mut s, p)
                        }
                        PatchBody::Json(p) => super::patch::json_patch(&mut s, p)
                            .map_err(|e| super::write::patch_error(e, p))?,
                    }
                    Ok(s)
                })?
            }
            _ => store.patch(rt, ns, name, parse_patch(body, ct)?, sub, opts)?,
        };
        let code = if written.created { 201 } else { 200 };
        if sub == Some("scale") {
            return Ok(render::json_response(
                code,
                &scale::scale_view(rt, &written.object),
            ));
        }
        Ok(render::object_response(
            code,
            rt,
            &written.object,
            Format::Object,
            IncludeObject::Metadata,
        ))
    }
}

fn aggregated(
    registry: &super::kinds::Registry,
    core: bool,
    api_version: &str,
    content_type: &str,
) -> Response<ResponseBody> {
    let doc = discovery::aggregated(registry, core, api_version);
    render::bytes_response(
        200,
        content_type,
        Bytes::from(serde_json::to_vec(&doc).unwrap_or_default()),
    )
}

fn selectors(rt: &ResourceType, query: &Query) -> Result<Selectors, ApiError> {
    Ok(Selectors {
        labels: LabelSelector::parse(query.get("labelSelector").unwrap_or(""))?,
        fields: FieldSelector::parse(query.get("fieldSelector").unwrap_or(""), rt)?,
    })
}

fn list(
    store: &Store,
    rt: &ResourceType,
    ns: Option<&str>,
    selectors: &Selectors,
) -> (u64, Vec<Arc<super::store::Stored>>) {
    let gr = rt.group_resource();
    // `kubectl delete --wait` and `rollout status` list by name: answer without a scan.
    if let Some(name) = selectors.fields.pinned_name() {
        let rv = store.resource_version();
        let found: Vec<Arc<super::store::Stored>> = match (rt.namespaced, ns) {
            (true, Some(ns)) => store.get_stored(&gr, ns, name).into_iter().collect(),
            (false, _) => store.get_stored(&gr, "", name).into_iter().collect(),
            (true, None) => store
                .list_stored(&gr, None)
                .1
                .into_iter()
                .filter(|o| o.name() == name)
                .collect(),
        };
        let items: Vec<_> = found
            .into_iter()
            .filter(|o| selectors.matches(&o.object))
            .collect();
        return (rv, items);
    }
    let (rv, items) = store.list_stored(&gr, ns);
    if selectors.labels.is_empty() && selectors.fields.0.is_empty() {
        return (rv, items);
    }
    (
        rv,
        items
            .into_iter()
            .filter(|o| selectors.matches(&o.object))
            .collect(),
    )
}

fn parse_object(body: &[u8], ct: &str) -> Result<Value, ApiError> {
    match ct {
        "" | "application/json" => serde_json::from_slice(body)
            .map_err(|e| ApiError::bad_request(format!("the request body is not valid JSON: {e}"))),
        "application/yaml" => parse_yaml(body),
        "application/vnd.kubernetes.protobuf" => super::protobuf::decode(body)
            .map_err(|e| ApiError::bad_request(format!("cannot decode the protobuf body: {e}"))),
        other => Err(ApiError::unsupported_media_type(
            other,
            &[
                "application/json",
                "application/yaml",
                "application/vnd.kubernetes.protobuf",
            ],
        )),
    }
}

fn parse_yaml(body: &[u8]) -> Result<Value, ApiError> {
    if let Ok(v) = serde_json::from_slice::<Value>(body) {
        return Ok(v);
    }
    let text = std::str::from_utf8(body)
        .map_err(|_| ApiError::bad_request("the request body is not UTF-8"))?;
    let mut docs = crate::yaml::documents(text, "request body").map_err(ApiError::bad_request)?;
    match docs.len() {
        1 => Ok(docs.remove(0)),
        0 => Err(ApiError::bad_request("the request body is empty")),
        _ => Err(ApiError::bad_request(
            "the request body holds more than one YAML document",
        )),
    }
}

fn parse_patch(body: &[u8], ct: &str) -> Result<PatchBody, ApiError> {
    let json = || -> Result<Value, ApiError> {
        serde_json::from_slice(body)
            .map_err(|e| ApiError::bad_request(format!("the patch is not valid JSON: {e}")))
    };
    match ct {
        "application/apply-patch+yaml" => Ok(PatchBody::Apply(parse_yaml(body)?)),
        "application/merge-patch+json" => Ok(PatchBody::Merge(json()?)),
        "application/json-patch+json" => serde_json::from_slice(body)
            .map(PatchBody::Json)
            .map_err(|_| ApiError::bad_request("invalid JSON patch")),
        "application/strategic-merge-patch+json" => Ok(PatchBody::Strategic(json()?)),
        "" => Err(ApiError::no_media_type()),
        other => Err(ApiError::unsupported_media_type(
            other,
            &[
                "application/json-patch+json",
                "application/merge-patch+json",
                "application/apply-patch+yaml",
                "application/strategic-merge-patch+json",
            ],
        )),
    }
}

/// `metadata.name` of a create's JSON body (empty for generateName, protobuf or garbage).
fn created_name(body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct Meta {
        #[serde(default)]
        name: String,
    }
    #[derive(serde::Deserialize)]
    struct NameOnly {
        metadata: Meta,
    }
    serde_json::from_slice::<NameOnly>(body)
        .map(|n| n.metadata.name)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bodies_by_content_type() {
        assert!(parse_object(b"{\"a\":1}", "application/json").is_ok());
        assert_eq!(
            parse_object(b"a: 1", "application/yaml").unwrap(),
            json!({"a": 1})
        );
        assert_eq!(
            parse_object(b"x", "application/vnd.kubernetes.protobuf")
                .unwrap_err()
                .code,
            400
        );
        assert_eq!(
            parse_object(b"x", "application/cbor").unwrap_err().code,
            415
        );
        assert_eq!(
            parse_object(b"{", "application/json").unwrap_err().code,
            400
        );
        assert!(matches!(
            parse_patch(b"kind: X", "application/apply-patch+yaml").unwrap(),
            PatchBody::Apply(_)
        ));
        assert_eq!(parse_patch(b"{}", "text/plain").unwrap_err().code, 415);
        assert_eq!(parse_yaml(b"a: 1\n---\nb: 2\n").unwrap_err().code, 400);
    }
}
