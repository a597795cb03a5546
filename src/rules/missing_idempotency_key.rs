//! MCP203 missing-idempotency-key
//!
//! ## What it finds
//! A tool whose name says it changes something (`create_order`, `sendEmail`,
//! `charge_card`) and whose handler performs a side effect that repeats when
//! the call is retried — an HTTP POST, a SQL INSERT, a SQL UPDATE that adds
//! to a column, an SDK create/send/charge call — with no idempotency key
//! taken and passed on, and no dedup on a natural key.
//!
//! The side effects are read from the handler and the project functions it
//! calls: an HTTP POST; a SQL INSERT; a SQL UPDATE whose SET is relative
//! (`qty = qty + $1`); a create/send/charge call of an SDK the knowledge
//! packs list (Stripe, Twilio, SendGrid, Resend, Slack, GitHub, SQS, SNS,
//! Kafka, RabbitMQ, Redis `INCR`/`XADD`, MongoDB inserts). A retry is safe
//! when the handler has a parameter (or reads a field) named like an
//! idempotency key (`idempotency_key`, `dedup_id`, `request_id`,
//! `client_token`, `operation_id`), passes an `Idempotency-Key` header or
//! the SDK's idempotency key upstream, or dedups on a natural key (a
//! `SELECT .. WHERE` lookup before the insert, `INSERT .. ON CONFLICT ..`).
//!
//! The mutating verbs are matched as whole words of the tool or function
//! name (create, add, send, post, publish, charge, pay, refund, transfer,
//! book, order, submit, insert, invoice, bill, notify, enqueue, update,
//! adjust, increment, grant, write, append, upload): `logbook` or
//! `list_deployments` do not match. Mutations are followed into the project
//! functions the handler calls.
//!
//! ## Why it matters
//! MCP clients and the models driving them retry: on a timeout, on a lost
//! connection, or because the model decided to try again. A tool that
//! charges a card, sends an email or inserts an order without a key that
//! the upstream dedups on does it twice, and the second charge is real.
//! An SDK's own automatic idempotency key for its network retries does not
//! help: the retried tool call makes a new SDK call with a new key.
//!
//! ## Flagged
//! ```python
//! @mcp.tool()
//! async def create_order(sku: str, qty: int) -> str:
//!     async with httpx.AsyncClient() as c:
//!         r = await c.post(f"{SHOP}/orders", json={"sku": sku, "qty": qty})
//!     return r.text
//! ```
//! ```ts
//! server.tool("charge_card", { amount: z.number() }, async ({ amount }) => {
//!   await stripe.paymentIntents.create({ amount, currency: "usd" });
//! });
//! ```
//!
//! ## Fixed
//! ```python
//! @mcp.tool()
//! async def create_order(sku: str, qty: int, idempotency_key: str) -> str:
//!     async with httpx.AsyncClient() as c:
//!         r = await c.post(f"{SHOP}/orders", json={"sku": sku, "qty": qty},
//!                          headers={"Idempotency-Key": idempotency_key})
//!     return r.text
//! ```
//! ```ts
//! await stripe.paymentIntents.create({ amount, currency: "usd" }, { idempotencyKey: requestId });
//! ```
//! Or dedup on a natural key: `INSERT .. ON CONFLICT (order_ref) DO NOTHING`.
//!
//! ## Limits
//! - Only mutations we can read are judged: an HTTP verb written as the
//!   client's method or a literal `method`, SQL text we can read (a literal,
//!   an f-string or template, a constant), an SDK call the packs list. A
//!   query built elsewhere or an HTTP verb held in a variable is not.
//! - Naturally idempotent mutations are fine: PUT, PATCH, DELETE, SQL
//!   DELETE, an UPDATE that sets absolute values, file writes.
//! - A lookup counts as a natural-key dedup when a `SELECT .. WHERE` runs
//!   earlier in the same function as the INSERT; whether it looks up the
//!   same key is not checked.
//! - A key counts when the handler has a parameter named like one or reads
//!   or passes on a field named like one (`req.idempotency_key`); that it
//!   reaches the upstream is not checked.
//! - Tools served by a low-level `call_tool` dispatcher are not judged yet:
//!   the branch for each tool name is not modelled.

use super::Rule;
use crate::finding::{Axis, Finding, Severity};
use crate::knowledge::Role;
use crate::link::{head_span, mutating_verb, Project};

pub static RULE: Rule = Rule {
    id: "MCP203",
    name: "missing-idempotency-key",
    axis: Axis::Security,
    severity: Severity::Medium,
    cwe: &["CWE-837"],
    precision: "medium",
    source: include_str!("missing_idempotency_key.rs"),
    check,
};

fn check(p: &Project, m: u32, out: &mut Vec<Finding>) {
    let vocab = &p.lk(m).mutation;
    for e in p.entries() {
        if e.module != m || e.role != Role::Tool || e.dispatcher {
            continue;
        }
        let hm = p.module(e.func.module);
        let fname = &hm.func(e.func.func).name;
        let verb = e
            .name
            .as_deref()
            .and_then(|n| mutating_verb(vocab, n))
            .or_else(|| mutating_verb(vocab, fname));
        let Some(verb) = verb else { continue };
        let Some(mutation) = p
            .handler_mutations(e.func)
            .into_iter()
            .find(|x| x.repeats())
        else {
            continue;
        };
        if p.takes_idempotency_key(e.func) {
            continue;
        }
        let tool = e.describe(p);
        let at = p.module(mutation.call.module);
        let line = at.call(mutation.call.call).span.start_line;
        let site = if mutation.call.module == m {
            format!("line {line}")
        } else {
            format!("{}:{line}", at.path)
        };
        // In scope as the handler is; pointed at where the tool is declared.
        // The registration call, or the whole handler for a decorated one
        // (its head is a point, which viewers cannot highlight).
        let span = if e.span.start_byte == e.span.end_byte {
            hm.func(e.func.func).span
        } else {
            e.span
        };
        let mut f = RULE.finding(
            p,
            e.func.module,
            Some(e.func.func),
            span,
            format!(
                "{tool} (`{verb}`) performs {} ({site}) and takes no idempotency key: a retried call repeats it",
                mutation.what
            ),
            "take an `idempotency_key` parameter and pass it upstream (an `Idempotency-Key` header, the SDK's idempotency key), or dedup on a natural key (`INSERT .. ON CONFLICT DO NOTHING`)".to_string(),
        );
        f.location.path = p.module(m).path.clone();
        f.related.push(crate::finding::Related {
            location: crate::finding::Location {
                path: at.path.clone(),
                span: head_span(at.call(mutation.call.call).span),
            },
            message: format!("{} here", mutation.what),
        });
        out.push(f);
    }
}
