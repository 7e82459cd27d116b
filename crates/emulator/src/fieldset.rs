//! Field paths and field sets as server-side apply sees them, and their FieldsV1 encoding.
//!
//! A [`FieldSet`] is a set of [`FieldPath`]s. Paths are ordered the way Kubernetes'
//! structured-merge-diff orders them (fields, then keys, then values, then indices), so the
//! FieldsV1 we write matches what a real API server writes byte for byte.

use serde_json::{Map, Value};
use std::cmp::Ordering;
use std::collections::BTreeSet;
use std::fmt;

/// One step in a path through an object.
#[derive(Debug, Clone, PartialEq)]
pub enum PathElement {
    /// A field of a struct or a key of a map (`f:name`).
    Field(String),
    /// An item of a keyed list, named by its key fields sorted by name (`k:{"name":"web"}`).
    Key(Vec<(String, Value)>),
    /// An item of a set list, named by its value (`v:"foo"`).
    Value(Value),
    /// An item of a list by position (`i:0`); read for completeness, never produced.
    Index(usize),
}

// JSON numbers are never NaN, so equality on Value is a true equivalence here.
impl Eq for PathElement {}

impl PartialOrd for PathElement {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for PathElement {
    fn cmp(&self, other: &Self) -> Ordering {
        use PathElement::*;
        match (self, other) {
            (Field(a), Field(b)) => a.cmp(b),
            (Field(_), _) => Ordering::Less,
            (_, Field(_)) => Ordering::Greater,
            (Key(a), Key(b)) => compare_keys(a, b),
            (Key(_), _) => Ordering::Less,
            (_, Key(_)) => Ordering::Greater,
            (Value(a), Value(b)) => compare_values(a, b),
            (Value(_), _) => Ordering::Less,
            (_, Value(_)) => Ordering::Greater,
            (Index(a), Index(b)) => a.cmp(b),
        }
    }
}

fn compare_keys(a: &[(String, Value)], b: &[(String, Value)]) -> Ordering {
    for ((an, av), (bn, bv)) in a.iter().zip(b.iter()) {
        let c = an.cmp(bn).then_with(|| compare_values(av, bv));
        if c != Ordering::Equal {
            return c;
        }
    }
    a.len().cmp(&b.len())
}

/// Total order over JSON values as structured-merge-diff defines it: numbers, then strings,
/// then booleans, then lists, then maps, then null.
pub fn compare_values(a: &Value, b: &Value) -> Ordering {
    fn rank(v: &Value) -> u8 {
        match v {
            Value::Number(_) => 0,
            Value::String(_) => 1,
            Value::Bool(_) => 2,
            Value::Array(_) => 3,
            Value::Object(_) => 4,
            Value::Null => 5,
        }
    }
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let numeric = match (x.as_i64(), y.as_i64()) {
                (Some(i), Some(j)) => i.cmp(&j),
                _ => {
                    let (f, g) = (x.as_f64().unwrap_or(0.0), y.as_f64().unwrap_or(0.0));
                    f.partial_cmp(&g).unwrap_or(Ordering::Equal)
                }
            };
            // Keep the order consistent with equality: 1 and 1.0 are different values.
            numeric.then_with(|| x.is_f64().cmp(&y.is_f64()))
        }
        (Value::String(x), Value::String(y)) => x.cmp(y),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Array(x), Value::Array(y)) => {
            for (i, j) in x.iter().zip(y.iter()) {
                let c = compare_values(i, j);
                if c != Ordering::Equal {
                    return c;
                }
            }
            x.len().cmp(&y.len())
        }
        (Value::Object(x), Value::Object(y)) => {
            let mut xs: Vec<_> = x.iter().collect();
            let mut ys: Vec<_> = y.iter().collect();
            xs.sort_by(|p, q| p.0.cmp(q.0));
            ys.sort_by(|p, q| p.0.cmp(q.0));
            for ((xk, xv), (yk, yv)) in xs.iter().zip(ys.iter()) {
                let c = xk.cmp(yk).then_with(|| compare_values(xv, yv));
                if c != Ordering::Equal {
                    return c;
                }
            }
            xs.len().cmp(&ys.len())
        }
        _ => rank(a).cmp(&rank(b)),
    }
}

impl PathElement {
    /// The FieldsV1 key of this element (`f:…`, `k:…`, `v:…`, `i:…`).
    pub fn fields_v1_key(&self) -> String {
        match self {
            PathElement::Field(name) => format!("f:{name}"),
            PathElement::Key(fields) => {
                let mut map = Map::new();
                for (name, value) in fields {
                    map.insert(name.clone(), value.clone());
                }
                format!("k:{}", Value::Object(map))
            }
            PathElement::Value(value) => format!("v:{value}"),
            PathElement::Index(i) => format!("i:{i}"),
        }
    }

    /// Parses a FieldsV1 key; `None` for a prefix this version does not know.
    fn from_fields_v1_key(key: &str) -> Result<Option<Self>, String> {
        let Some((prefix, rest)) = key.split_once(':') else {
            return Ok(None);
        };
        match prefix {
            "f" => Ok(Some(PathElement::Field(rest.to_string()))),
            "v" => serde_json::from_str(rest)
                .map(|v| Some(PathElement::Value(v)))
                .map_err(|e| format!("bad value element {key:?}: {e}")),
            "k" => {
                let parsed: Value = serde_json::from_str(rest)
                    .map_err(|e| format!("bad key element {key:?}: {e}"))?;
                let Value::Object(map) = parsed else {
                    return Err(format!("key element {key:?} is not a JSON object"));
                };
                let mut fields: Vec<(String, Value)> = map.into_iter().collect();
                fields.sort_by(|a, b| a.0.cmp(&b.0));
                Ok(Some(PathElement::Key(fields)))
            }
            "i" => rest
                .parse()
                .map(|i| Some(PathElement::Index(i)))
                .map_err(|e| format!("bad index element {key:?}: {e}")),
            _ => Ok(None),
        }
    }
}

impl fmt::Display for PathElement {
    /// Kubernetes' own path notation, as used in conflict messages: `.name`,
    /// `[name="web"]`, `[="value"]`, `[0]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PathElement::Field(name) => write!(f, ".{name}"),
            PathElement::Key(fields) => {
                let parts: Vec<String> = fields
                    .iter()
                    .map(|(n, v)| format!("{n}={}", value_to_string(v)))
                    .collect();
                write!(f, "[{}]", parts.join(","))
            }
            PathElement::Value(v) => write!(f, "[={}]", value_to_string(v)),
            PathElement::Index(i) => write!(f, "[{i}]"),
        }
    }
}

/// Go's `%v`/`%q` rendering of a value inside a path, as structured-merge-diff prints it.
fn value_to_string(v: &Value) -> String {
    match v {
        Value::Null => "null".to_string(),
        // JSON string escaping matches Go's %q for the printable text found in keys.
        Value::String(_) => v.to_string(),
        other => other.to_string(),
    }
}

/// A path from the object root to one field, list item or value.
pub type FieldPath = Vec<PathElement>;

/// Renders a path in Kubernetes' notation, e.g. `.spec.template.spec.containers[name="web"].image`.
pub fn path_string(path: &[PathElement]) -> String {
    path.iter().map(ToString::to_string).collect()
}

/// Builds a path of plain field names (test and table helper).
pub fn field_path(names: &[&str]) -> FieldPath {
    names
        .iter()
        .map(|n| PathElement::Field((*n).to_string()))
        .collect()
}

/// A set of field paths: what one manager owns, or what changed between two objects.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldSet {
    paths: BTreeSet<FieldPath>,
}

impl FieldSet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a path.
    pub fn insert(&mut self, path: FieldPath) {
        self.paths.insert(path);
    }

    /// Removes a path (only that exact path, not what lies below it).
    pub fn remove(&mut self, path: &[PathElement]) {
        self.paths.remove(path);
    }

    /// Whether the exact path is in the set.
    pub fn contains(&self, path: &[PathElement]) -> bool {
        self.paths.contains(path)
    }

    /// Whether some path in the set starts with `prefix` (or is `prefix`).
    pub fn has_prefix(&self, prefix: &[PathElement]) -> bool {
        use std::ops::Bound;
        self.paths
            .range::<[PathElement], _>((Bound::Included(prefix), Bound::Unbounded))
            .next()
            .is_some_and(|p| p.starts_with(prefix))
    }

    /// Whether the set holds no path.
    pub fn is_empty(&self) -> bool {
        self.paths.is_empty()
    }

    /// Number of paths.
    pub fn len(&self) -> usize {
        self.paths.len()
    }

    /// Paths in structured-merge-diff order.
    pub fn iter(&self) -> impl Iterator<Item = &FieldPath> {
        self.paths.iter()
    }

    /// Paths in the order structured-merge-diff iterates a set: at each level the members
    /// first, then the children. Conflicts are reported in this order.
    pub fn iter_members_first(&self) -> Vec<&FieldPath> {
        let mut out: Vec<&FieldPath> = self.paths.iter().collect();
        out.sort_by(|a, b| members_first_cmp(a, b));
        out
    }

    /// Every path in either set.
    pub fn union(&self, other: &FieldSet) -> FieldSet {
        FieldSet {
            paths: self.paths.union(&other.paths).cloned().collect(),
        }
    }

    /// Adds every path of `other`.
    pub fn extend(&mut self, other: &FieldSet) {
        self.paths.extend(other.paths.iter().cloned());
    }

    /// Paths of this set that are not in `other`.
    pub fn difference(&self, other: &FieldSet) -> FieldSet {
        FieldSet {
            paths: self.paths.difference(&other.paths).cloned().collect(),
        }
    }

    /// Paths in both sets.
    pub fn intersection(&self, other: &FieldSet) -> FieldSet {
        FieldSet {
            paths: self.paths.intersection(&other.paths).cloned().collect(),
        }
    }

    /// Removes every path of `other` from this set.
    pub fn subtract(&mut self, other: &FieldSet) {
        if other.is_empty() {
            return;
        }
        self.paths.retain(|p| !other.paths.contains(p));
    }

    /// Encodes the set as a FieldsV1 trie (`f:`, `k:`, `v:`, `i:` keys; `.` for a node that
    /// is itself a member and also has children), in the order Kubernetes writes it.
    pub fn to_fields_v1(&self) -> Value {
        let mut root = TrieNode::default();
        for path in &self.paths {
            let mut node = &mut root;
            for element in path {
                node = node.children.entry(element.clone()).or_default();
            }
            node.member = true;
        }
        root.emit(false)
    }

    /// Decodes a FieldsV1 trie. Keys with an unknown prefix are skipped, as Kubernetes does.
    pub fn from_fields_v1(value: &Value) -> Result<FieldSet, String> {
        let mut set = FieldSet::new();
        let Value::Object(map) = value else {
            return Err("fieldsV1 is not a JSON object".to_string());
        };
        read_level(map, &mut Vec::new(), &mut set)?;
        Ok(set)
    }
}

impl FromIterator<FieldPath> for FieldSet {
    fn from_iter<I: IntoIterator<Item = FieldPath>>(iter: I) -> Self {
        FieldSet {
            paths: iter.into_iter().collect(),
        }
    }
}

fn members_first_cmp(a: &[PathElement], b: &[PathElement]) -> Ordering {
    let common = a.iter().zip(b.iter()).take_while(|(x, y)| x == y).count();
    match (a.len() == common + 1, b.len() == common + 1) {
        // Both end right after the shared prefix, or neither does: plain element order.
        (true, true) => a[common].cmp(&b[common]),
        (true, false) if b.len() > common => Ordering::Less,
        (false, true) if a.len() > common => Ordering::Greater,
        _ => a.cmp(b),
    }
}

#[derive(Default)]
struct TrieNode {
    member: bool,
    children: std::collections::BTreeMap<PathElement, TrieNode>,
}

impl TrieNode {
    fn emit(&self, include_self: bool) -> Value {
        let mut map = Map::new();
        if include_self && self.member && !self.children.is_empty() {
            map.insert(".".to_string(), Value::Object(Map::new()));
        }
        for (element, child) in &self.children {
            map.insert(element.fields_v1_key(), child.emit(true));
        }
        Value::Object(map)
    }
}

fn read_level(
    map: &Map<String, Value>,
    prefix: &mut FieldPath,
    set: &mut FieldSet,
) -> Result<(), String> {
    for (key, child) in map {
        if key == "." {
            continue;
        }
        let Some(element) = PathElement::from_fields_v1_key(key)? else {
            continue;
        };
        let Value::Object(child_map) = child else {
            return Err(format!("fieldsV1 entry {key:?} is not a JSON object"));
        };
        prefix.push(element);
        let has_children = child_map.keys().any(|k| k != ".");
        if !has_children || child_map.contains_key(".") {
            set.insert(prefix.clone());
        }
        read_level(child_map, prefix, set)?;
        prefix.pop();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn key(name: &str) -> PathElement {
        PathElement::Key(vec![("name".to_string(), json!(name))])
    }

    #[test]
    fn encodes_members_children_and_dot_like_kubernetes() {
        let mut set = FieldSet::new();
        let c = |rest: &[PathElement]| {
            let mut p = field_path(&["spec", "containers"]);
            p.extend_from_slice(rest);
            p
        };
        set.insert(c(&[key("web")]));
        set.insert(c(&[key("web"), PathElement::Field("image".into())]));
        set.insert(c(&[key("web"), PathElement::Field("name".into())]));
        set.insert(field_path(&["spec", "replicas"]));
        set.insert(vec![
            PathElement::Field("metadata".into()),
            PathElement::Field("finalizers".into()),
            PathElement::Value(json!("a/b")),
        ]);
        let encoded = set.to_fields_v1();
        assert_eq!(
            serde_json::to_string(&encoded).unwrap(),
            r#"{"f:metadata":{"f:finalizers":{"v:\"a/b\"":{}}},"f:spec":{"f:containers":{"k:{\"name\":\"web\"}":{".":{},"f:image":{},"f:name":{}}},"f:replicas":{}}}"#
        );
        assert_eq!(FieldSet::from_fields_v1(&encoded).unwrap(), set);
    }

    #[test]
    fn keys_sort_their_fields_and_print_in_go_notation() {
        let parsed = PathElement::from_fields_v1_key(r#"k:{"protocol":"TCP","containerPort":80}"#)
            .unwrap()
            .unwrap();
        assert_eq!(
            parsed.fields_v1_key(),
            r#"k:{"containerPort":80,"protocol":"TCP"}"#
        );
        assert_eq!(parsed.to_string(), r#"[containerPort=80,protocol="TCP"]"#);
        let mut p = field_path(&["spec", "template", "spec", "containers"]);
        p.push(key("web"));
        p.push(PathElement::Field("image".into()));
        assert_eq!(
            path_string(&p),
            r#".spec.template.spec.containers[name="web"].image"#
        );
    }

    #[test]
    fn decoding_skips_unknown_prefixes_and_rejects_garbage() {
        let set = FieldSet::from_fields_v1(&json!({"x:odd": {}, "f:a": {}})).unwrap();
        assert_eq!(set.len(), 1);
        assert!(FieldSet::from_fields_v1(&json!({"f:a": 1})).is_err());
        assert!(FieldSet::from_fields_v1(&json!({"k:notjson": {}})).is_err());
        assert!(FieldSet::from_fields_v1(&json!([])).is_err());
    }

    #[test]
    fn value_order_matches_structured_merge_diff() {
        let mut vs = [
            json!(null),
            json!({}),
            json!([]),
            json!(true),
            json!("a"),
            json!(2),
        ];
        vs.sort_by(compare_values);
        assert_eq!(
            vs.to_vec(),
            vec![
                json!(2),
                json!("a"),
                json!(true),
                json!([]),
                json!({}),
                json!(null)
            ]
        );
    }

    #[test]
    fn members_come_before_children_when_iterating() {
        let set: FieldSet = [field_path(&["spec", "a", "x"]), field_path(&["spec", "b"])]
            .into_iter()
            .collect();
        let order: Vec<String> = set
            .iter_members_first()
            .into_iter()
            .map(|p| path_string(p))
            .collect();
        assert_eq!(order, vec![".spec.b", ".spec.a.x"]);
    }
}
