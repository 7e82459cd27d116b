//! The engine over Git and an embedded cluster: compare, health, and the corpus of real repositories.

mod compare;
mod corpus;
mod health;
