//! MCP204 misdeclared-tool-annotation
//!
//! ## What it finds
//! A tool whose declared behaviour hints contradict what its handler does:
//! `readOnlyHint: true` on a handler that changes something outside the
//! process, `destructiveHint: false` on one that deletes, or
//! `idempotentHint: true` on one whose side effect repeats on a retry.
//!
//! In detail:
//! - `readOnlyHint: true` on a handler that performs an external mutation
//!   (an HTTP POST, PUT, PATCH or DELETE; a SQL INSERT, UPDATE or DELETE; a
//!   file write or removal; a mutating SDK call);
//! - `destructiveHint: false` on one that deletes (an HTTP DELETE, a SQL
//!   DELETE, DROP or TRUNCATE, a file removal, an SDK delete);
//! - `idempotentHint: true` on one whose mutation repeats when the call is
//!   repeated (as MCP203 defines it: a POST, an INSERT without a dedup, a
//!   relative UPDATE, a create/send/charge SDK call) and that takes no
//!   idempotency key.
//!
//! Hints are read from TS `annotations: {..}` in `registerTool(name, config,
//! cb)`, the annotations object of `server.tool(name, .., annotations, cb)`,
//! Python `@mcp.tool(annotations=ToolAnnotations(..))` or a dict, and rmcp
//! `#[tool(annotations(read_only_hint = true))]`. Mutations are followed into
//! the project functions the handler calls.
//!
//! ## Why it matters
//! Clients trust these hints to decide what runs without asking a human: a
//! tool marked read-only is auto-approved, one marked non-destructive is not
//! confirmed, one marked idempotent is retried freely. A wrong hint turns
//! that trust into writes, deletions or double charges nobody approved.
//!
//! ## Flagged
//! ```ts
//! server.registerTool("archive_note", {
//!   description: "Archive a note",
//!   annotations: { readOnlyHint: true },
//! }, async ({ id }) => {
//!   await fs.promises.unlink(`${DIR}/${id}.md`);
//!   return { content: [{ type: "text", text: "ok" }] };
//! });
//! ```
//!
//! ## Fixed
//! ```ts
//!   annotations: { readOnlyHint: false, destructiveHint: true },
//! ```
//!
//! ## Limits
//! - Only hints written as literal booleans are read, on the decorator,
//!   attribute or registration call, or in an annotations object bound to a
//!   name in the same file.
//! - Only mutations we can read count (see MCP203). Policy: a POST does not
//!   contradict `readOnlyHint` or `idempotentHint` when its URL cannot be
//!   read, when the URL says it reads (`search`, `query`, `graphql`, `find`,
//!   `lookup`, ..: the packs' `read_post_words`), or when its body has a
//!   `query` key (GraphQL): many read APIs are called with POST.
//! - A removal in a `finally` block or an error handler is the handler
//!   cleaning up after itself (a temporary file, a partial download), not a
//!   change it makes to the world: not counted.
//! - A method call that reaches a project function is judged by what that
//!   function does, not by its name (`client.create_comment(..)` of the
//!   project's own client is followed into its body).
//! - Tools served by a low-level `call_tool` dispatcher are not judged: their
//!   annotations are listed apart from the code that runs them.

use super::Rule;
use crate::finding::{Axis, Finding, Location, Related, Severity};
use crate::knowledge::Role;
use crate::link::{head_span, HintKind, Mutation, Project};

pub static RULE: Rule = Rule {
    id: "MCP204",
    name: "misdeclared-tool-annotation",
    axis: Axis::Security,
    severity: Severity::Medium,
    cwe: &["CWE-684"],
    precision: "high",
    source: include_str!("misdeclared_tool_annotation.rs"),
    check,
};

fn check(p: &Project, m: u32, out: &mut Vec<Finding>) {
    for e in p.entries() {
        // Hints are written where the handler is defined or registered:
        // each module judges only its own.
        if e.role != Role::Tool || e.dispatcher || (e.module != m && e.func.module != m) {
            continue;
        }
        let hints: Vec<_> = p
            .tool_hints(e)
            .into_iter()
            .filter(|h| h.module == m)
            .collect();
        if hints.is_empty() {
            continue;
        }
        let muts = p.handler_mutations(e.func);
        if muts.is_empty() {
            continue;
        }
        let tool = e.describe(p);
        for h in hints {
            let found: Option<(&Mutation, &str)> = match (h.kind, h.value) {
                (HintKind::ReadOnly, true) => muts
                    .iter()
                    .find(|x| !x.maybe_read)
                    .map(|x| (x, "is declared read-only but performs")),
                (HintKind::Destructive, false) => muts
                    .iter()
                    .find(|x| x.deletes())
                    .map(|x| (x, "is declared non-destructive but performs")),
                (HintKind::Idempotent, true) => muts
                    .iter()
                    .find(|x| x.repeats() && !x.maybe_read)
                    .filter(|_| !p.takes_idempotency_key(e.func))
                    .map(|x| {
                        (
                            x,
                            "is declared idempotent but takes no idempotency key and performs",
                        )
                    }),
                _ => None,
            };
            let Some((x, says)) = found else { continue };
            let at = p.module(x.call.module);
            let call_span = at.call(x.call.call).span;
            let site = if x.call.module == m {
                format!("line {}", call_span.start_line)
            } else {
                format!("{}:{}", at.path, call_span.start_line)
            };
            let mut f = RULE.finding(
                p,
                e.func.module,
                Some(e.func.func),
                h.span,
                format!("{tool} {says} {} ({site}): `{}` is wrong", x.what, h.key),
                "declare what the handler does: clients auto-approve read-only tools, skip confirming non-destructive ones and retry idempotent ones".to_string(),
            );
            f.location.path = p.module(m).path.clone();
            f.related.push(Related {
                location: Location {
                    path: at.path.clone(),
                    span: head_span(call_span),
                },
                message: format!("{} here", x.what),
            });
            out.push(f);
        }
    }
}
