//! Connection pools: which calls build one (`redis.ConnectionPool(..)`,
//! `new Pool({..})`, deadpool's `builder(..).build()` / `cfg.create_pool(..)`),
//! what their bounding settings are given, and which constructions code an
//! MCP entry point reaches uses (a module-level pool a tool queries is
//! server code). What a pool is and what bounds it is knowledge (`[[pool]]`).

use super::*;
use crate::knowledge::{Pool, SettingKeys};

/// A call that builds a pool, and where its settings are read from.
#[derive(Clone, Debug)]
pub struct PoolSite<'k> {
    pub pool: &'k Pool,
    /// The constructor (for a builder, the head of its chain; for a pool
    /// created from a config, the `create_pool` call itself).
    pub ctor: CallRef,
    /// Builder steps between the constructor and the building call.
    pub chain: Vec<CallRef>,
}

impl<'k> Project<'k> {
    /// The pool call `c` builds, if it builds one: a constructor (not one
    /// handed a pool of its own), a builder's building call, or a
    /// `create_pool` on a configuration.
    pub fn pool_site(&self, c: CallRef) -> Option<PoolSite<'k>> {
        let module = self.module(c.module);
        let call = module.call(c.call);
        let lk = self.lk(c.module);
        if let Some(path) = call.path.as_deref() {
            if let Some(pool) = lk
                .pools
                .iter()
                .find(|p| p.built_by.is_none() && any_matches(&p.constructors, path))
            {
                if pool.given_pool.iter().any(|k| call.kwarg(k).is_some()) {
                    return None;
                }
                return Some(PoolSite {
                    pool,
                    ctor: c,
                    chain: Vec::new(),
                });
            }
        }
        let meth = call.method.as_deref()?;
        for pool in &lk.pools {
            if pool.built_by.as_deref() == Some(meth) {
                // Down the chain to a constructor of this pool.
                let mut chain = Vec::new();
                let mut e = call.receiver.as_ref();
                while let Some(Expr::Call(id)) = e {
                    let step = module.call(*id);
                    if step
                        .path
                        .as_deref()
                        .is_some_and(|p| any_matches(&pool.constructors, p))
                    {
                        chain.reverse();
                        return Some(PoolSite {
                            pool,
                            ctor: CallRef {
                                module: c.module,
                                call: *id,
                            },
                            chain,
                        });
                    }
                    chain.push(CallRef {
                        module: c.module,
                        call: *id,
                    });
                    e = step.receiver.as_ref();
                }
            }
            if pool.create_methods.iter().any(|m| m == meth)
                && module.imports.iter().any(|i| {
                    pool.constructors
                        .iter()
                        .any(|p| i.path.starts_with(crate::knowledge::first_segment(p)))
                })
            {
                return Some(PoolSite {
                    pool,
                    ctor: c,
                    chain: Vec::new(),
                });
            }
        }
        None
    }

    /// The value given to one of the pool's `keys` (or `also` keys) where
    /// it is built: on the constructor (keyword, options object, or text
    /// in a URL), on a builder step, or in the configuration it is created
    /// from.
    pub fn pool_setting(&self, site: &PoolSite, keys: &[String]) -> Found {
        let module = self.module(site.ctor.module);
        let ctor = module.call(site.ctor.call);
        let pool = site.pool;
        if ctor.has_spread_arg() {
            return Found::Hidden;
        }
        let set = |c: CallRef, key: &str, v: Option<&Expr>| {
            let call = self.module(c.module).call(c.call);
            Found::Set(Setting {
                place: Place::Client,
                module: c.module,
                func: call.func,
                span: call.span,
                values: v
                    .map(|e| Value {
                        module: c.module,
                        func: call.func,
                        key: key.to_string(),
                        expr: e.clone(),
                    })
                    .into_iter()
                    .collect(),
            })
        };
        // A pool created from a configuration (`cfg.create_pool(..)`).
        if pool
            .create_methods
            .iter()
            .any(|m| ctor.method.as_deref() == Some(m))
        {
            return self.config_setting(site, &pool.config_keys);
        }
        // A builder chain (`Pool::builder(mgr).wait_timeout(..).build()`).
        if pool.built_by.is_some() {
            for s in &site.chain {
                let sc = self.module(s.module).call(s.call);
                if let Some(m) = sc.method.as_deref().filter(|m| keys.iter().any(|k| k == m)) {
                    return set(*s, m, sc.positional(0));
                }
            }
            return Found::Absent;
        }
        if let Some(client) = pool.client.as_deref().and_then(|n| {
            self.lk(site.ctor.module)
                .clients
                .iter()
                .find(|c| c.name == n)
        }) {
            let origin = ClientOrigin {
                ctor: site.ctor,
                chain: Vec::new(),
                via_attr: false,
            };
            let keys = SettingKeys {
                client: keys,
                ..Default::default()
            };
            match self.client_setting(client, &origin, &keys) {
                Found::Absent => {}
                found => return found,
            }
        } else if let Some((k, v)) = keys.iter().find_map(|k| ctor.kwarg(k).map(|v| (k, v))) {
            return set(site.ctor, k, Some(v));
        }
        // In a URL written in view (`?max_connections=20`).
        let strings: Vec<crate::facts::Arg> = ctor
            .args
            .iter()
            .filter(|a| matches!(a.value, Expr::Str(_) | Expr::Template(_)))
            .cloned()
            .collect();
        if self.mentions_text(site.ctor.module, &strings, &pool.text_keys) {
            return set(site.ctor, "", None);
        }
        Found::Absent
    }

    /// For `cfg.create_pool(..)`: `Set` when the configuration sets one of
    /// `keys` anywhere in its module (a struct field, an assignment, a
    /// builder method); `Absent` when it is built in view
    /// (`Config::new()`, a struct literal) and sets none; `Hidden` when it
    /// comes from somewhere we cannot read (the environment, a file, a
    /// parameter).
    fn config_setting(&self, site: &PoolSite, keys: &[String]) -> Found {
        let m = site.ctor.module;
        let module = self.module(m);
        let call = module.call(site.ctor.call);
        let Some(recv) = &call.receiver else {
            return Found::Hidden;
        };
        let origins = self.trace(m, call.func, recv, call.span.start_byte);
        let in_view = !origins.is_empty()
            && origins.iter().all(|o| match o {
                Origin::Lit(_, _, Expr::Object(o)) => !o.spread,
                Origin::Call(c) => {
                    let cc = self.module(c.module).call(c.call);
                    cc.path.as_deref().is_some_and(|p| {
                        ends_with_segment(p, "Config::new")
                            || ends_with_segment(p, "Config::default")
                    })
                }
                _ => false,
            });
        if !in_view {
            return Found::Hidden;
        }
        // The configuration's own fields: assignments to it
        // (`cfg.pool = Some(PoolConfig { timeouts: .. })`) and the literal
        // it is built from.
        let root = recv.root_name().unwrap_or("");
        let prefix = format!("{root}.");
        let key_hit = |name: &str| {
            keys.iter()
                .any(|k| name == k || name.ends_with(&format!(".{k}")))
        };
        let mut found = false;
        for b in module.bindings.iter().filter(|b| {
            b.name.starts_with(&prefix) && module.func_chain(call.func).any(|f| b.func == Some(f))
        }) {
            found |= key_hit(&b.name) || has_key(module, &b.value, keys, 4);
        }
        for o in &origins {
            if let Origin::Lit(om, _, e) = o {
                found |= has_key(self.module(*om), e, keys, 4);
            }
        }
        if found {
            Found::Set(Setting {
                place: Place::Client,
                module: m,
                func: call.func,
                span: call.span,
                values: Vec::new(),
            })
        } else {
            Found::Absent
        }
    }

    /// An upstream call in code an MCP entry point reaches that uses the
    /// object construction `c` builds: the client it is made on, or a
    /// pool, connector or limits object handed to that client's
    /// constructor.
    pub fn used_by_reached(&self, c: CallRef) -> Option<CallRef> {
        self.used_constructions
            .get_or_init(|| self.compute_used_constructions())
            .get(&c)
            .copied()
    }

    fn compute_used_constructions(&self) -> HashMap<CallRef, CallRef> {
        let mut out: HashMap<CallRef, CallRef> = HashMap::new();
        for m in 0..self.modules.len() as u32 {
            for up in self.upstream_calls(m) {
                let Some(f) = self.module(m).call(up.call.call).func else {
                    continue;
                };
                if !self
                    .reach
                    .pred
                    .contains_key(&FuncRef { module: m, func: f })
                {
                    continue;
                }
                for o in up.origins() {
                    for c in std::iter::once(&o.ctor).chain(&o.chain) {
                        out.entry(*c).or_insert(up.call);
                        let cm = self.module(c.module);
                        let cc = cm.call(c.call);
                        for a in &cc.args {
                            let handed = match &a.value {
                                Expr::Call(id) => vec![CallRef {
                                    module: c.module,
                                    call: *id,
                                }],
                                e @ (Expr::Name(_) | Expr::Attr(..)) => self
                                    .trace(c.module, cc.func, e, cc.span.start_byte)
                                    .into_iter()
                                    .filter_map(|o| match o {
                                        Origin::Call(h) => Some(h),
                                        _ => None,
                                    })
                                    .collect(),
                                _ => Vec::new(),
                            };
                            for h in handed {
                                out.entry(h).or_insert(up.call);
                            }
                        }
                    }
                }
            }
        }
        out
    }
}

/// Does `e` set one of `keys` in an object literal, looking into the
/// arguments of calls it is built with (`Some(PoolConfig { .. })`)? A
/// spread counts: it may set it.
fn has_key(module: &Module, e: &Expr, keys: &[String], depth: u8) -> bool {
    let mut hit = false;
    e.walk(&mut |x| match x {
        Expr::Object(o) => {
            hit |= o.spread || o.entries.iter().any(|(k, _)| keys.contains(k));
        }
        Expr::Call(id) if depth > 0 => {
            let c = module.call(*id);
            hit |= c
                .method
                .as_deref()
                .is_some_and(|m| keys.iter().any(|k| k == m))
                || c.args
                    .iter()
                    .any(|a| has_key(module, &a.value, keys, depth - 1));
        }
        _ => {}
    });
    hit
}
