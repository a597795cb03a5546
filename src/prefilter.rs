//! The prefilter: which files to parse at all.
//!
//! Most files of a large repository mention no MCP SDK, no upstream client,
//! no deadline. One literal search over each file's text (Aho-Corasick,
//! over words the knowledge packs give) decides which can matter; the rest
//! are never parsed. A file that mentions none of those words can still
//! matter through a name another file defines — a client, a helper, a
//! class that makes an upstream call — so parsing goes in rounds: round one
//! parses the files that mention a library or an MCP idiom; each later
//! round, those that mention a name the parsed files define, until none is
//! left. It must never change a finding: `tests/fixtures.rs` compares a
//! scan with it and one without.

use crate::discover::SourceFile;
use crate::facts::{self, Expr};
use crate::finding::Skipped;
use crate::knowledge::{self, Knowledge};
use crate::{lang, suppress};
use rayon::prelude::*;
use std::collections::HashSet;
use std::sync::Arc;

pub struct Prefilter {
    /// The words of round one: libraries, deadlines, MCP idioms.
    literals: Vec<String>,
    /// Off: every file is parsed, in one round.
    enabled: bool,
}

/// What [`Prefilter::parse`] made of the files.
#[derive(Default)]
pub struct Parsed {
    /// By index into the files, in that order; with each file's text.
    pub modules: Vec<(usize, facts::Module, Arc<str>)>,
    /// Files that could not be parsed, by index, and why.
    pub failed: Vec<(usize, Skipped)>,
}

impl Prefilter {
    /// The prefilter for `kb`; `report_unused`: MCP001 runs, so a file
    /// whose only relevant text is a suppression is parsed too, and MCP001
    /// reports the same with the prefilter on or off.
    pub fn new(kb: &Knowledge, report_unused: bool, enabled: bool) -> Prefilter {
        let mut literals = kb.prefilter_literals();
        if report_unused {
            literals.push(suppress::MARKER.to_string());
        }
        Prefilter { literals, enabled }
    }

    /// Parses and lowers the files of `files` whose text is in `pending`
    /// (same index; `None`: not read) and that can matter, in rounds.
    pub fn parse(
        &self,
        pool: &rayon::ThreadPool,
        files: &[SourceFile],
        mut pending: Vec<Option<String>>,
    ) -> Parsed {
        let roots: HashSet<&str> = self.literals.iter().map(String::as_str).collect();
        let mut known: HashSet<String> = HashSet::new();
        let mut matcher =
            aho_corasick::AhoCorasick::new(&self.literals).expect("literal patterns build");
        let mut out = Parsed::default();
        loop {
            let batch: Vec<usize> = pool.install(|| {
                pending
                    .par_iter()
                    .enumerate()
                    .filter_map(|(i, t)| {
                        let t = t.as_ref()?;
                        (!self.enabled || matcher.is_match(t)).then_some(i)
                    })
                    .collect()
            });
            if batch.is_empty() {
                break;
            }
            let jobs: Vec<(usize, String)> = batch
                .iter()
                .map(|&i| (i, pending[i].take().expect("pending text")))
                .collect();
            let lowered: Vec<(usize, Result<facts::Module, Skipped>, String)> =
                pool.install(|| {
                    jobs.into_par_iter()
                        .map(|(i, text)| {
                            let f = &files[i];
                            let r = lang::lower(f.lang, &f.display, &text).map_err(|e| Skipped {
                                path: f.display.clone(),
                                reason: e.to_string(),
                            });
                            (i, r, text)
                        })
                        .collect()
                });
            let mut names: Vec<String> = Vec::new();
            for (i, r, text) in lowered {
                match r {
                    Ok(m) => {
                        names.extend(relevant_names(&m, &roots, &known));
                        out.modules.push((i, m, Arc::from(text)));
                    }
                    Err(s) => out.failed.push((i, s)),
                }
            }
            names.retain(|n| n.len() >= 3 && !known.contains(n));
            names.sort();
            names.dedup();
            known.extend(names.iter().cloned());
            if names.is_empty() || pending.iter().all(Option::is_none) {
                break;
            }
            // Many names, searched once: an NFA builds far faster than a DFA.
            matcher = aho_corasick::AhoCorasick::builder()
                .kind(Some(aho_corasick::AhoCorasickKind::NoncontiguousNFA))
                .build(&names)
                .expect("name patterns build");
        }
        out.modules.sort_by_key(|(i, _, _)| *i);
        out.failed.sort_by_key(|(i, _)| *i);
        out
    }
}

/// Names a module defines at its top level that can carry a finding to
/// another file: functions and classes whose code makes a relevant call,
/// and module-level bindings built by one. A call is relevant when its
/// path starts with a prefilter literal (a library, a deadline, an MCP
/// idiom) or it names something already relevant; other files can only
/// reach these through their names.
fn relevant_names(
    m: &facts::Module,
    roots: &HashSet<&str>,
    known: &HashSet<String>,
) -> Vec<String> {
    let mut mine: HashSet<String> = HashSet::new();
    let relevant = |c: &facts::Call, mine: &HashSet<String>| {
        let named = |n: &str| known.contains(n) || mine.contains(n);
        c.path
            .as_deref()
            .is_some_and(|p| roots.contains(knowledge::first_segment(p)))
            || c.callee.root_name().is_some_and(named)
            || c.name().is_some_and(named)
    };
    // The top-level function or class each call's code belongs to.
    let owner_of = |f: facts::FuncId| -> Option<String> {
        let top = m.func_chain(Some(f)).last()?;
        let tf = m.func(top);
        match tf.class {
            Some(c) => Some(m.classes[c as usize].name.clone()),
            None => Some(tf.name.clone()),
        }
    };
    let owners: Vec<Option<String>> = m
        .calls
        .iter()
        .map(|c| c.func.and_then(owner_of).filter(|o| !o.is_empty()))
        .collect();
    // Functions calling each other within the module: iterate to a fixpoint.
    loop {
        let before = mine.len();
        for (c, owner) in m.calls.iter().zip(&owners) {
            if let Some(o) = owner {
                if !mine.contains(o) && relevant(c, &mine) {
                    mine.insert(o.clone());
                }
            }
        }
        for b in m
            .bindings
            .iter()
            .filter(|b| b.scope == facts::BindScope::Module && !b.name.contains('.'))
        {
            if mine.contains(&b.name) {
                continue;
            }
            let mut hit = false;
            b.value.walk(&mut |e| match e {
                Expr::Call(id) => hit |= relevant(m.call(*id), &mine),
                Expr::Name(n) => hit |= known.contains(n) || mine.contains(n),
                _ => {}
            });
            if hit {
                mine.insert(b.name.clone());
            }
        }
        if mine.len() == before {
            break;
        }
    }
    // Imported classes whose definition a rule reads however plain their
    // file: a caught exception type (is it the project's own?) and a base
    // class (what its `__init__` sets on `self`).
    let caught = m
        .tries
        .iter()
        .flat_map(|t| &t.clauses)
        .flat_map(|c| &c.types);
    let bases = m.classes.iter().flat_map(|c| &c.bases);
    for ty in caught.chain(bases) {
        let head = ty.split(['[', '<', '(']).next().unwrap_or(ty).trim();
        let root = head.split(['.', ':']).next().unwrap_or(head);
        let last = head.rsplit(['.', ':']).next().unwrap_or(head);
        // Caught types come resolved through the imports (`pkg.errors.E`).
        let imported = head.contains(['.', ':']) || m.import(root).is_some();
        if imported && !known.contains(last) {
            mine.insert(last.to_string());
        }
    }
    mine.into_iter().collect()
}
