//! YAML request bodies and responses (`application/yaml`), read and written with serde_yaml;
//! objects are held as `serde_json::Value`.

use serde::Deserialize;
use serde_json::Value;

/// The non-empty documents of a `---`-separated YAML stream. A syntax error is described as
/// `ORIGIN:LINE:COLUMN: message`.
pub(crate) fn documents(text: &str, origin: &str) -> Result<Vec<Value>, String> {
    let mut docs = Vec::new();
    for doc in serde_yaml::Deserializer::from_str(text) {
        let value = Value::deserialize(doc).map_err(|e| describe(&e, origin))?;
        if !value.is_null() {
            docs.push(value);
        }
    }
    Ok(docs)
}

/// Renders a value as YAML (no leading `---`).
pub(crate) fn to_string(value: &Value) -> String {
    // A `serde_json::Value` always has string keys, the one thing YAML output can refuse.
    serde_yaml::to_string(value).unwrap_or_else(|e| format!("# unprintable: {e}\n"))
}

fn describe(e: &serde_yaml::Error, origin: &str) -> String {
    // serde_yaml appends " at line L column C" to its messages; the location goes first.
    let message = e.to_string();
    let message = message
        .find(" at line ")
        .map_or(message.as_str(), |i| &message[..i]);
    match e.location() {
        Some(loc) => format!("{origin}:{}:{}: {message}", loc.line(), loc.column()),
        None => format!("{origin}: {message}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_document_and_locates_errors() {
        let docs = documents("a: 1\n---\n\n---\nb: 2\n", "body").unwrap();
        assert_eq!(
            docs,
            vec![serde_json::json!({"a": 1}), serde_json::json!({"b": 2})]
        );
        let err = documents("a: 1\n---\nb: [1, 2\nc: 3\n", "body").unwrap_err();
        assert!(err.starts_with("body:"), "{err}");
        let text = to_string(&serde_json::json!({"kind": "ConfigMap"}));
        assert_eq!(documents(&text, "t").unwrap()[0]["kind"], "ConfigMap");
    }
}
