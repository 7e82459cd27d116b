//! One desired object as written in Git, held as compressed text, with where it came from.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::packed::PackedText;

/// One desired object and where it came from.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(from = "ManifestFields", into = "ManifestFields")]
pub struct Manifest {
    /// The object as written in Git (no namespace defaulting: the engine does that), as
    /// compact JSON text: every app's manifests stay in memory for as long as the engine
    /// runs, and parsed they cost several times their text (profiled: a fifth of the heap
    /// with 1,000 apps), compressed against a sample of its kind. Readers parse it
    /// through [`Manifest::object`].
    json: PackedText,
    /// `path/in/repo.yaml:LINE` for files read from the commit; for program output,
    /// `PATH (kustomize output):LINE` or the chart template Helm names.
    pub origin: String,
}

impl Manifest {
    /// A manifest holding `object`, found at `origin`.
    pub fn new(object: &Value, origin: impl Into<String>) -> Manifest {
        let kind = object["kind"].as_str().unwrap_or_default();
        Manifest {
            json: PackedText::pack_from_git(kind, &object.to_string()),
            origin: origin.into(),
        }
    }

    /// The object, parsed from its text (written by serde_json, so it always parses;
    /// `Null` otherwise).
    pub fn object(&self) -> Value {
        serde_json::from_str(&self.json.text()).unwrap_or(Value::Null)
    }

    /// The object's compact JSON text.
    pub fn json(&self) -> String {
        self.json.text()
    }
}

/// Equal objects (in any key order) from the same origin.
impl PartialEq for Manifest {
    fn eq(&self, other: &Manifest) -> bool {
        self.origin == other.origin && (self.json == other.json || self.object() == other.object())
    }
}

/// How a manifest is written and read by serde: the object itself, not its text.
#[derive(Serialize, Deserialize)]
struct ManifestFields {
    object: Value,
    origin: String,
}

impl From<ManifestFields> for Manifest {
    fn from(f: ManifestFields) -> Manifest {
        Manifest::new(&f.object, f.origin)
    }
}

impl From<Manifest> for ManifestFields {
    fn from(m: Manifest) -> ManifestFields {
        ManifestFields {
            object: m.object(),
            origin: m.origin,
        }
    }
}
