//! Settings, keymap and theme loading.
