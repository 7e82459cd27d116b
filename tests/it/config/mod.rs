//! The configuration file: what is read and how mistakes are reported.

mod errors;
