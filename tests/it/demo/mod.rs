//! `rekon demo`'s repository and estate.

mod repo;
