//! Plain folders of YAML and JSON manifests, read from the commit's tree (no checkout), with
//! Argo CD's `directory` options: `recurse`, and `include`/`exclude` globs matched against
//! the file's path relative to the app folder (`*` crosses `/`, `{a,b}` alternatives).

use gix::ObjectId;
use globset::{GlobBuilder, GlobMatcher};

use super::error::SourceError;
use super::manifest::{self, Manifest};
use super::tree::{CommitTree, Kind, Resolved, join};
use crate::model::DirectorySource;
use crate::yaml;

/// More files than this in one app folder is refused (a guard against symlink farms).
const MAX_FILES: usize = 100_000;

/// The glob filters of a directory source.
struct Filters {
    include: Option<GlobMatcher>,
    exclude: Option<GlobMatcher>,
}

impl Filters {
    fn new(options: &DirectorySource, app_path: &str) -> Result<Self, SourceError> {
        let compile =
            |pattern: &Option<String>, field: &str| -> Result<Option<GlobMatcher>, SourceError> {
                match pattern.as_deref().map(str::trim) {
                    None | Some("") => Ok(None),
                    Some(p) => GlobBuilder::new(p)
                        .literal_separator(false)
                        .build()
                        .map(|g| Some(g.compile_matcher()))
                        .map_err(|e| SourceError::BadOptions {
                            path: app_path.to_string(),
                            message: format!("directory.{field} glob '{p}' is invalid: {e}"),
                        }),
                }
            };
        Ok(Filters {
            include: compile(&options.include, "include")?,
            exclude: compile(&options.exclude, "exclude")?,
        })
    }

    fn accepts(&self, relative: &str) -> bool {
        self.include.as_ref().is_none_or(|g| g.is_match(relative))
            && !self.exclude.as_ref().is_some_and(|g| g.is_match(relative))
    }
}

/// A manifest file found by the walk.
struct Found {
    /// Path shown in origins (through links as written, relative to the repository root).
    display: String,
    /// The blob.
    id: ObjectId,
}

fn is_manifest_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.ends_with(".yaml") || lower.ends_with(".yml") || lower.ends_with(".json")
}

/// Reads every manifest under the app folder `dir` (already resolved) of `tree`.
pub(crate) fn render(
    tree: &CommitTree<'_>,
    app_path: &[String],
    dir: ObjectId,
    real_dir: &[String],
    options: &DirectorySource,
) -> Result<Vec<Manifest>, SourceError> {
    let filters = Filters::new(options, &join(app_path))?;
    let mut found = Vec::new();
    let mut walker = Walker {
        tree,
        filters: &filters,
        recurse: options.recurse,
        found: &mut found,
        visited: 0,
    };
    let mut ancestors = vec![real_dir.to_vec()];
    walker.walk(dir, app_path, &[], &mut ancestors)?;
    let mut manifests = Vec::new();
    for file in found {
        let text = tree.read_text(file.id, &file.display)?;
        if file.display.to_ascii_lowercase().ends_with(".json") {
            let value: serde_json::Value =
                serde_json::from_str(&text).map_err(|e| yaml::YamlError {
                    origin: file.display.clone(),
                    line: Some(e.line()),
                    column: Some(e.column()),
                    message: json_message(&e),
                })?;
            manifest::push_value(&mut manifests, value, &format!("{}:1", file.display))?;
        } else {
            let documents = yaml::parse_documents(&text, &file.display)?;
            let lines: Vec<&str> = text.lines().collect();
            manifest::push_documents(&mut manifests, documents, &|line| {
                format!("{}:{}", file.display, manifest::content_line(&lines, line))
            })?;
        }
    }
    Ok(manifests)
}

/// serde_json appends " at line L column C"; the location is printed by [`yaml::YamlError`].
fn json_message(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.find(" at line ") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

struct Walker<'a, 't> {
    tree: &'a CommitTree<'t>,
    filters: &'a Filters,
    recurse: bool,
    found: &'a mut Vec<Found>,
    visited: usize,
}

impl Walker<'_, '_> {
    /// Walks folder `dir`, shown as `shown` (repository path as the user sees it) and
    /// `relative` to the app folder; `ancestors` holds the real paths of the folders being
    /// walked, so a link back to one of them is reported as a loop.
    fn walk(
        &mut self,
        dir: ObjectId,
        shown: &[String],
        relative: &[String],
        ancestors: &mut Vec<Vec<String>>,
    ) -> Result<(), SourceError> {
        for entry in self.tree.entries(dir)? {
            self.visited += 1;
            if self.visited > MAX_FILES {
                return Err(SourceError::BadOptions {
                    path: join(shown),
                    message: format!("more than {MAX_FILES} files to read; refused"),
                });
            }
            let mut shown_path = shown.to_vec();
            shown_path.push(entry.name.clone());
            let mut rel_path = relative.to_vec();
            rel_path.push(entry.name.clone());
            match entry.kind {
                Kind::File { .. } => self.consider(&entry.name, &shown_path, &rel_path, entry.id),
                Kind::Dir => {
                    if self.recurse {
                        let mut real = ancestors.last().cloned().unwrap_or_default();
                        real.push(entry.name.clone());
                        ancestors.push(real);
                        self.walk(entry.id, &shown_path, &rel_path, ancestors)?;
                        ancestors.pop();
                    }
                }
                Kind::Link => {
                    let wanted_file = is_manifest_name(&entry.name);
                    if !wanted_file && !self.recurse {
                        continue;
                    }
                    let mut link_real = ancestors.last().cloned().unwrap_or_default();
                    link_real.push(entry.name.clone());
                    match self.tree.resolve(&link_real)? {
                        Some(Resolved::File { id, .. }) => {
                            self.consider(&entry.name, &shown_path, &rel_path, id)
                        }
                        Some(Resolved::Dir { path, id }) => {
                            if !self.recurse {
                                continue;
                            }
                            if ancestors.contains(&path) {
                                return Err(SourceError::Symlink {
                                    link: join(&shown_path),
                                    reason: format!(
                                        "symbolic link loop: points back to {}",
                                        join(&path)
                                    ),
                                });
                            }
                            ancestors.push(path);
                            self.walk(id, &shown_path, &rel_path, ancestors)?;
                            ancestors.pop();
                        }
                        None if wanted_file && self.filters.accepts(&rel_path.join("/")) => {
                            return Err(SourceError::Symlink {
                                link: join(&shown_path),
                                reason: "symbolic link points to nothing in this commit".into(),
                            });
                        }
                        None => {}
                    }
                }
                Kind::Submodule => {}
            }
        }
        Ok(())
    }

    fn consider(&mut self, name: &str, shown: &[String], relative: &[String], id: ObjectId) {
        if is_manifest_name(name) && self.filters.accepts(&relative.join("/")) {
            self.found.push(Found {
                display: join(shown),
                id,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filters(include: Option<&str>, exclude: Option<&str>) -> Filters {
        let options = DirectorySource {
            recurse: true,
            include: include.map(String::from),
            exclude: exclude.map(String::from),
        };
        Filters::new(&options, "app").unwrap()
    }

    #[test]
    fn globs_follow_argo_cd() {
        let f = filters(Some("{config.json,env-usw2/*}"), None);
        assert!(f.accepts("config.json"));
        assert!(f.accepts("env-usw2/a.yaml"));
        assert!(!f.accepts("env-use1/a.yaml"));
        // `*` crosses folders, as with Argo CD's glob.Match without separators.
        let f = filters(Some("*.yaml"), Some("*secret*"));
        assert!(f.accepts("sub/deep/x.yaml"));
        assert!(!f.accepts("sub/secret.yaml"));
        assert!(!f.accepts("x.json"));
    }

    #[test]
    fn a_bad_glob_names_the_field() {
        let options = DirectorySource {
            recurse: false,
            include: Some("{a,b".into()),
            exclude: None,
        };
        let err = Filters::new(&options, "apps/web").err().unwrap();
        assert!(
            err.to_string()
                .starts_with("apps/web: directory.include glob '{a,b'"),
            "{err}"
        );
    }
}
