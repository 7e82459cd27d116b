//! The options of `rekon sync` and `rekon rollback`, shared by the sync of rekon's own apps
//! (`sync`) and of the apps observed in the clusters (`observed_sync`).

use clap::Args;
use color_eyre::eyre::{Result, eyre};

use crate::model::ResourceKey;

/// Options of `rekon sync`.
#[derive(Debug, Clone, Args)]
pub struct SyncArgs {
    /// NAME or NAMESPACE/NAME of an app of --apps; or an app of the cluster:
    /// argocd:NAMESPACE/NAME (writes the Application's operation, as `argocd app sync` does,
    /// and follows it), flux-ks:NAMESPACE/NAME or flux-hr:NAMESPACE/NAME (`rekon reconcile
    /// --with-source`); add @CLUSTER when several clusters hold one of that name
    #[arg(value_name = "APP")]
    pub app: String,
    /// Delete objects the app tracks that are no longer in Git
    #[arg(long)]
    pub prune: bool,
    /// Send every step as a server dry run and print the plan; nothing changes
    #[arg(long)]
    pub dry_run: bool,
    /// Delete and create again the objects the server will not change in place (an
    /// immutable field changed: a Job's template, a Service's clusterIP, a selector), as
    /// `argocd app sync --force` does. Destructive; without it such a step fails
    #[arg(long)]
    pub force: bool,
    /// Fail before any change when another field manager (kubectl edit, scale, another
    /// tool) owns a field Git sets, naming it; by default the sync takes such fields back
    /// for Git and the plan names them. Config `sync: refuseConflicts: true` makes it the
    /// default
    #[arg(long)]
    pub refuse_conflicts: bool,
    /// Sync only this resource, as GROUP:KIND:NAMESPACE/NAME (`:ConfigMap:shop/settings` for
    /// the core group); repeatable. Runs no hooks and is not recorded in history
    #[arg(long = "resource", value_name = "GROUP:KIND:NAMESPACE/NAME")]
    pub resources: Vec<String>,
    /// Sync this branch, tag or commit instead of the app's targetRevision (refused while
    /// the app auto-syncs, unless with --dry-run)
    #[arg(long, value_name = "REV")]
    pub revision: Option<String>,
    /// Longest wait for one wave's health, hooks or deletions (e.g. 90s, 5m); for an
    /// observed app, for Argo CD or Flux to finish
    #[arg(long, default_value = "5m", value_name = "DURATION")]
    pub timeout: String,
    /// Apply only the resources that are OutOfSync (hooks still run)
    #[arg(long)]
    pub apply_out_of_sync_only: bool,
}

/// Options of `rekon rollback`.
#[derive(Debug, Clone, Args)]
pub struct RollbackArgs {
    /// NAME or NAMESPACE/NAME, or argocd:NAMESPACE/NAME (writes the operation `argocd app
    /// rollback` writes)
    #[arg(value_name = "APP")]
    pub app: String,
    /// The history entry whose revision to sync (see `rekon history APP`)
    #[arg(value_name = "ID")]
    pub id: u64,
    /// Delete and create again the objects the server will not change in place (an
    /// immutable field changed). Destructive; without it such a step fails
    #[arg(long)]
    pub force: bool,
    /// Fail before any change when another field manager owns a field the old revision
    /// sets, naming it; by default the rollback takes such fields back. Config
    /// `sync: refuseConflicts: true` makes it the default
    #[arg(long)]
    pub refuse_conflicts: bool,
}

/// The `--resource` selectors as resource keys.
pub(super) fn resource_keys(selectors: &[String]) -> Result<Vec<ResourceKey>> {
    selectors
        .iter()
        .map(|r| {
            ResourceKey::parse_selector(r).ok_or_else(|| {
                eyre!("--resource {r:?} is not GROUP:KIND:NAMESPACE/NAME (or GROUP:KIND:NAME)")
            })
        })
        .collect()
}
