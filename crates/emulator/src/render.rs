//! Building HTTP responses: objects and lists in the format the client asked for (JSON built
//! from the stored bytes, YAML, Table, PartialObjectMetadata), and Status errors.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http::{Response, StatusCode, header};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full};
use serde_json::{Value, json};

use super::kinds::ResourceType;
use super::request::Format;
use super::status::ApiError;
use super::store::Stored;
use super::table::{self, IncludeObject};

/// The body type of every response (full bodies and watch streams).
pub type ResponseBody = UnsyncBoxBody<Bytes, Infallible>;

const JSON: &str = "application/json";
const TABLE: &str = "application/json;as=Table;v=v1;g=meta.k8s.io";
const METADATA: &str = "application/json;as=PartialObjectMetadata;v=v1;g=meta.k8s.io";
const METADATA_LIST: &str = "application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io";

/// A response with a full body.
pub fn bytes_response(code: u16, content_type: &str, body: Bytes) -> Response<ResponseBody> {
    let mut r = Response::new(Full::new(body).boxed_unsync());
    *r.status_mut() = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if let Ok(v) = header::HeaderValue::from_str(content_type) {
        r.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    r
}

/// A JSON response.
pub fn json_response(code: u16, body: &Value) -> Response<ResponseBody> {
    bytes_response(
        code,
        JSON,
        Bytes::from(serde_json::to_vec(body).unwrap_or_default()),
    )
}

/// A Status error response.
pub fn error_response(e: &ApiError) -> Response<ResponseBody> {
    let mut r = json_response(e.code, &e.to_status());
    // Throttling answers say when to come back, in the header as well as in the Status.
    let retry_after = e
        .details
        .as_ref()
        .and_then(|d| d.get("retryAfterSeconds"))
        .and_then(Value::as_u64);
    if let Some(secs) = retry_after
        && let Ok(v) = header::HeaderValue::from_str(&secs.to_string())
    {
        r.headers_mut().insert(header::RETRY_AFTER, v);
    }
    r
}

fn yaml_response(code: u16, v: &Value) -> Response<ResponseBody> {
    bytes_response(
        code,
        "application/yaml",
        Bytes::from(crate::yaml::to_string(v)),
    )
}

/// One object in the asked format.
pub fn object_response(
    code: u16,
    rt: &ResourceType,
    obj: &Stored,
    format: Format,
    include: IncludeObject,
) -> Response<ResponseBody> {
    let api_version = rt.api_version();
    match format {
        Format::Object => bytes_response(code, JSON, obj.json_at(&api_version)),
        Format::Yaml => {
            let mut v = obj.object.clone();
            v["apiVersion"] = json!(api_version);
            yaml_response(code, &v)
        }
        Format::Table => {
            let t = table::table(rt, [&obj.object], obj.rv, include, true);
            bytes_response(
                code,
                TABLE,
                Bytes::from(serde_json::to_vec(&t).unwrap_or_default()),
            )
        }
        Format::Metadata => {
            let m = table::partial_metadata(&obj.object);
            bytes_response(
                code,
                METADATA,
                Bytes::from(serde_json::to_vec(&m).unwrap_or_default()),
            )
        }
    }
}

/// One page of a JSON list (`limit`/`continue`), stitched from the stored bytes.
pub fn list_page_response(rt: &ResourceType, page: &super::paging::Page) -> Response<ResponseBody> {
    let api_version = rt.api_version();
    let mut meta = format!("{{\"resourceVersion\":\"{}\"", page.rv);
    if let Some(token) = &page.next {
        meta.push_str(&format!(
            ",\"continue\":\"{token}\",\"remainingItemCount\":{}",
            page.remaining
        ));
    }
    meta.push('}');
    let head = format!(
        "{{\"kind\":\"{}\",\"apiVersion\":\"{}\",\"metadata\":{meta},\"items\":[",
        rt.list_kind, api_version
    );
    let mut buf = Vec::from(head.as_bytes());
    for (i, item) in page.items.iter().enumerate() {
        if i > 0 {
            buf.push(b',');
        }
        buf.extend_from_slice(&item.json_at(&api_version));
    }
    buf.extend_from_slice(b"]}");
    bytes_response(200, JSON, Bytes::from(buf))
}

/// A list in the asked format. Plain JSON lists are stitched from the stored bytes.
pub fn list_response(
    rt: &ResourceType,
    items: &[Arc<Stored>],
    rv: u64,
    format: Format,
    include: IncludeObject,
) -> Response<ResponseBody> {
    let api_version = rt.api_version();
    match format {
        Format::Object => {
            let head = format!(
                "{{\"kind\":\"{}\",\"apiVersion\":\"{}\",\"metadata\":{{\"resourceVersion\":\"{rv}\"}},\"items\":[",
                rt.list_kind, api_version
            );
            let parts: Vec<Bytes> = items.iter().map(|i| i.json_at(&api_version)).collect();
            let size = head.len() + parts.iter().map(|p| p.len() + 1).sum::<usize>() + 2;
            let mut buf = Vec::with_capacity(size);
            buf.extend_from_slice(head.as_bytes());
            for (i, p) in parts.iter().enumerate() {
                if i > 0 {
                    buf.push(b',');
                }
                buf.extend_from_slice(p);
            }
            buf.extend_from_slice(b"]}");
            bytes_response(200, JSON, Bytes::from(buf))
        }
        Format::Yaml => {
            let items: Vec<Value> = items
                .iter()
                .map(|i| {
                    let mut v = i.object.clone();
                    v["apiVersion"] = json!(api_version);
                    v
                })
                .collect();
            yaml_response(
                200,
                &json!({"kind": rt.list_kind, "apiVersion": api_version,
                    "metadata": {"resourceVersion": rv.to_string()}, "items": items}),
            )
        }
        Format::Table => {
            let t = table::table(rt, items.iter().map(|i| &i.object), rv, include, true);
            bytes_response(
                200,
                TABLE,
                Bytes::from(serde_json::to_vec(&t).unwrap_or_default()),
            )
        }
        Format::Metadata => {
            let items: Vec<Value> = items
                .iter()
                .map(|i| table::partial_metadata(&i.object))
                .collect();
            let l = json!({"kind": "PartialObjectMetadataList", "apiVersion": "meta.k8s.io/v1",
                "metadata": {"resourceVersion": rv.to_string()}, "items": items});
            bytes_response(
                200,
                METADATA_LIST,
                Bytes::from(serde_json::to_vec(&l).unwrap_or_default()),
            )
        }
    }
}

/// The content type of a watch stream in the asked format.
pub fn watch_content_type(format: Format) -> &'static str {
    match format {
        Format::Table => TABLE,
        Format::Metadata => METADATA,
        _ => JSON,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::Registry;

    async fn body_of(r: Response<ResponseBody>) -> Value {
        let b = r.into_body().collect().await.unwrap().to_bytes();
        serde_json::from_slice(&b).unwrap()
    }

    #[tokio::test]
    async fn lists_are_valid_json_in_every_format() {
        let r = Registry::builtin();
        let rt = r.get("", "v1", "configmaps").unwrap();
        let items: Vec<Arc<Stored>> = (0..3)
            .map(|i| {
                Arc::new(Stored::new(
                    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": format!("c{i}")}}),
                    i + 2,
                ))
            })
            .collect();
        let l = body_of(list_response(
            rt,
            &items,
            9,
            Format::Object,
            IncludeObject::Metadata,
        ))
        .await;
        assert_eq!(l["kind"], "ConfigMapList");
        assert_eq!(l["metadata"]["resourceVersion"], "9");
        assert_eq!(l["items"][2]["metadata"]["resourceVersion"], "4");
        let empty = body_of(list_response(
            rt,
            &[],
            9,
            Format::Object,
            IncludeObject::Metadata,
        ))
        .await;
        assert_eq!(empty["items"], json!([]));
        let t = body_of(list_response(
            rt,
            &items,
            9,
            Format::Table,
            IncludeObject::Metadata,
        ))
        .await;
        assert_eq!(t["rows"][1]["cells"][0], "c1");
        assert_eq!(t["rows"][1]["object"]["kind"], "PartialObjectMetadata");
        let m = body_of(list_response(
            rt,
            &items,
            9,
            Format::Metadata,
            IncludeObject::Metadata,
        ))
        .await;
        assert_eq!(m["kind"], "PartialObjectMetadataList");
    }
}
