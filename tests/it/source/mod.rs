//! Git and rendering: resolving revisions, plain directories, Kustomize, Helm and bad input.

mod bad_input;
mod corpus;
mod directory;
mod fresh;
mod resolve;
mod tools;
