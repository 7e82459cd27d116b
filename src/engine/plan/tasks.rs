//! The plan of a sync, as data: every step in the order it will run, with what it does.
//!
//! Order follows Argo CD (gitops-engine `sync_tasks.go`): phase (PreSync, Sync, PostSync,
//! SyncFail), then wave, then within a wave prunes first, then Helm's kind order (custom kinds
//! last), then name. A Namespace or CRD moves ahead of the first object that needs it, taking
//! that object's phase and wave. Prune waves run in reverse (symmetric swap of the distinct
//! prune waves), and `PruneLast` moves prunes after the last Sync wave.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde_json::Value;
use thiserror::Error;

use super::annotations::{self, DeletePolicy, HookRole, ObjectOptions};
use crate::engine::compare::ResourceOutcome;
use crate::engine::desired::DesiredObject;
use crate::engine::tree::kind_rank;
use crate::model::{
    Application, ResourceKey, StepAction, StepStatus, SyncOptions, SyncPhase, SyncPlan, SyncStatus,
    SyncStep, split_api_version,
};

/// Why a sync cannot be planned.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PlanError {
    /// Git renders nothing and pruning would delete every tracked object.
    #[error(
        "refusing to prune all {count} objects of app {app}: Git renders nothing for it (set spec.syncPolicy.automated.allowEmpty: true to allow an empty app)"
    )]
    EmptyPrune {
        /// The app.
        app: String,
        /// How many objects would go.
        count: usize,
    },
    /// `--resource` names an object the app does not have.
    #[error("--resource {selector}: app {app} has no such resource (in Git or tracked live)")]
    UnknownResource {
        /// The app.
        app: String,
        /// The selector as given.
        selector: String,
    },
}

/// Everything a plan is computed from (no I/O).
pub struct PlanInput<'a> {
    /// The Application.
    pub app: &'a Application,
    /// Full SHA being synced.
    pub revision: &'a str,
    /// Desired objects (hooks included).
    pub desired: &'a [DesiredObject],
    /// The comparison of `desired` against live.
    pub outcomes: &'a [ResourceOutcome],
    /// Live copies of the desired objects that exist.
    pub live: &'a HashMap<ResourceKey, Arc<Value>>,
    /// Live objects tracked by this app (the id names this app and object) that Git no
    /// longer holds: the prune candidates.
    pub extras: &'a [Arc<Value>],
    /// What the user asked for.
    pub options: &'a SyncOptions,
    /// `syncPolicy.automated.allowEmpty`.
    pub allow_empty: bool,
    /// `CreateNamespace=true` and the destination namespace does not exist: its name.
    pub create_namespace: Option<String>,
}

/// What the executor does for one step.
#[derive(Debug, Clone, PartialEq)]
pub enum TaskKind {
    /// Server-side apply (or create/replace) the object.
    Apply,
    /// Create the hook object and wait for it to finish.
    Hook {
        /// When the hook object is deleted.
        delete_policies: Vec<DeletePolicy>,
    },
    /// Delete the live object.
    Prune,
    /// Create the destination namespace (`CreateNamespace=true`).
    CreateNamespace,
    /// Nothing to do (the step is Skipped).
    Nothing,
}

/// One step's work: what to write and how.
#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    /// What to do.
    pub kind: TaskKind,
    /// The object to write (desired), or the live object to prune.
    pub object: Value,
    /// `apiVersion` to write or delete with.
    pub api_version: String,
    /// Sync options for this object.
    pub options: ObjectOptions,
    /// Why the cluster cannot take it as is (kind not served …).
    pub problem: Option<String>,
    /// The object is created with `metadata.generateName` (its name is known only after).
    pub generate_name: bool,
}

/// A plan: the model the user sees, and the tasks behind its steps (same order, same length).
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// Steps, as shown and reported.
    pub model: SyncPlan,
    /// One task per step.
    pub tasks: Vec<Task>,
}

impl Plan {
    /// Whether the plan runs hooks of this phase.
    pub fn has_phase(&self, phase: SyncPhase) -> bool {
        self.model.steps.iter().any(|s| s.phase == phase)
    }
}

struct Draft {
    step: SyncStep,
    task: Task,
    prune: bool,
}

/// Computes the plan. Pure: the same input always gives the same plan.
pub fn build(input: &PlanInput<'_>) -> Result<Plan, PlanError> {
    let app_name = input.app.qualified_name();
    let app_options = app_options(input.app);
    let selective = !input.options.resources.is_empty();
    let wanted: HashSet<&ResourceKey> = input.options.resources.iter().collect();
    if selective {
        check_selection(input, &app_name)?;
    }
    let outcomes: HashMap<&ResourceKey, &ResourceOutcome> =
        input.outcomes.iter().map(|o| (&o.key, o)).collect();
    let mut drafts = Vec::new();
    for d in input.desired {
        let object = d.object();
        let options = ObjectOptions::resolve(&app_options, &annotations::object_options(&object));
        let role = annotations::hook_role(&object);
        if selective && (d.hook || !wanted.contains(&d.key)) {
            continue;
        }
        let wave = annotations::wave(&object);
        let generate_name = d.key.name.is_empty();
        let task = |kind: TaskKind| Task {
            kind,
            object: object.clone(),
            api_version: d.api_version.clone(),
            options: options.clone(),
            problem: d.problem.clone(),
            generate_name,
        };
        match role {
            HookRole::Resource if !d.hook => {
                let (action, status, message) =
                    resource_action(d, outcomes.get(&d.key), input, &options);
                let kind = if status == StepStatus::Skipped {
                    TaskKind::Nothing
                } else {
                    TaskKind::Apply
                };
                drafts.push(Draft {
                    step: step_of(d, SyncPhase::Sync, wave, action, status, message),
                    task: task(kind),
                    prune: false,
                });
            }
            HookRole::Hook {
                phases,
                delete_policies,
            } => {
                for phase in phases {
                    let message = d.problem.clone().unwrap_or_default();
                    drafts.push(Draft {
                        step: step_of(
                            d,
                            phase,
                            wave,
                            StepAction::Hook,
                            StepStatus::Pending,
                            message,
                        ),
                        task: task(TaskKind::Hook {
                            delete_policies: delete_policies.clone(),
                        }),
                        prune: false,
                    });
                }
            }
            // A hook the compare treats as such but whose annotation names nothing runnable.
            HookRole::Resource | HookRole::Unsupported(_) | HookRole::Skip => {
                let message = match role {
                    HookRole::Skip => "argocd.argoproj.io/hook: Skip".to_string(),
                    HookRole::Unsupported(v) => format!("hook {v} is not run by syncs"),
                    _ => "hook of a type syncs do not run".to_string(),
                };
                drafts.push(Draft {
                    step: step_of(
                        d,
                        SyncPhase::Sync,
                        wave,
                        StepAction::Skipped,
                        StepStatus::Skipped,
                        message,
                    ),
                    task: task(TaskKind::Nothing),
                    prune: false,
                });
            }
        }
    }
    let renders_nothing = !input.desired.iter().any(|d| !d.hook);
    let mut prunable = 0usize;
    for live in input.extras {
        let Some(key) = ResourceKey::of(live) else {
            continue;
        };
        if selective && !wanted.contains(&key) {
            continue;
        }
        let options = ObjectOptions::resolve(&app_options, &annotations::object_options(live));
        let (action, status, message) = if !input.options.prune {
            (
                StepAction::Skipped,
                StepStatus::Skipped,
                "ignored (requires pruning): sync with --prune to delete it".to_string(),
            )
        } else if options.no_prune {
            (
                StepAction::Skipped,
                StepStatus::Skipped,
                "Prune=false: left in the cluster".to_string(),
            )
        } else {
            prunable += 1;
            (StepAction::Pruned, StepStatus::Pending, String::new())
        };
        let api_version = live["apiVersion"].as_str().unwrap_or_default().to_string();
        let kind = if status == StepStatus::Skipped {
            TaskKind::Nothing
        } else {
            TaskKind::Prune
        };
        drafts.push(Draft {
            step: SyncStep {
                phase: SyncPhase::Sync,
                wave: annotations::wave(live),
                group: key.group.clone(),
                version: split_api_version(&api_version).1.to_string(),
                kind: key.kind.clone(),
                namespace: key.namespace.clone(),
                name: key.name.clone(),
                action,
                status,
                message,
                takes: Vec::new(),
                replace: false,
            },
            task: Task {
                kind,
                object: (**live).clone(),
                api_version,
                options,
                problem: None,
                generate_name: false,
            },
            prune: true,
        });
    }
    if renders_nothing && prunable > 0 && !input.allow_empty {
        return Err(PlanError::EmptyPrune {
            app: app_name,
            count: prunable,
        });
    }
    if let Some(ns) = &input.create_namespace {
        let object = serde_json::json!({"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": ns}});
        let in_git = drafts.iter().any(|d| {
            !d.prune && d.step.group.is_empty() && d.step.kind == "Namespace" && d.step.name == *ns
        });
        if !in_git {
            drafts.push(Draft {
                step: SyncStep {
                    phase: SyncPhase::PreSync,
                    wave: i32::MIN,
                    group: String::new(),
                    version: "v1".into(),
                    kind: "Namespace".into(),
                    namespace: String::new(),
                    name: ns.clone(),
                    action: StepAction::Created,
                    status: StepStatus::Pending,
                    message: "CreateNamespace=true".into(),
                    takes: Vec::new(),
                    replace: false,
                },
                task: Task {
                    kind: TaskKind::CreateNamespace,
                    object,
                    api_version: "v1".into(),
                    options: ObjectOptions::default(),
                    problem: None,
                    generate_name: false,
                },
                prune: false,
            });
        }
    }
    reverse_prune_waves(&mut drafts);
    prune_last(&mut drafts);
    drafts.sort_by(order);
    adjust_dependencies(&mut drafts);
    drafts.sort_by(order);
    // The namespace auto-created for the app leads everything (wave MIN only for sorting).
    let first_wave = drafts
        .iter()
        .filter(|d| d.step.phase == SyncPhase::PreSync && d.step.wave != i32::MIN)
        .map(|d| d.step.wave)
        .min()
        .unwrap_or(0)
        .min(0);
    for d in &mut drafts {
        if d.step.wave == i32::MIN {
            d.step.wave = first_wave;
        }
    }
    let (steps, tasks) = drafts.into_iter().map(|d| (d.step, d.task)).unzip();
    Ok(Plan {
        model: SyncPlan {
            app: app_name,
            revision: input.revision.to_string(),
            steps,
            options: input.options.clone(),
        },
        tasks,
    })
}

/// The app's `syncPolicy.syncOptions`, plus the CLI's `--apply-out-of-sync-only`.
fn app_options(app: &Application) -> Vec<(String, String)> {
    app.spec
        .sync_policy
        .as_ref()
        .map(|p| annotations::parse_options(p.sync_options.iter().map(String::as_str)))
        .unwrap_or_default()
}

fn check_selection(input: &PlanInput<'_>, app: &str) -> Result<(), PlanError> {
    let known: HashSet<ResourceKey> = input
        .desired
        .iter()
        .filter(|d| !d.hook)
        .map(|d| d.key.clone())
        .chain(input.extras.iter().filter_map(|o| ResourceKey::of(o)))
        .collect();
    for key in &input.options.resources {
        if !known.contains(key) {
            return Err(PlanError::UnknownResource {
                app: app.to_string(),
                selector: format!(
                    "{}:{}:{}{}",
                    key.group,
                    key.kind,
                    if key.namespace.is_empty() {
                        String::new()
                    } else {
                        format!("{}/", key.namespace)
                    },
                    key.name
                ),
            });
        }
    }
    Ok(())
}

fn resource_action(
    d: &DesiredObject,
    outcome: Option<&&ResourceOutcome>,
    input: &PlanInput<'_>,
    options: &ObjectOptions,
) -> (StepAction, StepStatus, String) {
    let live = input.live.contains_key(&d.key);
    let mut message = d.problem.clone().unwrap_or_default();
    let action = match outcome.map(|o| o.sync) {
        Some(SyncStatus::Synced) => StepAction::Unchanged,
        _ if live => StepAction::Configured,
        _ => StepAction::Created,
    };
    if let Some(o) = outcome
        && o.sync == SyncStatus::Unknown
        && message.is_empty()
    {
        message = o.message.clone();
    }
    if options.client_side_asked && message.is_empty() {
        message = "ServerSideApply=false: rekon applies server-side regardless".into();
    }
    let skip = action == StepAction::Unchanged
        && (options.out_of_sync_only || input.options.apply_out_of_sync_only);
    if skip {
        return (
            StepAction::Skipped,
            StepStatus::Skipped,
            "in sync (ApplyOutOfSyncOnly)".into(),
        );
    }
    (action, StepStatus::Pending, message)
}

fn step_of(
    d: &DesiredObject,
    phase: SyncPhase,
    wave: i32,
    action: StepAction,
    status: StepStatus,
    message: String,
) -> SyncStep {
    let object = d.object();
    let meta = &object["metadata"];
    let (namespace, name) = if d.key.name.is_empty() {
        // generateName: the name is chosen by the server; show the prefix.
        (
            meta["namespace"].as_str().unwrap_or_default().to_string(),
            meta["generateName"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        )
    } else {
        (d.key.namespace.clone(), d.key.name.clone())
    };
    SyncStep {
        phase,
        wave,
        group: d.key.group.clone(),
        version: split_api_version(&d.api_version).1.to_string(),
        kind: d.key.kind.clone(),
        namespace,
        name,
        action,
        status,
        message,
        takes: Vec::new(),
        replace: false,
    }
}

fn order(a: &Draft, b: &Draft) -> std::cmp::Ordering {
    let (x, y) = (&a.step, &b.step);
    let kind_order = |d: &Draft| {
        let rank = kind_rank(&d.step.kind) as i64;
        // Prunes delete dependents before what they depend on.
        if d.prune { -rank } else { rank }
    };
    x.phase
        .cmp(&y.phase)
        .then(x.wave.cmp(&y.wave))
        .then(b.prune.cmp(&a.prune))
        .then(kind_order(a).cmp(&kind_order(b)))
        .then(x.kind.cmp(&y.kind))
        .then(x.name.cmp(&y.name))
        .then(x.namespace.cmp(&y.namespace))
        .then(x.group.cmp(&y.group))
}

/// Swaps the distinct prune waves symmetrically: what was created first is pruned last.
fn reverse_prune_waves(drafts: &mut [Draft]) {
    let mut waves: Vec<i32> = drafts
        .iter()
        .filter(|d| d.prune)
        .map(|d| d.step.wave)
        .collect();
    waves.sort_unstable();
    waves.dedup();
    let n = waves.len();
    let swap: HashMap<i32, i32> = waves
        .iter()
        .enumerate()
        .map(|(i, w)| (*w, waves[n - 1 - i]))
        .collect();
    for d in drafts.iter_mut().filter(|d| d.prune) {
        if let Some(w) = swap.get(&d.step.wave) {
            d.step.wave = *w;
        }
    }
}

/// `PruneLast=true` prunes go one wave after the last Sync wave.
fn prune_last(drafts: &mut [Draft]) {
    let last = drafts
        .iter()
        .filter(|d| d.step.phase == SyncPhase::Sync && d.step.wave != i32::MIN)
        .map(|d| d.step.wave)
        .max()
        .unwrap_or(0)
        .max(0);
    for d in drafts.iter_mut() {
        if d.prune && d.task.options.prune_last {
            d.step.wave = last + 1;
        }
    }
}

/// What a Namespace or CRD task provides: the namespace name, or the CRD's group/kind.
enum Provides {
    Namespace(String),
    Kind(String, String),
}

fn provides(d: &Draft) -> Option<Provides> {
    if d.prune || !matches!(d.task.kind, TaskKind::Apply | TaskKind::CreateNamespace) {
        return None;
    }
    match (d.step.group.as_str(), d.step.kind.as_str()) {
        ("", "Namespace") => Some(Provides::Namespace(d.step.name.clone())),
        ("apiextensions.k8s.io", "CustomResourceDefinition") => {
            let spec = &d.task.object["spec"];
            Some(Provides::Kind(
                spec["group"].as_str()?.to_string(),
                spec["names"]["kind"].as_str()?.to_string(),
            ))
        }
        _ => None,
    }
}

fn needs(d: &Draft, what: &Provides) -> bool {
    if d.prune || matches!(d.task.kind, TaskKind::Nothing) {
        return false;
    }
    match what {
        Provides::Namespace(ns) => d.step.namespace == *ns,
        Provides::Kind(g, k) => d.step.group == *g && d.step.kind == *k,
    }
}

/// Moves each Namespace and CRD to the phase and wave of the first (sorted) task that needs
/// it, when that task would otherwise run earlier.
fn adjust_dependencies(drafts: &mut [Draft]) {
    for i in 0..drafts.len() {
        let Some(what) = provides(&drafts[i]) else {
            continue;
        };
        let Some(first) = drafts.iter().position(|d| needs(d, &what)) else {
            continue;
        };
        let (phase, wave) = (drafts[first].step.phase, drafts[first].step.wave);
        let mine = (drafts[i].step.phase, drafts[i].step.wave);
        if (phase, wave) < mine {
            drafts[i].step.phase = phase;
            drafts[i].step.wave = wave;
        }
    }
}

/// `group/Kind namespace/name`, as steps are named in messages.
pub fn step_title(s: &SyncStep) -> String {
    let kind = if s.group.is_empty() {
        s.kind.clone()
    } else {
        format!("{}/{}", s.group, s.kind)
    };
    if s.namespace.is_empty() {
        format!("{kind} {}", s.name)
    } else {
        format!("{kind} {}/{}", s.namespace, s.name)
    }
}

#[cfg(test)]
#[path = "tasks_tests.rs"]
mod tests;
