//! The rule registry: one line per rule. Each rule is one file whose `//!`
//! doc comment is its user documentation (`mcp-audit explain`, the README
//! table and the SARIF help all read it from the file itself).

use crate::facts::{FuncId, Span};
use crate::finding::{Axis, Finding, Location, Related, Severity};
use crate::link::{head_span, Hop, Project, Scope};

pub mod all_or_nothing_aggregation;
pub mod blocking_call_in_async;
pub mod edits;
pub mod fail_open_authorization;
pub mod leaked_error_detail;
pub mod misdeclared_tool_annotation;
pub mod missing_circuit_breaker;
pub mod missing_idempotency_key;
pub mod retry_without_backoff;
pub mod shared_circuit_breaker;
pub mod unbounded_await;
pub mod unbounded_fan_out;
pub mod unbounded_pool;
pub mod unused_suppression;

/// Every rule, in id order.
pub static REGISTRY: &[&Rule] = &[
    &unused_suppression::RULE,          // MCP001
    &unbounded_await::RULE,             // MCP101
    &retry_without_backoff::RULE,       // MCP102
    &missing_circuit_breaker::RULE,     // MCP103
    &shared_circuit_breaker::RULE,      // MCP104
    &unbounded_pool::RULE,              // MCP105
    &blocking_call_in_async::RULE,      // MCP106
    &all_or_nothing_aggregation::RULE,  // MCP107
    &unbounded_fan_out::RULE,           // MCP108
    &fail_open_authorization::RULE,     // MCP201
    &leaked_error_detail::RULE,         // MCP202
    &missing_idempotency_key::RULE,     // MCP203
    &misdeclared_tool_annotation::RULE, // MCP204
];

pub struct Rule {
    pub id: &'static str,
    pub name: &'static str,
    pub axis: Axis,
    pub severity: Severity,
    /// CWE ids (`CWE-400`).
    pub cwe: &'static [&'static str],
    /// SARIF `precision`: `very-high`, `high`, `medium` or `low`.
    pub precision: &'static str,
    /// The rule's source file: its `//!` lines are its documentation.
    pub source: &'static str,
    pub check: fn(&Project, u32, &mut Vec<Finding>),
}

impl Rule {
    /// The documentation: the rule file's `//!` comment, as Markdown.
    pub fn docs(&self) -> String {
        let mut out = String::new();
        for line in self.source.lines() {
            let t = line.trim_start();
            if let Some(rest) = t.strip_prefix("//!") {
                out.push_str(rest.strip_prefix(' ').unwrap_or(rest));
                out.push('\n');
            } else if !t.is_empty() {
                break;
            }
        }
        out.trim().to_string() + "\n"
    }

    /// One line: the first paragraph of "What it finds".
    pub fn summary(&self) -> String {
        self.section("What it finds")
            .split("\n\n")
            .next()
            .unwrap_or("")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The body of the `## {title}` section of the docs.
    pub fn section(&self, title: &str) -> String {
        let docs = self.docs();
        let head = format!("## {title}");
        let Some(start) = docs.find(&head) else {
            return String::new();
        };
        let body = &docs[start + head.len()..];
        let end = body.find("\n## ").unwrap_or(body.len());
        body[..end].trim().to_string()
    }

    pub fn tags(&self) -> Vec<&'static str> {
        let mut tags = vec![
            match self.axis {
                Axis::Maintenance => "reliability",
                Axis::Security => "security",
            },
            "mcp",
        ];
        for c in self.cwe {
            tags.push(c);
        }
        tags
    }

    /// A finding of this rule at `span` of module `m`, with the tool
    /// handlers that reach `func` as related locations.
    pub fn finding(
        &self,
        p: &Project,
        m: u32,
        func: Option<FuncId>,
        span: Span,
        message: String,
        help: String,
    ) -> Finding {
        let module = p.module(m);
        let (flow, left_out) = match p.scope_at(m, func, span) {
            Scope::Reached { entry, path } => (reach_flow(p, entry, &path), None),
            Scope::LeftOut(why) => (Vec::new(), Some(why)),
        };
        Finding {
            rule_id: self.id,
            rule_name: self.name,
            axis: self.axis,
            severity: self.severity,
            location: Location {
                path: module.path.clone(),
                span,
            },
            message,
            help,
            related: flow.clone(),
            flow,
            left_out,
            fix: None,
            fingerprint: String::new(),
        }
    }
}

/// A finding at a construction (a pool, a client) that is not itself in
/// code an entry point reaches, but that such code uses through call
/// `user`: its scope and path become the user's, and the use is one more
/// related location.
pub fn used_by(p: &Project, mut f: Finding, user: crate::link::CallRef) -> Finding {
    let um = p.module(user.module);
    let call = um.call(user.call);
    if let Scope::Reached { entry, path } = p.scope(user.module, call.func) {
        let mut flow = reach_flow(p, entry, &path);
        flow.push(Related {
            location: Location {
                path: um.path.clone(),
                span: head_span(call.span),
            },
            message: "which uses it here".into(),
        });
        f.related = flow.clone();
        f.flow = flow;
        f.left_out = None;
    }
    f
}

/// The path from entry point `entry` along `path` as locations: where the
/// handler is registered, then each call on the way to the site.
fn reach_flow(p: &Project, entry: usize, path: &[Hop]) -> Vec<Related> {
    let e = &p.entries()[entry];
    let mut out = vec![Related {
        location: Location {
            path: p.module(e.module).path.clone(),
            span: head_span(e.span),
        },
        message: format!("reached from {}", e.describe(p)),
    }];
    for hop in path.iter().skip(1) {
        let Some(via) = hop.via else { continue };
        let callee = p.module(hop.func.module);
        let f = callee.func(hop.func.func);
        let name = match f.class {
            Some(c) => format!("{}.{}", callee.classes[c as usize].name, f.name),
            None => f.name.clone(),
        };
        out.push(Related {
            location: Location {
                path: p.module(via.module).path.clone(),
                span: head_span(p.module(via.module).call(via.call).span),
            },
            message: format!("which calls `{name}`"),
        });
    }
    out
}

/// Finds a rule by id (`MCP101`) or name (`unbounded-await`), any case.
pub fn lookup(key: &str) -> Option<&'static Rule> {
    let k = key.trim();
    REGISTRY
        .iter()
        .copied()
        .find(|r| r.id.eq_ignore_ascii_case(k) || r.name.eq_ignore_ascii_case(k))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_documents_what_why_flagged_fixed_and_limits() {
        for r in REGISTRY {
            for s in [
                "What it finds",
                "Why it matters",
                "Flagged",
                "Fixed",
                "Limits",
            ] {
                assert!(!r.section(s).is_empty(), "{} lacks a '{s}' section", r.id);
            }
            assert!(
                r.docs().starts_with(&format!("{} {}", r.id, r.name)),
                "{}",
                r.id
            );
        }
    }

    #[test]
    fn a_finding_can_carry_its_own_severity() {
        let src = "import requests\n\ndef f(u):\n    return requests.get(u)\n";
        let m = crate::lang::lower(crate::facts::Lang::Python, "a.py", src).unwrap();
        let kb = crate::knowledge::Knowledge::load(&[] as &[&str]).unwrap();
        let p = Project::new(vec![m], &kb);
        let span = p.module(0).calls[0].span;
        let rule = &unbounded_await::RULE;
        let make = || rule.finding(&p, 0, None, span, "m".into(), "h".into());
        assert_eq!(make().severity, rule.severity);
        let low = make().with_severity(Severity::Low);
        assert_eq!(low.severity, Severity::Low);
        assert_eq!((low.rule_id, &low.location), (rule.id, &make().location));
        // What the grades and `--fail-on` read is the finding's own.
        let score = |f: Finding| {
            crate::grade::grade_axes(&[f], &[Axis::Maintenance])
                .maintenance
                .unwrap()
                .score
        };
        assert_eq!(
            score(make()),
            100 - crate::grade::base_penalty(rule.severity)
        );
        assert_eq!(score(low), 100 - crate::grade::base_penalty(Severity::Low));
    }

    #[test]
    fn ids_and_names_are_unique_and_look_up_both_ways() {
        let mut ids: Vec<_> = REGISTRY.iter().map(|r| r.id).collect();
        ids.dedup();
        assert_eq!(ids.len(), REGISTRY.len());
        assert_eq!(lookup("mcp101").unwrap().name, "unbounded-await");
        assert_eq!(lookup("unbounded-await").unwrap().id, "MCP101");
        assert_eq!(lookup("Unused-Suppression").unwrap().id, "MCP001");
        assert!(lookup("MCP999").is_none());
    }
}
