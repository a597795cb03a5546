//! Upstream calls: which calls reach an HTTP service, a database or an SDK's
//! API, through which knowledge entry, and the client objects that make
//! them. What every rule about outbound calls starts from.

use super::*;
use crate::knowledge::{Client, ClientKind};

/// A call that reaches an upstream.
#[derive(Clone, Debug)]
pub struct Upstream<'k> {
    pub call: CallRef,
    /// The library's knowledge entry.
    pub client: &'k Client,
    pub via: Via,
}

/// How a call reaches its upstream.
#[derive(Clone, Debug)]
pub enum Via {
    /// A library function (`requests.get`, `fetch`).
    Function,
    /// A method of client objects built here (every place the receiver may
    /// have been built, all by `client`'s constructors).
    Method(Vec<ClientOrigin>),
}

impl Upstream<'_> {
    pub fn kind(&self) -> ClientKind {
        self.client.kind
    }

    /// Where the client the call is made on was built; empty for a library
    /// function.
    pub fn origins(&self) -> &[ClientOrigin] {
        match &self.via {
            Via::Function => &[],
            Via::Method(o) => o,
        }
    }

    pub fn is_method(&self) -> bool {
        matches!(self.via, Via::Method(_))
    }
}

/// The client a wrapper was built around.
#[derive(Clone, Debug)]
pub enum InnerClient<'k> {
    /// One we cannot follow, or not one client: its settings are hidden.
    Hidden,
    /// This client, built here.
    Client(&'k Client, Vec<ClientOrigin>),
}

impl<'k> Project<'k> {
    /// The upstream call `c` makes, if it makes one. Code handed to a method
    /// that runs it elsewhere (a browser page's `evaluate`) makes none for
    /// the server.
    pub fn upstream(&self, c: CallRef) -> Option<Upstream<'k>> {
        let up = self.upstream_at(c)?;
        let func = self.module(c.module).call(c.call).func;
        (!self.runs_elsewhere(c.module, func)).then_some(up)
    }

    /// Every upstream call of module `m`, in source order; computed once.
    pub fn upstream_calls(&self, m: u32) -> &[Upstream<'k>] {
        self.upstreams[m as usize].get_or_init(|| {
            (0..self.module(m).calls.len() as CallId)
                .filter_map(|call| self.upstream(CallRef { module: m, call }))
                .collect()
        })
    }

    /// [`Project::upstream`], wherever the code runs.
    pub(super) fn upstream_at(&self, c: CallRef) -> Option<Upstream<'k>> {
        let lk = self.lk(c.module);
        let module = self.module(c.module);
        let call = module.call(c.call);
        let function = |client| Upstream {
            call: c,
            client,
            via: Via::Function,
        };
        if let Some(path) = &call.path {
            if let Some(cl) = lk
                .clients
                .iter()
                .find(|cl| any_matches(&cl.functions, path))
            {
                return Some(function(cl));
            }
            // Otherwise it may still be a method of a client imported from
            // another project module (`from .clients import session`).
        }
        let method = call.method.as_deref()?;
        if !lk.clients.iter().any(|cl| cl.has_method(method)) {
            return None;
        }
        if let Some(up) = self.executed_statement(c, method) {
            return up;
        }
        let origins = self.client_origins(c)?;
        let client = self.client_of(&origins, |cl, o| {
            cl.has_method(method) && (!o.via_attr || cl.resource_attributes)
        })?;
        // Whether a method in `names` is chained on the call's result; the
        // chain is found once, and only for a client that asks.
        let mut chain: Option<Vec<CallId>> = None;
        let mut chained = |names: &[String]| {
            chain
                .get_or_insert_with(|| chained_after(module, c.call))
                .iter()
                .any(|s| {
                    module
                        .call(*s)
                        .method
                        .as_deref()
                        .is_some_and(|m| names.iter().any(|d| d == m))
                })
        };
        if !client.deferred.is_empty() && method != "execute" && chained(&client.deferred) {
            return None;
        }
        // A request builder that is never sent reaches nothing.
        if !client.sent_by.is_empty()
            && !client.sent_by.iter().any(|s| s == method)
            && !chained(&client.sent_by)
        {
            return None;
        }
        Some(Upstream {
            call: c,
            client,
            via: Via::Method(origins),
        })
    }

    /// The client a wrapper was built around (`ClientBuilder::new(client)`,
    /// `.with_http_client(client)`, `Redis(connection_pool=pool)`), where
    /// the wrapper's `inner` entry says it is given. `None` when the wrapper
    /// was given none.
    pub fn inner_client(&self, o: &ClientOrigin, client: &Client) -> Option<InnerClient<'k>> {
        if client.inner.is_empty() {
            return None;
        }
        let ctor = self.module(o.ctor.module).call(o.ctor.call);
        let ctor_path = ctor.path.as_deref().unwrap_or("");
        let mut given: Option<(CallRef, &Expr)> = None;
        for place in &client.inner {
            if let Some(meth) = &place.method {
                for s in &o.chain {
                    let sc = self.module(s.module).call(s.call);
                    if sc.method.as_deref() == Some(meth.as_str()) {
                        if let Some(v) = sc.positional(place.arg.unwrap_or(0)) {
                            given = Some((*s, v));
                        }
                    }
                }
            } else if place.constructors.is_empty() || any_matches(&place.constructors, ctor_path) {
                let v = place
                    .kwarg
                    .as_deref()
                    .and_then(|k| ctor.kwarg(k))
                    .or_else(|| place.arg.and_then(|i| ctor.positional(i)));
                if let Some(v) = v {
                    given = given.or(Some((o.ctor, v)));
                }
            }
        }
        let (at, value) = given?;
        let at_call = self.module(at.module).call(at.call);
        let Some(origins) =
            self.value_origins(at.module, at_call.func, value, at_call.span.start_byte)
        else {
            return Some(InnerClient::Hidden);
        };
        Some(match self.client_of(&origins, |_, _| true) {
            Some(inner) => InnerClient::Client(inner, origins),
            None => InnerClient::Hidden,
        })
    }

    /// The one client entry every origin was built by, if `fits` it and,
    /// unless the client takes its settings from builder methods, only
    /// methods that hand on its settings stand between the constructor and
    /// the use.
    fn client_of(
        &self,
        origins: &[ClientOrigin],
        fits: impl Fn(&Client, &ClientOrigin) -> bool,
    ) -> Option<&'k Client> {
        let mut found: Option<&'k Client> = None;
        for o in origins {
            let ctor = self.module(o.ctor.module).call(o.ctor.call);
            let ctor_path = ctor.path.as_deref()?;
            let cl = self
                .lk(o.ctor.module)
                .clients
                .iter()
                .find(|cl| any_matches(&cl.constructors, ctor_path))?;
            if !fits(cl, o) || !self.mentions_upstream(o.ctor, cl) {
                return None;
            }
            if cl.form() != SettingForm::Builder {
                let derived_only = o.chain.iter().all(|s| {
                    self.module(s.module)
                        .call(s.call)
                        .method
                        .as_deref()
                        .is_some_and(|m| cl.derive.iter().any(|d| d == m))
                });
                if !derived_only {
                    return None;
                }
            }
            match found {
                Some(prev) if prev.name != cl.name => return None,
                _ => found = Some(cl),
            }
        }
        found
    }

    /// A client that is an upstream only for some targets (a SQLAlchemy
    /// engine on a network database, not on SQLite): does its constructor
    /// say so? Its arguments are followed to the strings they hold, and into
    /// one call (`os.getenv("DATABASE_URL", "postgresql://..")`).
    fn mentions_upstream(&self, ctor: CallRef, client: &Client) -> bool {
        if client.upstream_text.is_empty() {
            return true;
        }
        let module = self.module(ctor.module);
        let call = module.call(ctor.call);
        let mut hit = false;
        let mut look = |e: &Expr| {
            e.walk(&mut |x| {
                let text = match x {
                    Expr::Str(s) => s.as_str(),
                    Expr::Template(parts) => match parts.first() {
                        Some(TemplatePart::Lit(s)) => s.as_str(),
                        _ => "",
                    },
                    _ => "",
                };
                hit |= client
                    .upstream_text
                    .iter()
                    .any(|t| text.contains(t.as_str()));
            })
        };
        for a in &call.args {
            look(&a.value);
            for o in self.trace(ctor.module, call.func, &a.value, call.span.start_byte) {
                match o {
                    Origin::Lit(_, _, e) => look(&e),
                    Origin::Call(c) => {
                        for ca in &self.module(c.module).call(c.call).args {
                            look(&ca.value);
                        }
                    }
                    Origin::Unknown => {}
                }
            }
        }
        hit
    }

    /// `sqlx::query(sql).fetch_all(&pool)`: a statement built by a library
    /// function, run on the client handed to `method`. `Some(None)` when the
    /// call is such a statement but its client cannot be followed.
    fn executed_statement(&self, c: CallRef, method: &str) -> Option<Option<Upstream<'k>>> {
        let lk = self.lk(c.module);
        let call = self.module(c.module).call(c.call);
        let recv = call.receiver.as_ref()?;
        let client = lk.clients.iter().find(|cl| {
            !cl.statements.is_empty()
                && cl.has_method(method)
                && self
                    .statement_root(c.module, call.func, recv, call.span.start_byte)
                    .is_some_and(|path| any_matches(&cl.statements, &path))
        })?;
        let Some(exec) = call.positional(client.executor_arg) else {
            return Some(None);
        };
        let origins = self.value_origins(c.module, call.func, exec, call.span.start_byte);
        Some(origins.and_then(|os| {
            let cl = self.client_of(&os, |cl, _| cl.name == client.name)?;
            Some(Upstream {
                call: c,
                client: cl,
                via: Via::Method(os),
            })
        }))
    }

    /// The library path of the call a builder chain starts from
    /// (`sqlx::query` for `sqlx::query(sql).bind(x)`), through names bound to it.
    fn statement_root(&self, m: u32, func: Option<FuncId>, e: &Expr, pos: u32) -> Option<String> {
        let origins = self.trace(m, func, e, pos);
        let [Origin::Call(first)] = origins.as_slice() else {
            return None;
        };
        let mut cur = *first;
        for _ in 0..64 {
            let c = self.module(cur.module).call(cur.call);
            if let Some(path) = &c.path {
                return Some(path.clone());
            }
            match &c.receiver {
                Some(Expr::Call(id)) => {
                    cur = CallRef {
                        module: cur.module,
                        call: *id,
                    }
                }
                _ => return None,
            }
        }
        None
    }

    /// Is code in `func` handed to a method that runs it elsewhere (a
    /// browser page's `evaluate`)?
    fn runs_elsewhere(&self, m: u32, func: Option<FuncId>) -> bool {
        let module = self.module(m);
        let lk = self.lk(m);
        if lk.remote_code_methods.is_empty() {
            return false;
        }
        module.func_chain(func).any(|f| {
            module.func(f).ctx.iter().any(|c| match c {
                Ctx::Arg { call, .. } => module
                    .call(*call)
                    .method
                    .as_deref()
                    .is_some_and(|mm| lk.remote_code_methods.iter().any(|r| r == mm)),
                _ => false,
            })
        })
    }
}
