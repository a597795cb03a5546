//! MCP104 shared-circuit-breaker
//!
//! ## What it finds
//! One circuit breaker instance that guards calls to two or more different
//! upstream services, so a failure of one trips the breaker for all of
//! them. Reported at the breaker's construction (or at the decorator that
//! makes it), with the guarded calls as related locations.
//!
//! Guarding means `breaker.call(fn, ..)`, `await breaker.call(lambda: ..)`,
//! `@breaker` on a function, `with breaker:` / `with breaker.calling():`,
//! `breaker.fire(..)` on an opossum breaker built around a function,
//! `policy.execute(() => ..)`, `breaker.call(|| ..)`, and project functions
//! the guarded code calls. Upstreams differ when their URL hosts differ; a
//! client object with a base URL (or an SDK's fixed host) stands for its
//! host. Which libraries are breakers, and where URLs and base URLs are
//! given, is in the knowledge packs (`[[breaker]]`, `[[endpoint]]`).
//!
//! ## Why it matters
//! A breaker counts failures of what it guards. Shared between a flaky
//! search API and a healthy payments API, it opens on the search API's
//! errors and then refuses the payments calls too: one outage becomes two,
//! at machine speed, for every tool that shares it.
//!
//! ## Flagged
//! ```python
//! breaker = pybreaker.CircuitBreaker(fail_max=5)
//!
//! @breaker
//! def search(q): return requests.get(f"https://search.example/q?{q}", timeout=5)
//!
//! @breaker
//! def charge(id): return requests.post(f"https://pay.example/charge/{id}", timeout=5)
//! ```
//!
//! ## Fixed
//! ```python
//! search_breaker = pybreaker.CircuitBreaker(fail_max=5)
//! payments_breaker = pybreaker.CircuitBreaker(fail_max=5)
//! ```
//! One breaker per dependency. purgatory's named breakers
//! (`@factory("search")`, `@factory("payments")`) are distinct breakers.
//!
//! ## Limits
//! - A URL read from the environment counts by the default it falls back
//!   to (`os.getenv("API", "https://api.example")`, `process.env.API ??
//!   "https://api.example"`), as MCP103 reads it.
//! - Upstreams whose hosts cannot be read statically (a URL from the
//!   environment with no default, or from a parameter, a base URL we cannot see) cannot be told
//!   apart and are not counted; two clients with base URLs read from
//!   different settings are not told apart either.
//! - `@circuit` (circuitbreaker) gives each decorated function a breaker of
//!   its own: it is reported only when that one function calls two hosts.
//! - Calls are followed into project functions the guarded code calls, a
//!   few levels deep; calls through a callable passed in as a parameter are
//!   not seen.

use super::Rule;
use crate::finding::{Axis, Finding, Location, Related, Severity};
use crate::link::{head_span, Project, Scope};

pub static RULE: Rule = Rule {
    id: "MCP104",
    name: "shared-circuit-breaker",
    axis: Axis::Maintenance,
    severity: Severity::Medium,
    cwe: &[],
    precision: "high",
    source: include_str!("shared_circuit_breaker.rs"),
    check,
};

fn check(p: &Project, m: u32, out: &mut Vec<Finding>) {
    for b in &p.breakers().uses {
        if b.module != m {
            continue;
        }
        // The hosts it guards, each with its first guarded call.
        let mut hosts: Vec<(String, crate::link::CallRef)> = Vec::new();
        for &c in &b.guarded {
            let Some(up) = p.upstream(c) else { continue };
            let Some(d) = p.dependency(&up) else { continue };
            if !hosts.iter().any(|(h, _)| *h == d.host) {
                hosts.push((d.host, c));
            }
        }
        if hosts.len() < 2 {
            continue;
        }
        let names: Vec<String> = hosts.iter().map(|(h, _)| format!("`{h}`")).collect();
        let what = match &b.name {
            Some(n) => format!("circuit breaker \"{n}\" ({})", b.library),
            None if b.library.starts_with("project") => "this circuit breaker".to_string(),
            None => format!("this {} circuit breaker", b.library),
        };
        // A breaker built at module level is in scope when code an entry
        // point reaches runs through it (a guarded call, or a `fire(..)`
        // of a breaker built around a function): judge it by the first.
        let reached = b.guarded.iter().chain(&b.used_at).find(|c| {
            let call = p.module(c.module).call(c.call);
            matches!(
                p.scope_at(c.module, call.func, call.span),
                Scope::Reached { .. }
            )
        });
        let (sm, sfunc, sspan) = match reached {
            Some(c) => {
                let call = p.module(c.module).call(c.call);
                (c.module, call.func, call.span)
            }
            None => (m, b.func, b.span),
        };
        let mut f = RULE.finding(
            p,
            sm,
            sfunc,
            sspan,
            format!(
                "{what} guards calls to {} different upstreams ({}): a failure of one opens it for all",
                hosts.len(),
                names.join(", ")
            ),
            "give each upstream service its own breaker instance".to_string(),
        );
        f.location = Location {
            path: p.module(m).path.clone(),
            span: b.span,
        };
        for (h, c) in &hosts {
            let cm = p.module(c.module);
            f.related.push(Related {
                location: Location {
                    path: cm.path.clone(),
                    span: head_span(cm.call(c.call).span),
                },
                message: format!("guarded call to `{h}`"),
            });
        }
        out.push(f);
    }
}
