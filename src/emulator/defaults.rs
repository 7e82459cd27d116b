//! STAND-IN for emu-ssa's defaults module (replaced at merge): sets no defaults.

use serde_json::Value;

/// Fills the defaults a real API server sets (stand-in: none).
pub fn apply_defaults(_group: &str, _kind: &str, _obj: &mut Value) {}
