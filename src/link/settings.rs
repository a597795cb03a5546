//! Settings: is a setting (a timeout, a pool size) given for a call, where,
//! and with what value? On the call, its options object or request builder;
//! on the client, session or pool that makes it; or process-wide. Where to
//! look is the client's [`SettingForm`] in the knowledge; which names to look
//! for are the rule's [`SettingKeys`]. Link locates values; rules judge them.

use super::*;
use crate::knowledge::{Client, GlobalSetter, SettingForm, SettingKeys};

/// Where a setting was given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    /// A keyword or positional argument of the call (`timeout=5`).
    Call,
    /// A key of the call's options object (`fetch(url, { signal })`), or of
    /// the `init` of the `Request` it sends.
    Options,
    /// A method chained on the request or on the call's result
    /// (`.timeout(d)`, `.maxTimeMS(ms)`).
    Builder,
    /// Where the client was built: a constructor keyword or options key, a
    /// builder method, a derive step (`client.with_options(timeout=5)`).
    Client,
    /// Text in the client's DSN or settings strings, or a statement run on
    /// it (`SET statement_timeout = ..`). No value is read out of the text.
    Text,
    /// Assigned after the client or library object was built
    /// (`api.defaults.timeout = 5000`).
    Assigned,
    /// A process-wide setter (`socket.setdefaulttimeout(..)`,
    /// `setGlobalDispatcher(..)`).
    Global,
}

/// A setting found: where, and the value expressions that give it.
#[derive(Clone, Debug)]
pub struct Setting {
    pub place: Place,
    /// The module, function and span of the call or assignment that gives it.
    pub module: u32,
    pub func: Option<FuncId>,
    pub span: Span,
    /// The values, each where it is written. Several when an options
    /// object gives more than one of the keys (`timeout: false, totalTimeout: ms`);
    /// none when the setting is there without a value to read (a method
    /// called with no argument, text in a DSN).
    pub values: Vec<Value>,
}

/// One value a setting is given.
#[derive(Clone, Debug)]
pub struct Value {
    pub module: u32,
    pub func: Option<FuncId>,
    /// The key, keyword or method it is given by.
    pub key: String,
    pub expr: Expr,
}

/// What link can say about a setting in one place.
#[derive(Clone, Debug)]
pub enum Found {
    Set(Setting),
    /// Not given there, and nothing there hides it.
    Absent,
    /// Something we cannot see may give it: `**kwargs`, `...spread`, options
    /// from elsewhere, a method that hides the client's settings.
    Hidden,
}

/// A call of a process-wide setter that applies to a client.
#[derive(Clone, Debug)]
pub struct SetterCall<'k> {
    pub setter: &'k GlobalSetter,
    pub at: CallRef,
    /// For a setter that `requires` settings in the value it is given: what
    /// each place that value may be built gives for them, in order. `Set`
    /// holds every required key's value; `Absent` a value that leaves one
    /// out (or is no value of the required kind); `Hidden` one we cannot
    /// read. Empty for a setter that requires nothing.
    pub given: Vec<Found>,
}

/// Settings that hold for every call of a library.
#[derive(Clone, Debug, Default)]
pub struct ProcessSettings<'k> {
    pub setters: Vec<SetterCall<'k>>,
    /// For a library function, assignments to the library object
    /// (`axios.defaults.timeout = ..`) in the call's module.
    pub assigned: Vec<Setting>,
}

fn value(m: u32, func: Option<FuncId>, key: &str, expr: &Expr) -> Value {
    Value {
        module: m,
        func,
        key: key.to_string(),
        expr: expr.clone(),
    }
}

/// The index of the options argument of `call`, a call of `client`
/// (`options_arg`, or the method's own in `options_arg_by_method`).
pub fn options_index(client: &Client, call: &crate::facts::Call) -> Option<usize> {
    let method = call
        .method
        .clone()
        .or_else(|| call.path.as_deref().map(|p| last_segment(p).to_string()));
    method
        .as_deref()
        .and_then(|m| client.options_arg_by_method.get(m).copied())
        .or(client.options_arg)
}

impl<'k> Project<'k> {
    /// The setting named by `keys` on the upstream call itself: an argument,
    /// its options object, or a method chained on it.
    pub fn call_setting(&self, up: &Upstream, keys: &SettingKeys) -> Found {
        let c = up.call;
        let client = up.client;
        let module = self.module(c.module);
        let call = module.call(c.call);
        if call.has_spread_arg() {
            return Found::Hidden;
        }
        let at = |place, span, values| {
            Found::Set(Setting {
                place,
                module: c.module,
                func: call.func,
                span,
                values,
            })
        };
        // `collection.find(q).maxTimeMS(5000)`
        if let Some(found) = self.chained_setting(c, keys.chained) {
            return found;
        }
        match client.form() {
            SettingForm::Keyword => {
                let kw = keys
                    .call
                    .iter()
                    .find_map(|k| call.kwarg(k).map(|v| (k.as_str(), v)));
                let pos = || {
                    let i = keys.call_positional?;
                    call.positional(i).map(|v| (i.to_string(), v))
                };
                match kw.map(|(k, v)| (k.to_string(), v)).or_else(pos) {
                    Some((k, v)) => at(
                        Place::Call,
                        call.span,
                        vec![value(c.module, call.func, &k, v)],
                    ),
                    None => Found::Absent,
                }
            }
            SettingForm::Options => {
                let idx = options_index(client, call);
                let mut candidates: Vec<(&Expr, bool)> = Vec::new();
                if let Some(a) = idx.and_then(|i| call.positional(i)) {
                    candidates.push((a, true));
                }
                if idx != Some(0) {
                    if let Some(a) = call.positional(0) {
                        candidates.push((a, false));
                        // `fetch(new Request(url, init))`: the request carries the init.
                        for o in self.trace(c.module, call.func, a, call.span.start_byte) {
                            if let Origin::Call(r) = o {
                                let rc = self.module(r.module).call(r.call);
                                if rc.is_new && rc.path.as_deref() == Some("Request") {
                                    if let Some(init) = rc.positional(1) {
                                        candidates.push((init, true));
                                    }
                                }
                            }
                        }
                    }
                }
                self.options_setting(c, &candidates, keys.call, Place::Options)
            }
            SettingForm::Builder => {
                // `client.execute(req)`: the request carries its own
                // setting, given where it was built; one we cannot follow
                // is hidden.
                if !client.deferred.is_empty() && call.method.as_deref() == Some("execute") {
                    return self.built_request_setting(c, client, keys);
                }
                self.chained_setting(c, keys.call).unwrap_or(Found::Absent)
            }
        }
    }

    /// A method among `names` chained on the result of call `c`: the first.
    fn chained_setting(&self, c: CallRef, names: &[String]) -> Option<Found> {
        if names.is_empty() {
            return None;
        }
        let module = self.module(c.module);
        chained_after(module, c.call).into_iter().find_map(|s| {
            let sc = module.call(s);
            let meth = sc.method.as_deref()?;
            names.iter().any(|n| n == meth).then(|| {
                Found::Set(Setting {
                    place: Place::Builder,
                    module: c.module,
                    func: sc.func,
                    span: sc.span,
                    values: sc
                        .positional(0)
                        .map(|v| value(c.module, sc.func, meth, v))
                        .into_iter()
                        .collect(),
                })
            })
        })
    }

    /// `client.execute(req)`: the setting on the request builder `req` was
    /// built by (`client.post(u).timeout(d).build()`).
    fn built_request_setting(&self, c: CallRef, client: &Client, keys: &SettingKeys) -> Found {
        let call = self.module(c.module).call(c.call);
        let Some(req) = call.positional(0) else {
            return Found::Hidden;
        };
        let mut seen_build = false;
        for o in self.trace(c.module, call.func, req, call.span.start_byte) {
            let Origin::Call(r) = o else {
                return Found::Hidden;
            };
            let mut cur = Some(r);
            while let Some(cr) = cur {
                let rc = self.module(cr.module).call(cr.call);
                let m = rc.method.as_deref().unwrap_or("");
                seen_build |= client.deferred.iter().any(|d| d == m);
                if keys.call.iter().any(|t| t == m) {
                    return Found::Set(Setting {
                        place: Place::Builder,
                        module: cr.module,
                        func: rc.func,
                        span: rc.span,
                        values: rc
                            .positional(0)
                            .map(|v| value(cr.module, rc.func, m, v))
                            .into_iter()
                            .collect(),
                    });
                }
                cur = match &rc.receiver {
                    Some(Expr::Call(id)) => Some(CallRef {
                        module: cr.module,
                        call: *id,
                    }),
                    _ => None,
                };
            }
        }
        if seen_build {
            Found::Absent
        } else {
            Found::Hidden
        }
    }

    /// Looks for `keys` in the options objects among `candidates`, passed
    /// to call `c`. A candidate marked `true` is the declared options
    /// argument and must be seen through; others only count when they turn
    /// out to be object literals. The first object that gives a key wins,
    /// with every key it gives.
    fn options_setting(
        &self,
        c: CallRef,
        candidates: &[(&Expr, bool)],
        keys: &[String],
        place: Place,
    ) -> Found {
        let call = self.module(c.module).call(c.call);
        for &(cand, declared) in candidates {
            for o in self.trace(c.module, call.func, cand, call.span.start_byte) {
                match o {
                    Origin::Lit(om, of, Expr::Object(obj)) => {
                        let values: Vec<Value> = obj
                            .entries
                            .iter()
                            .filter(|(k, _)| keys.contains(k))
                            .map(|(k, v)| value(om, of, k, v))
                            .collect();
                        if !values.is_empty() {
                            return Found::Set(Setting {
                                place,
                                module: c.module,
                                func: call.func,
                                span: call.span,
                                values,
                            });
                        }
                        if obj.spread {
                            return Found::Hidden;
                        }
                    }
                    Origin::Lit(..) => {}
                    Origin::Call(_) | Origin::Unknown if declared => return Found::Hidden,
                    _ => {}
                }
            }
        }
        Found::Absent
    }

    /// The setting named by `keys` where client `o` (an origin of `client`)
    /// was built: its constructor, builder or derive steps, text in its DSN
    /// or run on it, or an assignment to it.
    pub fn client_setting(&self, client: &Client, o: &ClientOrigin, keys: &SettingKeys) -> Found {
        let cm = self.module(o.ctor.module);
        let ctor = cm.call(o.ctor.call);
        if ctor.has_spread_arg() {
            return Found::Hidden;
        }
        if let Some(s) = self.text_setting(client, o, keys.text) {
            return Found::Set(s);
        }
        // Settings hidden by a method we cannot see through.
        if self.opaque_use(o, client) {
            return Found::Hidden;
        }
        let at = |c: CallRef, v: Option<(&str, &Expr)>| {
            let call = self.module(c.module).call(c.call);
            Found::Set(Setting {
                place: Place::Client,
                module: c.module,
                func: call.func,
                span: call.span,
                values: v
                    .map(|(k, e)| value(c.module, call.func, k, e))
                    .into_iter()
                    .collect(),
            })
        };
        fn kwarg<'a>(c: &'a crate::facts::Call, keys: &'a [String]) -> Option<(&'a str, &'a Expr)> {
            keys.iter()
                .find_map(|k| c.kwarg(k).map(|v| (k.as_str(), v)))
        }
        match client.form() {
            SettingForm::Keyword => {
                // `client.with_options(timeout=5).chat.completions.create(..)`
                for s in &o.chain {
                    if let Some(v) = kwarg(self.module(s.module).call(s.call), keys.client) {
                        return at(*s, Some(v));
                    }
                }
                if let Some(v) = kwarg(ctor, keys.client) {
                    return at(o.ctor, Some(v));
                }
            }
            SettingForm::Options if !keys.client.is_empty() => {
                let cands = self.ctor_options(o.ctor, client);
                match self.options_setting(o.ctor, &cands, keys.client, Place::Client) {
                    Found::Absent => {}
                    found => return found,
                }
            }
            SettingForm::Options => {}
            SettingForm::Builder => {
                for s in &o.chain {
                    let sc = self.module(s.module).call(s.call);
                    if let Some(m) = sc
                        .method
                        .as_deref()
                        .filter(|m| keys.client.iter().any(|t| t == m))
                    {
                        return at(*s, sc.positional(0).map(|v| (m, v)));
                    }
                }
            }
        }
        match self.assigned_on_client(o, keys.assigned) {
            Some(s) => Found::Set(s),
            None => Found::Absent,
        }
    }

    /// Settings text (`statement_timeout`) in a DSN or options string of the
    /// constructor or a builder step, in a settings key
    /// (`server_settings={"statement_timeout": ..}`), or in a statement run
    /// on the same connection or pool (`SET statement_timeout`).
    fn text_setting(&self, client: &Client, o: &ClientOrigin, texts: &[String]) -> Option<Setting> {
        if texts.is_empty() {
            return None;
        }
        let found = |c: CallRef| {
            let call = self.module(c.module).call(c.call);
            Setting {
                place: Place::Text,
                module: c.module,
                func: call.func,
                span: call.span,
                values: Vec::new(),
            }
        };
        let cm = self.module(o.ctor.module);
        if self.mentions_text(o.ctor.module, &cm.call(o.ctor.call).args, texts) {
            return Some(found(o.ctor));
        }
        if let Some(s) = o
            .chain
            .iter()
            .find(|s| self.mentions_text(s.module, &self.module(s.module).call(s.call).args, texts))
        {
            return Some(found(*s));
        }
        let m = o.ctor.module;
        (0..cm.calls.len() as CallId)
            .map(|call| CallRef { module: m, call })
            .find(|&cref| {
                let c = cm.call(cref.call);
                if !c.method.as_deref().is_some_and(|mm| client.has_method(mm)) {
                    return false;
                }
                if self.mentions_text(m, &c.args, texts)
                    && self
                        .client_origins(cref)
                        .is_some_and(|os| os.iter().any(|x| x.ctor == o.ctor))
                {
                    return true;
                }
                // `sqlx::query("SET statement_timeout = ..").execute(&pool)`
                self.statement_args(cref)
                    .is_some_and(|a| self.mentions_text(m, a, texts))
                    && self
                        .upstream_at(cref)
                        .is_some_and(|up| up.origins().iter().any(|x| x.ctor == o.ctor))
            })
            .map(found)
    }

    /// Settings text (`statement_timeout`) in the strings or object keys of
    /// these arguments, or in what a closure among them runs
    /// (`after_connect(|conn| .. conn.execute("SET statement_timeout = ..") ..)`).
    pub(super) fn mentions_text(
        &self,
        m: u32,
        args: &[crate::facts::Arg],
        texts: &[String],
    ) -> bool {
        let module = self.module(m);
        let mut hit = false;
        let mut funcs: Vec<FuncId> = Vec::new();
        for a in args {
            a.value.walk(&mut |e| match e {
                Expr::Str(s) => hit |= texts.iter().any(|t| s.contains(t.as_str())),
                Expr::Template(parts) => {
                    hit |= parts.iter().any(|part| {
                        matches!(part, TemplatePart::Lit(s)
                            if texts.iter().any(|t| s.contains(t.as_str())))
                    })
                }
                Expr::Object(o) => {
                    hit |= o
                        .entries
                        .iter()
                        .any(|(k, _)| texts.iter().any(|t| k.contains(t.as_str())))
                }
                Expr::Func(f) => funcs.push(*f),
                _ => {}
            });
        }
        hit || funcs.iter().any(|f| {
            module.calls.iter().any(|c| {
                module.func_chain(c.func).any(|x| x == *f)
                    && c.args.iter().any(|a| {
                        let mut h = false;
                        a.value.walk(&mut |e| {
                            if let Expr::Str(s) = e {
                                h |= texts.iter().any(|t| s.contains(t.as_str()));
                            }
                        });
                        h
                    })
            })
        })
    }

    /// The arguments of the statement an executed-statement call runs
    /// (`sqlx::query("SET statement_timeout = 5000")` for its `.execute(&pool)`).
    fn statement_args(&self, c: CallRef) -> Option<&[crate::facts::Arg]> {
        let module = self.module(c.module);
        let mut cur = module.call(c.call).receiver.as_ref()?;
        for _ in 0..64 {
            let Expr::Call(id) = cur else { return None };
            let rc = module.call(*id);
            if rc.path.is_some() {
                return Some(&rc.args);
            }
            cur = rc.receiver.as_ref()?;
        }
        None
    }

    /// Does what the client is bound to also have an `opaque_methods` call
    /// (`session.mount(..)`)?
    fn opaque_use(&self, o: &ClientOrigin, client: &Client) -> bool {
        if client.opaque_methods.is_empty() {
            return false;
        }
        let m = o.ctor.module;
        let module = self.module(m);
        module.calls.iter().enumerate().any(|(i, c)| {
            c.method
                .as_deref()
                .is_some_and(|mm| client.opaque_methods.iter().any(|x| x == mm))
                && self
                    .client_origins(CallRef {
                        module: m,
                        call: i as CallId,
                    })
                    .is_some_and(|os| os.iter().any(|x| x.ctor == o.ctor))
        })
    }

    /// `api.defaults.timeout = 5000` on a client bound to a name.
    fn assigned_on_client(&self, o: &ClientOrigin, assigned: &[String]) -> Option<Setting> {
        if assigned.is_empty() {
            return None;
        }
        let m = o.ctor.module;
        let module = self.module(m);
        module
            .bindings
            .iter()
            .find(|b| {
                let Some((root, rest)) = b.name.split_once('.') else {
                    return false;
                };
                assigned.iter().any(|a| a == rest)
                    && module.bindings.iter().any(|x| {
                        x.name == root && matches!(x.value, Expr::Call(id) if id == o.ctor.call)
                    })
            })
            .map(|b| assignment(m, b))
    }

    /// The constructor's options argument, as a candidate for
    /// [`Project::options_setting`]: at `client_options_arg` (default 0), or
    /// the last argument for a client that takes it there. A URL, host or
    /// port there is no options object.
    fn ctor_options(&self, at: CallRef, client: &Client) -> Vec<(&Expr, bool)> {
        let ctor = self.module(at.module).call(at.call);
        let arg = if client.client_options_last {
            let n = (0..).take_while(|&i| ctor.positional(i).is_some()).count();
            n.checked_sub(1).and_then(|i| ctor.positional(i))
        } else {
            ctor.positional(client.client_options_arg.unwrap_or(0))
        };
        match arg {
            Some(a) if !self.is_string(at.module, ctor.func, a, ctor.span.start_byte, 3) => {
                vec![(a, true)]
            }
            _ => Vec::new(),
        }
    }

    /// Is `e` a string or number for sure: a literal, an environment read
    /// (`process.env.REDIS_URL`, the pack's `string_sources`), or a name
    /// bound only to such values?
    pub fn is_string(&self, m: u32, func: Option<FuncId>, e: &Expr, pos: u32, depth: u8) -> bool {
        let module = self.module(m);
        let lk = self.lk(m);
        match e {
            Expr::Str(_) | Expr::Template(_) | Expr::Num(_) => true,
            Expr::Binary { lhs, rhs, .. } => {
                self.is_string(m, func, lhs, pos, depth) || self.is_string(m, func, rhs, pos, depth)
            }
            Expr::Call(id) => module
                .call(*id)
                .path
                .as_deref()
                .is_some_and(|path| any_matches(&lk.string_sources, path)),
            Expr::Attr(..) | Expr::Index(..)
                if e.dotted()
                    .is_some_and(|d| any_matches(&lk.string_sources, &d)) =>
            {
                true
            }
            Expr::Name(n) if depth > 0 && !module.is_param(func, n) => {
                let bs = module.bindings_at(func, n, pos);
                !bs.is_empty()
                    && bs
                        .iter()
                        .all(|b| self.is_string(m, b.func, &b.value, b.span.start_byte, depth - 1))
            }
            _ => false,
        }
    }

    /// Settings that hold for every call of the upstream's library: calls of
    /// the process-wide setters in `keys` that name its client, in its
    /// module (or anywhere in the project, for a setter that says so), and
    /// for a library function, `keys.assigned` on the library object
    /// (`axios.defaults.timeout = ..`).
    pub fn process_settings(&self, up: &Upstream, keys: &SettingKeys<'k>) -> ProcessSettings<'k> {
        let m = up.call.module;
        let module = self.module(m);
        let mut out = ProcessSettings::default();
        for g in keys.setters {
            if !g.bounds.contains(&up.client.name) {
                continue;
            }
            // Process-wide: within the package (one server's process), not
            // across the servers of a monorepo.
            let scope: Vec<u32> = if g.project_wide {
                (0..self.modules.len() as u32)
                    .filter(|&o| {
                        self.module(o).lang().pack() == module.lang().pack()
                            && self.module(o).package == module.package
                    })
                    .collect()
            } else {
                vec![m]
            };
            for sm in scope {
                for (i, c) in self.module(sm).calls.iter().enumerate() {
                    if !c.path.as_deref().is_some_and(|p| any_matches(&g.callee, p)) {
                        continue;
                    }
                    let at = CallRef {
                        module: sm,
                        call: i as CallId,
                    };
                    out.setters.push(SetterCall {
                        setter: g,
                        at,
                        given: self.setter_given(at, g),
                    });
                }
            }
        }
        if !up.is_method() {
            let call = module.call(up.call.call);
            if let Some(root) = call.callee.root_name() {
                for a in keys.assigned {
                    let name = format!("{root}.{a}");
                    out.assigned.extend(
                        module
                            .bindings
                            .iter()
                            .filter(|b| b.name == name)
                            .map(|b| assignment(m, b)),
                    );
                }
            }
        }
        out
    }

    /// What the value handed to a setter (`new Agent({ headersTimeout,
    /// bodyTimeout })`) gives for the keys it `requires`; see
    /// [`SetterCall::given`].
    fn setter_given(&self, s: CallRef, g: &GlobalSetter) -> Vec<Found> {
        let Some(r) = &g.requires else {
            return Vec::new();
        };
        let sc = self.module(s.module).call(s.call);
        let Some(arg) = sc.positional(r.arg) else {
            return vec![Found::Absent];
        };
        let mut out = Vec::new();
        for o in self.trace(s.module, sc.func, arg, sc.span.start_byte) {
            let Origin::Call(d) = o else {
                out.push(Found::Hidden);
                continue;
            };
            let dc = self.module(d.module).call(d.call);
            if !dc
                .path
                .as_deref()
                .is_some_and(|path| any_matches(&r.constructors, path))
            {
                out.push(Found::Absent);
                continue;
            }
            if dc.has_spread_arg() {
                out.push(Found::Hidden);
                continue;
            }
            let Some(opts) = dc.positional(0) else {
                out.push(Found::Absent);
                continue;
            };
            // `new ProxyAgent(process.env.HTTPS_PROXY)`: a URL sets nothing.
            if self.is_string(d.module, dc.func, opts, dc.span.start_byte, 3) {
                out.push(Found::Absent);
                continue;
            }
            for oo in self.trace(d.module, dc.func, opts, dc.span.start_byte) {
                let Origin::Lit(om, of, Expr::Object(obj)) = oo else {
                    // A URL string (`new ProxyAgent(url)`) sets nothing;
                    // options we cannot see may.
                    out.push(
                        if matches!(oo, Origin::Lit(_, _, Expr::Str(_) | Expr::Template(_))) {
                            Found::Absent
                        } else {
                            Found::Hidden
                        },
                    );
                    continue;
                };
                if obj.spread {
                    out.push(Found::Hidden);
                    continue;
                }
                let values: Option<Vec<Value>> = r
                    .keys
                    .iter()
                    .map(|k| obj.get(k).map(|v| value(om, of, k, v)))
                    .collect();
                out.push(match values {
                    Some(values) => Found::Set(Setting {
                        place: Place::Global,
                        module: d.module,
                        func: dc.func,
                        span: dc.span,
                        values,
                    }),
                    None => Found::Absent,
                });
            }
        }
        out
    }
}

/// An assignment (`api.defaults.timeout = 5000`) as a setting.
fn assignment(m: u32, b: &crate::facts::Binding) -> Setting {
    Setting {
        place: Place::Assigned,
        module: m,
        func: b.func,
        span: b.span,
        values: vec![value(m, b.func, &b.name, &b.value)],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::knowledge::Knowledge;

    fn project<'k>(kb: &'k Knowledge, lang: Lang, path: &str, src: &str) -> Project<'k> {
        Project::new(vec![crate::lang::lower(lang, path, src).unwrap()], kb)
    }

    /// The upstream call of `method` in module 0.
    fn upstream<'k>(p: &Project<'k>, method: &str) -> Upstream<'k> {
        p.upstream_calls(0)
            .iter()
            .find(|u| p.module(0).call(u.call.call).name() == Some(method))
            .unwrap_or_else(|| panic!("no upstream call of {method}"))
            .clone()
    }

    fn values(found: &Found) -> (Place, Vec<String>) {
        match found {
            Found::Set(s) => (
                s.place,
                s.values.iter().map(|v| v.expr.to_string()).collect(),
            ),
            other => panic!("not set: {other:?}"),
        }
    }

    fn names(n: &[&str]) -> Vec<String> {
        n.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn keyword_settings_on_the_call_and_on_the_pool() {
        let kb = Knowledge::builtin();
        let src = "import asyncpg\n\
                   async def main():\n    pool = await asyncpg.create_pool(DSN, max_size=10, command_timeout=5)\n    \
                   await pool.fetch(q, timeout=None)\n";
        let p = project(&kb, Lang::Python, "db.py", src);
        let up = upstream(&p, "fetch");
        assert_eq!(up.client.name, "asyncpg");
        let keys = up.client.timeout_keys(p.lk(0));
        assert_eq!(
            values(&p.call_setting(&up, &keys)),
            (Place::Call, names(&["null"]))
        );
        let o = &up.origins()[0];
        let on_pool = p.client_setting(up.client, o, &keys);
        assert_eq!(values(&on_pool), (Place::Client, names(&["5"])));
        // Any setting, by its names: the pool size.
        let size = names(&["max_size"]);
        let keys = SettingKeys {
            client: &size,
            ..Default::default()
        };
        assert_eq!(
            values(&p.client_setting(up.client, o, &keys)),
            (Place::Client, names(&["10"]))
        );
        assert!(matches!(p.call_setting(&up, &keys), Found::Absent));
    }

    #[test]
    fn options_objects_in_a_variable_a_spread_and_an_assignment() {
        let kb = Knowledge::builtin();
        let src = "import axios from 'axios';\n\
                   const api = axios.create({ maxRedirects: 3 });\n\
                   api.defaults.timeout = 5000;\n\
                   const opts = { timeout: 0 };\n\
                   export async function a(u, rest) {\n  await api.get(u, opts);\n  await axios.post(u, {}, { ...rest });\n}\n";
        let p = project(&kb, Lang::TypeScript, "api.ts", src);
        let get = upstream(&p, "get");
        let keys = get.client.timeout_keys(p.lk(0));
        assert_eq!(
            values(&p.call_setting(&get, &keys)),
            (Place::Options, names(&["0"]))
        );
        let o = &get.origins()[0];
        let (place, _) = values(&p.client_setting(get.client, o, &keys));
        assert_eq!(place, Place::Assigned);
        let redirects = names(&["maxRedirects"]);
        let keys = SettingKeys {
            client: &redirects,
            ..Default::default()
        };
        assert_eq!(
            values(&p.client_setting(get.client, o, &keys)),
            (Place::Client, names(&["3"]))
        );
        let post = upstream(&p, "post");
        let keys = post.client.timeout_keys(p.lk(0));
        assert!(matches!(p.call_setting(&post, &keys), Found::Hidden));
    }

    #[test]
    fn builder_settings_on_the_request_and_the_client_builder() {
        let kb = Knowledge::builtin();
        let src = "async fn f(u: &str) {\n    \
                   let client = reqwest::Client::builder().pool_max_idle_per_host(4).build().unwrap();\n    \
                   client.get(u).timeout(Duration::from_secs(5)).send().await;\n}\n";
        let p = project(&kb, Lang::Rust, "src/lib.rs", src);
        let up = upstream(&p, "get");
        let keys = up.client.timeout_keys(p.lk(0));
        let (place, vals) = values(&p.call_setting(&up, &keys));
        assert_eq!((place, vals.len()), (Place::Builder, 1));
        let o = &up.origins()[0];
        assert!(matches!(
            p.client_setting(up.client, o, &keys),
            Found::Absent
        ));
        let idle = names(&["pool_max_idle_per_host"]);
        let keys = SettingKeys {
            client: &idle,
            ..Default::default()
        };
        assert_eq!(
            values(&p.client_setting(up.client, o, &keys)),
            (Place::Client, names(&["4"]))
        );
    }
}
