//! The link step: joins the facts of all files into a [`Project`] and answers
//! the semantic questions rules share — which project function a call
//! reaches, where a value came from, which functions are MCP tool handlers,
//! which calls reach an upstream and through which client, where a setting
//! is given for a call, and whether a call runs under a deadline. Works on
//! facts only; no tree is alive here.

use crate::facts::{
    BindScope, CallId, Ctx, ExitKind, Expr, FuncId, FuncKind, Lang, Module, Span, TemplatePart,
};
use crate::knowledge::{any_matches, last_segment, Knowledge, LangKnowledge, SettingForm};
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::OnceLock;

mod auth;
mod blocking;
mod clients;
mod concurrency;
mod deadlines;
mod dependencies;
mod entries;
mod failures;
mod graph;
mod mutations;
mod pools;
mod resolve;
mod retries;
mod settings;
mod trace;
mod upstream;

pub use auth::{in_error_path, is_bool_type, named_polarity, AccessCheck, CheckKind, Polarity};
pub use blocking::Blocks;
pub use concurrency::{Aggregation, FanOut, Items, WorkKey};
pub use deadlines::chained_after;
pub use dependencies::{BreakerSite, BreakerUse, Breakers, Dependency, DependencyCalls};
use entries::{add_function_refs, add_offloaded_calls};
pub use entries::{head_span, Entry};
pub use failures::{walk_deep, Channel};
pub use graph::{Hop, LeftOut, Scope};
pub use mutations::{is_key_name, mutating_verb, Hint, HintKind, Mutation};
pub use pools::PoolSite;
use resolve::module_keys;
pub use retries::Given;
pub use settings::{options_index, Found, Place, ProcessSettings, SetterCall, Setting, Value};
pub use upstream::{InnerClient, Upstream, Via};

/// How far value tracing follows bindings, returns and receivers.
const TRACE_DEPTH: u8 = 12;

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
    /// Every MCP entry point, ordered by handler.
    entries: Vec<Entry>,
    /// Index into `entries` by handler (the first, when registered twice).
    entry_of: HashMap<FuncRef, usize>,
    /// Named functions by name, for calls whose target is not resolved.
    by_name: HashMap<String, Vec<FuncRef>>,
    /// Calls that build an instance of a project class, by the class's
    /// constructor (`__init__`, `constructor`).
    ctor_callers: HashMap<FuncRef, Vec<CallRef>>,
    /// Fields given in struct literals of a named type (`Status { http:
    /// Client::new() }`), by (type, field): module, function, position, value.
    struct_fields: HashMap<(String, String), Vec<FieldValue>>,
    /// Workspace packages by the name they are imported by: their directory.
    packages_by_name: HashMap<String, String>,
    /// Every class, struct and impl name in the project.
    class_names: HashSet<String>,
    /// Per module: a number for its package (equal numbers, same package).
    package_of: Vec<u32>,
    /// Per module: the directories of the workspace packages it imports by
    /// name.
    imported_packages: Vec<Vec<String>>,
    /// Per package: the lifespan functions its MCP servers are built with
    /// (`None` for one we cannot see).
    lifespans: HashMap<String, Vec<Option<FuncRef>>>,
    reach: graph::Reach,
    /// Per module, its upstream calls, computed when first asked for.
    upstreams: Vec<OnceLock<Vec<Upstream<'k>>>>,
    /// Reached functions that do upstream, database or file-system work.
    io_funcs: OnceLock<HashSet<FuncRef>>,
    /// Sync functions that block, computed when first asked for.
    sync_blockers: OnceLock<HashMap<FuncRef, Blocks<'k>>>,
    /// Constructions that code an entry point reaches uses, computed when
    /// first asked for.
    used_constructions: OnceLock<HashMap<CallRef, CallRef>>,
    /// Functions that make an upstream call or reach one through the
    /// functions they call; computed when first asked for.
    reaches_upstream: OnceLock<HashSet<FuncRef>>,
    /// The circuit breakers and what they guard, found when first asked for.
    breakers: OnceLock<dependencies::Breakers>,
    /// Every external HTTP dependency and its calls, by host.
    dependencies: OnceLock<Vec<dependencies::DependencyCalls>>,
}

impl<'k> Project<'k> {
    /// Does call `c` call one of `paths` (a constructor, a server class)?
    /// What a traced value came from is judged this way.
    pub(super) fn call_path_matches(&self, c: CallRef, paths: &[String]) -> bool {
        self.module(c.module)
            .call(c.call)
            .path
            .as_deref()
            .is_some_and(|p| any_matches(paths, p))
    }

    pub fn new(mut modules: Vec<Module>, kb: &'k Knowledge) -> Project<'k> {
        for m in &mut modules {
            add_offloaded_calls(m, kb.for_lang(m.lang()));
            add_function_refs(m, kb.for_lang(m.lang()));
        }
        let mut p = Project {
            modules,
            kb,
            module_keys: HashMap::new(),
            targets: Vec::new(),
            callers: HashMap::new(),
            covered: HashSet::new(),
            entries: Vec::new(),
            entry_of: HashMap::new(),
            by_name: HashMap::new(),
            ctor_callers: HashMap::new(),
            struct_fields: HashMap::new(),
            packages_by_name: HashMap::new(),
            lifespans: HashMap::new(),
            imported_packages: Vec::new(),
            class_names: HashSet::new(),
            package_of: Vec::new(),
            reach: graph::Reach::default(),
            upstreams: Vec::new(),
            io_funcs: OnceLock::new(),
            sync_blockers: OnceLock::new(),
            used_constructions: OnceLock::new(),
            reaches_upstream: OnceLock::new(),
            breakers: OnceLock::new(),
            dependencies: OnceLock::new(),
        };
        p.upstreams = p.modules.iter().map(|_| OnceLock::new()).collect();
        for m in &p.modules {
            if let Some(n) = &m.package_name {
                p.packages_by_name.insert(n.clone(), m.package.clone());
            }
        }
        let mut ids: HashMap<&str, u32> = HashMap::new();
        p.package_of = p
            .modules
            .iter()
            .map(|m| {
                let next = ids.len() as u32;
                *ids.entry(m.package.as_str()).or_insert(next)
            })
            .collect();
        p.class_names = p
            .modules
            .iter()
            .flat_map(|m| m.classes.iter().map(|c| c.name.clone()))
            .collect();
        p.imported_packages = p
            .modules
            .iter()
            .map(|m| {
                let mut dirs: Vec<String> = p
                    .packages_by_name
                    .iter()
                    .filter(|(name, _)| {
                        m.imports.iter().any(|i| {
                            i.path.strip_prefix(name.as_str()).is_some_and(|rest| {
                                rest.is_empty()
                                    || rest.starts_with("::")
                                    || rest.starts_with('/')
                                    || rest.starts_with('.')
                            })
                        })
                    })
                    .map(|(_, d)| d.clone())
                    .collect();
                dirs.sort();
                dirs.dedup();
                dirs
            })
            .collect();
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
        for (mi, module) in p.modules.iter().enumerate() {
            for (ci, c) in module.calls.iter().enumerate() {
                if let Some(init) = p.constructor_of(mi as u32, c) {
                    p.ctor_callers.entry(init).or_default().push(CallRef {
                        module: mi as u32,
                        call: ci as CallId,
                    });
                }
            }
        }
        p.struct_fields = struct_literal_fields(&p.modules);
        p.lifespans = p.find_lifespans();
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
        let mut entries: Vec<Entry> = (0..p.modules.len() as u32)
            .flat_map(|m| {
                let mut e = p.find_entries(m);
                e.extend(p.find_routes(m));
                e
            })
            .collect();
        // Stable: for one handler registered by two idioms (the tool
        // dispatcher and the generic request handler), the pack's first wins.
        entries.sort_by_key(|e| e.func);
        entries.dedup_by_key(|e| e.func);
        for (i, e) in entries.iter().enumerate() {
            p.entry_of.insert(e.func, i);
        }
        p.entries = entries;
        for (mi, m) in p.modules.iter().enumerate() {
            for (fi, f) in m.functions.iter().enumerate() {
                // Lambdas too: named after the variable or the object
                // property that holds them (`handler: async (args) => ..`).
                if !f.name.is_empty() {
                    p.by_name.entry(f.name.clone()).or_default().push(FuncRef {
                        module: mi as u32,
                        func: fi as FuncId,
                    });
                }
            }
        }
        p.reach = p.compute_reach();
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

    /// The tool handler (or tool dispatcher) `f` is, if it is one.
    pub fn tool(&self, f: FuncRef) -> Option<&Entry> {
        self.entry_of(f)
            .filter(|e| e.role == crate::knowledge::Role::Tool)
    }

    /// How many MCP tool handlers and dispatchers were found.
    pub fn tool_count(&self) -> usize {
        self.entries
            .iter()
            .filter(|e| e.role == crate::knowledge::Role::Tool)
            .count()
    }

    /// Every known caller of `f` runs it under a deadline.
    pub fn is_covered(&self, f: FuncRef) -> bool {
        self.covered.contains(&f)
    }
}

/// A field's value in a struct literal: module, function, position, value.
type FieldValue = (u32, Option<FuncId>, u32, Expr);

/// Every field given in a struct literal of a named type (not `Self`,
/// which the adapters record as the type's own bindings).
fn struct_literal_fields(modules: &[Module]) -> HashMap<(String, String), Vec<FieldValue>> {
    let mut out: HashMap<(String, String), Vec<FieldValue>> = HashMap::new();
    for (mi, m) in modules.iter().enumerate() {
        if m.lang() != Lang::Rust {
            continue;
        }
        let mut collect = |e: &Expr, func: Option<FuncId>, pos: u32| {
            e.walk(&mut |x| {
                let Expr::Object(o) = x else { return };
                let Some(t) = &o.type_name else { return };
                let t = t.rsplit("::").next().unwrap_or(t);
                if t == "Self" {
                    return;
                }
                for (k, v) in &o.entries {
                    out.entry((t.to_string(), k.clone())).or_default().push((
                        mi as u32,
                        func,
                        pos,
                        v.clone(),
                    ));
                }
            })
        };
        for b in &m.bindings {
            collect(&b.value, b.func, b.span.start_byte);
        }
        for c in &m.calls {
            for a in &c.args {
                collect(&a.value, c.func, c.span.start_byte);
            }
        }
        for x in &m.exits {
            if let Some(v) = &x.value {
                collect(v, x.func, x.span.start_byte);
            }
        }
        for (fi, f) in m.functions.iter().enumerate() {
            if let Some(v) = &f.expr_body {
                collect(v, Some(fi as FuncId), f.span.start_byte);
            }
        }
    }
    out
}

/// `path` ends with the `::`-joined segments `tail` (`std::sync::LazyLock::new`
/// ends with `LazyLock::new`), without allocating.
pub(crate) fn ends_with_segment(path: &str, tail: &str) -> bool {
    path.strip_suffix(tail)
        .is_some_and(|head| head.ends_with("::"))
}
