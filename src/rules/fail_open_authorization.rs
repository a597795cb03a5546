//! MCP201 fail-open-authorization
//!
//! ## What it finds
//! An authentication or authorization check, or an admission gate, that
//! lets the request in when the check itself fails: its error path returns
//! "allowed", falls back to `true`, or serves a stale cached decision.
//!
//! A check is a function whose name says so (`authorize`, `is_authorized`,
//! `check_permission(s)`, `has_permission`, `can_access`, `is_allowed`,
//! `check_access`, `verify_token`, `validate_token`, `authenticate`,
//! `has_role`, and their camelCase forms), an admission gate (a rate-limit
//! or quota check: `check_rate_limit`, `allow_request`, `consume_quota`;
//! for gates whose `true` means "deny", such as `is_rate_limited`,
//! returning `false` is what lets the request through; for a gate that
//! answers with a rejection to send or nothing, such as
//! `checkRateLimits(ip): Promise<Response | null>`, returning `null`/`None`
//! is), or a guard: a
//! function that returns a boolean, is named with a guard word (`allowed`,
//! `permitted`, `permission`, `access`, ..) and is called by a tool handler.
//! The name patterns and words are knowledge (`[auth]` in
//! `rules/*.toml`): add your own without Rust.
//!
//! Reported, in such a function:
//! - an `except`/`catch` body, an `Err(..)` arm or a let-else block that
//!   returns `True`/`true` (`Ok(true)`);
//! - one that returns `cache.get(key, True)`, `cached or True`,
//!   `cache.get(u) ?? true`, or a stale cached decision
//!   (`return self.cache.get(user)`);
//! - a failed result that falls back to `true`: `.unwrap_or(true)`,
//!   `.unwrap_or_else(|_| true)`, `.catch(() => true)`, also when the
//!   fallback is applied by the caller to a check's result
//!   (`await isAuthorized(u).catch(() => true)`).
//!
//! ## Why it matters
//! An agent calls tools at machine speed, and whatever breaks the check —
//! an auth service that times out, a token endpoint that returns 500, a
//! rate-limit store that is down — turns the gate into an open door for
//! every call made while it lasts. Whoever can make the check fail
//! (a malformed token, a flood that overloads the limiter) gets in.
//! CWE-636: not failing securely.
//!
//! ## Flagged
//! ```python
//! def is_authorized(user: str, tool: str) -> bool:
//!     try:
//!         r = httpx.get(f"{AUTHZ}/check", params={"user": user, "tool": tool})
//!         return r.json()["allowed"]
//!     except httpx.HTTPError:
//!         return True
//! ```
//! ```ts
//! async function canAccess(user: string): Promise<boolean> {
//!   return fetch(`${AUTHZ}/${user}`, { signal }).then((r) => r.ok).catch(() => true);
//! }
//! ```
//! ```rust
//! fn has_permission(&self, user: &str) -> bool {
//!     match self.acl.lookup(user) {
//!         Ok(allowed) => allowed,
//!         Err(_) => true,
//!     }
//! }
//! ```
//!
//! ## Fixed
//! Deny when the check cannot be completed, and say why in the log:
//! ```python
//!     except httpx.HTTPError:
//!         log.warning("authz unavailable; denying %s", user)
//!         return False
//! ```
//! ```ts
//!   .catch(() => false);
//! ```
//! ```rust
//!         Err(e) => { tracing::warn!(%e, "acl lookup failed"); false }
//! ```
//! Raising, re-throwing, `?`, `.unwrap_or(false)` and returning `None` or
//! an empty value that the caller treats as "deny" are fine.
//!
//! ## Fix
//! Where the value that lets the request in is a boolean literal written
//! on the error path, `--fix` turns it into the one that keeps it out:
//! `.unwrap_or(true)` → `.unwrap_or(false)`, `.unwrap_or_else(|_| true)`
//! → `|_| false`, `Err(_) => true` / `Ok(true)` → `false` / `Ok(false)`,
//! an `except`/`catch` or let-else `return True` → `return False`,
//! `.catch(() => true)` → `.catch(() => false)`; for a gate whose `true`
//! denies (`is_rate_limited`), the other way round. Only that literal is
//! rewritten. A lookup default (`cache.get(key, True)`, `cached or True`),
//! a stale cached decision, and a gate that answers with a rejection or
//! nothing (`null` admits) get no fix: what to deny with there, and
//! whether to log, is the author's call.
//!
//! ## Limits
//! - A check is recognised by its name (or, for a guard, by a guard word,
//!   a boolean literal on its success path and a tool handler calling it);
//!   an access decision under another name is not judged. A bool guard is
//!   judged only when a tool handler calls it directly.
//! - Only error paths are judged: an `except`/`catch` body, a Rust `Err`
//!   arm, an `if let Err(..)`, a let-else block, and the fallback of
//!   `unwrap_or`/`unwrap_or_else`/`.catch`. A `None => true` arm (a missing
//!   token treated as allowed), a retry loop that ends in `return True`
//!   after its attempts, and a `finally` that returns are not.
//! - Every exception type counts as the check failing, `KeyError` too (a
//!   user missing from a permission table who is let in is failing open).
//! - A stale cached decision is recognised by a name with a cache word
//!   (`cache`, `cached`, `memo`, `decisions`) in the receiver or variable
//!   read on the error path.
//! - A bool guard is a function declared to return a boolean (`-> bool`,
//!   `: boolean`, `Promise<boolean>`) or returning a boolean literal on its
//!   success path, named with a guard word, and called directly by a tool
//!   handler; a tool that consults it through another helper is not seen.
//! - A rejection gate (`check_rate_limit(s)`, `enforce_quota`, ..) is read
//!   as "rejection or nothing" only when it does not return booleans; one
//!   that does is an ordinary allow-when-true check.
//! - A gate run by a serverless function export (Vercel's
//!   `export { handleRequest as POST }` around `createMcpHandler`) is not
//!   yet known as the MCP app's route, so its findings are left out of the
//!   default scope (`--scope all` reports them).
//! - An `authenticate` function that returns a client or token rather than a
//!   decision is only reported when its error path returns `true` or a
//!   cached value, which is rare outside decisions.

use super::edits;
use super::Rule;
use crate::facts::{Ctx, ExitKind, Expr, FuncId, Module, Span, TryKind};
use crate::finding::{Axis, Finding, Fix, Severity};
use crate::knowledge::{name_words, AuthChecks};
use crate::link::{is_bool_type, named_polarity, CheckKind, FuncRef, Polarity, Project};
use std::collections::HashSet;

pub static RULE: Rule = Rule {
    id: "MCP201",
    name: "fail-open-authorization",
    axis: Axis::Security,
    severity: Severity::High,
    cwe: &["CWE-636"],
    precision: "high",
    source: include_str!("fail_open_authorization.rs"),
    check,
};

/// How an error-path value lets the request in.
enum Allows {
    /// The granting boolean itself.
    Literal,
    /// A lookup or `or`/`??` whose default grants.
    Default,
    /// A cached decision, read because the live check failed.
    Stale,
}

struct Judge<'a> {
    module: &'a Module,
    auth: &'a AuthChecks,
    polarity: Polarity,
}

impl Judge<'_> {
    fn allows(&self, e: &Expr) -> Option<Allows> {
        match e {
            e if self.polarity.admits(e) => Some(Allows::Literal),
            Expr::Binary { op, lhs, rhs } if self.auth.default_operators.contains(op) => {
                match self.allows(rhs) {
                    Some(Allows::Literal) => Some(Allows::Default),
                    Some(a) => Some(a),
                    None => self.stale(lhs).then_some(Allows::Stale),
                }
            }
            Expr::Call(id) => {
                let c = self.module.call(*id);
                if self.is_wrapper(c) {
                    return c.positional(0).and_then(|v| self.allows(v));
                }
                let method = c.method.as_deref()?;
                if self.auth.lookup_methods.iter().any(|m| m == method) {
                    if let Some(d) = c.positional(1) {
                        return self.allows(d).map(|_| Allows::Default);
                    }
                    return c
                        .receiver
                        .as_ref()
                        .is_some_and(|r| self.stale(r))
                        .then_some(Allows::Stale);
                }
                None
            }
            Expr::Index(recv, _) => self.stale(recv).then_some(Allows::Stale),
            Expr::Name(_) | Expr::Attr(..) => self.stale(e).then_some(Allows::Stale),
            _ => None,
        }
    }

    fn is_wrapper(&self, c: &crate::facts::Call) -> bool {
        let dotted = c.callee.dotted();
        let names = [c.path.as_deref(), dotted.as_deref()];
        self.auth.wrappers.iter().any(|w| {
            names.iter().flatten().any(|n| n == w)
                || (c.method.is_none() && c.name() == Some(w.as_str()))
        })
    }

    /// Does this name or attribute chain name a cache of decisions?
    fn stale(&self, e: &Expr) -> bool {
        let Some(text) = e.dotted() else {
            return false;
        };
        name_words(&text)
            .iter()
            .any(|w| self.auth.cache_words.iter().any(|c| c == w))
    }

    /// A fallback handed a failed result: a value, or a function whose
    /// every value is error path.
    fn fallback(&self, arg: &Expr) -> Option<Allows> {
        let Expr::Func(l) = arg else {
            return self.allows(arg);
        };
        if let Some(body) = &self.module.func(*l).expr_body {
            return self.allows(body);
        }
        self.module
            .exits
            .iter()
            .filter(|e| e.func == Some(*l) && matches!(e.kind, ExitKind::Return | ExitKind::Tail))
            .find_map(|e| e.value.as_ref().and_then(|v| self.allows(v)))
    }
}

fn check(p: &Project, m: u32, out: &mut Vec<Finding>) {
    let module = p.module(m);
    let auth = &p.lk(m).auth;
    let mut seen: HashSet<Span> = HashSet::new();
    let mut report = |func: Option<FuncId>, span: Span, message: String, fix: Option<Fix>| {
        if seen.insert(span) {
            let mut f = RULE.finding(p, m, func, span, message, help(auth));
            f.fix = fix;
            out.push(f);
        }
    };
    for fid in 0..module.functions.len() as FuncId {
        let Some(chk) = p.access_check(FuncRef {
            module: m,
            func: fid,
        }) else {
            continue;
        };
        let j = Judge {
            module,
            auth,
            polarity: chk.polarity,
        };
        let name = &module.func(fid).name;
        // A function declared to return something else (a user, a token)
        // may keep a cache of those: only a decision's cache is stale access.
        let decides = module.func(fid).returns.as_deref().is_none_or(is_bool_type);
        let what = match (chk.kind, chk.polarity) {
            (CheckKind::Guard, _) => "guard",
            (_, Polarity::DenyWhenTrue | Polarity::NoneAdmits) => "admission gate",
            _ => "access check",
        };
        let say = |how: String| {
            format!("{what} `{name}` lets the request in when the check fails: {how}")
        };
        // Rust `Err(..)` arms: at the arm's pattern.
        let mut arms: HashSet<(u32, u32)> = HashSet::new();
        for (ti, t) in module.tries.iter().enumerate() {
            if t.func != Some(fid) || t.kind != TryKind::Match {
                continue;
            }
            for (ci, c) in t.clauses.iter().enumerate() {
                let Some(a) = c.value.as_ref().and_then(|v| j.allows(v)) else {
                    continue;
                };
                if matches!(a, Allows::Stale) && !decides {
                    continue;
                }
                arms.insert((ti as u32, ci as u32));
                let fix = c
                    .value
                    .as_ref()
                    .and_then(|v| deny_fix(&j, &a, v, c.value_span));
                report(
                    Some(fid),
                    c.span,
                    say(describe(
                        &a,
                        "the error arm",
                        j.polarity.word(module.lang().null_word()),
                    )),
                    fix,
                );
            }
        }
        // `except`/`catch` bodies and let-else blocks: at the `return`.
        for e in &module.exits {
            if e.func != Some(fid) || !matches!(e.kind, ExitKind::Return | ExitKind::Tail) {
                continue;
            }
            let Some(catch) = e.ctx.iter().rev().find_map(|c| match c {
                Ctx::Catch { try_id, clause } => Some((*try_id, *clause)),
                _ => None,
            }) else {
                continue;
            };
            if arms.contains(&catch) {
                continue;
            }
            let Some(a) = e.value.as_ref().and_then(|v| j.allows(v)) else {
                continue;
            };
            if matches!(a, Allows::Stale) && !decides {
                continue;
            }
            let path = match module.tries[catch.0 as usize].kind {
                TryKind::LetElse => "the let-else block",
                TryKind::Match => "the error arm",
                TryKind::Try => "the error handler",
            };
            let fix = e
                .value
                .as_ref()
                .and_then(|v| deny_fix(&j, &a, v, e.value_span));
            report(
                Some(fid),
                e.span,
                say(describe(
                    &a,
                    path,
                    j.polarity.word(module.lang().null_word()),
                )),
                fix,
            );
        }
    }
    // Fallbacks for a failed result, in a check or applied to a check's result.
    for c in &module.calls {
        let Some(method) = c.method.as_deref() else {
            continue;
        };
        if !auth.fallback_methods.iter().any(|f| f == method) {
            continue;
        }
        let Some(arg) = c.positional(0) else { continue };
        let inside = module.func_chain(c.func).find_map(|f| {
            p.access_check(FuncRef { module: m, func: f })
                .map(|k| (module.func(f).name.clone(), k.polarity))
        });
        let on_check = || {
            let mut r = c.receiver.as_ref();
            // Look through `.await` and transparent hops to the check call.
            while let Some(Expr::Call(id)) = r {
                let rc = module.call(*id);
                if let Some(n) = rc.name() {
                    if let Some(pol) = named_polarity(auth, n) {
                        return Some((n.to_string(), pol));
                    }
                }
                r = rc.receiver.as_ref();
            }
            None
        };
        let Some((name, polarity)) = inside.or_else(on_check) else {
            continue;
        };
        let j = Judge {
            module,
            auth,
            polarity,
        };
        let Some(allows) = j.fallback(arg) else {
            continue;
        };
        let fix = fallback_fix(&j, &allows, c, arg);
        let b = j.polarity.word(module.lang().null_word());
        // A chain starts lines above its `.catch(..)`: point at the handler.
        let span = match arg {
            Expr::Func(l) => module.func(*l).span,
            _ => c.span,
        };
        report(
            c.func,
            span,
            format!(
                "`{name}` lets the request in when the check fails: `.{method}(..)` falls back to `{b}`"
            ),
            fix,
        );
    }
}

/// Fails closed where the allowing value is a boolean literal written in
/// view (see "Fix"): `true` becomes `false` (`false` becomes `true` for a
/// gate whose `true` denies), in place, also inside `Ok(..)` / `Some(..)`.
/// A default of a lookup or a cached decision is no literal to flip: the
/// code around it must change, not one word.
fn deny_fix(j: &Judge, a: &Allows, v: &Expr, at: Option<Span>) -> Option<Fix> {
    if !matches!(a, Allows::Literal) {
        return None;
    }
    let deny = j.polarity.denies()?;
    let (span, lit) = match v {
        Expr::Bool(b) => (at?, *b),
        // `Ok(true)`: the literal inside the wrapper.
        Expr::Call(id) => {
            let c = j.module.call(*id);
            if !j.is_wrapper(c) || c.args.len() != 1 {
                return None;
            }
            let Expr::Bool(b) = c.positional(0)? else {
                return None;
            };
            (c.arg_span_at(0)?, *b)
        }
        _ => return None,
    };
    if lit == deny {
        return None;
    }
    let word = j.module.lang().bool_word(deny);
    edits::fix(
        format!("deny when the check fails: `{word}`"),
        vec![edits::replace(span, word)],
    )
}

/// The same for a fallback's argument: `.unwrap_or(true)`, or a closure
/// whose value is the literal (`|_| true`, `() => true`, `() => { return
/// true; }`).
fn fallback_fix(j: &Judge, a: &Allows, c: &crate::facts::Call, arg: &Expr) -> Option<Fix> {
    match arg {
        Expr::Func(l) => {
            let f = j.module.func(*l);
            if let Some(body) = &f.expr_body {
                return deny_fix(j, a, body, f.expr_body_span);
            }
            let exits: Vec<_> = j
                .module
                .exits
                .iter()
                .filter(|e| {
                    e.func == Some(*l) && matches!(e.kind, ExitKind::Return | ExitKind::Tail)
                })
                .collect();
            let [e] = exits.as_slice() else {
                return None;
            };
            deny_fix(j, a, e.value.as_ref()?, e.value_span)
        }
        _ => deny_fix(j, a, arg, c.arg_span_at(c.positional_index(0)?)),
    }
}

fn describe(a: &Allows, path: &str, admits: &str) -> String {
    match a {
        Allows::Literal => format!("{path} returns `{admits}`"),
        Allows::Default => format!("{path} returns a lookup that defaults to `{admits}`"),
        Allows::Stale => format!("{path} serves a cached decision instead of denying"),
    }
}

fn help(_auth: &AuthChecks) -> String {
    "Fail closed: when the check cannot be completed, deny (return false, raise or \
     propagate the error) and log why; never fall back to allowing or to a cached grant."
        .to_string()
}
