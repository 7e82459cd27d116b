//! Reading requests: which endpoint a path names, query parameters (kube sends `?&...`),
//! and the media types of `Accept` and `Content-Type`.

use super::status::{ApiError, Cause};

/// A path under `/api/v1` or `/apis/GROUP/VERSION` that names resources.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourcePath {
    /// API group, empty for core.
    pub group: String,
    /// Version.
    pub version: String,
    /// Namespace segment, if the path has one.
    pub namespace: Option<String>,
    /// Plural resource name.
    pub resource: String,
    /// Object name, if any.
    pub name: Option<String>,
    /// Subresource (`status`, `scale`, `finalize`), if any.
    pub subresource: Option<String>,
    /// The deprecated `/watch/` prefix was used.
    pub legacy_watch: bool,
}

/// What a request path names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `/version`
    Version,
    /// `/healthz`, `/livez`, `/readyz`
    Health,
    /// `/api`
    CoreVersions,
    /// `/apis`
    Groups,
    /// `/apis/GROUP`
    Group(String),
    /// `/api/v1`, `/apis/GROUP/VERSION`
    Resources {
        /// API group, empty for core.
        group: String,
        /// Version.
        version: String,
    },
    /// `/openapi/v2`
    OpenApiV2,
    /// `/openapi/v3`
    OpenApiRoot,
    /// `/openapi/v3/api/v1`, `/openapi/v3/apis/G/V`
    OpenApiDoc {
        /// API group, empty for core.
        group: String,
        /// Version.
        version: String,
    },
    /// `/rekon/audit`
    Audit,
    /// `/rekon/faults`
    Faults,
    /// A resource endpoint.
    Resource(ResourcePath),
    /// Anything else.
    Unknown,
}

/// Decodes `%XX` escapes and `+` (as Go's query parser does); invalid escapes stay as they are.
pub fn percent_decode(s: &str, plus_as_space: bool) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                    }
                    None => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' if plus_as_space => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Parses a request path.
pub fn route(path: &str) -> Route {
    let segs: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| percent_decode(s, false))
        .collect();
    let s: Vec<&str> = segs.iter().map(String::as_str).collect();
    match s.as_slice() {
        ["version"] => Route::Version,
        ["healthz" | "livez" | "readyz", ..] => Route::Health,
        ["api"] => Route::CoreVersions,
        ["apis"] => Route::Groups,
        ["apis", g] => Route::Group(g.to_string()),
        ["api", v] => Route::Resources {
            group: String::new(),
            version: v.to_string(),
        },
        ["apis", g, v] => Route::Resources {
            group: g.to_string(),
            version: v.to_string(),
        },
        ["openapi", "v2"] => Route::OpenApiV2,
        ["openapi", "v3"] => Route::OpenApiRoot,
        ["openapi", "v3", "api", v] => Route::OpenApiDoc {
            group: String::new(),
            version: v.to_string(),
        },
        ["openapi", "v3", "apis", g, v] => Route::OpenApiDoc {
            group: g.to_string(),
            version: v.to_string(),
        },
        ["rekon", "audit"] => Route::Audit,
        ["rekon", "faults"] => Route::Faults,
        ["api", v, rest @ ..] => resource_route("", v, rest),
        ["apis", g, v, rest @ ..] => resource_route(g, v, rest),
        _ => Route::Unknown,
    }
}

fn resource_route(group: &str, version: &str, rest: &[&str]) -> Route {
    let (legacy_watch, rest) = match rest {
        ["watch", tail @ ..] => (true, tail),
        _ => (false, rest),
    };
    let make = |namespace: Option<&str>, resource: &str, name: Option<&str>, sub: Option<&str>| {
        Route::Resource(ResourcePath {
            group: group.to_string(),
            version: version.to_string(),
            namespace: namespace.map(String::from),
            resource: resource.to_string(),
            name: name.map(String::from),
            subresource: sub.map(String::from),
            legacy_watch,
        })
    };
    match rest {
        // Namespaces are cluster-scoped: `namespaces/NAME/status` is a subresource, while
        // `namespaces/NS/RESOURCE` is a namespaced collection.
        ["namespaces", name, sub @ ("status" | "finalize")] if group.is_empty() => {
            make(None, "namespaces", Some(name), Some(sub))
        }
        ["namespaces", ns, res] => make(Some(ns), res, None, None),
        ["namespaces", ns, res, name] => make(Some(ns), res, Some(name), None),
        ["namespaces", ns, res, name, sub] => make(Some(ns), res, Some(name), Some(sub)),
        [res] => make(None, res, None, None),
        [res, name] => make(None, res, Some(name), None),
        [res, name, sub] => make(None, res, Some(name), Some(sub)),
        _ => Route::Unknown,
    }
}

/// Query parameters, decoded; empty pairs (`?&`) are skipped.
#[derive(Debug, Clone, Default)]
pub struct Query(Vec<(String, String)>);

impl Query {
    /// Parses a raw query string.
    pub fn parse(raw: Option<&str>) -> Self {
        let pairs = raw
            .unwrap_or("")
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| match p.split_once('=') {
                Some((k, v)) => (percent_decode(k, true), percent_decode(v, true)),
                None => (percent_decode(p, true), String::new()),
            })
            .collect();
        Self(pairs)
    }

    /// The first value of a parameter.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// A boolean parameter (`true`/`1`).
    pub fn flag(&self, key: &str) -> bool {
        matches!(self.get(key), Some("true" | "1" | "True"))
    }

    /// `dryRun=All` (the only value Kubernetes accepts).
    pub fn dry_run(&self, verb: &str) -> Result<bool, ApiError> {
        match self
            .0
            .iter()
            .find(|(k, _)| k == "dryRun")
            .map(|(_, v)| v.as_str())
        {
            None | Some("") => Ok(false),
            Some("All") => Ok(true),
            Some(other) => {
                // Worded as the validation of the verb's options.
                let kind = match verb {
                    "create" => "CreateOptions",
                    "update" => "UpdateOptions",
                    "patch" => "PatchOptions",
                    "delete" | "deletecollection" => "DeleteOptions",
                    _ => "ListOptions",
                };
                let message =
                    format!("Unsupported value: [\"{other}\"]: supported values: \"All\"");
                Err(ApiError::invalid_options(
                    kind,
                    Cause::new("FieldValueNotSupported", "dryRun", message),
                ))
            }
        }
    }
}

/// What a response should hold, from `Accept`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// The objects themselves (JSON).
    Object,
    /// The objects themselves, as YAML.
    Yaml,
    /// `as=Table` (meta.k8s.io v1 or v1beta1).
    Table,
    /// `as=PartialObjectMetadata` or `as=PartialObjectMetadataList`.
    Metadata,
}

/// What a discovery response should be, from `Accept`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiscoveryFormat {
    /// `as=APIGroupDiscoveryList`, apidiscovery.k8s.io/v2.
    AggregatedV2,
    /// `as=APIGroupDiscoveryList`, apidiscovery.k8s.io/v2beta1.
    AggregatedV2Beta1,
    /// `APIVersions`, `APIGroupList`.
    Legacy,
}

struct MediaRange<'a> {
    mime: &'a str,
    params: Vec<(&'a str, &'a str)>,
}

impl<'a> MediaRange<'a> {
    fn param(&self, key: &str) -> Option<&'a str> {
        self.params.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
    }
}

fn media_ranges(header: &str) -> Vec<MediaRange<'_>> {
    header
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|r| {
            let mut parts = r.split(';').map(str::trim);
            let mime = parts.next().unwrap_or("");
            let params = parts
                .filter_map(|p| p.split_once('='))
                .map(|(k, v)| (k.trim(), v.trim().trim_matches('"')))
                .collect();
            MediaRange { mime, params }
        })
        .collect()
}

fn is_json(mime: &str) -> bool {
    matches!(mime, "application/json" | "application/*" | "*/*" | "*")
}

/// Picks the response format from an `Accept` header; 406 when nothing offered is served.
pub fn response_format(accept: Option<&str>) -> Result<Format, ApiError> {
    let Some(header) = accept.filter(|h| !h.trim().is_empty()) else {
        return Ok(Format::Object);
    };
    for r in media_ranges(header) {
        let as_ = r.param("as");
        let meta_v1 =
            r.param("g") == Some("meta.k8s.io") && matches!(r.param("v"), Some("v1" | "v1beta1"));
        match (r.mime, as_) {
            (m, Some("Table")) if is_json(m) && meta_v1 => return Ok(Format::Table),
            (m, Some("PartialObjectMetadata" | "PartialObjectMetadataList"))
                if is_json(m) && meta_v1 =>
            {
                return Ok(Format::Metadata);
            }
            (m, None) if is_json(m) => return Ok(Format::Object),
            ("application/yaml", None) => return Ok(Format::Yaml),
            _ => {}
        }
    }
    Err(ApiError::not_acceptable())
}

/// Picks the discovery format from an `Accept` header.
pub fn discovery_format(accept: Option<&str>) -> DiscoveryFormat {
    for r in media_ranges(accept.unwrap_or("")) {
        if r.param("as") == Some("APIGroupDiscoveryList")
            && r.param("g") == Some("apidiscovery.k8s.io")
        {
            match r.param("v") {
                Some("v2") => return DiscoveryFormat::AggregatedV2,
                Some("v2beta1") => return DiscoveryFormat::AggregatedV2Beta1,
                _ => {}
            }
        } else if r.param("as").is_none() && (is_json(r.mime) || r.mime.is_empty()) {
            return DiscoveryFormat::Legacy;
        }
    }
    DiscoveryFormat::Legacy
}

/// The media type of a request body, without parameters.
pub fn content_type(header: Option<&str>) -> String {
    header
        .and_then(|h| h.split(';').next())
        .map(|s| s.trim().to_ascii_lowercase())
        .unwrap_or_default()
}

/// The default field manager: the User-Agent up to its first `/` (as the API server does).
pub fn manager_from_user_agent(ua: Option<&str>) -> String {
    let ua = ua.unwrap_or("").trim();
    let head = ua.split('/').next().unwrap_or("").trim();
    if head.is_empty() {
        "unknown".to_string()
    } else {
        head.chars().take(128).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(path: &str) -> ResourcePath {
        match route(path) {
            Route::Resource(r) => r,
            other => panic!("{path}: {other:?}"),
        }
    }

    #[test]
    fn routes() {
        assert_eq!(route("/version"), Route::Version);
        assert_eq!(route("/api"), Route::CoreVersions);
        assert_eq!(route("/apis/"), Route::Groups);
        assert_eq!(route("/apis/apps"), Route::Group("apps".into()));
        assert_eq!(
            route("/apis/apps/v1"),
            Route::Resources {
                group: "apps".into(),
                version: "v1".into()
            }
        );
        assert_eq!(
            route("/openapi/v3/apis/apps/v1"),
            Route::OpenApiDoc {
                group: "apps".into(),
                version: "v1".into()
            }
        );
        let r = res("/api/v1/namespaces/default/configmaps/x");
        assert_eq!(
            (
                r.namespace.as_deref(),
                r.resource.as_str(),
                r.name.as_deref()
            ),
            (Some("default"), "configmaps", Some("x"))
        );
        let r = res("/api/v1/namespaces/shop/status");
        assert_eq!(
            (
                r.namespace,
                r.resource.as_str(),
                r.name.as_deref(),
                r.subresource.as_deref()
            ),
            (None, "namespaces", Some("shop"), Some("status"))
        );
        let r = res("/api/v1/namespaces/shop");
        assert_eq!(
            (r.resource.as_str(), r.name.as_deref()),
            ("namespaces", Some("shop"))
        );
        let r = res("/apis/apps/v1/namespaces/d/deployments/web/scale");
        assert_eq!(r.subresource.as_deref(), Some("scale"));
        let r = res("/api/v1/watch/namespaces/d/pods");
        assert!(r.legacy_watch);
        assert_eq!(route("/nothing/here"), Route::Unknown);
    }

    #[test]
    fn queries_tolerate_kube_style_leading_ampersand() {
        let q = Query::parse(Some(
            "&labelSelector=app%3Dweb%2Ctier+in+%28a%29&watch=true&",
        ));
        assert_eq!(q.get("labelSelector"), Some("app=web,tier in (a)"));
        assert!(q.flag("watch"));
        assert!(!q.flag("missing"));
        assert!(Query::parse(Some("dryRun=All")).dry_run("create").unwrap());
        let e = Query::parse(Some("dryRun=x"))
            .dry_run("delete")
            .unwrap_err();
        assert_eq!((e.code, e.reason), (422, "Invalid"));
        assert!(
            e.message
                .starts_with("DeleteOptions.meta.k8s.io \"\" is invalid: dryRun")
        );
        assert_eq!(percent_decode("%zz%2", false), "%zz%2");
    }

    #[test]
    fn accept_headers() {
        let kubectl = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";
        assert_eq!(response_format(Some(kubectl)).unwrap(), Format::Table);
        assert_eq!(response_format(None).unwrap(), Format::Object);
        assert_eq!(
            response_format(Some(
                "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"
            ))
            .unwrap(),
            Format::Metadata
        );
        assert_eq!(
            response_format(Some(
                "application/vnd.kubernetes.protobuf, application/json"
            ))
            .unwrap(),
            Format::Object
        );
        assert_eq!(response_format(Some("text/html")).unwrap_err().code, 406);
        assert_eq!(
            response_format(Some("application/json;as=Foo;g=x;v=y"))
                .unwrap_err()
                .code,
            406
        );
        let disc = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";
        assert_eq!(discovery_format(Some(disc)), DiscoveryFormat::AggregatedV2);
        assert_eq!(
            discovery_format(Some("application/json")),
            DiscoveryFormat::Legacy
        );
        assert_eq!(discovery_format(None), DiscoveryFormat::Legacy);
    }

    #[test]
    fn managers_from_user_agents() {
        assert_eq!(
            manager_from_user_agent(Some("kubectl/v1.33.1 (linux/amd64) kubernetes/abc")),
            "kubectl"
        );
        assert_eq!(manager_from_user_agent(None), "unknown");
        assert_eq!(
            content_type(Some("application/json; charset=utf-8")),
            "application/json"
        );
    }
}
