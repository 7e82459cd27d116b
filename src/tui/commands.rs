//! The `:` command line: the commands that exist, their aliases (k9s style), parsing,
//! Tab completion and history.

use crossterm::event::KeyEvent;

use super::action::Action;
use super::input::LineEditor;

/// One `:` command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommandSpec {
    /// The full name.
    pub name: &'static str,
    /// Other names that do the same.
    pub aliases: &'static [&'static str],
    /// The argument it takes, if any (for help and completion).
    pub arg: Option<&'static str>,
    /// One line for the help popup.
    pub description: &'static str,
}

/// Every command.
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "apps",
        aliases: &["app", "applications", "a"],
        arg: None,
        description: "Go to the apps table",
    },
    CommandSpec {
        name: "ctx",
        aliases: &["context", "contexts"],
        arg: Some("[NAME|all]"),
        description: "Show one context's apps; alone: list the contexts; all: every context",
    },
    CommandSpec {
        name: "sync",
        aliases: &[],
        arg: None,
        description: "Sync the app in view or under the cursor",
    },
    CommandSpec {
        name: "diff",
        aliases: &[],
        arg: None,
        description: "Diff the app (or resource) in view or under the cursor",
    },
    CommandSpec {
        name: "history",
        aliases: &["hist"],
        arg: None,
        description: "Show the sync history of the app",
    },
    CommandSpec {
        name: "timeline",
        aliases: &["events", "tl"],
        arg: None,
        description: "Show the timeline of the app",
    },
    CommandSpec {
        name: "refresh",
        aliases: &["refresh!"],
        arg: None,
        description: "Fetch Git and compare the app again; the ! form also drops cached dry runs and rereads the cluster's kinds",
    },
    CommandSpec {
        name: "reconcile",
        aliases: &["reconcile!", "rec", "rec!"],
        arg: None,
        description: "Flux: reconcile the app now; the ! form reconciles its source first",
    },
    CommandSpec {
        name: "suspend",
        aliases: &[],
        arg: None,
        description: "Flux: suspend the app (Flux stops reconciling it)",
    },
    CommandSpec {
        name: "resume",
        aliases: &[],
        arg: None,
        description: "Flux: resume the app and reconcile it",
    },
    CommandSpec {
        name: "graph",
        aliases: &["flux", "fluxgraph"],
        arg: None,
        description: "Show the Flux graph of every cluster",
    },
    CommandSpec {
        name: "images",
        aliases: &["image", "img"],
        arg: None,
        description: "Show each ImagePolicy's latest tag against what workloads run",
    },
    CommandSpec {
        name: "theme",
        aliases: &["skin"],
        arg: Some("NAME"),
        description: "Switch the colour theme",
    },
    CommandSpec {
        name: "readonly",
        aliases: &["ro", "read-only"],
        arg: None,
        description: "Toggle the read-only guard (never lifts --read-only)",
    },
    CommandSpec {
        name: "help",
        aliases: &["h", "?"],
        arg: None,
        description: "Show the keys and commands",
    },
    CommandSpec {
        name: "quit",
        aliases: &["q", "q!", "exit"],
        arg: None,
        description: "Quit rekon",
    },
];

fn find(word: &str) -> Option<&'static CommandSpec> {
    COMMANDS
        .iter()
        .find(|c| c.name == word || c.aliases.contains(&word))
}

/// The words commands take as arguments, for checking and completion.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Vocabulary {
    /// Theme names.
    pub themes: Vec<String>,
    /// Cluster context names.
    pub contexts: Vec<String>,
}

/// Turns a command line (without the `:`) into an action, or says what is wrong.
pub fn parse(line: &str, words: &Vocabulary) -> Result<Action, String> {
    let themes = &words.themes;
    let mut words = line.split_whitespace();
    let Some(word) = words.next() else {
        return Err("empty command; try :help".into());
    };
    let rest: Vec<&str> = words.collect();
    let Some(spec) = find(word) else {
        return Err(format!("unknown command `:{word}`; try :help or Tab"));
    };
    if spec.arg.is_none() && !rest.is_empty() {
        return Err(format!(":{} takes no argument", spec.name));
    }
    Ok(match spec.name {
        "apps" => Action::ShowApps,
        "ctx" => match rest.as_slice() {
            [] => Action::ListContexts,
            ["all" | "*"] => Action::SetContext(None),
            [name] => Action::SetContext(Some((*name).to_string())),
            _ => return Err("usage: :ctx [NAME|all]".into()),
        },
        "sync" => Action::ShowSync,
        "diff" => Action::ShowDiff,
        "history" => Action::ShowHistory,
        "timeline" => Action::ShowTimeline,
        "refresh" => Action::Refresh {
            hard: word.ends_with('!'),
        },
        "reconcile" => Action::Reconcile {
            with_source: word.ends_with('!'),
        },
        "suspend" => Action::Suspend,
        "resume" => Action::Resume,
        "graph" => Action::ShowFluxGraph,
        "images" => Action::ShowImages,
        "theme" => match rest.as_slice() {
            [name] => Action::SetTheme((*name).to_string()),
            _ => {
                return Err(format!(
                    "usage: :theme NAME; available themes: {}",
                    themes.join(", ")
                ));
            }
        },
        "readonly" => Action::ToggleReadOnly,
        "help" => Action::Help,
        _ => Action::Quit,
    })
}

/// What the word under the cursor could become.
pub fn candidates(line: &str, words: &Vocabulary) -> Vec<String> {
    match line.split_once(' ') {
        None => {
            let mut out: Vec<String> = Vec::new();
            for c in COMMANDS {
                if c.name.starts_with(line) {
                    out.push(c.name.to_string());
                }
            }
            for c in COMMANDS {
                for a in c.aliases {
                    if a.starts_with(line) && a.len() > 1 && !out.iter().any(|o| o == a) {
                        out.push((*a).to_string());
                    }
                }
            }
            out
        }
        Some((cmd, arg)) => {
            let arg = arg.trim_start();
            if arg.contains(' ') {
                return Vec::new();
            }
            let pool: Vec<&String> = match find(cmd).map(|s| s.name) {
                Some("theme") => words.themes.iter().collect(),
                Some("ctx") => words.contexts.iter().collect(),
                _ => Vec::new(),
            };
            let mut out: Vec<String> = pool
                .into_iter()
                .filter(|t| t.starts_with(arg))
                .cloned()
                .collect();
            if find(cmd).is_some_and(|s| s.name == "ctx") && "all".starts_with(arg) {
                out.push("all".into());
            }
            out
        }
    }
}

fn common_prefix(words: &[String]) -> String {
    let Some(first) = words.first() else {
        return String::new();
    };
    let mut len = first.len();
    for w in &words[1..] {
        len = first
            .char_indices()
            .zip(w.chars())
            .take_while(|((_, a), b)| a == b)
            .last()
            .map_or(0, |((i, a), _)| i + a.len_utf8())
            .min(len);
    }
    first[..len].to_string()
}

/// The command line's state: the field, Tab cycling, and the history of run commands.
#[derive(Debug, Clone, Default)]
pub struct CommandLine {
    active: bool,
    editor: LineEditor,
    history: Vec<String>,
    /// Position while walking the history; `None` when editing a new line.
    history_pos: Option<usize>,
    draft: String,
    /// Candidates being cycled by repeated Tab, and the index shown.
    cycle: Option<(Vec<String>, usize)>,
}

impl CommandLine {
    /// Whether the command line is open.
    pub fn is_active(&self) -> bool {
        self.active
    }

    /// Opens an empty command line.
    pub fn open(&mut self) {
        self.active = true;
        self.editor = LineEditor::default();
        self.history_pos = None;
        self.cycle = None;
    }

    /// Closes it without running anything.
    pub fn close(&mut self) {
        self.active = false;
        self.cycle = None;
    }

    /// The field being typed in.
    pub fn editor(&self) -> &LineEditor {
        &self.editor
    }

    /// Commands run so far, oldest first.
    pub fn history(&self) -> &[String] {
        &self.history
    }

    /// Types a key into the field.
    pub fn edit(&mut self, key: &KeyEvent) {
        if self.editor.handle_key(key) {
            self.cycle = None;
            self.history_pos = None;
        }
    }

    /// Closes the line and returns its text, remembering it in the history.
    pub fn submit(&mut self) -> String {
        let line = self.editor.text().trim().to_string();
        if !line.is_empty() && self.history.last() != Some(&line) {
            self.history.push(line.clone());
        }
        self.close();
        line
    }

    /// Shows the previous command of the history.
    pub fn history_up(&mut self) {
        if self.history.is_empty() {
            return;
        }
        let pos = match self.history_pos {
            None => {
                self.draft = self.editor.text().to_string();
                self.history.len() - 1
            }
            Some(p) => p.saturating_sub(1),
        };
        self.history_pos = Some(pos);
        self.editor.set(&self.history[pos]);
        self.cycle = None;
    }

    /// Shows the next command of the history, or the line being typed before.
    pub fn history_down(&mut self) {
        let Some(pos) = self.history_pos else {
            return;
        };
        if pos + 1 < self.history.len() {
            self.history_pos = Some(pos + 1);
            self.editor.set(&self.history[pos + 1]);
        } else {
            self.history_pos = None;
            let draft = std::mem::take(&mut self.draft);
            self.editor.set(&draft);
        }
        self.cycle = None;
    }

    /// Completes the word being typed: a unique candidate is taken, several are narrowed
    /// to their common prefix, and further Tabs cycle through them.
    pub fn complete(&mut self, words: &Vocabulary) {
        let text = self.editor.text().to_string();
        let (head, word) = match text.rsplit_once(' ') {
            Some((h, w)) => (format!("{h} "), w.to_string()),
            None => (String::new(), text.clone()),
        };
        if let Some((list, index)) = &mut self.cycle {
            *index = (*index + 1) % list.len();
            let next = format!("{head}{}", list[*index]);
            self.editor.set(&next);
            return;
        }
        let found = candidates(&text, words);
        match found.len() {
            0 => {}
            1 => {
                let mut next = format!("{head}{}", found[0]);
                if head.is_empty() && find(&found[0]).is_some_and(|c| c.arg.is_some()) {
                    next.push(' ');
                }
                self.editor.set(&next);
            }
            _ => {
                let prefix = common_prefix(&found);
                if prefix.len() > word.len() {
                    self.editor.set(&format!("{head}{prefix}"));
                } else {
                    self.editor.set(&format!("{head}{}", found[0]));
                    self.cycle = Some((found, 0));
                }
            }
        }
    }

    /// Candidates for the word being typed, for the suggestion shown beside the field.
    pub fn suggestions(&self, words: &Vocabulary) -> Vec<String> {
        if let Some((list, _)) = &self.cycle {
            return list.clone();
        }
        candidates(self.editor.text(), words)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn themes() -> Vocabulary {
        Vocabulary {
            themes: vec!["dark".into(), "high-contrast".into(), "light".into()],
            contexts: vec!["demo-prod".into(), "demo-staging".into()],
        }
    }

    fn typed(text: &str) -> CommandLine {
        let mut c = CommandLine::default();
        c.open();
        c.editor.set(text);
        c
    }

    #[test]
    fn parses_commands_and_aliases() {
        let t = themes();
        assert_eq!(parse("apps", &t), Ok(Action::ShowApps));
        assert_eq!(parse("a", &t), Ok(Action::ShowApps));
        assert_eq!(parse("q", &t), Ok(Action::Quit));
        assert_eq!(parse("quit", &t), Ok(Action::Quit));
        assert_eq!(parse("ro", &t), Ok(Action::ToggleReadOnly));
        assert_eq!(
            parse("theme light", &t),
            Ok(Action::SetTheme("light".into()))
        );
        assert!(
            parse("theme", &t)
                .unwrap_err()
                .contains("dark, high-contrast, light")
        );
        assert!(
            parse("frob", &t)
                .unwrap_err()
                .contains("unknown command `:frob`")
        );
        assert!(parse("apps x", &t).unwrap_err().contains("no argument"));
        assert_eq!(parse("ctx", &t), Ok(Action::ListContexts));
        assert_eq!(parse("ctx all", &t), Ok(Action::SetContext(None)));
        assert_eq!(
            parse("ctx demo-prod", &t),
            Ok(Action::SetContext(Some("demo-prod".into())))
        );
        assert_eq!(parse("refresh", &t), Ok(Action::Refresh { hard: false }));
        assert_eq!(parse("refresh!", &t), Ok(Action::Refresh { hard: true }));
        assert_eq!(parse("hist", &t), Ok(Action::ShowHistory));
        assert_eq!(parse("sync", &t), Ok(Action::ShowSync));
        assert_eq!(parse("diff", &t), Ok(Action::ShowDiff));
        assert_eq!(parse("timeline", &t), Ok(Action::ShowTimeline));
        assert_eq!(
            parse("reconcile", &t),
            Ok(Action::Reconcile { with_source: false })
        );
        assert_eq!(
            parse("rec!", &t),
            Ok(Action::Reconcile { with_source: true })
        );
        assert_eq!(parse("suspend", &t), Ok(Action::Suspend));
        assert_eq!(parse("resume", &t), Ok(Action::Resume));
        assert_eq!(parse("flux", &t), Ok(Action::ShowFluxGraph));
        assert_eq!(parse("img", &t), Ok(Action::ShowImages));
    }

    #[test]
    fn ctx_completes_context_names_and_all() {
        let t = themes();
        let mut c = typed("ctx demo-p");
        c.complete(&t);
        assert_eq!(c.editor().text(), "ctx demo-prod");
        assert_eq!(candidates("ctx ", &t), ["demo-prod", "demo-staging", "all"]);
    }

    #[test]
    fn tab_completes_commands_then_arguments() {
        let t = themes();
        let mut c = typed("th");
        c.complete(&t);
        assert_eq!(c.editor().text(), "theme ");
        c.edit(&KeyEvent::from(crossterm::event::KeyCode::Char('l')));
        c.complete(&t);
        assert_eq!(c.editor().text(), "theme light");
    }

    #[test]
    fn tab_cycles_when_there_is_no_common_prefix() {
        let t = themes();
        let mut c = typed("theme ");
        c.complete(&t);
        assert_eq!(c.editor().text(), "theme dark");
        c.complete(&t);
        assert_eq!(c.editor().text(), "theme high-contrast");
        c.complete(&t);
        c.complete(&t);
        assert_eq!(c.editor().text(), "theme dark");
    }

    #[test]
    fn history_walks_back_and_forth_and_keeps_the_draft() {
        let mut c = typed("apps");
        c.submit();
        c.open();
        c.editor.set("theme light");
        c.submit();
        c.open();
        c.editor.set("he");
        c.history_up();
        assert_eq!(c.editor().text(), "theme light");
        c.history_up();
        assert_eq!(c.editor().text(), "apps");
        c.history_up();
        assert_eq!(c.editor().text(), "apps");
        c.history_down();
        c.history_down();
        assert_eq!(c.editor().text(), "he");
    }
}
