//! Which `--output` format a command prints in: its default, or one it supports.

use color_eyre::eyre::{Result, bail};

use super::{GlobalArgs, OutputFormat};

/// The formats of a command that prints a table: the table, or its data as JSON or YAML.
pub const TABLE_FORMATS: &[OutputFormat] =
    &[OutputFormat::Table, OutputFormat::Json, OutputFormat::Yaml];

/// `--output`, or `default` when not given; an error naming the formats `cmd` supports when
/// it is not one of `allowed`.
pub fn output_format(
    global: &GlobalArgs,
    default: OutputFormat,
    allowed: &[OutputFormat],
    cmd: &str,
) -> Result<OutputFormat> {
    let f = global.output.unwrap_or(default);
    if allowed.contains(&f) {
        return Ok(f);
    }
    let names: Vec<String> = allowed.iter().map(|a| name(*a)).collect();
    let listed = match names.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    };
    bail!(
        "--output {} is not supported by {cmd} (use {listed})",
        name(f)
    )
}

/// A format as `--output` spells it.
fn name(f: OutputFormat) -> String {
    format!("{f:?}").to_lowercase()
}
