//! Helm: `helm template RELEASE CHART --namespace NS --include-crds` on a checkout of the
//! commit, with the Application's value files, inline values and parameters (Argo CD's
//! precedence: value files, then inline values, then `--set` parameters).

use std::ffi::OsString;
use std::sync::Arc;

use super::checkout::Checkout;
use super::error::SourceError;
use super::exec::{self, Tools};
use super::manifest::{self, Manifest};
use super::tree::{join, normalize_app_path};
use crate::model::HelmSource;
use crate::yaml;

/// The file that makes a folder a Helm chart.
pub(crate) const MARKER: &str = "Chart.yaml";

/// What `render` needs besides the tree.
pub(crate) struct HelmRequest<'a> {
    /// The Application's helm options.
    pub options: Option<&'a HelmSource>,
    /// Release name when the options set none.
    pub app_name: &'a str,
    /// `--namespace`, when the Application has a destination namespace.
    pub namespace: Option<&'a str>,
}

/// Renders the chart at `app_path` of `tree`.
pub(crate) fn render(
    checkout: impl FnOnce() -> Result<Arc<Checkout>, SourceError>,
    app_path: &[String],
    request: &HelmRequest<'_>,
    tools: &Tools,
) -> Result<Vec<Manifest>, SourceError> {
    let path = join(app_path);
    let default_options = HelmSource::default();
    let options = request.options.unwrap_or(&default_options);
    let release =
        release_name(options, request.app_name).map_err(|message| SourceError::BadOptions {
            path: path.clone(),
            message,
        })?;
    let Some(helm) = tools.find("helm") else {
        return Err(SourceError::ToolMissing {
            tool: "helm".into(),
            path,
            marker: MARKER.into(),
        });
    };
    let checkout = checkout()?;
    let scratch = checkout.scratch()?;
    let mut chart_dir = checkout.repo();
    chart_dir.extend(app_path);
    let mut args: Vec<OsString> = exec::args(["template", release]);
    args.push(chart_dir.into_os_string());
    if let Some(ns) = request.namespace.filter(|n| !n.is_empty()) {
        args.extend(exec::args(["--namespace", ns]));
    }
    args.push("--include-crds".into());
    for file in &options.value_files {
        args.push("--values".into());
        args.push(value_file_arg(file, app_path, &checkout, &path)?);
    }
    let inline = match (&options.values_object, &options.values) {
        (Some(object), _) if !object.is_null() => Some(yaml::to_string(object)),
        (_, Some(text)) if !text.trim().is_empty() => Some(text.clone()),
        _ => None,
    };
    if let Some(values) = inline {
        let file = scratch.path().join("values.yaml");
        std::fs::write(&file, values).map_err(|e| SourceError::io(&file, &e))?;
        args.push("--values".into());
        args.push(file.into_os_string());
    }
    for p in &options.parameters {
        let flag = if p.force_string {
            "--set-string"
        } else {
            "--set"
        };
        args.push(flag.into());
        args.push(format!("{}={}", p.name, escape_set_value(&p.value)).into());
    }
    let stdout = exec::render_output(
        "helm template",
        &helm,
        &args,
        checkout.root(),
        tools.timeout(),
        &path,
    )?;
    parse_output(&stdout, app_path)
}

/// A value file relative to the chart: it must stay inside the repository and exist.
/// `http(s)://` value files are passed to helm as they are.
fn value_file_arg(
    file: &str,
    app_path: &[String],
    checkout: &Checkout,
    path: &str,
) -> Result<OsString, SourceError> {
    if file.starts_with("https://") || file.starts_with("http://") {
        return Ok(file.into());
    }
    let joined = format!("{}/{}", join(app_path), file);
    let components = normalize_app_path(&joined).map_err(|reason| SourceError::BadOptions {
        path: path.to_string(),
        message: format!("helm value file '{file}' escapes the repository: {reason}"),
    })?;
    let mut on_disk = checkout.repo();
    on_disk.extend(&components);
    if !on_disk.is_file() {
        return Err(SourceError::BadOptions {
            path: path.to_string(),
            message: format!("helm value file '{}' not found", join(&components)),
        });
    }
    Ok(on_disk.into_os_string())
}

/// The release name: helm's own rule (lower-case DNS labels, at most 53 characters), so
/// it can never be read as a flag (`--post-renderer=…`) where it sits among the arguments.
fn release_name<'a>(options: &'a HelmSource, app_name: &'a str) -> Result<&'a str, String> {
    let name = options
        .release_name
        .as_deref()
        .filter(|r| !r.trim().is_empty())
        .unwrap_or(app_name);
    let ok = !name.is_empty()
        && name.len() <= 53
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric());
    if ok {
        Ok(name)
    } else {
        Err(format!(
            "helm release name {name:?} is not valid (lower-case letters, digits, '-' and '.', at most 53 characters)"
        ))
    }
}

/// Argo CD escapes commas in `--set` values (helm would split on them) unless the value is
/// a `{a,b}` list.
fn escape_set_value(value: &str) -> String {
    if value.starts_with('{') && value.ends_with('}') {
        value.to_string()
    } else {
        value.replace(',', "\\,")
    }
}

/// Splits helm's output into manifests; each takes its origin from helm's
/// `# Source: CHART/templates/…` comment, mapped onto the chart's path in the repository.
fn parse_output(stdout: &str, app_path: &[String]) -> Result<Vec<Manifest>, SourceError> {
    let path = join(app_path);
    let origin = format!("{path} (helm output)");
    let documents = yaml::parse_documents(stdout, &origin)?;
    let sources: Vec<(usize, String)> = stdout
        .lines()
        .enumerate()
        .filter_map(|(i, line)| {
            let template = line.strip_prefix("# Source: ")?.trim();
            let within_chart = template.split_once('/').map_or(template, |(_, rest)| rest);
            Some((i + 1, format!("{path}/{within_chart} (helm output)")))
        })
        .collect();
    let starts: Vec<usize> = documents.iter().map(|d| d.line).collect();
    let mut manifests = Vec::new();
    for (index, doc) in documents.into_iter().enumerate() {
        let end = starts.get(index + 1).copied().unwrap_or(usize::MAX);
        // Helm writes the Source comment as the first line of each document.
        let origin = sources
            .iter()
            .find(|(line, _)| *line >= doc.line && *line < end)
            .map_or_else(|| format!("{origin}:{}", doc.line), |(_, s)| s.clone());
        manifest::push_value(&mut manifests, doc.value, &origin)?;
    }
    Ok(manifests)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_come_from_source_comments() {
        let out = "---\n# Source: web/templates/service.yaml\napiVersion: v1\nkind: Service\nmetadata:\n  name: web\n---\n# Source: web/templates/deployment.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n";
        let ms = parse_output(out, &["charts".into(), "web".into()]).unwrap();
        assert_eq!(ms.len(), 2);
        assert_eq!(
            ms[0].origin,
            "charts/web/templates/service.yaml (helm output)"
        );
        assert_eq!(
            ms[1].origin,
            "charts/web/templates/deployment.yaml (helm output)"
        );
    }

    #[test]
    fn release_names_that_could_be_flags_are_refused() {
        let with = |name: &str| HelmSource {
            release_name: Some(name.into()),
            ..HelmSource::default()
        };
        assert_eq!(release_name(&HelmSource::default(), "web").unwrap(), "web");
        assert_eq!(release_name(&with("web-v2.1"), "x").unwrap(), "web-v2.1");
        for bad in [
            "--post-renderer=/tmp/x",
            "-n",
            "Web",
            "a b",
            &"x".repeat(54),
        ] {
            let e = release_name(&with(bad), "x").unwrap_err();
            assert!(e.contains("is not valid"), "{bad}: {e}");
        }
    }

    #[test]
    fn commas_are_escaped_outside_lists() {
        assert_eq!(escape_set_value("a,b"), "a\\,b");
        assert_eq!(escape_set_value("{a,b}"), "{a,b}");
    }
}
