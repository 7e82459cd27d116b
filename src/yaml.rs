//! All YAML reading and writing goes through this module, so the parser can be swapped
//! without touching the rest of rekon. Objects are held as `serde_json::Value`.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use thiserror::Error;

/// A YAML problem, located in its source text (1-based line and column).
#[derive(Debug, Clone, Error, PartialEq, Eq)]
#[error("{origin}{}: {message}", location_suffix(*line, *column))]
pub struct YamlError {
    /// Where the text came from (a file path, a URL, or a short description).
    pub origin: String,
    /// 1-based line of the problem, when known.
    pub line: Option<usize>,
    /// 1-based column of the problem, when known.
    pub column: Option<usize>,
    /// What is wrong, in the parser's words.
    pub message: String,
}

fn location_suffix(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!(":{l}:{c}"),
        (Some(l), None) => format!(":{l}"),
        _ => String::new(),
    }
}

/// One document of a multi-document YAML stream.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// The parsed content (`Value::Null` for an empty document).
    pub value: Value,
    /// 1-based line where the document's content starts in the source text.
    pub line: usize,
}

/// Splits `text` into `---`-separated documents and parses each one, skipping empty ones.
/// A syntax error names `origin` and the line in the whole text.
pub fn parse_documents(text: &str, origin: &str) -> Result<Vec<Document>, YamlError> {
    let mut docs = Vec::new();
    for (start_line, chunk) in split_documents(text) {
        let value = parse_chunk(chunk, origin, start_line)?;
        if !value.is_null() {
            docs.push(Document {
                value,
                line: start_line,
            });
        }
    }
    Ok(docs)
}

/// Parses a single YAML (or JSON) document into a typed value.
pub fn from_str<T: DeserializeOwned>(text: &str, origin: &str) -> Result<T, YamlError> {
    serde_yaml::from_str(text).map_err(|e| to_error(&e, origin, 1))
}

/// Converts an already-parsed value into a typed one, naming `origin` on failure.
pub fn from_value<T: DeserializeOwned>(value: Value, origin: &str) -> Result<T, YamlError> {
    serde_json::from_value(value).map_err(|e| YamlError {
        origin: origin.to_string(),
        line: None,
        column: None,
        message: e.to_string(),
    })
}

/// Renders a value as YAML (no leading `---`).
pub fn to_string<T: Serialize + ?Sized>(value: &T) -> String {
    // Serialising plain data to YAML cannot fail except for non-string map keys,
    // which `serde_json::Value` cannot hold.
    serde_yaml::to_string(value).unwrap_or_else(|e| format!("# unprintable: {e}\n"))
}

fn parse_chunk(chunk: &str, origin: &str, start_line: usize) -> Result<Value, YamlError> {
    if chunk.trim().is_empty() {
        return Ok(Value::Null);
    }
    let yaml: serde_yaml::Value =
        serde_yaml::from_str(chunk).map_err(|e| to_error(&e, origin, start_line))?;
    yaml_to_json(yaml).map_err(|message| YamlError {
        origin: origin.to_string(),
        line: Some(start_line),
        column: None,
        message,
    })
}

fn to_error(e: &serde_yaml::Error, origin: &str, start_line: usize) -> YamlError {
    let (line, column) = match e.location() {
        Some(loc) => (Some(start_line + loc.line() - 1), Some(loc.column())),
        None => (Some(start_line), None),
    };
    // serde_yaml appends " at line L column C" to its messages; the location is ours to print.
    let message = e.to_string();
    let message = match message.find(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message,
    };
    YamlError {
        origin: origin.to_string(),
        line,
        column,
        message,
    }
}

/// Converts YAML to JSON, refusing what JSON cannot hold (non-string keys are stringified,
/// as kubectl does; NaN and infinities are refused).
fn yaml_to_json(v: serde_yaml::Value) -> Result<Value, String> {
    use serde_yaml::Value as Y;
    Ok(match v {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::from(i)
            } else if let Some(u) = n.as_u64() {
                Value::from(u)
            } else {
                let f = n.as_f64().unwrap_or(f64::NAN);
                serde_json::Number::from_f64(f)
                    .map(Value::Number)
                    .ok_or_else(|| format!("number {n} cannot be represented in JSON"))?
            }
        }
        Y::String(s) => Value::String(s),
        Y::Sequence(seq) => Value::Array(
            seq.into_iter()
                .map(yaml_to_json)
                .collect::<Result<Vec<_>, _>>()?,
        ),
        Y::Mapping(map) => {
            let mut out = serde_json::Map::with_capacity(map.len());
            for (k, v) in map {
                let key = match k {
                    Y::String(s) => s,
                    Y::Bool(b) => b.to_string(),
                    Y::Number(n) => n.to_string(),
                    Y::Null => "null".to_string(),
                    other => return Err(format!("unsupported mapping key {other:?}")),
                };
                out.insert(key, yaml_to_json(v)?);
            }
            Value::Object(out)
        }
        Y::Tagged(t) => yaml_to_json(t.value)?,
    })
}

/// Splits a YAML stream at `---` document markers, returning each chunk with the 1-based
/// line its content starts on. A marker may carry content after it (`--- {a: 1}`).
fn split_documents(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start_byte = 0;
    let mut start_line = 1;
    let mut offset = 0;
    for (idx, line) in text.split_inclusive('\n').enumerate() {
        let trimmed = line.trim_end_matches(['\n', '\r']);
        let is_marker = trimmed == "---"
            || trimmed.starts_with("--- ")
            || trimmed.starts_with("---\t")
            || trimmed == "...";
        if is_marker {
            out.push((start_line, &text[start_byte..offset]));
            let rest = trimmed.strip_prefix("---").unwrap_or("");
            if trimmed != "..." && !rest.trim().is_empty() {
                // Content on the marker line itself belongs to the next document.
                start_byte = offset + 3;
                start_line = idx + 1;
            } else {
                start_byte = offset + line.len();
                start_line = idx + 2;
            }
        }
        offset += line.len();
    }
    out.push((start_line, &text[start_byte..]));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_documents_and_reports_lines() {
        let text = "a: 1\n---\n\n---\nb: 2\nc: 3\n--- {d: 4}\n";
        let docs = parse_documents(text, "x.yaml").unwrap();
        assert_eq!(docs.len(), 3);
        assert_eq!(docs[0].line, 1);
        assert_eq!(docs[1].line, 5);
        assert_eq!(docs[1].value["c"], 3);
        assert_eq!(docs[2].value["d"], 4);
        assert_eq!(docs[2].line, 7);
    }

    #[test]
    fn syntax_error_names_origin_and_absolute_line() {
        let text = "a: 1\n---\nb: [1, 2\nc: 3\n";
        let err = parse_documents(text, "apps/web.yaml").unwrap_err();
        assert_eq!(err.origin, "apps/web.yaml");
        assert!(err.line.unwrap() >= 3, "{err:?}");
        assert!(err.to_string().starts_with("apps/web.yaml:"));
    }

    #[test]
    fn non_string_keys_become_strings() {
        let docs = parse_documents("1: one\ntrue: yes\n", "k").unwrap();
        assert_eq!(docs[0].value["1"], "one");
        assert_eq!(docs[0].value["true"], "yes");
    }

    #[test]
    fn round_trips_through_yaml() {
        let v: Value = serde_json::json!({"kind": "ConfigMap", "data": {"a": "1"}});
        let text = to_string(&v);
        let back = parse_documents(&text, "t").unwrap();
        assert_eq!(back[0].value, v);
    }
}
