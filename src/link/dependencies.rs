//! Dependencies and circuit breakers: which external service an HTTP call
//! talks to (its host, read from the URL it is given or from the base URL
//! or SDK of the client that makes it), and which calls run through which
//! circuit breaker instance. Where a library takes its URL and its base URL,
//! and what counts as a breaker, is knowledge (`[[endpoint]]`, `[[breaker]]`).

use super::*;
use crate::knowledge::{first_segment, Breaker, ClientKind, Endpoint};

/// The external service an HTTP call talks to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dependency {
    /// The URL host, lower-cased, without port (`api.github.com`).
    pub host: String,
    /// The client object whose base URL or SDK names the host, when the
    /// call's own URL does not.
    pub client: Option<CallRef>,
}

/// Where a breaker instance is made: a construction call, or a decorator
/// that makes one for the function it decorates (`@circuit`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BreakerSite {
    Call(CallRef),
    Decorator {
        module: u32,
        func: FuncId,
        index: u32,
    },
}

/// One breaker instance and the upstream calls it guards.
#[derive(Clone, Debug)]
pub struct BreakerUse {
    pub site: BreakerSite,
    /// The module and span to report it at.
    pub module: u32,
    pub span: Span,
    pub func: Option<FuncId>,
    /// For a factory of named breakers (purgatory), the name.
    pub name: Option<String>,
    /// The knowledge entry's name (`pybreaker`).
    pub library: String,
    /// Guarded upstream calls, in source order.
    pub guarded: Vec<CallRef>,
    /// The calls that run something through it (`breaker.fire(..)`,
    /// `policy.execute(..)`), in source order.
    pub used_at: Vec<CallRef>,
}

/// The project's breakers, found once.
#[derive(Debug, Default)]
pub struct Breakers {
    pub uses: Vec<BreakerUse>,
    pub guarded: HashSet<CallRef>,
}

/// Every call one package makes to one external host, in source order (by
/// file path, then position in the file).
#[derive(Clone, Debug)]
pub struct DependencyCalls {
    /// The package (its directory) whose code makes the calls: each server
    /// has its own dependencies and its own breakers.
    pub package: String,
    pub host: String,
    pub calls: Vec<(CallRef, Dependency)>,
}

/// The breakers of one language a project can use.
struct LiveBreakers {
    breakers: Vec<Breaker>,
}

/// What a URL expression says about its host.
#[derive(Clone, Debug, PartialEq)]
enum HostOf {
    Host(String),
    /// A path or relative URL: the client's base URL decides.
    Relative,
    Unknown,
}

/// How deep guarded code is followed into the project functions it calls.
const GUARD_DEPTH: u8 = 4;
/// How deep a URL value is followed through names and constants.
const URL_DEPTH: u8 = 6;

impl<'k> Project<'k> {
    /// The external HTTP service `up` talks to, when its host can be read
    /// statically and is not the local machine.
    pub fn dependency(&self, up: &Upstream<'k>) -> Option<Dependency> {
        if up.client.kind != ClientKind::Http {
            return None;
        }
        let ep = self.endpoint(up.call.module, &up.client.name)?;
        let module = self.module(up.call.module);
        let call = module.call(up.call.call);
        let from_url = self.url_arg(ep, call).map(|u| {
            self.host_of(
                up.call.module,
                call.func,
                u,
                call.span.start_byte,
                URL_DEPTH,
            )
        });
        let dep = match from_url {
            Some(HostOf::Host(h)) => Some(Dependency {
                host: h,
                client: None,
            }),
            // A URL we cannot read may be absolute: only a client with a base
            // URL of its own says where it goes.
            _ => self.client_host(up, ep),
        }?;
        (!is_local(&dep.host)).then_some(dep)
    }

    fn endpoint(&self, m: u32, client: &str) -> Option<&'k Endpoint> {
        self.lk(m).endpoints.iter().find(|e| e.client == client)
    }

    /// The URL argument of a call, by position, keyword or options key.
    fn url_arg<'a>(&self, ep: &Endpoint, call: &'a crate::facts::Call) -> Option<&'a Expr> {
        let name = call
            .name()
            .or_else(|| call.path.as_deref().map(last_segment))
            .unwrap_or("");
        let idx = ep.url_arg_by_method.get(name).copied().or(ep.url_arg);
        if let Some(key) = &ep.url_key {
            if let Some(v) = call.kwarg(key) {
                return Some(v);
            }
        }
        let v = call.positional(idx?)?;
        // `axios({ url, method })`, `axios.request({ url })`.
        if let (Expr::Object(o), Some(key)) = (v, &ep.url_key) {
            return o.get(key);
        }
        Some(v)
    }

    /// The host every client the call may be made on talks to: its base
    /// URL, else its SDK's fixed host. `None` when they differ or one is
    /// unknown.
    fn client_host(&self, up: &Upstream<'k>, ep: &Endpoint) -> Option<Dependency> {
        let origins = up.origins();
        let mut found: Option<Dependency> = None;
        if origins.is_empty() {
            // A library function with a fixed host (`stripe.Customer.create`).
            let path = self
                .module(up.call.module)
                .call(up.call.call)
                .path
                .as_deref()?;
            let host = ep.host.as_ref()?;
            if !ep.host_for.is_empty() && !any_matches(&ep.host_for, path) {
                return None;
            }
            return Some(Dependency {
                host: host.clone(),
                client: None,
            });
        }
        for o in origins {
            let host = self.base_host(o.ctor, ep)?;
            match &found {
                Some(d) if d.host != host => return None,
                Some(_) => {}
                None => {
                    found = Some(Dependency {
                        host,
                        client: Some(o.ctor),
                    })
                }
            }
        }
        found
    }

    /// The host a client built by `ctor` talks to.
    fn base_host(&self, ctor: CallRef, ep: &Endpoint) -> Option<String> {
        let module = self.module(ctor.module);
        let c = module.call(ctor.call);
        let mut base: Option<&Expr> = ep.base_url.iter().find_map(|k| c.kwarg(k));
        if base.is_none() {
            base = ep.base_url_arg.and_then(|i| c.positional(i)).filter(|v| {
                // A positional options object is not the URL itself.
                !matches!(v, Expr::Object(_))
            });
        }
        if base.is_none() {
            for a in &c.args {
                match &a.value {
                    Expr::Object(o) => {
                        if o.spread {
                            return None;
                        }
                        base = base.or_else(|| ep.base_url.iter().find_map(|k| o.get(k)));
                    }
                    Expr::Spread(_) => return None,
                    _ => {}
                }
            }
        }
        match base {
            Some(b) => match self.host_of(ctor.module, c.func, b, c.span.start_byte, URL_DEPTH) {
                HostOf::Host(h) => Some(h),
                _ => None,
            },
            None => {
                // No base URL given: the SDK's own host, if it has one. An
                // options object we cannot read may hold one.
                let hidden_options = !ep.base_url.is_empty()
                    && ep.base_url_arg.is_none()
                    && c.args.iter().any(|a| {
                        a.name.is_none()
                            && matches!(a.value, Expr::Name(_) | Expr::Attr(..) | Expr::Call(_))
                    });
                if hidden_options {
                    return None;
                }
                let host = ep.host.as_ref()?;
                let path = c.path.as_deref().unwrap_or("");
                (ep.host_for.is_empty() || any_matches(&ep.host_for, path)).then(|| host.clone())
            }
        }
    }

    /// The default of an environment read that takes one (the pack's
    /// `env_with_default`: `os.getenv("API", "https://api.example")`).
    fn env_default(&self, m: u32, id: crate::facts::CallId) -> Option<&Expr> {
        let call = self.module(m).call(id);
        let path = call.path.as_deref()?;
        if !any_matches(&self.lk(m).env_with_default, path) {
            return None;
        }
        call.args
            .iter()
            .find(|a| a.name.as_deref() == Some("default"))
            .or_else(|| call.args.iter().filter(|a| a.name.is_none()).nth(1))
            .map(|a| &a.value)
    }

    /// What URL expression `e` says about its host.
    fn host_of(&self, m: u32, func: Option<FuncId>, e: &Expr, pos: u32, depth: u8) -> HostOf {
        if depth == 0 {
            return HostOf::Unknown;
        }
        match e {
            Expr::Str(s) => host_in_text(s, true),
            Expr::Template(parts) => match parts.first() {
                Some(TemplatePart::Lit(l)) => host_in_text(l, parts.len() == 1),
                Some(TemplatePart::Expr(x)) => match self.host_of(m, func, x, pos, depth - 1) {
                    HostOf::Host(h) => HostOf::Host(h),
                    _ => HostOf::Unknown,
                },
                None => HostOf::Unknown,
            },
            Expr::Binary { op, lhs, .. } if op == "+" => {
                match self.host_of(m, func, lhs, pos, depth - 1) {
                    HostOf::Host(h) => HostOf::Host(h),
                    // `"/users/" + id` is relative; anything else unknown.
                    HostOf::Relative => HostOf::Relative,
                    HostOf::Unknown => HostOf::Unknown,
                }
            }
            // `process.env.API ?? "https://api.example"`, `url or DEFAULT`:
            // the fallback names the service the code was written against
            // when the first operand (an environment read, a setting) does
            // not say.
            Expr::Binary { op, lhs, rhs } if matches!(op.as_str(), "??" | "||" | "or") => {
                match self.host_of(m, func, lhs, pos, depth - 1) {
                    HostOf::Host(h) => HostOf::Host(h),
                    _ => match self.host_of(m, func, rhs, pos, depth - 1) {
                        HostOf::Host(h) => HostOf::Host(h),
                        _ => HostOf::Unknown,
                    },
                }
            }
            Expr::Call(id) if self.env_default(m, *id).is_some() => {
                let default = self.env_default(m, *id).cloned().unwrap_or(Expr::Null);
                match self.host_of(m, func, &default, pos, depth - 1) {
                    HostOf::Host(h) => HostOf::Host(h),
                    _ => HostOf::Unknown,
                }
            }
            Expr::Name(_) | Expr::Attr(..) | Expr::Call(_) => {
                let mut found: Option<HostOf> = None;
                let origins = self.trace(m, func, e, pos);
                if origins.is_empty() {
                    return HostOf::Unknown;
                }
                for o in origins {
                    let h = match o {
                        Origin::Lit(om, of, x) => {
                            if &x == e {
                                HostOf::Unknown
                            } else {
                                self.host_of(om, of, &x, u32::MAX, depth - 1)
                            }
                        }
                        Origin::Call(c) => match self.env_default(c.module, c.call) {
                            Some(d) => {
                                let of = self.module(c.module).call(c.call).func;
                                match self.host_of(c.module, of, d, u32::MAX, depth - 1) {
                                    HostOf::Host(h) => HostOf::Host(h),
                                    _ => HostOf::Unknown,
                                }
                            }
                            None => HostOf::Unknown,
                        },
                        _ => HostOf::Unknown,
                    };
                    match (&found, h) {
                        (_, HostOf::Unknown) => return HostOf::Unknown,
                        (None, h) => found = Some(h),
                        (Some(f), h) if *f != h => return HostOf::Unknown,
                        _ => {}
                    }
                }
                found.unwrap_or(HostOf::Unknown)
            }
            _ => HostOf::Unknown,
        }
    }

    /// Every external HTTP dependency of each package with its calls, by
    /// package and host; found once.
    pub fn dependencies(&self) -> &[DependencyCalls] {
        self.dependencies.get_or_init(|| {
            let mut by_host: HashMap<(String, String), Vec<(CallRef, Dependency)>> = HashMap::new();
            for m in 0..self.modules.len() as u32 {
                let package = &self.module(m).package;
                for up in self.upstream_calls(m) {
                    if let Some(d) = self.dependency(up) {
                        by_host
                            .entry((package.clone(), d.host.clone()))
                            .or_default()
                            .push((up.call, d));
                    }
                }
            }
            let mut out: Vec<DependencyCalls> = by_host
                .into_iter()
                .map(|((package, host), mut calls)| {
                    calls.sort_by(|a, b| {
                        let key = |c: CallRef| {
                            let module = self.module(c.module);
                            (module.path.as_str(), module.call(c.call).span.start_byte)
                        };
                        key(a.0).cmp(&key(b.0))
                    });
                    DependencyCalls {
                        package,
                        host,
                        calls,
                    }
                })
                .collect();
            out.sort_by(|a, b| (&a.package, &a.host).cmp(&(&b.package, &b.host)));
            out
        })
    }

    /// Every breaker instance of the project and the upstream calls each
    /// guards; found once.
    pub fn breakers(&self) -> &Breakers {
        self.breakers.get_or_init(|| self.find_breakers())
    }

    fn find_breakers(&self) -> Breakers {
        let mut by_site: HashMap<(BreakerSite, Option<String>), BreakerUse> = HashMap::new();
        // Only breakers the project can use: a library some file imports, a
        // project class with a breaker's name. The rest would only cost
        // traces of every `.call(..)` and `.execute(..)` receiver.
        let imported: HashSet<&str> = self
            .modules
            .iter()
            .flat_map(|m| m.imports.iter().map(|i| first_segment(&i.path)))
            .collect();
        let live = |b: &Breaker| {
            b.class_suffixes
                .iter()
                .any(|suf| self.class_names.iter().any(|c| c.ends_with(suf.as_str())))
                || b.constructors
                    .iter()
                    .chain(&b.decorators)
                    .any(|c| imported.contains(first_segment(c)))
        };
        for (mi, module) in self.modules.iter().enumerate() {
            let m = mi as u32;
            let all = self.lk(m);
            let breakers: Vec<Breaker> = all.breakers.iter().filter(|b| live(b)).cloned().collect();
            if breakers.is_empty() {
                continue;
            }
            let lk = LiveBreakers { breakers };
            let lk = &lk;
            for (ci, c) in module.calls.iter().enumerate() {
                let cref = CallRef {
                    module: m,
                    call: ci as CallId,
                };
                // `new CircuitBreaker(fn)`: the breaker runs `fn`.
                if let Some(b) = lk
                    .breakers
                    .iter()
                    .find(|b| b.wraps_arg.is_some() && self.is_breaker_ctor(m, c, b))
                {
                    if let Some(v) = c.positional(b.wraps_arg.unwrap_or(0)) {
                        let guarded = self.guarded_by_value(m, c.func, v, Some(cref));
                        let site = (BreakerSite::Call(cref), None);
                        push_use(&mut by_site, site, self, b, guarded);
                    }
                }
                let Some(meth) = c.method.as_deref() else {
                    continue;
                };
                let Some(recv) = &c.receiver else { continue };
                for b in &lk.breakers {
                    let guard_arg = b.guard_methods.get(meth).copied();
                    let context = b.context_methods.iter().any(|x| x == meth);
                    if guard_arg.is_none() && !context {
                        continue;
                    }
                    let Some(inst) = self.breaker_instance(m, c.func, recv, c.span.start_byte, b)
                    else {
                        continue;
                    };
                    let name = if b.named { first_str(c) } else { None };
                    let guarded = if let Some(i) = guard_arg {
                        match c.positional(i) {
                            Some(v) => self.guarded_by_value(m, c.func, v, Some(cref)),
                            None => Vec::new(),
                        }
                    } else {
                        self.guarded_by_with(m, ci as CallId)
                    };
                    push_use(&mut by_site, (inst, name.clone()), self, b, guarded);
                    if let Some(u) = by_site.get_mut(&(inst, name)) {
                        u.used_at.push(cref);
                    }
                    break;
                }
            }
            // `with breaker:` and `@breaker` / `@circuit` / `@factory("name")`.
            for (fi, f) in module.functions.iter().enumerate() {
                let fref = FuncRef {
                    module: m,
                    func: fi as FuncId,
                };
                for (di, d) in f.decorators.iter().enumerate() {
                    let (head, name) = match &d.expr {
                        Expr::Call(id) => {
                            let dc = module.call(*id);
                            (&dc.callee, first_str(dc))
                        }
                        e => (e, None),
                    };
                    let path = match &d.expr {
                        Expr::Call(id) => module.call(*id).path.clone(),
                        _ => None,
                    }
                    .or_else(|| head.dotted().and_then(|n| self.import_path(m, &n)));
                    for b in &lk.breakers {
                        if path
                            .as_deref()
                            .is_some_and(|p| any_matches(&b.decorators, p))
                        {
                            let site = BreakerSite::Decorator {
                                module: m,
                                func: fi as FuncId,
                                index: di as u32,
                            };
                            let guarded = self.guarded_in(vec![fref]);
                            let use_site = (site, None);
                            let u = by_site.entry(use_site).or_insert_with(|| BreakerUse {
                                site,
                                module: m,
                                span: d.span,
                                func: f.parent,
                                name: None,
                                library: b.name.clone(),
                                guarded: Vec::new(),
                                used_at: Vec::new(),
                            });
                            u.guarded.extend(guarded);
                            break;
                        }
                        if !b.decorator {
                            continue;
                        }
                        if let Some(inst) =
                            self.breaker_instance(m, f.parent, head, d.span.start_byte, b)
                        {
                            let name = if b.named { name.clone() } else { None };
                            let guarded = self.guarded_in(vec![fref]);
                            push_use(&mut by_site, (inst, name), self, b, guarded);
                            break;
                        }
                    }
                }
            }
            if lk.breakers.iter().any(|b| b.context) {
                self.with_object_guards(m, lk, &mut by_site);
            }
        }
        let mut uses: Vec<BreakerUse> = by_site.into_values().collect();
        for u in &mut uses {
            u.guarded.sort();
            u.guarded.dedup();
            u.used_at.sort();
            u.used_at.dedup();
        }
        uses.sort_by(|a, b| {
            (
                self.module(a.module).path.as_str(),
                a.span.start_byte,
                &a.name,
            )
                .cmp(&(
                    self.module(b.module).path.as_str(),
                    b.span.start_byte,
                    &b.name,
                ))
        });
        let guarded = uses
            .iter()
            .flat_map(|u| u.guarded.iter().copied())
            .collect();
        Breakers { uses, guarded }
    }

    /// `with breaker:` / `async with breaker:` on an instance.
    fn with_object_guards(
        &self,
        m: u32,
        lk: &LiveBreakers,
        by_site: &mut HashMap<(BreakerSite, Option<String>), BreakerUse>,
    ) {
        let module = self.module(m);
        // One `with` is seen from every call in its body: judge it once.
        let mut seen: Vec<(Option<FuncId>, Vec<Ctx>)> = Vec::new();
        let mut scan = |func: Option<FuncId>, ctx: &[Ctx], pos: u32| {
            for (depth, cx) in ctx.iter().enumerate() {
                let Ctx::With { objects, .. } = cx else {
                    continue;
                };
                if objects.is_empty() {
                    continue;
                }
                let key = (func, ctx[..=depth].to_vec());
                if seen.contains(&key) {
                    continue;
                }
                seen.push(key);
                for dotted in objects {
                    let mut parts = dotted.split('.');
                    let root = Expr::Name(parts.next().unwrap_or_default().to_string());
                    let obj = &parts.fold(root, |o, f| Expr::Attr(Box::new(o), f.to_string()));
                    for b in lk.breakers.iter().filter(|b| b.context) {
                        let Some(inst) = self.breaker_instance(m, func, obj, pos, b) else {
                            continue;
                        };
                        let guarded = self.guarded_under_ctx(m, func, &ctx[..=depth]);
                        push_use(by_site, (inst, None), self, b, guarded);
                        break;
                    }
                }
            }
        };
        for c in &module.calls {
            scan(c.func, &c.ctx, c.span.start_byte);
        }
    }

    /// Upstream calls in `func` (and what they reach) whose contexts start
    /// with `prefix`: the body of one `with`.
    fn guarded_under_ctx(&self, m: u32, func: Option<FuncId>, prefix: &[Ctx]) -> Vec<CallRef> {
        let module = self.module(m);
        let mut roots = Vec::new();
        let mut direct = Vec::new();
        for &ci in module.calls_in(func) {
            let c = module.call(ci);
            if c.ctx.starts_with(prefix) {
                direct.push(CallRef {
                    module: m,
                    call: ci,
                });
            }
        }
        for (fi, f) in module.functions.iter().enumerate() {
            if f.parent == func && func.is_some() && f.ctx.starts_with(prefix) {
                roots.push(FuncRef {
                    module: m,
                    func: fi as FuncId,
                });
            }
        }
        self.guarded_from(direct, roots)
    }

    /// The body of the `with` whose item is call `item`
    /// (`with breaker.calling():`).
    fn guarded_by_with(&self, m: u32, item: CallId) -> Vec<CallRef> {
        let module = self.module(m);
        let func = module.call(item).func;
        let holds = |x: &Ctx| matches!(x, Ctx::With { items, .. } if items.contains(&item));
        let inner_fns = module
            .functions
            .iter()
            .filter(|f| f.parent == func)
            .map(|f| &f.ctx);
        let prefix = module
            .calls_in(func)
            .iter()
            .map(|&ci| &module.call(ci).ctx)
            .chain(inner_fns)
            .find_map(|ctx| ctx.iter().position(holds).map(|i| ctx[..=i].to_vec()));
        match prefix {
            Some(p) => self.guarded_under_ctx(m, func, &p),
            None => Vec::new(),
        }
    }

    /// The upstream calls a value handed to a breaker runs: a lambda's or a
    /// named function's, or a call made right in the argument
    /// (`breaker.call(client.get(url))`).
    fn guarded_by_value(
        &self,
        m: u32,
        func: Option<FuncId>,
        v: &Expr,
        arg_of: Option<CallRef>,
    ) -> Vec<CallRef> {
        let module = self.module(m);
        let mut roots = Vec::new();
        let mut direct = Vec::new();
        match v {
            Expr::Func(f) => roots.push(FuncRef {
                module: m,
                func: *f,
            }),
            Expr::Call(_) => {
                if let Some(g) = arg_of {
                    for &ci in module.calls_in(func) {
                        let c = module.call(ci);
                        if c.ctx
                            .iter()
                            .any(|x| matches!(x, Ctx::Arg { call, .. } if *call == g.call))
                        {
                            direct.push(CallRef {
                                module: m,
                                call: ci,
                            });
                        }
                    }
                }
            }
            e => {
                if let Some(f) = self.function_value(m, func, e) {
                    roots.push(f);
                } else if let Expr::Name(n) = e {
                    // `const run = () => fetch(..)`, then `breaker.execute(run)`.
                    for b in module.bindings_of(func, n) {
                        if let Expr::Func(f) = b.value {
                            roots.push(FuncRef { module: m, func: f });
                        }
                    }
                }
            }
        }
        self.guarded_from(direct, roots)
    }

    fn guarded_in(&self, roots: Vec<FuncRef>) -> Vec<CallRef> {
        self.guarded_from(Vec::new(), roots)
    }

    /// The upstream calls among `direct` and those made in `roots`, in the
    /// functions nested in them and in the project functions they call (a
    /// few levels deep).
    fn guarded_from(&self, direct: Vec<CallRef>, roots: Vec<FuncRef>) -> Vec<CallRef> {
        let mut out = Vec::new();
        let mut frontier: Vec<FuncRef> = Vec::new();
        let mut seen: HashSet<FuncRef> = HashSet::new();
        let visit_call = |c: CallRef, frontier: &mut Vec<FuncRef>, out: &mut Vec<CallRef>| {
            if self.upstream(c).is_some() {
                out.push(c);
            }
            if let Some(t) = self.target(c) {
                frontier.push(t);
            }
        };
        for c in direct {
            visit_call(c, &mut frontier, &mut out);
        }
        frontier.extend(roots);
        for _ in 0..=GUARD_DEPTH {
            let now = std::mem::take(&mut frontier);
            if now.is_empty() {
                break;
            }
            for f in now {
                if !seen.insert(f) {
                    continue;
                }
                let module = self.module(f.module);
                for &ci in module.calls_in(Some(f.func)) {
                    visit_call(
                        CallRef {
                            module: f.module,
                            call: ci,
                        },
                        &mut frontier,
                        &mut out,
                    );
                }
                for &child in &module.func_children[f.func as usize] {
                    frontier.push(FuncRef {
                        module: f.module,
                        func: child,
                    });
                }
            }
        }
        out
    }

    /// The breaker instance value `e` holds, for breaker entry `b`.
    fn breaker_instance(
        &self,
        m: u32,
        func: Option<FuncId>,
        e: &Expr,
        pos: u32,
        b: &Breaker,
    ) -> Option<BreakerSite> {
        let mut found = None;
        for o in self.trace(m, func, e, pos) {
            let Origin::Call(c) = o else { return None };
            let site = self.breaker_built_by(c, b, 0)?;
            match found {
                Some(f) if f != site => return None,
                _ => found = Some(site),
            }
        }
        found
    }

    /// The breaker construction call `c` is, or is built by (through
    /// builder methods: `Config::new().build()`, and combinators: `wrap(..)`).
    fn breaker_built_by(&self, c: CallRef, b: &Breaker, depth: u8) -> Option<BreakerSite> {
        if depth > 4 {
            return None;
        }
        let module = self.module(c.module);
        let call = module.call(c.call);
        if self.is_breaker_ctor(c.module, call, b) {
            return Some(BreakerSite::Call(c));
        }
        let path = call.path.as_deref().unwrap_or("");
        if !b.combinators.is_empty() && any_matches(&b.combinators, path) {
            // The one breaker among the arguments.
            let mut found = None;
            for a in &call.args {
                for o in self.trace(c.module, call.func, &a.value, call.span.start_byte) {
                    if let Origin::Call(ac) = o {
                        if let Some(s) = self.breaker_built_by(ac, b, depth + 1) {
                            found = found.or(Some(s));
                        }
                    }
                }
            }
            return found;
        }
        // A builder step on a breaker under construction.
        if let (Some(_), Some(Expr::Call(inner))) = (&call.method, &call.receiver) {
            return self.breaker_built_by(
                CallRef {
                    module: c.module,
                    call: *inner,
                },
                b,
                depth + 1,
            );
        }
        None
    }

    fn is_breaker_ctor(&self, m: u32, c: &crate::facts::Call, b: &Breaker) -> bool {
        if let Some(p) = c.path.as_deref() {
            if any_matches(&b.constructors, p) {
                return true;
            }
        }
        if b.class_suffixes.is_empty() {
            return false;
        }
        // `Breaker()`, `new Breaker()`, `Breaker::new()`: a project class.
        let name = match (&c.callee, c.path.as_deref()) {
            (_, Some(p)) if p.contains("::") => {
                let mut segs = p.rsplit("::");
                let last = segs.next().unwrap_or("");
                if last.chars().next().is_some_and(|ch| ch.is_uppercase()) {
                    last
                } else {
                    segs.next().unwrap_or("")
                }
            }
            (Expr::Name(n), _) => n.as_str(),
            (_, Some(p)) => last_segment(p),
            _ => return false,
        };
        b.class_suffixes.iter().any(|s| name.ends_with(s.as_str()))
            && self.class_names.contains(name)
            && (self.class_at(m, name).is_some() || c.path.is_some())
    }

    /// The full import path of a dotted name (`circuit` → `circuitbreaker.circuit`).
    fn import_path(&self, m: u32, dotted: &str) -> Option<String> {
        let module = self.module(m);
        let (head, rest) = match dotted.split_once('.') {
            Some((h, r)) => (h, Some(r)),
            None => (dotted, None),
        };
        let imp = module.import(head)?;
        Some(match rest {
            Some(r) => format!("{}.{r}", imp.path),
            None => imp.path.clone(),
        })
    }
}

fn push_use(
    by_site: &mut HashMap<(BreakerSite, Option<String>), BreakerUse>,
    key: (BreakerSite, Option<String>),
    p: &Project,
    b: &Breaker,
    guarded: Vec<CallRef>,
) {
    let site = key.0;
    let name = key.1.clone();
    let u = by_site.entry(key).or_insert_with(|| {
        let (module, span, func) = match site {
            BreakerSite::Call(c) => {
                let call = p.module(c.module).call(c.call);
                (c.module, call.span, call.func)
            }
            BreakerSite::Decorator {
                module,
                func,
                index,
            } => {
                let f = p.module(module).func(func);
                (module, f.decorators[index as usize].span, f.parent)
            }
        };
        BreakerUse {
            site,
            module,
            span,
            func,
            name,
            library: b.name.clone(),
            guarded: Vec::new(),
            used_at: Vec::new(),
        }
    });
    u.guarded.extend(guarded);
}

/// The first string-literal argument of a call (a named breaker's name).
fn first_str(c: &crate::facts::Call) -> Option<String> {
    match c.positional(0) {
        Some(Expr::Str(s)) => Some(s.clone()),
        _ => None,
    }
}

/// The host of a URL written as text. `complete` says the text is the
/// whole URL, so a host running to its end is the host (a template's
/// leading literal may stop mid-host: `https://{region}.api.com`).
fn host_in_text(s: &str, complete: bool) -> HostOf {
    let t = s.trim();
    let Some((scheme, rest)) = t.split_once("://") else {
        // `/users`, or a whole path with no scheme (`users/1`).
        let relative = t.starts_with('/') || complete && !t.is_empty() && !t.contains(':');
        return if relative {
            HostOf::Relative
        } else {
            HostOf::Unknown
        };
    };
    if !matches!(
        scheme.to_ascii_lowercase().as_str(),
        "http" | "https" | "ws" | "wss"
    ) {
        return HostOf::Unknown;
    }
    // Userinfo, then the host up to a port, path, query or fragment.
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    if end == rest.len() && !complete {
        return HostOf::Unknown;
    }
    let authority = authority.rsplit('@').next().unwrap_or(authority);
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next().unwrap_or("")
    } else {
        authority.split(':').next().unwrap_or("")
    };
    if host.is_empty()
        || !host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':'))
    {
        return HostOf::Unknown;
    }
    HostOf::Host(host.to_ascii_lowercase())
}

/// The local machine: not an external dependency.
fn is_local(host: &str) -> bool {
    matches!(host, "localhost" | "127.0.0.1" | "::1" | "0.0.0.0")
        || host.ends_with(".localhost")
        || host.starts_with("127.")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_read_from_url_text() {
        let h = |s: &str, c: bool| host_in_text(s, c);
        assert_eq!(
            h("https://api.github.com/repos", true),
            HostOf::Host("api.github.com".into())
        );
        assert_eq!(
            h("https://API.example.com:8443", true),
            HostOf::Host("api.example.com".into())
        );
        assert_eq!(h("https://", false), HostOf::Unknown);
        assert_eq!(h("https://api.", false), HostOf::Unknown);
        assert_eq!(
            h("https://api.x.com/", false),
            HostOf::Host("api.x.com".into())
        );
        assert_eq!(h("/v1/users", false), HostOf::Relative);
        assert_eq!(h("http://[::1]:8080/x", true), HostOf::Host("::1".into()));
        assert!(is_local("::1") && is_local("localhost") && is_local("127.0.0.1"));
        assert!(!is_local("api.github.com"));
    }
}
