//! Schema-aware walks over JSON objects for server-side apply: the field set an object
//! holds, merging an applied configuration into a live object, comparing two objects, and
//! removing owned paths. These follow structured-merge-diff's rules over our small schema.

use super::fields_schema::{KeyedList, ListType, ObjectSchema};
use super::fieldset::{FieldPath, FieldSet, PathElement, path_string};
use serde_json::Value;
use std::collections::{HashMap, HashSet};

/// Fields added, changed and removed between two versions of an object.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Comparison {
    /// Paths present only in the new object (leaves and the containers that appeared).
    pub added: FieldSet,
    /// Leaves present in both whose values differ.
    pub modified: FieldSet,
    /// Paths present only in the old object.
    pub removed: FieldSet,
}

/// The items of a granular list, each with its path element.
enum ListItems<'v> {
    Set(Vec<(PathElement, &'v Value)>),
    Keyed(Vec<(PathElement, &'v Value)>),
}

/// The path element that names a keyed-list item, with key defaults filled in.
pub fn item_key(keyed: &KeyedList, item: &Value) -> Result<PathElement, String> {
    let Value::Object(map) = item else {
        return Err("keyed list item is not an object".to_string());
    };
    let mut fields = Vec::with_capacity(keyed.keys.len());
    for key in keyed.keys {
        let value = match (map.get(key.name), key.default) {
            (Some(v), _) if !v.is_null() => v.clone(),
            (_, Some(default)) => Value::String(default.to_string()),
            _ => {
                return Err(format!(
                    "associative list with keys has an element that omits key field {:?} (and doesn't have default value)",
                    key.name
                ));
            }
        };
        fields.push((key.name.to_string(), value));
    }
    fields.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(PathElement::Key(fields))
}

/// Splits a granular list into its items, or says why it cannot be treated as one
/// (missing keys, duplicates); `Ok(None)` for an atomic list.
fn list_items<'v>(
    schema: &ObjectSchema<'_>,
    names: &[&str],
    items: &'v [Value],
) -> Result<Option<ListItems<'v>>, String> {
    match schema.list_type(names) {
        ListType::Atomic => Ok(None),
        ListType::Set => {
            let mut seen = HashSet::new();
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                if item.is_object() || item.is_array() {
                    return Err("set list holds a non-scalar item".to_string());
                }
                if !seen.insert(item.to_string()) {
                    return Err(format!("duplicate entries for key [={item}]"));
                }
                out.push((PathElement::Value(item.clone()), item));
            }
            Ok(Some(ListItems::Set(out)))
        }
        ListType::Keyed(keyed) => {
            let mut seen = HashSet::new();
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                let pe = item_key(&keyed, item)?;
                if !seen.insert(pe.fields_v1_key()) {
                    return Err(format!("duplicate entries for key {pe}"));
                }
                out.push((pe, item));
            }
            Ok(Some(ListItems::Keyed(out)))
        }
    }
}

/// Whether `value` is walked into (a non-atomic object or a valid granular list) rather than
/// treated as one leaf.
fn is_granular(schema: &ObjectSchema<'_>, names: &[&str], value: &Value) -> bool {
    match value {
        Value::Object(_) => !schema.is_atomic_object(names),
        Value::Array(items) => matches!(list_items(schema, names, items), Ok(Some(_))),
        _ => false,
    }
}

/// Checks that every keyed list and set in an applied configuration can be merged.
pub fn validate(schema: &ObjectSchema<'_>, value: &Value) -> Result<(), String> {
    fn walk<'v>(
        schema: &ObjectSchema<'_>,
        names: &mut Vec<&'v str>,
        path: &mut FieldPath,
        value: &'v Value,
    ) -> Result<(), String> {
        match value {
            Value::Object(map) if !schema.is_atomic_object(names) => {
                for (k, child) in map {
                    names.push(k);
                    path.push(PathElement::Field(k.clone()));
                    walk(schema, names, path, child)?;
                    path.pop();
                    names.pop();
                }
            }
            Value::Array(items) => match list_items(schema, names, items) {
                Ok(Some(ListItems::Keyed(entries))) => {
                    for (pe, item) in entries {
                        path.push(pe);
                        walk(schema, names, path, item)?;
                        path.pop();
                    }
                }
                Ok(_) => {}
                Err(e) => return Err(format!("{}: {e}", path_string(path))),
            },
            _ => {}
        }
        Ok(())
    }
    walk(schema, &mut Vec::new(), &mut Vec::new(), value)
}

/// The set of fields an object holds, as structured-merge-diff's `ToFieldSet` records it:
/// leaves, atomic values, keyed and set items, empty objects, and non-leaf map entries.
pub fn to_field_set(schema: &ObjectSchema<'_>, value: &Value) -> FieldSet {
    fn walk<'v>(
        schema: &ObjectSchema<'_>,
        names: &mut Vec<&'v str>,
        path: &mut FieldPath,
        value: &'v Value,
        set: &mut FieldSet,
    ) {
        match value {
            Value::Object(map) if !schema.is_atomic_object(names) => {
                if map.is_empty() {
                    if !path.is_empty() {
                        set.insert(path.clone());
                    }
                    return;
                }
                let parent_is_map = schema.is_map(names);
                for (k, child) in map {
                    names.push(k);
                    path.push(PathElement::Field(k.clone()));
                    walk(schema, names, path, child, set);
                    if parent_is_map {
                        set.insert(path.clone());
                    }
                    path.pop();
                    names.pop();
                }
            }
            Value::Array(items) => match list_items(schema, names, items) {
                Ok(Some(ListItems::Keyed(entries))) => {
                    for (pe, item) in entries {
                        path.push(pe);
                        walk(schema, names, path, item, set);
                        set.insert(path.clone());
                        path.pop();
                    }
                }
                Ok(Some(ListItems::Set(entries))) => {
                    for (pe, _) in entries {
                        path.push(pe);
                        set.insert(path.clone());
                        path.pop();
                    }
                }
                _ => set.insert(path.clone()),
            },
            _ => set.insert(path.clone()),
        }
    }
    let mut set = FieldSet::new();
    walk(schema, &mut Vec::new(), &mut Vec::new(), value, &mut set);
    set
}

/// Adds, for every path, the struct fields it passes through (not map keys or list items),
/// as structured-merge-diff's `EnsureNamedFieldsAreMembers` does before pruning.
pub fn ensure_named_fields(schema: &ObjectSchema<'_>, set: &FieldSet) -> FieldSet {
    let mut out = set.clone();
    for path in set.iter() {
        let mut names: Vec<&str> = Vec::new();
        for (i, element) in path.iter().enumerate() {
            if let PathElement::Field(name) = element {
                if !schema.is_map(&names) {
                    out.insert(path[..=i].to_vec());
                }
                names.push(name);
            }
        }
    }
    out
}

/// Merges an applied configuration into a live object: objects merge field by field,
/// granular lists item by item (keeping live order, following the configuration's order for
/// the items it names), everything else is replaced. A `null` in the configuration drops
/// the field, as a real server's typed round trip does.
pub fn merge(schema: &ObjectSchema<'_>, live: &Value, intent: &Value) -> Value {
    merge_value(schema, &mut Vec::new(), Some(live), intent).unwrap_or(Value::Null)
}

fn merge_value<'v>(
    schema: &ObjectSchema<'_>,
    names: &mut Vec<&'v str>,
    live: Option<&'v Value>,
    intent: &'v Value,
) -> Option<Value> {
    match intent {
        Value::Null => None,
        Value::Object(imap) => {
            let lmap = match live {
                Some(Value::Object(l)) if !schema.is_atomic_object(names) => l,
                _ => return Some(without_nulls(intent)),
            };
            let mut out = lmap.clone();
            for (k, iv) in imap {
                names.push(k);
                match merge_value(schema, names, lmap.get(k), iv) {
                    Some(v) => {
                        out.insert(k.clone(), v);
                    }
                    None => {
                        out.shift_remove(k);
                    }
                }
                names.pop();
            }
            Some(Value::Object(out))
        }
        Value::Array(iitems) => {
            let Some(Value::Array(litems)) = live else {
                return Some(without_nulls(intent));
            };
            let (Ok(Some(l)), Ok(Some(r))) = (
                list_items(schema, names, litems),
                list_items(schema, names, iitems),
            ) else {
                return Some(without_nulls(intent));
            };
            let (l, r) = match (l, r) {
                (ListItems::Keyed(l), ListItems::Keyed(r))
                | (ListItems::Set(l), ListItems::Set(r)) => (l, r),
                _ => return Some(without_nulls(intent)),
            };
            let merged = merge_list_order(&l, &r, |lhs, rhs| match (lhs, rhs) {
                (_, Some(rv)) => merge_value(schema, names, lhs, rv),
                (Some(lv), None) => Some(lv.clone()),
                (None, None) => None,
            });
            Some(Value::Array(merged))
        }
        scalar => Some(scalar.clone()),
    }
}

/// Orders the merge of two granular lists as structured-merge-diff does: live-only items
/// keep their place, shared items follow the applied order, new items come where the
/// applied configuration puts them.
fn merge_list_order<'v>(
    lhs: &[(PathElement, &'v Value)],
    rhs: &[(PathElement, &'v Value)],
    mut merge_item: impl FnMut(Option<&'v Value>, Option<&'v Value>) -> Option<Value>,
) -> Vec<Value> {
    let lhs_index: HashMap<String, usize> = lhs
        .iter()
        .enumerate()
        .map(|(i, (pe, _))| (pe.fields_v1_key(), i))
        .collect();
    let rhs_keys: HashSet<String> = rhs.iter().map(|(pe, _)| pe.fields_v1_key()).collect();
    let mut shared = rhs
        .iter()
        .map(|(pe, _)| pe.fields_v1_key())
        .filter(|k| lhs_index.contains_key(k));
    let mut next_shared = shared.next();
    let mut merged_rhs: HashSet<String> = HashSet::new();
    let mut out = Vec::with_capacity(lhs.len().max(rhs.len()));
    let (mut li, mut ri) = (0, 0);
    while li < lhs.len() || ri < rhs.len() {
        if li < lhs.len() && ri < rhs.len() {
            let lkey = lhs[li].0.fields_v1_key();
            if lhs[li].0 == rhs[ri].0 {
                merged_rhs.insert(lkey);
                out.extend(merge_item(Some(lhs[li].1), Some(rhs[ri].1)));
                li += 1;
                ri += 1;
                next_shared = shared.next();
                continue;
            }
            if rhs_keys.contains(&lkey) && next_shared.as_ref().is_some_and(|n| *n != lkey) {
                li += 1;
                continue;
            }
        }
        if li < lhs.len() {
            let lkey = lhs[li].0.fields_v1_key();
            if !rhs_keys.contains(&lkey) {
                out.extend(merge_item(Some(lhs[li].1), None));
                li += 1;
                continue;
            }
            if merged_rhs.contains(&lkey) {
                li += 1;
                continue;
            }
        }
        if ri < rhs.len() {
            let rkey = rhs[ri].0.fields_v1_key();
            let live_item = lhs_index.get(&rkey).map(|&i| lhs[i].1);
            out.extend(merge_item(live_item, Some(rhs[ri].1)));
            ri += 1;
            if next_shared.as_ref() == Some(&rkey) {
                next_shared = shared.next();
            }
            merged_rhs.insert(rkey);
        }
    }
    out
}

/// A copy of `value` with `null` object entries dropped at every depth.
pub fn without_nulls(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), without_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_nulls).collect()),
        other => other.clone(),
    }
}

/// Compares two versions of an object the way structured-merge-diff does, so ownership can
/// follow what changed.
pub fn compare(schema: &ObjectSchema<'_>, old: &Value, new: &Value) -> Comparison {
    let mut out = Comparison::default();
    compare_node(
        schema,
        &mut Vec::new(),
        &mut Vec::new(),
        Some(old),
        Some(new),
        &mut out,
    );
    out
}

fn compare_node<'v>(
    schema: &ObjectSchema<'_>,
    names: &mut Vec<&'v str>,
    path: &mut FieldPath,
    old: Option<&'v Value>,
    new: Option<&'v Value>,
    out: &mut Comparison,
) {
    let old_granular = old.is_some_and(|v| is_granular(schema, names, v));
    let new_granular = new.is_some_and(|v| is_granular(schema, names, v));
    match (old, new) {
        (None, None) => {}
        (None, Some(n)) => {
            if new_granular {
                compare_children(schema, names, path, None, Some(n), out);
            }
            out.added.insert(path.clone());
        }
        (Some(o), None) => {
            if old_granular {
                compare_children(schema, names, path, Some(o), None, out);
            }
            out.removed.insert(path.clone());
        }
        (Some(o), Some(n)) => {
            let same_shape = matches!(
                (o, n),
                (Value::Object(_), Value::Object(_)) | (Value::Array(_), Value::Array(_))
            );
            if old_granular && new_granular && same_shape {
                compare_children(schema, names, path, Some(o), Some(n), out);
            } else if o.is_null() && new_granular {
                // A Go zero value (`containers: null`) that became a list: only its items are new.
                compare_children(schema, names, path, None, Some(n), out);
            } else if n.is_null() && old_granular {
                compare_children(schema, names, path, Some(o), None, out);
            } else if o != n {
                out.modified.insert(path.clone());
                if old_granular {
                    compare_children(schema, names, path, Some(o), None, out);
                }
                if new_granular {
                    compare_children(schema, names, path, None, Some(n), out);
                }
            }
        }
    }
}

fn compare_children<'v>(
    schema: &ObjectSchema<'_>,
    names: &mut Vec<&'v str>,
    path: &mut FieldPath,
    old: Option<&'v Value>,
    new: Option<&'v Value>,
    out: &mut Comparison,
) {
    let as_map = |v: Option<&'v Value>| match v {
        Some(Value::Object(m)) => Some(m),
        _ => None,
    };
    let as_list = |v: Option<&'v Value>, names: &[&str]| match v {
        Some(Value::Array(items)) => match list_items(schema, names, items) {
            Ok(Some(ListItems::Keyed(e) | ListItems::Set(e))) => Some(e),
            _ => None,
        },
        _ => None,
    };
    let (om, nm) = (as_map(old), as_map(new));
    if om.is_some() || nm.is_some() {
        let mut keys: Vec<&'v String> = om.map(|m| m.keys().collect()).unwrap_or_default();
        if let Some(n) = nm {
            keys.extend(n.keys().filter(|k| !om.is_some_and(|m| m.contains_key(*k))));
        }
        for k in keys {
            names.push(k.as_str());
            path.push(PathElement::Field(k.clone()));
            let (ov, nv) = (om.and_then(|m| m.get(k)), nm.and_then(|m| m.get(k)));
            compare_node(schema, names, path, ov, nv, out);
            path.pop();
            names.pop();
        }
        return;
    }
    let ol = as_list(old, names).unwrap_or_default();
    let nl = as_list(new, names).unwrap_or_default();
    let new_by_key: HashMap<String, &'v Value> =
        nl.iter().map(|(pe, v)| (pe.fields_v1_key(), *v)).collect();
    let old_keys: HashSet<String> = ol.iter().map(|(pe, _)| pe.fields_v1_key()).collect();
    for (pe, ov) in &ol {
        path.push(pe.clone());
        let nv = new_by_key.get(&pe.fields_v1_key()).copied();
        compare_node(schema, names, path, Some(*ov), nv, out);
        path.pop();
    }
    for (pe, nv) in &nl {
        if old_keys.contains(&pe.fields_v1_key()) {
            continue;
        }
        path.push(pe.clone());
        compare_node(schema, names, path, None, Some(*nv), out);
        path.pop();
    }
}

/// Removes from `value` every path in `paths` (with what lies below it).
pub fn remove_paths(schema: &ObjectSchema<'_>, value: &mut Value, paths: &FieldSet) {
    if paths.is_empty() {
        return;
    }
    remove_walk(schema, &mut Vec::new(), &mut Vec::new(), value, paths);
}

fn remove_walk(
    schema: &ObjectSchema<'_>,
    names: &mut Vec<String>,
    path: &mut FieldPath,
    value: &mut Value,
    paths: &FieldSet,
) {
    match value {
        Value::Object(map) => {
            let keys: Vec<String> = map.keys().cloned().collect();
            for k in keys {
                path.push(PathElement::Field(k.clone()));
                if paths.contains(path) {
                    map.shift_remove(&k);
                } else if paths.has_prefix(path)
                    && let Some(child) = map.get_mut(&k)
                {
                    names.push(k);
                    remove_walk(schema, names, path, child, paths);
                    names.pop();
                }
                path.pop();
            }
        }
        Value::Array(items) => {
            let name_refs: Vec<&str> = names.iter().map(String::as_str).collect();
            let elements: Vec<PathElement> = match list_items(schema, &name_refs, items) {
                Ok(Some(ListItems::Keyed(e) | ListItems::Set(e))) => {
                    e.into_iter().map(|(pe, _)| pe).collect()
                }
                _ => return,
            };
            let mut keep = Vec::with_capacity(items.len());
            for (pe, mut item) in elements.into_iter().zip(std::mem::take(items)) {
                path.push(pe);
                if !paths.contains(path) {
                    if paths.has_prefix(path) {
                        remove_walk(schema, names, path, &mut item, paths);
                    }
                    keep.push(item);
                }
                path.pop();
            }
            *items = keep;
        }
        _ => {}
    }
}
