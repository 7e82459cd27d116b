//! The one list of key bindings. Both the bottom hint bar and the `?` help popup are
//! generated from it (gitui's pattern), so help never drifts from what the keys do.

mod app_views;
mod defaults;

use std::collections::BTreeMap;

use super::action::{Action, Context};
use crate::config::{KeyChord, KeymapOverrides};
use crate::model::{AppSnapshot, Health, ManagedBy};
use defaults::default_bindings;

/// What the keys act on, as far as bindings care: the kind of app in view and, for Flux,
/// whether it is suspended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Subject {
    /// No app is in view.
    #[default]
    Nothing,
    /// One of rekon's own apps.
    Rekon,
    /// An Argo CD Application.
    Argo,
    /// A Flux Kustomization or HelmRelease.
    Flux {
        /// `spec.suspend` is set.
        suspended: bool,
    },
}

impl Subject {
    /// The subject an app is.
    pub fn of(app: &AppSnapshot) -> Self {
        match app.managed_by {
            ManagedBy::Rekon => Subject::Rekon,
            ManagedBy::Argocd => Subject::Argo,
            ManagedBy::Flux => Subject::Flux {
                suspended: app.health == Health::Suspended,
            },
        }
    }
}

/// Which subjects a binding is offered for. The key works everywhere in its context (an
/// action that does not fit the app says why); the hint bar shows it only where it fits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Applies {
    /// Every app, and none.
    #[default]
    Always,
    /// Flux apps.
    Flux,
    /// Flux apps that are not suspended.
    FluxActive,
    /// Suspended Flux apps.
    FluxSuspended,
    /// Every app but Flux's (sync options: Flux's are the object's own spec).
    NotFlux,
}

impl Applies {
    /// Whether a binding with this scope fits `subject`.
    pub fn fits(self, subject: Subject) -> bool {
        match self {
            Applies::Always => true,
            Applies::Flux => matches!(subject, Subject::Flux { .. }),
            Applies::FluxActive => subject == Subject::Flux { suspended: false },
            Applies::FluxSuspended => subject == Subject::Flux { suspended: true },
            Applies::NotFlux => !matches!(subject, Subject::Flux { .. }),
        }
    }
}

/// What a binding says about itself: where help lists it, and the words it shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommandText {
    /// The help popup's section.
    pub group: &'static str,
    /// A word or two for the hint bar.
    pub hint: &'static str,
    /// One line for the help popup.
    pub description: &'static str,
}

/// One binding: keys that trigger an action in a context, with the words that describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    /// Keys that trigger it; empty means unbound (reachable through `:` only).
    pub keys: Vec<KeyChord>,
    /// What it does.
    pub action: Action,
    /// Where it applies.
    pub context: Context,
    /// Its help section, hint word and help line.
    pub text: CommandText,
    /// Shown in the bottom hint bar when valid (always in the help popup).
    pub in_hint_bar: bool,
    /// The apps it is offered for.
    pub applies: Applies,
}

/// A binding listed in help only and offered for every app; see [`Binding::in_hint_bar`]
/// and [`Binding::only`] for the others.
pub(crate) fn bind(
    keys: &[KeyChord],
    action: Action,
    context: Context,
    text: CommandText,
) -> Binding {
    Binding {
        keys: keys.to_vec(),
        action,
        context,
        text,
        in_hint_bar: false,
        applies: Applies::Always,
    }
}

impl Binding {
    /// The same binding, also shown in the bottom hint bar.
    #[must_use]
    pub(crate) fn in_hint_bar(self) -> Self {
        Self {
            in_hint_bar: true,
            ..self
        }
    }

    /// The same binding, offered only for the apps `applies` names.
    #[must_use]
    pub(crate) fn only(self, applies: Applies) -> Self {
        Self { applies, ..self }
    }
}

/// One entry of the hint bar: the key to press and what it does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hint {
    /// The first valid key of the binding.
    pub key: KeyChord,
    /// A word or two.
    pub label: &'static str,
}

/// The help popup's sections, in display order.
pub const GROUPS: [&str; 12] = [
    "General",
    "Navigation",
    "Apps",
    "App",
    "Flux",
    "Diff",
    "Sync",
    "History",
    "Flux graph and images",
    "Filter",
    "Command line",
    "Help",
];

/// All bindings, defaults with the user's overrides applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keymap {
    bindings: Vec<Binding>,
}

impl Default for Keymap {
    fn default() -> Self {
        Self {
            bindings: default_bindings(),
        }
    }
}

/// Two contexts compete for a key when a key pressed in one could reach the other.
fn overlaps(a: Context, b: Context) -> bool {
    a == b || a == Context::Global || b == Context::Global
}

impl Keymap {
    /// The default bindings with the config's overrides applied. An overridden action gets
    /// exactly the given keys; those keys are taken away from other actions that would
    /// compete for them. The filter and command line keep their own keys (enter, esc, tab,
    /// ↑/↓), so an override can never make typing impossible.
    pub fn with_overrides(overrides: &KeymapOverrides) -> Self {
        let mut map = Self::default();
        // Config holds action names (checked when it was read); applied in action order, so
        // where two overrides claim one key the outcome does not depend on how they are named.
        let overrides: BTreeMap<Action, &Vec<KeyChord>> = overrides
            .0
            .iter()
            .filter_map(|(name, keys)| Some((Action::from_name(name)?, keys)))
            .collect();
        for (action, keys) in overrides {
            let targets: Vec<Context> = map
                .bindings
                .iter()
                .filter(|b| b.action == action && !b.context.takes_text())
                .map(|b| b.context)
                .collect();
            for other in map.bindings.iter_mut() {
                if other.context.takes_text() {
                    continue;
                }
                if other.action == action {
                    other.keys = keys.clone();
                } else if targets.iter().any(|t| overlaps(*t, other.context)) {
                    other.keys.retain(|k| !keys.contains(k));
                }
            }
        }
        map
    }

    /// Every binding, in help order within each group.
    pub fn bindings(&self) -> &[Binding] {
        &self.bindings
    }

    /// The binding a key triggers in a context, whatever the app in view: the context's
    /// own bindings first, then the global ones, except that plain characters are text
    /// where text is typed.
    pub fn lookup(&self, context: Context, key: KeyChord) -> Option<&Binding> {
        self.lookup_for(context, Subject::Nothing, key)
    }

    /// The binding a key triggers in a context with `subject` in view. Among the
    /// context's bindings of that key, one offered for the subject wins (`T` suspends an
    /// active Flux app and resumes a suspended one); failing that the first one is taken,
    /// so its action can say why it does not fit.
    pub fn lookup_for(
        &self,
        context: Context,
        subject: Subject,
        key: KeyChord,
    ) -> Option<&Binding> {
        let in_context = |c: Context| {
            let mut hits = self
                .bindings
                .iter()
                .filter(move |b| b.context == c && b.keys.contains(&key));
            let first = hits.clone().next();
            hits.find(|b| b.applies.fits(subject)).or(first)
        };
        let own = in_context(context);
        if own.is_some() || context == Context::Global {
            return own;
        }
        if context.takes_text() && key.is_text() {
            return None;
        }
        in_context(Context::Global)
    }

    /// The keys of a binding that actually trigger it in `context`.
    pub fn valid_keys(&self, context: Context, binding: &Binding) -> Vec<KeyChord> {
        self.valid_keys_for(context, Subject::Nothing, binding)
    }

    /// The keys of a binding that trigger it in `context` with `subject` in view.
    pub fn valid_keys_for(
        &self,
        context: Context,
        subject: Subject,
        binding: &Binding,
    ) -> Vec<KeyChord> {
        if binding.context != context && binding.context != Context::Global {
            return Vec::new();
        }
        binding
            .keys
            .iter()
            .copied()
            .filter(|k| {
                self.lookup_for(context, subject, *k)
                    .is_some_and(|hit| hit == binding)
            })
            .collect()
    }

    /// The hint bar for a context when no app is in view (bindings offered only for some
    /// apps are left out).
    pub fn hints(&self, context: Context) -> Vec<Hint> {
        self.hints_for(context, Subject::Nothing)
    }

    /// The hint bar for a context with `subject` in view: its own hinted bindings offered
    /// for the subject, then the global ones, each with its first key that works there.
    pub fn hints_for(&self, context: Context, subject: Subject) -> Vec<Hint> {
        let own = self.bindings.iter().filter(|b| b.context == context);
        let global = self
            .bindings
            .iter()
            .filter(|b| b.context == Context::Global && context != Context::Global);
        own.chain(global)
            .filter(|b| b.in_hint_bar && b.applies.fits(subject))
            .filter_map(|b| {
                self.valid_keys_for(context, subject, b)
                    .first()
                    .map(|k| Hint {
                        key: *k,
                        label: b.text.hint,
                    })
            })
            .collect()
    }

    /// The first key that triggers `action` in `context`, for hints such as "press ? for help".
    pub fn key_for(&self, context: Context, action: &Action) -> Option<KeyChord> {
        let subject = match action {
            Action::Resume => Subject::Flux { suspended: true },
            Action::Suspend | Action::Reconcile { .. } => Subject::Flux { suspended: false },
            _ => Subject::Nothing,
        };
        self.bindings
            .iter()
            .filter(|b| &b.action == action)
            .find_map(|b| self.valid_keys_for(context, subject, b).first().copied())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::KeyCode;

    #[test]
    fn plain_characters_are_text_in_the_filter() {
        let map = Keymap::default();
        assert_eq!(
            map.lookup(Context::Apps, KeyChord::char('j'))
                .map(|b| &b.action),
            Some(&Action::Down)
        );
        assert!(map.lookup(Context::Filter, KeyChord::char('j')).is_none());
        assert!(map.lookup(Context::Filter, KeyChord::char('q')).is_none());
        assert_eq!(
            map.lookup(Context::Filter, KeyChord::ctrl('c'))
                .map(|b| &b.action),
            Some(&Action::Quit)
        );
        assert_eq!(
            map.lookup(Context::Filter, KeyChord::plain(KeyCode::Esc))
                .map(|b| b.text.description),
            Some("Clear the filter")
        );
    }

    #[test]
    fn overrides_replace_keys_and_take_them_from_others() {
        let mut o = BTreeMap::new();
        o.insert("quit".to_string(), vec![KeyChord::char('x')]);
        o.insert(
            "down".to_string(),
            vec![KeyChord::char('n'), KeyChord::char('q')],
        );
        let map = Keymap::with_overrides(&KeymapOverrides(o));
        assert_eq!(
            map.lookup(Context::Apps, KeyChord::char('x'))
                .map(|b| &b.action),
            Some(&Action::Quit)
        );
        assert!(map.lookup(Context::Apps, KeyChord::ctrl('c')).is_none());
        assert_eq!(
            map.lookup(Context::Apps, KeyChord::char('q'))
                .map(|b| &b.action),
            Some(&Action::Down)
        );
        // The command line's own ↓ is untouched.
        assert_eq!(
            map.lookup(Context::Command, KeyChord::plain(KeyCode::Down))
                .map(|b| b.text.description),
            Some("Next command")
        );
    }

    #[test]
    fn one_key_suspends_or_resumes_by_the_app_in_view() {
        let map = Keymap::default();
        let t = KeyChord::char('T');
        let active = Subject::Flux { suspended: false };
        let suspended = Subject::Flux { suspended: true };
        let action = |s| {
            map.lookup_for(Context::Apps, s, t)
                .map(|b| b.action.clone())
        };
        assert_eq!(action(active), Some(Action::Suspend));
        assert_eq!(action(suspended), Some(Action::Resume));
        // On other apps the key still reaches an action, which says why it does not fit.
        assert_eq!(action(Subject::Rekon), Some(Action::Suspend));
        let labels = |s| -> Vec<&str> {
            map.hints_for(Context::Apps, s)
                .iter()
                .map(|h| h.label)
                .collect()
        };
        assert!(labels(active).contains(&"suspend") && !labels(active).contains(&"resume"));
        assert!(labels(suspended).contains(&"resume"));
        assert!(!labels(Subject::Argo).contains(&"reconcile"));
        assert_eq!(
            map.key_for(Context::Apps, &Action::Resume),
            Some(KeyChord::char('T'))
        );
    }

    #[test]
    fn hints_show_only_keys_that_work_in_the_context() {
        let map = Keymap::default();
        let filter: Vec<String> = map
            .hints(Context::Filter)
            .iter()
            .map(|h| format!("{} {}", h.key, h.label))
            .collect();
        assert_eq!(filter, ["enter keep", "esc clear", "ctrl-c quit"]);
        let apps: Vec<String> = map
            .hints(Context::Apps)
            .iter()
            .map(|h| format!("{} {}", h.key, h.label))
            .collect();
        assert_eq!(
            apps,
            [
                "enter open",
                "d diff",
                "s sync",
                "/ filter",
                "? help",
                ": command",
                "q quit"
            ]
        );
    }
}
