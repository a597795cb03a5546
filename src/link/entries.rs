//! Entry points: the MCP handlers the knowledge packs' idioms register.

use super::*;
use crate::knowledge::{EntryKind, Role};

impl Project<'_> {
    /// The MCP entry points of module `m`, registered by the idioms of the
    /// knowledge packs. A handler may live in another module than the one
    /// registering it (`server.tool("x", schema, handler)` with `handler`
    /// imported, `mcp.tool()(self.method)`).
    pub(super) fn find_entries(&self, m: u32) -> Vec<Entry> {
        let module = self.module(m);
        let lk = self.lk(m);
        let mut out: Vec<Entry> = Vec::new();
        let at =
            |func: FuncRef, role: Role, name: Option<String>, span: Span, dispatcher: bool| Entry {
                func,
                role,
                name,
                module: m,
                span,
                dispatcher,
            };
        for entry in &lk.entries {
            match entry.kind {
                EntryKind::Decorator | EntryKind::Attribute => {
                    for (fi, f) in module.functions.iter().enumerate() {
                        for d in &f.decorators {
                            let (meth, call) = match &d.expr {
                                Expr::Attr(_, meth) if entry.kind == EntryKind::Decorator => {
                                    (meth.as_str(), None)
                                }
                                Expr::Call(id) => {
                                    let c = module.call(*id);
                                    let n = match (entry.kind, &c.callee) {
                                        (EntryKind::Decorator, Expr::Attr(_, meth)) => {
                                            meth.as_str()
                                        }
                                        (EntryKind::Attribute, Expr::Name(n)) => {
                                            last_path_segment(n)
                                        }
                                        (EntryKind::Decorator, Expr::Name(_))
                                            if !entry.callee.is_empty() =>
                                        {
                                            ""
                                        }
                                        _ => continue,
                                    };
                                    (n, Some(c))
                                }
                                Expr::Name(n) if entry.kind == EntryKind::Attribute => {
                                    (last_path_segment(n), None)
                                }
                                Expr::Name(_) if !entry.callee.is_empty() => ("", None),
                                _ => continue,
                            };
                            // By path (`@tool` imported from fastmcp), or by
                            // the decorator's method (`@mcp.tool()`).
                            let by_path = !entry.callee.is_empty()
                                && decorator_path(module, &d.expr, f.parent)
                                    .is_some_and(|p| any_matches(&entry.callee, &p));
                            let call = if by_path {
                                match &d.expr {
                                    Expr::Call(id) => Some(module.call(*id)),
                                    _ => None,
                                }
                            } else {
                                call
                            };
                            if !by_path && (meth != entry.method || !entry.callee.is_empty()) {
                                continue;
                            }
                            if entry.kind == EntryKind::Attribute && f.class.is_none() {
                                continue;
                            }
                            let name = call
                                .and_then(|c| entry_name(entry, c))
                                .or_else(|| (!entry.dispatcher).then(|| f.name.clone()));
                            out.push(at(
                                FuncRef {
                                    module: m,
                                    func: fi as FuncId,
                                },
                                entry.role,
                                name,
                                head_span(f.span),
                                entry.dispatcher,
                            ));
                        }
                    }
                    if entry.kind == EntryKind::Decorator {
                        // The decorator applied by hand: `mcp.tool(name="x")(handler)`.
                        for c in &module.calls {
                            let Expr::Call(inner) = &c.callee else {
                                continue;
                            };
                            let d = module.call(*inner);
                            if d.method.as_deref() != Some(entry.method.as_str()) {
                                continue;
                            }
                            let Some(h) = c.positional(0) else { continue };
                            let Some(func) = self.handler_func(m, c.func, h, c.span.start_byte)
                            else {
                                continue;
                            };
                            let name = entry_name(entry, d).or_else(|| {
                                (!entry.dispatcher)
                                    .then(|| self.module(func.module).func(func.func).name.clone())
                            });
                            out.push(at(func, entry.role, name, c.span, entry.dispatcher));
                        }
                    }
                }
                EntryKind::TraitMethod | EntryKind::Subclass => {
                    for (fi, f) in module.functions.iter().enumerate() {
                        let Some(ci) = f.class else { continue };
                        if f.kind == FuncKind::Lambda {
                            continue;
                        }
                        let class = &module.classes[ci as usize];
                        let ok = if entry.kind == EntryKind::TraitMethod {
                            match (&entry.r#trait, &class.trait_name) {
                                (Some(t), Some(have)) => last_path_segment(have) == t,
                                (None, _) => true,
                                _ => false,
                            }
                        } else {
                            let base = entry.base.as_deref().unwrap_or("");
                            class.bases.iter().any(|b| {
                                let b = b
                                    .split('[')
                                    .next()
                                    .unwrap_or(b)
                                    .split('<')
                                    .next()
                                    .unwrap_or(b);
                                last_path_segment(b.trim()) == base
                            })
                        };
                        if ok && (entry.method == "*" || f.name == entry.method) {
                            out.push(at(
                                FuncRef {
                                    module: m,
                                    func: fi as FuncId,
                                },
                                entry.role,
                                None,
                                head_span(f.span),
                                entry.dispatcher,
                            ));
                        }
                    }
                }
                EntryKind::Register => {
                    for c in &module.calls {
                        let named = if entry.callee.is_empty() {
                            c.method.as_deref() == Some(entry.method.as_str())
                                || c.method.is_none()
                                    && c.is_new
                                    && c.name() == Some(entry.method.as_str())
                        } else {
                            c.path
                                .as_deref()
                                .is_some_and(|p| any_matches(&entry.callee, p))
                        };
                        if !named {
                            continue;
                        }
                        let first = c.positional(0);
                        let first_name = first.and_then(|a| match a {
                            Expr::Str(s) => Some(s.clone()),
                            a => a.dotted().map(|d| last_path_segment(&d).to_string()),
                        });
                        if let Some(want) = &entry.first_arg {
                            if first_name.as_deref() != Some(want.as_str()) {
                                continue;
                            }
                        }
                        if first_name
                            .as_deref()
                            .is_some_and(|n| entry.not_first_arg.iter().any(|x| x == n))
                        {
                            continue;
                        }
                        // The name: a literal, or a constant (`TOOL_NAME`,
                        // `Tools.Search`); never the handler or the config.
                        let named_first = match first {
                            Some(Expr::Str(_) | Expr::Template(_)) => true,
                            Some(e @ (Expr::Name(_) | Expr::Attr(..))) => {
                                self.const_str(m, c.func, e).is_some()
                            }
                            _ => false,
                        };
                        if entry.name_first && !named_first {
                            continue;
                        }
                        // A client answering the server's requests is not a server.
                        if c.receiver.as_ref().is_some_and(|r| {
                            self.trace(m, c.func, r, c.span.start_byte).iter().any(|o| {
                                matches!(o, Origin::Call(k) if self.module(k.module).call(k.call).path.as_deref().is_some_and(|p| any_matches(&self.lk(k.module).mcp_clients, p)))
                            })
                        }) {
                            continue;
                        }
                        let handler = if let Some(key) = &entry.handler_key {
                            c.positional(0)
                                .and_then(|a| match a {
                                    Expr::Object(o) => o.get(key).cloned(),
                                    _ => None,
                                })
                                .or_else(|| c.kwarg(key).cloned())
                        } else {
                            let n = c.args.len() as i32;
                            entry
                                .handler_arg
                                .map(|i| if i < 0 { n + i } else { i })
                                .filter(|i| *i >= 0 && *i < n)
                                .map(|i| c.args[i as usize].value.clone())
                        };
                        let Some(handler) = handler else { continue };
                        let Some(func) = self.handler_func(m, c.func, &handler, c.span.start_byte)
                        else {
                            continue;
                        };
                        let name = match &entry.name_key {
                            Some(k) => c
                                .positional(0)
                                .and_then(|a| match a {
                                    Expr::Object(o) => {
                                        o.get(k).and_then(|v| self.const_str(m, c.func, v))
                                    }
                                    _ => None,
                                })
                                .or_else(|| c.kwarg(k).and_then(str_value)),
                            None => first.and_then(|v| self.const_str(m, c.func, v)),
                        };
                        out.push(at(func, entry.role, name, c.span, entry.dispatcher));
                    }
                }
            }
        }
        out
    }

    /// The routes of the MCP app in module `m`: route handlers registered
    /// on an app or router that also hands requests to the MCP transport
    /// (`app.post("/mcp", (req, res) => transport.handleRequest(..))` beside
    /// `app.get("/authorize", ..)`; an axum router with
    /// `.nest_service("/mcp", ..)`; Starlette routes beside a mounted
    /// `streamable_http_app()`). Per-request auth and the app's own
    /// endpoints run in the server's process, on its connections.
    pub(super) fn find_routes(&self, m: u32) -> Vec<Entry> {
        let module = self.module(m);
        let lk = self.lk(m);
        if lk.mcp_transport.is_empty() {
            return Vec::new();
        }
        let is_mark = |c: &crate::facts::Call| {
            c.method
                .as_deref()
                .is_some_and(|mm| lk.mcp_transport.iter().any(|t| t == mm))
                || c.path
                    .as_deref()
                    .is_some_and(|p| any_matches(&lk.mcp_transport, p))
        };
        // What a registration is made on: the receiver's root name, or the
        // first call of a builder chain (`Router::new()`).
        let group_of = |id: CallId| -> Option<String> {
            let mut c = module.call(id);
            loop {
                match &c.receiver {
                    Some(Expr::Call(r)) => c = module.call(*r),
                    Some(e) => return e.root_name().map(str::to_string),
                    None => return c.name().map(|n| format!("{n}()")),
                }
            }
        };
        let mut routes: Vec<(String, CallId)> = Vec::new();
        for (i, c) in module.calls.iter().enumerate() {
            let registers = c.method.is_some()
                && c.name()
                    .is_some_and(|n| lk.route_methods.iter().any(|r| r == n));
            if registers {
                if let Some(g) = group_of(i as CallId) {
                    routes.push((g, i as CallId));
                }
            }
        }
        // The handlers of a registration: its function arguments, directly
        // or inside a route builder (`get(handler)`).
        let handlers_of = |c: &crate::facts::Call| -> Vec<FuncRef> {
            let mut out = Vec::new();
            for a in &c.args {
                out.extend(self.handler_func(m, c.func, &a.value, c.span.start_byte));
                a.value.walk(&mut |e| {
                    let Expr::Call(id) = e else { return };
                    let b = module.call(*id);
                    let builder = b.name().is_some_and(|n| {
                        lk.route_handlers.iter().any(|r| last_path_segment(r) == n)
                    });
                    if builder {
                        for x in &b.args {
                            out.extend(self.handler_func(m, b.func, &x.value, b.span.start_byte));
                        }
                    }
                });
            }
            out
        };
        let marks_in = |f: FuncRef| -> bool {
            let fm = self.module(f.module);
            fm.calls
                .iter()
                .any(|c| fm.func_chain(c.func).any(|x| x == f.func) && is_mark(c))
        };
        let mut marked: HashSet<String> = HashSet::new();
        for (g, id) in &routes {
            let c = module.call(*id);
            let mut direct = is_mark(c);
            for a in &c.args {
                a.value.walk(&mut |e| {
                    if let Expr::Call(x) = e {
                        direct |= is_mark(module.call(*x));
                    }
                });
            }
            if direct || handlers_of(c).into_iter().any(marks_in) {
                marked.insert(g.clone());
            }
        }
        let entry = |f: FuncRef, c: &crate::facts::Call| Entry {
            func: f,
            role: Role::Route,
            name: c.positional(0).and_then(str_value),
            module: m,
            span: c.span,
            dispatcher: false,
        };
        let mut out = Vec::new();
        for (g, id) in &routes {
            if marked.contains(g) {
                let c = module.call(*id);
                out.extend(handlers_of(c).into_iter().map(|f| entry(f, c)));
            }
        }
        // A module that mounts the transport at its top level
        // (`Mount("/mcp", app=mcp.streamable_http_app())`) serves the routes
        // it builds there too (`Route("/health", endpoint=health)`).
        let mounts = module.calls.iter().any(|c| c.func.is_none() && is_mark(c));
        if mounts {
            for c in &module.calls {
                let builder = c.method.is_none()
                    && c.path
                        .as_deref()
                        .is_some_and(|p| any_matches(&lk.route_handlers, p));
                if builder {
                    for a in &c.args {
                        out.extend(
                            self.handler_func(m, c.func, &a.value, c.span.start_byte)
                                .map(|f| entry(f, c)),
                        );
                    }
                }
            }
        }
        out
    }

    /// A string a name or constant stands for (`TOOL_NAME = "search"`).
    fn const_str(&self, m: u32, func: Option<FuncId>, e: &Expr) -> Option<String> {
        if let Some(s) = str_value(e) {
            return Some(s);
        }
        let mut found = None;
        for o in self.trace(m, func, e, u32::MAX) {
            match o {
                Origin::Lit(_, _, Expr::Str(s)) if found.is_none() => found = Some(s),
                _ => return None,
            }
        }
        found
    }

    /// The project function a handler expression stands for: a function
    /// expression, a name bound to one or imported from another module, a
    /// method (`self.method`, `this.handle.bind(this)`, `obj.method` of a
    /// known class), or what `Tool.from_function(f)` wraps.
    pub(super) fn handler_func(
        &self,
        m: u32,
        func: Option<FuncId>,
        h: &Expr,
        pos: u32,
    ) -> Option<FuncRef> {
        let module = self.module(m);
        match h {
            Expr::Func(f) => Some(FuncRef {
                module: m,
                func: *f,
            }),
            Expr::Call(id) => {
                let c = module.call(*id);
                match c.method.as_deref() {
                    Some("bind") => self.handler_func(m, func, c.receiver.as_ref()?, pos),
                    Some("from_function") => self.handler_func(m, func, c.positional(0)?, pos),
                    _ => None,
                }
            }
            Expr::Name(n) => self
                .trace(m, func, h, pos)
                .into_iter()
                .find_map(|o| match o {
                    Origin::Lit(om, _, Expr::Func(f)) => Some(FuncRef {
                        module: om,
                        func: f,
                    }),
                    _ => None,
                })
                .or_else(|| self.local_function(m, func, n))
                .or_else(|| {
                    let imp = module.import(n)?;
                    self.resolve_import(m, &imp.path)
                }),
            Expr::Attr(o, meth) => {
                if matches!(o.as_ref(), Expr::Name(s) if s == "this" || s == "self") {
                    let cl = module.class_of(func)?;
                    return self.method_in(m, &cl.name, meth);
                }
                if let Some((cm, class)) = self.instance_class(m, func, o, pos) {
                    return self.method_in(cm, &class, meth);
                }
                // `tools.search` where `tools` is an imported project module.
                let root = o.root_name()?;
                let imp = module.import(root)?;
                let path = format!("{}{}", imp.path, &h.dotted()?[root.len()..]);
                self.resolve_import(m, &path)
            }
            _ => None,
        }
    }
}

/// A registered MCP handler.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// The handler.
    pub func: FuncRef,
    pub role: Role,
    /// The tool's (resource's, prompt's) name when it is written literally.
    pub name: Option<String>,
    /// Where it is registered: `span` of module `module` (the decorator,
    /// the `server.tool(..)` call, or the handler's head).
    pub module: u32,
    pub span: Span,
    /// A low-level dispatcher (`@server.call_tool()`, `CallToolRequestSchema`,
    /// rmcp `call_tool`) that serves every tool.
    pub dispatcher: bool,
}

impl Entry {
    /// `MCP tool `forecast``, `the MCP tool dispatcher`, ..
    pub fn describe(&self, p: &Project) -> String {
        let role = self.role.describe();
        match (&self.name, self.dispatcher) {
            (_, true) => format!("the {role} dispatcher"),
            (Some(n), _) => format!("{role} `{n}`"),
            (None, _) => {
                let f = &p.module(self.func.module).func(self.func.func).name;
                // Some roles are handlers by name already.
                let noun = match self.role {
                    Role::Tool | Role::Resource | Role::Prompt => format!("{role} handler"),
                    _ => role.to_string(),
                };
                if f.is_empty() {
                    format!("an {noun}")
                } else {
                    format!("{noun} `{f}`")
                }
            }
        }
    }
}

fn entry_name(entry: &crate::knowledge::Entry, c: &crate::facts::Call) -> Option<String> {
    entry
        .name_key
        .as_deref()
        .and_then(|k| c.kwarg(k))
        .or_else(|| c.positional(0))
        .or_else(|| c.kwarg("name"))
        .and_then(str_value)
}

/// Adds a call for each function a transparent wrapper or a cell is handed
/// by name (`LazyLock::new(reqwest::Client::new)` and
/// `CELL.get_or_init(reqwest::Client::new)` run `reqwest::Client::new()`),
/// so that tracing the wrapper finds what it builds.
pub(super) fn add_function_refs(m: &mut Module, lk: &LangKnowledge) {
    let mut extra = Vec::new();
    for (id, c) in m.calls.iter().enumerate() {
        let wraps = c.path.as_deref().is_some_and(|p| {
            any_matches(&lk.transparent_functions, p)
                || lk
                    .transparent_functions
                    .iter()
                    .any(|t| ends_with_segment(p, t))
        }) || c
            .method
            .as_deref()
            .is_some_and(|x| lk.cell_set.iter().any(|s| s == x));
        let Some(f @ Expr::Name(_)) = c.positional(0).filter(|_| wraps) else {
            continue;
        };
        extra.push(handed_call(c, id as CallId, 0, f, Vec::new()));
    }
    add_calls(m, extra);
}

/// Adds a call for each function handed to an offloading call
/// (`asyncio.to_thread(requests.get, url, timeout=5)` → `requests.get(url,
/// timeout=5)`), so that rules judge what actually runs.
pub(super) fn add_offloaded_calls(m: &mut Module, lk: &LangKnowledge) {
    if lk.offload.is_empty() {
        return;
    }
    let mut extra = Vec::new();
    for (id, c) in m.calls.iter().enumerate() {
        let Some(o) = lk.offload.iter().find(|o| {
            c.path.as_deref().is_some_and(|p| any_matches(&o.callee, p))
                || o.method.is_some() && c.method == o.method
        }) else {
            continue;
        };
        // The function argument, by position among the non-keyword arguments.
        let Some(pos) = c
            .args
            .iter()
            .enumerate()
            .filter(|(_, a)| a.name.is_none())
            .nth(o.func_arg)
            .map(|(i, _)| i)
        else {
            continue;
        };
        let f = &c.args[pos].value;
        if !matches!(f, Expr::Name(_) | Expr::Attr(..)) {
            continue;
        }
        let args = c.args[pos + 1..].to_vec();
        extra.push(handed_call(c, id as CallId, pos as u32, f, args));
    }
    add_calls(m, extra);
}

/// The call that function `f`, handed to call `c` (number `id`) as its
/// argument `index`, makes when `c` runs it with `args`: written nowhere,
/// judged and traced like any other, inside `c`'s argument.
fn handed_call(
    c: &crate::facts::Call,
    id: CallId,
    index: u32,
    f: &Expr,
    args: Vec<crate::facts::Arg>,
) -> crate::facts::Call {
    let mut call = c.clone();
    call.callee = f.clone();
    call.method = None;
    call.receiver = None;
    if let Expr::Attr(recv, meth) = f {
        call.method = Some(meth.clone());
        call.receiver = Some((**recv).clone());
    }
    call.args = args;
    call.ctx.push(Ctx::Arg { call: id, index });
    call.via = Some(id);
    call.is_new = false;
    call
}

/// Adds calls made by link to a module, and refreshes its indexes.
fn add_calls(m: &mut Module, extra: Vec<crate::facts::Call>) {
    if !extra.is_empty() {
        m.calls.extend(extra);
        m.finish();
    }
}

pub(super) fn str_value(e: &Expr) -> Option<String> {
    match e {
        Expr::Str(s) => Some(s.clone()),
        _ => None,
    }
}

pub(super) fn last_path_segment(s: &str) -> &str {
    s.rsplit("::")
        .next()
        .unwrap_or(s)
        .rsplit('.')
        .next()
        .unwrap_or(s)
}

/// The first line of a span (a definition's head, for pointing at `def`).
pub fn head_span(s: Span) -> Span {
    Span {
        end_byte: s.start_byte,
        end_line: s.start_line,
        end_col: s.start_col,
        ..s
    }
}

/// The resolved path of a decorator (`fastmcp.tools.tool` for `@tool` or
/// `@tool(..)` imported from there).
fn decorator_path(module: &Module, e: &Expr, func: Option<FuncId>) -> Option<String> {
    let callee = match e {
        Expr::Call(id) => &module.call(*id).callee,
        e => e,
    };
    module.resolve_path(callee, func, module.lang())
}
