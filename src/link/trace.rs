//! Value tracing: where a value may come from, through bindings, returns,
//! attributes and imported module-level bindings.

use super::*;

impl Project<'_> {
    /// Where the value of `e` (written in function `func` of module `m`) may
    /// come from.
    /// `pos` is the byte offset of the use, so that a later re-binding of
    /// the same name does not count (`u32::MAX` when it does not matter).
    pub fn trace(&self, m: u32, func: Option<FuncId>, e: &Expr, pos: u32) -> Vec<Origin> {
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        self.trace_into(m, func, e, pos, TRACE_DEPTH, &mut out, &mut seen);
        out
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn trace_into(
        &self,
        m: u32,
        func: Option<FuncId>,
        e: &Expr,
        pos: u32,
        depth: u8,
        out: &mut Vec<Origin>,
        seen: &mut HashSet<(u32, Option<FuncId>, String)>,
    ) {
        if depth == 0 {
            out.push(Origin::Unknown);
            return;
        }
        let module = self.module(m);
        let lk = self.lk(m);
        match e {
            Expr::Call(id) => {
                let c = module.call(*id);
                if let (Some(meth), Some(recv)) = (&c.method, &c.receiver) {
                    if lk.transparent_methods.iter().any(|t| t == meth) {
                        return self.trace_into(
                            m,
                            c.func,
                            recv,
                            c.span.start_byte,
                            depth - 1,
                            out,
                            seen,
                        );
                    }
                }
                if let Some(p) = &c.path {
                    if any_matches(&lk.transparent_functions, p)
                        || lk
                            .transparent_functions
                            .iter()
                            .any(|t| ends_with_segment(p, t))
                    {
                        if let Some(Expr::Func(f)) = c.positional(0) {
                            // `Lazy::new(|| Client::builder()..build())`
                            let f = FuncRef {
                                module: m,
                                func: *f,
                            };
                            for (fm, ff, v) in self.returns_of(f) {
                                self.trace_into(fm, Some(ff), &v, u32::MAX, depth - 1, out, seen);
                            }
                            return;
                        }
                        // `LazyLock::new(Client::new)`: the call it makes.
                        if let Some(made) = made_by(module, *id) {
                            return self.trace_into(
                                m,
                                c.func,
                                &Expr::Call(made as CallId),
                                c.span.start_byte,
                                depth - 1,
                                out,
                                seen,
                            );
                        }
                        if let Some(a) = c.positional(0) {
                            return self.trace_into(
                                m,
                                c.func,
                                a,
                                c.span.start_byte,
                                depth - 1,
                                out,
                                seen,
                            );
                        }
                    }
                }
                // `CLIENT.get()` on a `static CLIENT: OnceLock<..>`: what is
                // put in it, wherever that is.
                if let (Some(meth), Some(Expr::Name(cell))) = (&c.method, &c.receiver) {
                    if lk.cell_get.iter().any(|g| g == meth) && self.is_cell(m, c.func, cell) {
                        let before = out.len();
                        self.trace_cell(m, cell, depth, out, seen);
                        if out.len() == before {
                            out.push(Origin::Unknown);
                        }
                        return;
                    }
                }
                let cref = CallRef {
                    module: m,
                    call: *id,
                };
                if let Some(t) = self.target(cref) {
                    let before = out.len();
                    for (fm, ff, v) in self.returns_of(t) {
                        self.trace_into(fm, Some(ff), &v, u32::MAX, depth - 1, out, seen);
                    }
                    if out.len() > before {
                        return;
                    }
                    out.push(Origin::Unknown);
                    return;
                }
                // `new Promise((resolve) => { .. resolve(pool) })`: what is
                // resolved, once awaited.
                if c.is_new && c.path.as_deref() == Some("Promise") {
                    if let Some(Expr::Func(f)) = c.positional(0) {
                        let before = out.len();
                        self.trace_resolved(m, *f, depth, out, seen);
                        if out.len() > before {
                            return;
                        }
                    }
                }
                out.push(Origin::Call(cref));
            }
            Expr::Name(n) => {
                if !seen.insert((m, func, n.clone())) {
                    return;
                }
                if module.is_param(func, n) {
                    self.trace_param(m, func, n, depth, out, seen);
                    return;
                }
                let bs = module.bindings_at(func, n, pos);
                if bs.is_empty() {
                    // `from .clients import http` / `import { api } from "./client"`:
                    // a module-level binding of another project module.
                    if let Some(at) = module
                        .import(n)
                        .and_then(|i| self.imported_binding(m, &i.path))
                    {
                        return self.trace_binding_at(at, depth, out, seen);
                    }
                    out.push(Origin::Unknown);
                    return;
                }
                self.trace_bindings(m, bs, depth, out, seen);
            }
            Expr::Attr(obj, field) if self.is_lifespan_context(m, obj) => {
                self.trace_lifespan(m, field, depth, out, seen);
            }
            Expr::Index(obj, key) if self.is_lifespan_context(m, obj) => match key.as_ref() {
                Expr::Str(k) => self.trace_lifespan(m, k, depth, out, seen),
                _ => out.push(Origin::Unknown),
            },
            Expr::Attr(obj, field) => {
                if let Expr::Name(s) = obj.as_ref() {
                    if matches!(s.as_str(), "self" | "this") {
                        let Some(class) = module.class_of(func) else {
                            out.push(Origin::Unknown);
                            return;
                        };
                        if !seen.insert((m, None, format!("{}.{field}", class.name))) {
                            return;
                        }
                        let bs = module.class_bindings(&class.name, field);
                        // `Status { http: Client::new() }` written outside
                        // the type's impl (in `main`, in another module).
                        let literals = self
                            .struct_fields
                            .get(&(class.name.clone(), field.clone()))
                            .map(Vec::as_slice)
                            .unwrap_or(&[]);
                        if bs.is_empty() && literals.is_empty() {
                            // A mixin's `self.jira`, set by the base class's
                            // `__init__` in another module.
                            match self.inherited_bindings(m, &class.name, field) {
                                Some((bm, bs)) => self.trace_bindings(bm, bs, depth, out, seen),
                                None => out.push(Origin::Unknown),
                            }
                            return;
                        }
                        self.trace_bindings(m, bs, depth, out, seen);
                        for (lm, lf, lpos, v) in literals {
                            self.trace_into(*lm, *lf, v, *lpos, depth - 1, out, seen);
                        }
                        return;
                    }
                }
                // `deps.session` where `deps` is an imported project module.
                if let Some(at) = self.module_attr_binding(m, func, e) {
                    return self.trace_binding_at(at, depth, out, seen);
                }
                match e.dotted() {
                    Some(d) if !module.bindings_of(func, &d).is_empty() => {
                        if !seen.insert((m, func, d.clone())) {
                            return;
                        }
                        self.trace_bindings(m, module.bindings_at(func, &d, pos), depth, out, seen);
                    }
                    _ => self.trace_field(m, func, obj, field, pos, depth, out, seen),
                }
            }
            Expr::Conditional {
                then, otherwise, ..
            } => {
                self.trace_into(m, func, then, pos, depth - 1, out, seen);
                self.trace_into(m, func, otherwise, pos, depth - 1, out, seen);
            }
            other => out.push(Origin::Lit(m, func, other.clone())),
        }
    }

    /// A parameter: what every known caller passes for it (`Api(client=
    /// httpx.AsyncClient(..))` for `__init__(self, client)`, a helper's
    /// argument). Unknown when there is no known caller, when a caller's
    /// argument cannot be matched, or inside a lambda (callbacks are called
    /// by code we do not see).
    #[allow(clippy::too_many_arguments)]
    fn trace_param(
        &self,
        m: u32,
        func: Option<FuncId>,
        name: &str,
        depth: u8,
        out: &mut Vec<Origin>,
        seen: &mut HashSet<(u32, Option<FuncId>, String)>,
    ) {
        let module = self.module(m);
        let Some(f) = module.func_chain(func).find(|f| {
            module
                .func(*f)
                .params
                .iter()
                .any(|p| p.name == name || p.destructured.iter().any(|d| d == name))
        }) else {
            out.push(Origin::Unknown);
            return;
        };
        let fun = module.func(f);
        let Some(idx) = fun.params.iter().position(|p| p.name == name) else {
            out.push(Origin::Unknown);
            return;
        };
        if fun.kind == FuncKind::Lambda || !seen.insert((m, Some(f), format!("param:{name}"))) {
            out.push(Origin::Unknown);
            return;
        }
        let fr = FuncRef { module: m, func: f };
        let sites: Vec<CallRef> = self
            .callers(fr)
            .iter()
            .chain(self.ctor_callers.get(&fr).into_iter().flatten())
            .copied()
            .collect();
        if sites.is_empty() {
            out.push(Origin::Unknown);
            return;
        }
        let has_self = matches!(
            fun.params.first().map(|p| p.name.as_str()),
            Some("self" | "cls")
        );
        for s in sites {
            let cm = self.module(s.module);
            let call = cm.call(s.call);
            let arg = call.kwarg(name).or_else(|| {
                if call.has_spread_arg() {
                    return None;
                }
                // Through an instance (`api.fetch(x)`, `Api(x)`), `self` is
                // not written; through the type (`Api::new(x)`) nothing is
                // skipped for an associated function.
                let through_instance = call.method.is_some()
                    || self.ctor_callers.get(&fr).is_some_and(|v| v.contains(&s));
                let skip = usize::from(has_self && through_instance);
                idx.checked_sub(skip).and_then(|i| call.positional(i))
            });
            match arg {
                Some(a) => self.trace_into(
                    s.module,
                    call.func,
                    a,
                    call.span.start_byte,
                    depth - 1,
                    out,
                    seen,
                ),
                None => out.push(Origin::Unknown),
            }
        }
    }

    /// Is `name` (in `func` of module `m`) a cell built by one of the
    /// knowledge's cell constructors?
    fn is_cell(&self, m: u32, func: Option<FuncId>, name: &str) -> bool {
        let lk = self.lk(m);
        if lk.cell_constructors.is_empty() {
            return false;
        }
        self.trace(m, func, &Expr::Name(name.to_string()), u32::MAX)
            .iter()
            .any(|o| match o {
                Origin::Call(c) => self
                    .module(c.module)
                    .call(c.call)
                    .path
                    .as_deref()
                    .is_some_and(|p| {
                        any_matches(&lk.cell_constructors, p)
                            || lk.cell_constructors.iter().any(|k| ends_with_segment(p, k))
                    }),
                _ => false,
            })
    }

    /// What is put in the cell named `cell` anywhere in its package:
    /// `CELL.set(v)`, and the value `CELL.get_or_init(|| v)` builds.
    fn trace_cell(
        &self,
        m: u32,
        cell: &str,
        depth: u8,
        out: &mut Vec<Origin>,
        seen: &mut HashSet<(u32, Option<FuncId>, String)>,
    ) {
        if !seen.insert((m, None, format!("cell:{cell}"))) {
            return;
        }
        let lk = self.lk(m);
        let package = &self.module(m).package;
        let last = cell.rsplit("::").next().unwrap_or(cell);
        for (om, module) in self.modules.iter().enumerate() {
            if &module.package != package || module.lang() != self.module(m).lang() {
                continue;
            }
            for (ci, c) in module.calls.iter().enumerate() {
                let on_cell = matches!(&c.receiver, Some(Expr::Name(n)) if n.rsplit("::").next() == Some(last));
                let sets = c
                    .method
                    .as_deref()
                    .is_some_and(|x| lk.cell_set.iter().any(|s| s == x));
                if !on_cell || !sets {
                    continue;
                }
                match c.positional(0) {
                    Some(Expr::Func(f)) => {
                        let f = FuncRef {
                            module: om as u32,
                            func: *f,
                        };
                        for (fm, ff, v) in self.returns_of(f) {
                            self.trace_into(fm, Some(ff), &v, u32::MAX, depth - 1, out, seen);
                        }
                    }
                    Some(v) => {
                        // A function named, not called: the call it makes.
                        let made = made_by(module, ci as CallId);
                        match (v, made) {
                            (Expr::Name(_), Some(made)) => self.trace_into(
                                om as u32,
                                c.func,
                                &Expr::Call(made as CallId),
                                c.span.start_byte,
                                depth - 1,
                                out,
                                seen,
                            ),
                            _ => self.trace_into(
                                om as u32,
                                c.func,
                                v,
                                c.span.start_byte,
                                depth - 1,
                                out,
                                seen,
                            ),
                        }
                    }
                    None => {}
                }
            }
        }
    }

    /// Does `e` hold an instance of a project class, built in view?
    pub(super) fn is_project_instance(
        &self,
        m: u32,
        func: Option<FuncId>,
        e: &Expr,
        pos: u32,
    ) -> bool {
        let origins = self.trace(m, func, e, pos);
        !origins.is_empty()
            && origins.iter().all(|o| match o {
                Origin::Call(k) => {
                    let kc = self.module(k.module).call(k.call);
                    matches!(&kc.callee, Expr::Name(n)
                        if self.class_named(k.module, n) || self.constructor_of(k.module, kc).is_some())
                }
                _ => false,
            })
    }

    /// `deps.pool` where `deps` holds an instance of a project class built
    /// with that field (`Deps(pool=await make_pool())`, a dataclass), or an
    /// object literal with that key. Unknown otherwise.
    #[allow(clippy::too_many_arguments)]
    fn trace_field(
        &self,
        m: u32,
        func: Option<FuncId>,
        obj: &Expr,
        field: &str,
        pos: u32,
        depth: u8,
        out: &mut Vec<Origin>,
        seen: &mut HashSet<(u32, Option<FuncId>, String)>,
    ) {
        if !matches!(obj, Expr::Name(_)) {
            out.push(Origin::Unknown);
            return;
        }
        let mut inner = Vec::new();
        self.trace_into(m, func, obj, pos, depth - 1, &mut inner, seen);
        if inner.is_empty() {
            out.push(Origin::Unknown);
        }
        for o in inner {
            match o {
                Origin::Call(k) => {
                    let kc = self.module(k.module).call(k.call);
                    let project_class = matches!(&kc.callee, Expr::Name(n)
                        if self.class_named(k.module, n) || self.constructor_of(k.module, kc).is_some());
                    match kc.kwarg(field) {
                        Some(a) if project_class => self.trace_into(
                            k.module,
                            kc.func,
                            a,
                            kc.span.start_byte,
                            depth - 1,
                            out,
                            seen,
                        ),
                        _ => out.push(Origin::Unknown),
                    }
                }
                Origin::Lit(lm, lf, Expr::Object(o)) => match o.get(field) {
                    Some(a) => self.trace_into(lm, lf, a, u32::MAX, depth - 1, out, seen),
                    None => out.push(Origin::Unknown),
                },
                _ => out.push(Origin::Unknown),
            }
        }
    }

    /// `ctx.request_context.lifespan_context` (and a name bound to it).
    pub(super) fn is_lifespan_context(&self, m: u32, obj: &Expr) -> bool {
        let lk = self.lk(m);
        if lk.lifespans.is_empty() {
            return false;
        }
        match obj {
            Expr::Attr(_, a) => lk.lifespans.iter().any(|l| &l.attribute == a),
            // `app = ctx.request_context.lifespan_context` … `app.db`.
            Expr::Name(n) => self
                .module(m)
                .binding_index
                .get(n)
                .into_iter()
                .flatten()
                .any(|&b| {
                    matches!(&self.module(m).bindings[b as usize].value,
                        Expr::Attr(_, a) if lk.lifespans.iter().any(|l| &l.attribute == a))
                }),
            _ => false,
        }
    }

    /// Field or key `key` of what the package's server lifespans yield
    /// (`yield AppContext(db=db)`, `yield {"db": db}`).
    fn trace_lifespan(
        &self,
        m: u32,
        key: &str,
        depth: u8,
        out: &mut Vec<Origin>,
        seen: &mut HashSet<(u32, Option<FuncId>, String)>,
    ) {
        if !seen.insert((m, None, format!("lifespan:{key}"))) {
            return;
        }
        let before = out.len();
        let package = &self.module(m).package;
        for lf in self.lifespans.get(package).into_iter().flatten() {
            let Some(f) = *lf else {
                out.push(Origin::Unknown);
                continue;
            };
            let fm = self.module(f.module);
            for x in &fm.exits {
                if x.kind != ExitKind::Yield || x.func != Some(f.func) {
                    continue;
                }
                let Some(v) = &x.value else { continue };
                for o in self.trace(f.module, x.func, v, x.span.start_byte) {
                    match o {
                        Origin::Call(k) => {
                            let kc = self.module(k.module).call(k.call);
                            // A lifespan whose value has no such field
                            // belongs to another server of the package.
                            if let Some(a) = kc.kwarg(key) {
                                self.trace_into(
                                    k.module,
                                    kc.func,
                                    a,
                                    kc.span.start_byte,
                                    depth - 1,
                                    out,
                                    seen,
                                );
                            } else if kc.has_spread_arg() {
                                out.push(Origin::Unknown);
                            }
                        }
                        Origin::Lit(lm, lf, Expr::Object(obj)) => match obj.get(key) {
                            Some(a) => self.trace_into(lm, lf, a, u32::MAX, depth - 1, out, seen),
                            None if obj.spread => out.push(Origin::Unknown),
                            None => {}
                        },
                        _ => out.push(Origin::Unknown),
                    }
                }
            }
        }
        if out.len() == before {
            out.push(Origin::Unknown);
        }
    }

    /// The lifespan functions of every package's MCP servers
    /// (`FastMCP(.., lifespan=app_lifespan)`), found once.
    pub(super) fn find_lifespans(&self) -> HashMap<String, Vec<Option<FuncRef>>> {
        let mut out: HashMap<String, Vec<Option<FuncRef>>> = HashMap::new();
        for (om, module) in self.modules.iter().enumerate() {
            let om = om as u32;
            let lk = self.lk(om);
            if lk.lifespans.is_empty() {
                continue;
            }
            for c in &module.calls {
                let Some(path) = c.path.as_deref() else {
                    continue;
                };
                for l in &lk.lifespans {
                    if !any_matches(&l.constructors, path) {
                        continue;
                    }
                    if let Some(h) = c.kwarg(&l.keyword) {
                        out.entry(module.package.clone())
                            .or_default()
                            .push(self.handler_func(om, c.func, h, c.span.start_byte));
                    }
                }
            }
        }
        out
    }

    /// The values a Promise executor passes to its `resolve` parameter.
    fn trace_resolved(
        &self,
        m: u32,
        executor: FuncId,
        depth: u8,
        out: &mut Vec<Origin>,
        seen: &mut HashSet<(u32, Option<FuncId>, String)>,
    ) {
        let module = self.module(m);
        let Some(resolve) = module.func(executor).params.first().map(|p| p.name.clone()) else {
            return;
        };
        for c in &module.calls {
            let inside = module.func_chain(c.func).any(|f| f == executor);
            let named = matches!(&c.callee, Expr::Name(n) if *n == resolve);
            if inside && named {
                match c.positional(0) {
                    Some(v) => {
                        self.trace_into(m, c.func, v, c.span.start_byte, depth - 1, out, seen)
                    }
                    None => out.push(Origin::Unknown),
                }
            }
        }
    }

    /// `deps.session` / `config.client` where the root is an imported
    /// project module: that module's module-level binding of the attribute.
    pub(super) fn module_attr_binding(
        &self,
        m: u32,
        func: Option<FuncId>,
        e: &Expr,
    ) -> Option<(u32, usize)> {
        let module = self.module(m);
        let Expr::Attr(obj, field) = e else {
            return None;
        };
        let Expr::Name(root) = obj.as_ref() else {
            return None;
        };
        if module.is_param(func, root) || !module.bindings_of(func, root).is_empty() {
            return None;
        }
        let imp = module.import(root)?;
        let sep = module.lang().sep();
        self.imported_binding(m, &format!("{}{sep}{field}", imp.path))
    }

    /// Traces binding number `b` of module `om` (a module-level binding
    /// another module imports).
    fn trace_binding_at(
        &self,
        (om, b): (u32, usize),
        depth: u8,
        out: &mut Vec<Origin>,
        seen: &mut HashSet<(u32, Option<FuncId>, String)>,
    ) {
        let b = &self.module(om).bindings[b];
        self.trace_into(
            om,
            b.func,
            &b.value,
            b.span.start_byte,
            depth - 1,
            out,
            seen,
        );
    }

    /// Traces the value of each binding, in the function it is written in.
    pub(super) fn trace_bindings<'a>(
        &self,
        m: u32,
        bs: impl IntoIterator<Item = &'a crate::facts::Binding>,
        depth: u8,
        out: &mut Vec<Origin>,
        seen: &mut HashSet<(u32, Option<FuncId>, String)>,
    ) {
        for b in bs {
            self.trace_into(m, b.func, &b.value, b.span.start_byte, depth - 1, out, seen);
        }
    }

    /// The values function `f` returns: `return` values, a Rust tail
    /// expression, a lambda's expression body.
    pub fn returns_of(&self, f: FuncRef) -> Vec<(u32, FuncId, Expr)> {
        let module = self.module(f.module);
        let mut out: Vec<(u32, FuncId, Expr)> = module
            .exits
            .iter()
            .filter(|x| {
                x.func == Some(f.func) && matches!(x.kind, ExitKind::Return | ExitKind::Tail)
            })
            .filter_map(|x| x.value.clone().map(|v| (f.module, f.func, v)))
            .collect();
        if let Some(e) = &module.func(f.func).expr_body {
            out.push((f.module, f.func, e.clone()));
        }
        out
    }

    /// The bindings of `self.<field>` in the nearest project base class of
    /// class `class` (module `m`) that sets it, a few levels up.
    fn inherited_bindings(
        &self,
        m: u32,
        class: &str,
        field: &str,
    ) -> Option<(u32, Vec<&crate::facts::Binding>)> {
        let mut at: Vec<(u32, String)> = vec![(m, class.to_string())];
        for _ in 0..INHERIT_DEPTH {
            let mut up: Vec<(u32, String)> = Vec::new();
            for (cm, cname) in &at {
                let module = self.module(*cm);
                let Some(c) = module.classes.iter().find(|c| &c.name == cname) else {
                    continue;
                };
                for b in &c.bases {
                    let Some((bm, bname)) = self.class_at(*cm, super::graph::base_class_name(b))
                    else {
                        continue;
                    };
                    let bs = self.module(bm).class_bindings(&bname, field);
                    if !bs.is_empty() {
                        return Some((bm, bs));
                    }
                    up.push((bm, bname));
                }
            }
            if up.is_empty() {
                return None;
            }
            at = up;
        }
        None
    }
}

/// The call link made for a function handed to call `id` by name
/// (`LazyLock::new(Client::new)` makes `Client::new()`), if any.
fn made_by(module: &Module, id: CallId) -> Option<usize> {
    module
        .calls
        .iter()
        .rposition(|x| x.via == Some(id) && x.args.is_empty())
}

/// How many base classes up a `self.<field>` binding is looked for.
const INHERIT_DEPTH: usize = 3;
