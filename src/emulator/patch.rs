//! STAND-IN for emu-ssa's patch module (replaced at merge): merge and JSON patches through
//! the `json-patch` crate; strategic merge is approximated by a merge patch.

use serde_json::Value;

/// Why a patch could not be applied.
#[derive(Debug, thiserror::Error)]
pub enum PatchError {
    /// The patch document is malformed or does not apply.
    #[error("{0}")]
    Invalid(String),
}

/// Applies an RFC 7386 JSON merge patch.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    json_patch::merge(target, patch);
}

/// Applies an RFC 6902 JSON patch.
pub fn json_patch(target: &mut Value, patch: &Value) -> Result<(), PatchError> {
    let ops: json_patch::Patch =
        serde_json::from_value(patch.clone()).map_err(|e| PatchError::Invalid(e.to_string()))?;
    json_patch::patch(target, &ops).map_err(|e| PatchError::Invalid(e.to_string()))
}

/// Applies a strategic merge patch (stand-in: a plain merge patch).
pub fn strategic_merge_patch(target: &mut Value, patch: &Value) -> Result<(), PatchError> {
    if !patch.is_object() {
        return Err(PatchError::Invalid("patch is not an object".into()));
    }
    json_patch::merge(target, patch);
    Ok(())
}
