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
/// kube-apiserver labels Tables plain JSON, whatever the Accept header asked for.
const TABLE: &str = JSON;
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

/// A Status error response (plain text for [`ApiError::page_not_found`]).
pub fn error_response(e: &ApiError) -> Response<ResponseBody> {
    if e.is_page_not_found() {
        return bytes_response(
            404,
            "text/plain; charset=utf-8",
            Bytes::from(e.message.clone()),
        );
    }
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

/// An item of a list: built-in kinds come without `apiVersion` and `kind` (kube-apiserver
/// drops them from typed list items), custom resources with them. The stored bytes are cut
/// when they start with the two fields, as they do for everything the emulator stores.
fn list_item(rt: &ResourceType, item: &Stored, api_version: &str) -> Bytes {
    let json = item.json_at(api_version);
    if rt.custom {
        return json;
    }
    let prefix = format!(
        "{{\"apiVersion\":{},\"kind\":{},",
        Value::from(api_version),
        Value::from(rt.kind.as_str())
    );
    if json.starts_with(prefix.as_bytes()) {
        let mut cut = Vec::with_capacity(json.len() - prefix.len() + 1);
        cut.push(b'{');
        cut.extend_from_slice(&json[prefix.len()..]);
        return Bytes::from(cut);
    }
    let mut object = item.object.clone();
    if let Some(map) = object.as_object_mut() {
        map.shift_remove("apiVersion");
        map.shift_remove("kind");
    }
    Bytes::from(serde_json::to_vec(&object).unwrap_or_default())
}

/// One page of a JSON list (`limit`/`continue`), stitched from the stored bytes.
pub fn list_page_response(rt: &ResourceType, page: &super::paging::Page) -> Response<ResponseBody> {
    let api_version = rt.api_version();
    let mut meta = format!("{{\"resourceVersion\":\"{}\"", page.rv);
    match &page.next {
        Some(token) => meta.push_str(&format!(",\"continue\":\"{token}\"")),
        // Lists of custom resources say there is nothing more.
        None if rt.custom => meta.push_str(",\"continue\":\"\""),
        None => {}
    }
    if let Some(remaining) = page.remaining {
        meta.push_str(&format!(",\"remainingItemCount\":{remaining}"));
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
        buf.extend_from_slice(&list_item(rt, item, &api_version));
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
            // Lists of custom resources say there is nothing more.
            let more = if rt.custom { ",\"continue\":\"\"" } else { "" };
            let head = format!(
                "{{\"kind\":\"{}\",\"apiVersion\":\"{}\",\"metadata\":{{\"resourceVersion\":\"{rv}\"{more}}},\"items\":[",
                rt.list_kind, api_version
            );
            let parts: Vec<Bytes> = items
                .iter()
                .map(|i| list_item(rt, i, &api_version))
                .collect();
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
                    if !rt.custom
                        && let Some(map) = v.as_object_mut()
                    {
                        map.shift_remove("apiVersion");
                        map.shift_remove("kind");
                    }
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
