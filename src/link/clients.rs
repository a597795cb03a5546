//! Clients: the constructor of the client object a method call is made on.

use super::*;

impl Project<'_> {
    /// Traces the receiver of method call `c` back to the constructor of a
    /// known client. `None` when any path leads somewhere we cannot see.
    pub fn client_origins(&self, c: CallRef) -> Option<Vec<ClientOrigin>> {
        let module = self.module(c.module);
        let call = module.call(c.call);
        let recv = call.receiver.as_ref()?;
        let mut out = Vec::new();
        let walk = Walk {
            resources: true,
            depth: TRACE_DEPTH,
        };
        self.origins_of(
            c.module,
            call.func,
            recv,
            call.span.start_byte,
            Vec::new(),
            walk,
            &mut out,
        )?;
        (!out.is_empty()).then_some(out)
    }

    /// Traces a value (an argument, not a receiver: the pool handed to
    /// `sqlx::query(..).fetch_all(&pool)`, the client a wrapper is built
    /// around) back to the constructors of known clients, through builder
    /// and derive methods. Unlike a receiver, an attribute of the value is a
    /// value of its own, not a resource of a client. `None` when any path
    /// leads somewhere we cannot see.
    pub fn value_origins(
        &self,
        m: u32,
        func: Option<FuncId>,
        e: &Expr,
        pos: u32,
    ) -> Option<Vec<ClientOrigin>> {
        let mut out = Vec::new();
        let walk = Walk {
            resources: false,
            depth: TRACE_DEPTH,
        };
        self.origins_of(m, func, e, pos, Vec::new(), walk, &mut out)?;
        (!out.is_empty()).then_some(out)
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn origins_of(
        &self,
        m: u32,
        func: Option<FuncId>,
        e: &Expr,
        pos: u32,
        chain: Vec<CallRef>,
        walk: Walk,
        out: &mut Vec<ClientOrigin>,
    ) -> Option<()> {
        if walk.depth == 0 {
            return None;
        }
        let deeper = Walk {
            depth: walk.depth - 1,
            ..walk
        };
        let lk = self.lk(m);
        let module = self.module(m);
        // `client["shop"]["orders"]`: a resource reached by key, like one
        // reached by attribute.
        // `ctx.request_context.lifespan_context.db`: a value the lifespan
        // yields, traced like any other, not a resource of `ctx`.
        let lifespan = matches!(e, Expr::Attr(inner, _) | Expr::Index(inner, _) if self.is_lifespan_context(m, inner));
        if let (Expr::Index(inner, _), true, false) = (e, walk.resources, lifespan) {
            let before = out.len();
            self.origins_of(m, func, inner, pos, chain, deeper, out)?;
            for o in &mut out[before..] {
                o.via_attr = true;
            }
            return Some(());
        }
        // `db = client.shop` … `db.orders.find()`: a name bound to a
        // resource of a client leads to that client. Other values are traced.
        if let (Expr::Name(n), true) = (e, walk.resources) {
            let bs = module.bindings_at(func, n, pos);
            let resource = |v: &Expr| matches!(v, Expr::Attr(..) | Expr::Index(..));
            if !module.is_param(func, n) && bs.iter().any(|b| resource(&b.value)) {
                for b in bs {
                    self.origins_of(
                        m,
                        b.func,
                        &b.value,
                        b.span.start_byte,
                        chain.clone(),
                        deeper,
                        out,
                    )?;
                }
                return Some(());
            }
        }
        // `client.chat.completions`: a resource object of the client, not a
        // value bound anywhere: the client is what its root leads to.
        if let (Expr::Attr(inner, _), true, false) = (e, walk.resources, lifespan) {
            // `clients.session` where `clients` is an imported project
            // module: a value, traced below, not a resource attribute.
            let module_attr = self.module_attr_binding(m, func, e).is_some();
            let self_field = matches!(inner.as_ref(), Expr::Name(s) if s == "self" || s == "this");
            let bound = e
                .dotted()
                .is_some_and(|d| !module.bindings_of(func, &d).is_empty());
            // `deps.pool` of a project object (`Deps(pool=..)`): a field.
            let project_field = matches!(inner.as_ref(), Expr::Name(_))
                && self.is_project_instance(m, func, inner, pos);
            if !self_field && !bound && !module_attr && !project_field {
                let before = out.len();
                self.origins_of(m, func, inner, pos, chain, deeper, out)?;
                for o in &mut out[before..] {
                    o.via_attr = true;
                }
                return Some(());
            }
        }
        for o in self.trace(m, func, e, pos) {
            match o {
                Origin::Call(cr) => {
                    let cm = self.module(cr.module);
                    let call = cm.call(cr.call);
                    let is_ctor = call.path.as_deref().is_some_and(|p| {
                        lk.clients.iter().any(|cl| any_matches(&cl.constructors, p))
                    });
                    if is_ctor {
                        out.push(ClientOrigin {
                            ctor: cr,
                            chain: chain.clone(),
                            via_attr: false,
                        });
                        continue;
                    }
                    // A method on something else: a builder step or a
                    // derived object (`pool.acquire()`); keep walking.
                    let recv = call.receiver.as_ref()?;
                    if call.method.is_none() || call.path.is_some() && cm.lang() != Lang::Rust {
                        return None;
                    }
                    // Past a request method (`client.get(u).send()…json()`),
                    // the value is a request or a response, not the client.
                    let meth = call.method.as_deref().unwrap_or("");
                    if lk
                        .clients
                        .iter()
                        .any(|cl| cl.methods.iter().any(|m| m == meth))
                    {
                        return None;
                    }
                    let mut next = chain.clone();
                    next.push(cr);
                    self.origins_of(
                        cr.module,
                        call.func,
                        recv,
                        call.span.start_byte,
                        next,
                        deeper,
                        out,
                    )?;
                }
                Origin::Lit(_, _, Expr::Null) => {}
                _ => return None,
            }
        }
        Some(())
    }
}

/// How far [`Project::origins_of`] may go, and whether attributes of a
/// receiver are resources of the client it leads to.
#[derive(Clone, Copy)]
pub(super) struct Walk {
    resources: bool,
    depth: u8,
}
