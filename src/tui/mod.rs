//! The terminal UI: app loop, actions, keymap, views and widgets.
