//! Decoding the Kubernetes protobuf encoding (`application/vnd.kubernetes.protobuf`) of the
//! objects kubectl's typed clients send: `kubectl create namespace|configmap|secret|
//! serviceaccount|deployment|service|job|cronjob|role|rolebinding|clusterrole|
//! clusterrolebinding|ingress|poddisruptionbudget|quota` and `kubectl run`. Each type is a
//! table of field numbers from k8s.io/api's generated.proto; a field the tables do not know
//! is refused by name rather than dropped. Responses stay JSON (kubectl accepts both).

use serde_json::{Map, Value, json};

use super::defaults::base64_encode;

mod tables;

use tables::Ty::*;
use tables::{Card, F, Ty, schema};

/// The four bytes that start every Kubernetes protobuf body.
pub const MAGIC: &[u8] = b"k8s\0";

enum Raw<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
}

fn varint(buf: &[u8], i: &mut usize) -> Result<u64, String> {
    let mut v: u64 = 0;
    for shift in (0..64).step_by(7) {
        let b = *buf.get(*i).ok_or("truncated varint")?;
        *i += 1;
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Ok(v);
        }
    }
    Err("varint too long".into())
}

fn read<'a>(buf: &'a [u8], i: &mut usize, wire: u64) -> Result<Raw<'a>, String> {
    match wire {
        0 => Ok(Raw::Varint(varint(buf, i)?)),
        2 => {
            let len = usize::try_from(varint(buf, i)?).map_err(|_| "length overflow")?;
            let end = i
                .checked_add(len)
                .filter(|e| *e <= buf.len())
                .ok_or("truncated field")?;
            let s = &buf[*i..end];
            *i = end;
            Ok(Raw::Bytes(s))
        }
        1 => {
            *i = i
                .checked_add(8)
                .filter(|e| *e <= buf.len())
                .ok_or("truncated fixed64")?;
            Ok(Raw::Varint(0))
        }
        5 => {
            *i = i
                .checked_add(4)
                .filter(|e| *e <= buf.len())
                .ok_or("truncated fixed32")?;
            Ok(Raw::Varint(0))
        }
        w => Err(format!("unsupported wire type {w}")),
    }
}

/// The fields of a message, as (number, raw value) pairs.
fn fields(buf: &[u8]) -> Result<Vec<(u64, Raw<'_>)>, String> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < buf.len() {
        let key = varint(buf, &mut i)?;
        out.push((key >> 3, read(buf, &mut i, key & 7)?));
    }
    Ok(out)
}

fn text(raw: &Raw<'_>) -> Result<String, String> {
    match raw {
        Raw::Bytes(b) => String::from_utf8(b.to_vec()).map_err(|_| "invalid UTF-8".to_string()),
        Raw::Varint(_) => Err("expected a string".into()),
    }
}

fn bytes<'a>(raw: &Raw<'a>) -> Result<&'a [u8], String> {
    match raw {
        Raw::Bytes(b) => Ok(b),
        Raw::Varint(_) => Err("expected bytes".into()),
    }
}

fn int(raw: &Raw<'_>) -> Result<i64, String> {
    match raw {
        // Go encodes negative int32/int64 as 64-bit two's complement varints.
        Raw::Varint(v) => Ok(*v as i64),
        Raw::Bytes(_) => Err("expected an integer".into()),
    }
}

fn time(buf: &[u8]) -> Result<Option<String>, String> {
    let mut seconds = 0i64;
    for (n, raw) in fields(buf)? {
        if n == 1 {
            seconds = int(&raw)?;
        }
    }
    if seconds == 0 {
        return Ok(None);
    }
    let t = jiff::Timestamp::from_second(seconds).map_err(|e| e.to_string())?;
    Ok(Some(t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()))
}

fn quantity(buf: &[u8]) -> Result<Value, String> {
    for (n, raw) in fields(buf)? {
        if n == 1 {
            return Ok(json!(text(&raw)?));
        }
    }
    Ok(json!("0"))
}

fn int_or_string(buf: &[u8]) -> Result<Value, String> {
    let (mut ty, mut i, mut s) = (0, 0, String::new());
    for (n, raw) in fields(buf)? {
        match n {
            1 => ty = int(&raw)?,
            2 => i = int(&raw)?,
            3 => s = text(&raw)?,
            _ => {}
        }
    }
    Ok(if ty == 1 { json!(s) } else { json!(i) })
}

fn map_entry(buf: &[u8], ty: Ty) -> Result<(String, Value), String> {
    let (mut key, mut value) = (String::new(), Value::Null);
    for (n, raw) in fields(buf)? {
        match n {
            1 => key = text(&raw)?,
            2 => {
                value = match ty {
                    MapBytes => json!(base64_encode(bytes(&raw)?)),
                    MapQty => quantity(bytes(&raw)?)?,
                    _ => json!(text(&raw)?),
                }
            }
            _ => {}
        }
    }
    if value.is_null() {
        value = match ty {
            MapQty => json!("0"),
            _ => json!(""),
        };
    }
    Ok((key, value))
}

fn is_zero(v: &Value) -> bool {
    match v {
        Value::String(s) => s.is_empty(),
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_i64() == Some(0),
        Value::Null => true,
        _ => false,
    }
}

fn message(buf: &[u8], schema: &[F], path: &str) -> Result<Map<String, Value>, String> {
    let mut out = Map::new();
    for (n, raw) in fields(buf)? {
        let f = schema
            .iter()
            .find(|f| f.n == n)
            .ok_or_else(|| format!("field {n} of {path} is not supported by the emulator"))?;
        let here = if f.name.is_empty() {
            path.to_string()
        } else {
            format!("{path}.{}", f.name)
        };
        let value = match f.ty {
            Skip => continue,
            Str => json!(text(&raw)?),
            Bool => json!(int(&raw)? != 0),
            Int => json!(int(&raw)?),
            Time => match time(bytes(&raw)?)? {
                Some(t) => json!(t),
                None => continue,
            },
            IntOrStr => int_or_string(bytes(&raw)?)?,
            Msg(sub) => Value::Object(message(bytes(&raw)?, sub, &here)?),
            MapStr | MapBytes | MapQty => {
                let (k, v) = map_entry(bytes(&raw)?, f.ty)?;
                let m = out.entry(f.name).or_insert_with(|| json!({}));
                if let Some(m) = m.as_object_mut() {
                    m.insert(k, v);
                }
                continue;
            }
        };
        match f.card {
            Card::Many => {
                let list = out.entry(f.name).or_insert_with(|| json!([]));
                if let Some(l) = list.as_array_mut() {
                    l.push(value);
                }
            }
            Card::Inline => {
                if let Value::Object(m) = value {
                    out.extend(m);
                }
            }
            Card::One if is_zero(&value) => {}
            Card::One | Card::Opt => {
                out.insert(f.name.to_string(), value);
            }
        }
    }
    Ok(out)
}

/// Decodes a protobuf request body into the JSON object it stands for.
pub fn decode(body: &[u8]) -> Result<Value, String> {
    let envelope = body
        .strip_prefix(MAGIC)
        .ok_or("the body does not start with the Kubernetes protobuf prefix")?;
    let (mut api_version, mut kind, mut raw) = (String::new(), String::new(), &[][..]);
    for (n, r) in fields(envelope)? {
        match n {
            1 => {
                for (m, tr) in fields(bytes(&r)?)? {
                    match m {
                        1 => api_version = text(&tr)?,
                        2 => kind = text(&tr)?,
                        _ => {}
                    }
                }
            }
            2 => raw = bytes(&r)?,
            3 if !bytes(&r)?.is_empty() => {
                return Err("compressed protobuf bodies are not supported".into());
            }
            _ => {}
        }
    }
    let schema = schema(&api_version, &kind).ok_or_else(|| {
        format!(
            "protobuf bodies of {api_version} {kind} are not supported by the emulator; send JSON"
        )
    })?;
    let mut obj = Map::new();
    obj.insert("apiVersion".into(), json!(api_version));
    obj.insert("kind".into(), json!(kind));
    obj.extend(message(raw, schema, &kind)?);
    Ok(Value::Object(obj))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u64, wire: u64) -> Vec<u8> {
        enc_varint((n << 3) | wire)
    }

    fn enc_varint(mut v: u64) -> Vec<u8> {
        let mut out = Vec::new();
        loop {
            let b = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                out.push(b);
                return out;
            }
            out.push(b | 0x80);
        }
    }

    fn ld(n: u64, data: &[u8]) -> Vec<u8> {
        let mut out = key(n, 2);
        out.extend(enc_varint(data.len() as u64));
        out.extend_from_slice(data);
        out
    }

    #[test]
    fn decodes_a_config_map() {
        let meta = [
            ld(1, b"cfg"),
            ld(3, b"default"),
            ld(8, &[]),
            ld(11, &[ld(1, b"app"), ld(2, b"web")].concat()),
        ]
        .concat();
        let cm = [
            ld(1, &meta),
            ld(2, &[ld(1, b"k"), ld(2, b"v")].concat()),
            ld(3, &[ld(1, b"b"), ld(2, b"hi")].concat()),
        ]
        .concat();
        let type_meta = [ld(1, b"v1"), ld(2, b"ConfigMap")].concat();
        let body = [
            MAGIC.to_vec(),
            ld(1, &type_meta),
            ld(2, &cm),
            ld(3, b""),
            ld(4, b""),
        ]
        .concat();
        let v = decode(&body).unwrap();
        assert_eq!(
            v,
            json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "cfg", "namespace": "default", "labels": {"app": "web"}},
                "data": {"k": "v"}, "binaryData": {"b": "aGk="}})
        );
    }

    #[test]
    fn refuses_unknown_fields_and_kinds() {
        let type_meta = [ld(1, b"v1"), ld(2, b"ConfigMap")].concat();
        let body = [MAGIC.to_vec(), ld(1, &type_meta), ld(2, &ld(99, b"x"))].concat();
        assert!(decode(&body).unwrap_err().contains("field 99 of ConfigMap"));
        let type_meta = [ld(1, b"v1"), ld(2, b"Node")].concat();
        let body = [MAGIC.to_vec(), ld(1, &type_meta)].concat();
        assert!(decode(&body).unwrap_err().contains("not supported"));
        assert!(decode(b"{}").is_err());
        assert!(decode(&[MAGIC, &[0x0a, 0xff]].concat()).is_err());
    }

    #[test]
    fn bytes_fields_become_standard_base64() {
        let type_meta = [ld(1, b"v1"), ld(2, b"ConfigMap")].concat();
        let entry = |k: &[u8], v: &[u8]| ld(3, &[ld(1, k), ld(2, v)].concat());
        let cm = [
            ld(1, &ld(1, b"cfg")),
            entry(b"a", b"f"),
            entry(b"b", b"fo"),
            entry(b"c", b"foo"),
            entry(b"d", b"foobar"),
        ]
        .concat();
        let body = [MAGIC.to_vec(), ld(1, &type_meta), ld(2, &cm)].concat();
        let v = decode(&body).unwrap();
        assert_eq!(
            v["binaryData"],
            json!({"a": "Zg==", "b": "Zm8=", "c": "Zm9v", "d": "Zm9vYmFy"})
        );
    }
}
