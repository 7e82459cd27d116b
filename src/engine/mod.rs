//! The reconcile engine: normalize, diff, health, compare, tree, plan, sync.
