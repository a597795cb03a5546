//! Lowers a typescript tree into facts.

use super::{Builder, LowerError};
use crate::facts::Module;
use tree_sitter::Tree;

pub fn lower(tree: &Tree, src: &str) -> Result<Module, LowerError> {
    let b = Builder::new(src);
    let _ = tree;
    Ok(b.m)
}
