//! The link step: joins the facts of all files into a [`Project`] and answers
//! the semantic questions rules share — which project function a call
//! reaches, where a value came from, which functions are MCP tool handlers,
//! and whether a call runs under a deadline. Works on facts only; no tree is
//! alive here.

use crate::facts::{
    BindScope, CallId, Ctx, ExitKind, Expr, FuncId, FuncKind, Lang, Module, Span, ToolEntry,
};
use crate::knowledge::{any_matches, Knowledge, LangKnowledge};
use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};

mod clients;
mod deadlines;
mod entries;
mod resolve;
mod trace;

use entries::add_offloaded_calls;
pub use entries::head_span;
use resolve::module_keys;

/// How far value tracing follows bindings, returns and receivers.
const TRACE_DEPTH: u8 = 12;
/// How many functions the walk from a finding back to its tool handlers visits.
const REACH_LIMIT: usize = 2_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FuncRef {
    pub module: u32,
    pub func: FuncId,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CallRef {
    pub module: u32,
    pub call: CallId,
}

/// Where a traced value may come from.
#[derive(Clone, Debug, PartialEq)]
pub enum Origin {
    /// A call we did not see into (a library call, usually).
    Call(CallRef),
    /// A literal or other expression, with the module and function it is in.
    Lit(u32, Option<FuncId>, Expr),
    /// A parameter, an attribute set elsewhere, anything we cannot follow.
    Unknown,
}

/// A client object traced back to where it was built.
#[derive(Clone, Debug)]
pub struct ClientOrigin {
    /// The constructor call.
    pub ctor: CallRef,
    /// Method calls between the constructor and the receiver (builder
    /// methods, `acquire()`, `cursor()`), outermost first.
    pub chain: Vec<CallRef>,
    /// Reached through attributes of the client (`client.chat.completions`).
    pub via_attr: bool,
}

pub struct Project<'k> {
    pub modules: Vec<Module>,
    pub kb: &'k Knowledge,
    /// Per module: file-path keys other modules import it by.
    module_keys: HashMap<String, Vec<u32>>,
    /// Per module, per call: the project function it reaches.
    targets: Vec<Vec<Option<FuncRef>>>,
    callers: HashMap<FuncRef, Vec<CallRef>>,
    /// Functions every known caller of which runs them under a deadline.
    covered: HashSet<FuncRef>,
    /// Tool handlers: (module, index into `modules[m].tools`) by function.
    tool_of: HashMap<FuncRef, usize>,
}

impl<'k> Project<'k> {
    pub fn new(mut modules: Vec<Module>, kb: &'k Knowledge) -> Project<'k> {
        for m in &mut modules {
            add_offloaded_calls(m, kb.for_lang(m.lang()));
        }
        let mut p = Project {
            modules,
            kb,
            module_keys: HashMap::new(),
            targets: Vec::new(),
            callers: HashMap::new(),
            covered: HashSet::new(),
            tool_of: HashMap::new(),
        };
        for (i, m) in p.modules.iter().enumerate() {
            for key in module_keys(&m.path, m.lang()) {
                p.module_keys.entry(key).or_default().push(i as u32);
            }
        }
        p.targets = (0..p.modules.len() as u32)
            .map(|m| {
                (0..p.modules[m as usize].calls.len() as CallId)
                    .map(|c| p.resolve_target(m, c))
                    .collect()
            })
            .collect();
        for (m, calls) in p.targets.iter().enumerate() {
            for (c, t) in calls.iter().enumerate() {
                if let Some(t) = t {
                    p.callers.entry(*t).or_default().push(CallRef {
                        module: m as u32,
                        call: c as CallId,
                    });
                }
            }
        }
        for m in 0..p.modules.len() {
            let tools = p.find_tools(m as u32);
            for (i, t) in tools.iter().enumerate() {
                p.tool_of
                    .entry(FuncRef {
                        module: m as u32,
                        func: t.func,
                    })
                    .or_insert(i);
            }
            p.modules[m].tools = tools;
        }
        p.covered = p.compute_covered();
        p
    }

    pub fn module(&self, m: u32) -> &Module {
        &self.modules[m as usize]
    }

    pub fn lk(&self, m: u32) -> &'k LangKnowledge {
        self.kb.for_lang(self.module(m).lang())
    }

    /// The project function a call reaches, if it is one of ours.
    pub fn target(&self, c: CallRef) -> Option<FuncRef> {
        self.targets[c.module as usize][c.call as usize]
    }

    pub fn callers(&self, f: FuncRef) -> &[CallRef] {
        self.callers.get(&f).map(|v| v.as_slice()).unwrap_or(&[])
    }

    pub fn tool(&self, f: FuncRef) -> Option<&ToolEntry> {
        self.tool_of
            .get(&f)
            .map(|i| &self.module(f.module).tools[*i])
    }

    /// Every known caller of `f` runs it under a deadline.
    pub fn is_covered(&self, f: FuncRef) -> bool {
        self.covered.contains(&f)
    }
}
