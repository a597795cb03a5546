//! MCP202 leaked-error-detail
//!
//! ## What it finds
//! A tool that hands the raw text of an upstream, database or file-system
//! error back to the MCP client: a broad or library-typed catch whose error
//! text reaches the tool's result or the error it raises.
//!
//! The catch: `except Exception`, a bare `except:`, `except httpx.HTTPError`,
//! `except OSError`, an untyped `catch (e)`, a Rust `Err(e)` arm or a
//! `map_err` closure on a library call. The text: `str(e)`, `f"{e}"`,
//! `repr(e)`, `e.args`, `traceback.format_exc()`, `err.message`,
//! `err.stack`, `String(err)`, `` `${err}` ``, `JSON.stringify(err)`,
//! `e.to_string()`, `format!("{e}")`, `format!("{e:?}")`.
//!
//! Also a `fastmcp` server (`FastMCP(..)` of the `fastmcp` package) built
//! without `mask_error_details=True` when one of its tools does upstream,
//! database or file-system work: fastmcp sends `str(e)` of any exception a
//! tool lets escape. Reported once per server, at its construction.
//!
//! ## Why it matters
//! What a tool returns is read by the model, and by any prompt injection the
//! model has read. A driver's error text carries hostnames, internal URLs,
//! SQL with table and column names, file paths and stack traces; handed
//! back verbatim, it maps the server's insides for whoever steers the model,
//! one failing call at a time, at machine speed.
//!
//! ## Flagged
//! ```python
//! @mcp.tool()
//! async def get_issue(key: str) -> str:
//!     try:
//!         r = await client.get(f"/rest/api/2/issue/{key}")
//!         return r.text
//!     except Exception as e:
//!         return f"Error: {e}"
//! ```
//! ```ts
//! server.tool("read_note", { path: z.string() }, async ({ path }) => {
//!   try {
//!     return { content: [{ type: "text", text: await fs.readFile(path, "utf8") }] };
//!   } catch (err) {
//!     return { content: [{ type: "text", text: `Error: ${err.message}` }], isError: true };
//!   }
//! });
//! ```
//! ```rust
//! let body = reqwest::get(url).await
//!     .map_err(|e| McpError::internal_error(e.to_string(), None))?;
//! ```
//! ```python
//! mcp = FastMCP("jira")  # fastmcp: tool exceptions reach the client verbatim
//! ```
//!
//! ## Fixed
//! ```python
//! except Exception:
//!     ref = uuid.uuid4().hex[:8]
//!     logger.exception("get_issue failed (ref %s)", ref)
//!     return f"Could not load the issue (ref {ref})."
//! ```
//! ```ts
//! } catch (err) {
//!   if (err instanceof NoteNotFound) return { content: [{ type: "text", text: err.message }], isError: true };
//!   console.error(err);
//!   return { content: [{ type: "text", text: "Could not read the note." }], isError: true };
//! }
//! ```
//! ```python
//! mcp = FastMCP("jira", mask_error_details=True)
//! ```
//! A project-defined exception caught by its type is fine (its message is
//! the project's own), and so is the detail going only to a logger.
//!
//! ## Fix
//! The `fastmcp` server finding is mechanical: `--fix` passes
//! `mask_error_details=True` to the `FastMCP(..)` constructor (or writes it
//! over a literal `False`/`None`); clients then get a generic message for
//! an unhandled exception while the log keeps the detail. A catch that
//! hands `str(e)` back gets no automatic fix: what the client should be
//! told instead, and where the detail should be logged, is the author's
//! to write.
//!
//! ## Limits
//! - Where it points: the `except` / `catch` line; for a Rust `match`, the
//!   `Err(e)` arm's pattern; for `map_err(|e| ..)` and a promise's
//!   `.catch(e => ..)`, the handler closure's first line; for the
//!   framework default, the `FastMCP(..)` call.
//! - Re-raising the caught error unchanged (`raise`, `raise e`, `throw err`,
//!   `Err(e) => return Err(e)`) is not reported, nor is an error no handler
//!   catches: the SDKs do send its text (`mcp.server.fastmcp` as `Error
//!   executing tool x: {e}`, the TypeScript SDK's `McpServer` as the tool
//!   result's text, rmcp as the JSON-RPC error message), but none of them
//!   has a switch to point at. Only the `fastmcp` package's default is
//!   reported, because `mask_error_details` turns it off.
//! - The `fastmcp` server is not reported when `mask_error_details` is given
//!   any value but a literal `False`/`None`, when its arguments include
//!   `**kwargs`, when the project assigns `settings.mask_error_details`, or
//!   when its code names `FASTMCP_MASK_ERROR_DETAILS`. The variable set only
//!   in a deployment file (Dockerfile, `.env`) is not seen: the server is
//!   reported, and the message says so.
//! - Python handlers that name only validation errors (`ValueError`,
//!   `TypeError`, `KeyError`, `IndexError`, `LookupError`, pydantic's
//!   `ValidationError`, `json.JSONDecodeError`) are taken as validation of
//!   the caller's input and left alone, whatever the `try` body calls.
//! - The protected code must do upstream, database or file-system work
//!   (per the knowledge packs), itself or through project functions it
//!   calls, or the handler must name an error type of a client library of
//!   the packs (`except RedisError`, `except httpx.HTTPError`): that says
//!   what the code does even where the client cannot be followed. In Rust
//!   only a library call in the matched or mapped expression itself
//!   counts: a project function's error type is its own.
//! - A method called on a value whose type the scan cannot follow
//!   (`fetcher = await get_fetcher(ctx)`, then `fetcher.get_page(..)`)
//!   counts as that work only when every same-named method of the package
//!   does; signatures that only declare (`@abstractmethod`, a `Protocol`'s
//!   members) are not counted. One namesake that reads a dict keeps the
//!   handler clean: in a large package some namesake always does I/O.
//! - The error text must flow, directly or through local variables of the
//!   handler, into a value the function returns or raises; a function's
//!   result is followed up through callers that return it, and a raised
//!   error through callers that do not catch around the call, to a tool
//!   handler (six steps at most). Handlers of resources and prompts are
//!   not judged. An error handed to a project function (`return
//!   format_error(e)`, `raise wrap(e)`) is followed one step into it: it
//!   leaks when that function returns or raises the error's text.
//! - The finding is about what a tool hands back, so it needs a tool:
//!   `--scope all` does not widen it to code no tool reaches.
//! - A TypeScript `if (e instanceof ProjectError) return e.message` inside an
//!   untyped catch is not told apart from the unguarded form yet; write the
//!   project error's message through a fixed text or suppress the line.

use super::Rule;
use crate::facts::{CallId, Ctx, Exit, ExitKind, Expr, FuncId, Module, Span, TemplatePart};
use crate::finding::{Axis, Finding, Location, Related, Severity};
use crate::knowledge::{any_matches, ErrorText, HandlerYields, Role};
use crate::link::{head_span, walk_deep, CallRef, Channel, FuncRef, Origin, Project};
use std::collections::HashSet;

pub static RULE: Rule = Rule {
    id: "MCP202",
    name: "leaked-error-detail",
    axis: Axis::Security,
    severity: Severity::Medium,
    cwe: &["CWE-209"],
    precision: "high",
    source: include_str!("leaked_error_detail.rs"),
    check,
};

const HELP: &str = "return a fixed message (with a reference id) and send the detail to the log; \
or catch the library's error and raise a project error with a message you wrote";

fn check(p: &Project, m: u32, out: &mut Vec<Finding>) {
    catches(p, m, out);
    handlers(p, m, out);
    masking(p, m, out);
}

/// What a handler reads the caught error as.
struct Cx<'a, 'k> {
    p: &'a Project<'k>,
    m: u32,
    module: &'a Module,
    text: &'a ErrorText,
    /// Names bound to the caught error.
    errs: Vec<String>,
    /// Locals that hold its text.
    taint: HashSet<String>,
    /// Inside the handler itself (`traceback.format_exc()` reads the
    /// exception being handled only there).
    inside: bool,
    /// Follow the error into a project function it is handed to.
    follow: bool,
}

impl Cx<'_, '_> {
    fn is_err(&self, e: &Expr) -> bool {
        matches!(e, Expr::Name(n) if self.errs.iter().any(|x| x == n))
    }

    /// Does `e` carry the caught error's text? `raised`: `e` is the value
    /// of a raise, where handing the error itself to a constructor copies it.
    fn carries(&self, e: &Expr, raised: bool) -> bool {
        if raised && self.is_err(e) {
            // `raise e`, `throw err`: a re-raise, judged as unhandled.
            return false;
        }
        let mut hit = false;
        walk_deep(self.module, e, 0, &mut |x| {
            hit = hit || self.is_text(x, raised);
        });
        hit
    }

    fn is_text(&self, x: &Expr, raised: bool) -> bool {
        let t = self.text;
        match x {
            Expr::Name(n) => self.taint.contains(n),
            Expr::Template(parts) => parts
                .iter()
                .any(|p| matches!(p, TemplatePart::Expr(v) if self.is_err(v))),
            Expr::Attr(o, a) => self.is_err(o) && t.attributes.iter().any(|x| x == a),
            Expr::Binary { op, lhs, rhs } if op == "+" || op == "%" => {
                self.is_err(lhs) || self.is_err(rhs)
            }
            Expr::Call(id) => {
                let c = self.module.call(*id);
                let path = c.path.as_deref().unwrap_or("");
                let given = || c.args.iter().any(|a| self.is_err(&a.value));
                (!path.is_empty() && any_matches(&t.functions, path) && given())
                    || (self.inside && !path.is_empty() && any_matches(&t.current, path))
                    || c.method.as_deref().is_some_and(|m| {
                        (t.methods.iter().any(|x| x == m)
                            && c.receiver.as_ref().is_some_and(|r| self.is_err(r)))
                            || (t.format_methods.iter().any(|x| x == m) && given())
                    })
                    || (raised
                        && t.bare_argument
                        && c.args
                            .iter()
                            .any(|a| a.name.is_none() && self.is_err(&a.value))
                        // A project function is judged by what it makes of it.
                        && self.p.target(CallRef { module: self.m, call: *id }).is_none())
                    || (self.follow && self.formats(*id))
            }
            _ => false,
        }
    }

    /// `format_error(e, ..)`: a project function handed the error that
    /// returns or raises its text.
    fn formats(&self, id: CallId) -> bool {
        let c = self.module.call(id);
        let Some(i) = c
            .args
            .iter()
            .position(|a| a.name.is_none() && self.is_err(&a.value))
        else {
            return false;
        };
        let Some(t) = self.p.target(CallRef {
            module: self.m,
            call: id,
        }) else {
            return false;
        };
        let tm = self.p.module(t.module);
        let tf = tm.func(t.func);
        // The receiver of a method call is not among the arguments.
        let skip = usize::from(
            c.method.is_some() && matches!(tf.params.first(), Some(p) if p.name == "self"),
        );
        let Some(param) = tf.params.get(i + skip) else {
            return false;
        };
        let mut cx = Cx {
            p: self.p,
            m: t.module,
            module: tm,
            text: &self.p.lk(t.module).error_text,
            errs: vec![param.name.clone()],
            taint: HashSet::new(),
            inside: false,
            follow: false,
        };
        cx.taint_locals(t.func, tf.span.start_byte, tf.span.end_byte);
        let exits = tm
            .exits
            .iter()
            .filter(|x| x.func == Some(t.func) && exit_counts(x));
        let mut values: Vec<(&Expr, bool)> = exits
            .filter_map(|x| x.value.as_ref().map(|v| (v, x.kind == ExitKind::Raise)))
            .collect();
        values.extend(tf.expr_body.as_ref().map(|v| (v, false)));
        values.into_iter().any(|(v, raised)| cx.carries(v, raised))
    }

    /// Adds the locals bound in `func` within `from..to` whose value
    /// carries the error's text (`msg = f"failed: {e}"`).
    fn taint_locals(&mut self, func: FuncId, from: u32, to: u32) {
        for _ in 0..3 {
            let before = self.taint.len();
            for b in &self.module.bindings {
                if b.func != Some(func) || b.span.start_byte < from || b.span.start_byte >= to {
                    continue;
                }
                if !self.taint.contains(&b.name) && self.carries(&b.value, false) {
                    self.taint.insert(b.name.clone());
                }
            }
            if self.taint.len() == before {
                break;
            }
        }
    }
}

/// How a value leaving a function travels: raised, returned wrapped as an
/// error (`Err(..)`), or returned.
fn channel_of(module: &Module, text: &ErrorText, kind: ExitKind, v: &Expr) -> Channel {
    if kind == ExitKind::Raise {
        return Channel::Raise;
    }
    match v {
        Expr::Call(id) => {
            let c = module.call(*id);
            let wrapped = c.method.is_none()
                && c.name()
                    .is_some_and(|n| text.error_wrappers.iter().any(|w| w == n));
            if wrapped {
                Channel::Raise
            } else {
                Channel::Result
            }
        }
        _ => Channel::Result,
    }
}

fn exit_counts(x: &Exit) -> bool {
    matches!(x.kind, ExitKind::Return | ExitKind::Raise | ExitKind::Tail)
}

/// Catch clauses (`except`, `catch`, `Err(e)` arms) whose error text leaves
/// through a tool's result or raised error.
fn catches(p: &Project, m: u32, out: &mut Vec<Finding>) {
    let module = p.module(m);
    let lk = p.lk(m);
    let text = &lk.error_text;
    for (ti, t) in module.tries.iter().enumerate() {
        let Some(f) = t.func else { continue };
        // Only what a tool can reach can hand it anything.
        if !p.is_reached(FuncRef { module: m, func: f }) {
            continue;
        }
        let ti = ti as u32;
        let mut body_io: Option<bool> = None;
        for (ci, clause) in t.clauses.iter().enumerate() {
            let ci = ci as u32;
            // Curated: the project's own exceptions, the caller's bad input.
            if !clause.types.is_empty()
                && clause
                    .types
                    .iter()
                    .all(|ty| p.is_project_class(m, ty) || any_matches(&text.narrow_types, ty))
            {
                continue;
            }
            let end = t
                .clauses
                .get(ci as usize + 1)
                .map(|n| n.span.start_byte)
                .unwrap_or(t.span.end_byte);
            let mut cx = Cx {
                p,
                m,
                module,
                text,
                errs: clause.binding.iter().cloned().collect(),
                taint: HashSet::new(),
                inside: true,
                follow: true,
            };
            cx.taint_locals(f, clause.span.start_byte, end);
            let in_clause = |x: &Exit| {
                x.ctx.iter().any(
                    |c| matches!(c, Ctx::Catch { try_id, clause } if *try_id == ti && *clause == ci),
                )
            };
            let mut leak: Option<(Span, Channel)> = None;
            for x in &module.exits {
                if x.func != Some(f) || !exit_counts(x) || leak.is_some() {
                    continue;
                }
                let Some(v) = &x.value else { continue };
                let hit = if in_clause(x) {
                    cx.carries(v, x.kind == ExitKind::Raise)
                } else if x.span.start_byte > clause.span.start_byte && !cx.taint.is_empty() {
                    // After the handler, through a local it set.
                    let after = Cx {
                        errs: Vec::new(),
                        inside: false,
                        taint: cx.taint.clone(),
                        ..cx
                    };
                    after.carries(v, false)
                } else {
                    false
                };
                if hit {
                    leak = Some((x.span, channel_of(module, text, x.kind, v)));
                }
            }
            // A Rust arm's value, when the match is what the function returns.
            if leak.is_none() {
                if let Some(v) = &clause.value {
                    let tail = module.exits.iter().any(|x| {
                        x.func == Some(f)
                            && matches!(x.kind, ExitKind::Tail | ExitKind::Return)
                            && x.span.start_byte <= t.span.start_byte
                            && t.span.end_byte <= x.span.end_byte
                    });
                    if tail && cx.carries(v, false) {
                        leak = Some((clause.span, channel_of(module, text, ExitKind::Tail, v)));
                    }
                }
            }
            let Some((at, channel)) = leak else { continue };
            let io = clause.types.iter().any(|ty| p.is_client_error(m, ty))
                || *body_io.get_or_insert_with(|| {
                    p.try_body_calls(m, ti)
                        .iter()
                        .any(|&c| p.call_does_io(CallRef { module: m, call: c }, text.typed))
                });
            if !io {
                continue;
            }
            let Some(tool) = p.reaches_tool(FuncRef { module: m, func: f }, channel) else {
                continue;
            };
            let what = match &clause.binding {
                Some(b) => format!("the text of the caught error `{b}`"),
                None => "the traceback of the caught error".to_string(),
            };
            out.push(report(p, m, f, clause.span, at, &what, channel, tool));
        }
    }
}

/// Error handlers handed to the failing work (`.map_err(|e| ..)`,
/// `.catch(e => ..)`) whose value carries the error's text to a tool.
fn handlers(p: &Project, m: u32, out: &mut Vec<Finding>) {
    let module = p.module(m);
    let lk = p.lk(m);
    if lk.error_handlers.is_empty() {
        return;
    }
    let text = &lk.error_text;
    for (ci, c) in module.calls.iter().enumerate() {
        let Some(method) = c.method.as_deref() else {
            continue;
        };
        let Some(h) = lk.error_handlers.iter().find(|h| h.method == method) else {
            continue;
        };
        let Some(g) = c.func else { continue };
        let Some(Expr::Func(hf)) = c.positional(h.arg) else {
            continue;
        };
        if !p.is_reached(FuncRef { module: m, func: g }) {
            continue;
        }
        let hfun = module.func(*hf);
        let Some(param) = hfun.params.first() else {
            continue;
        };
        if param.name.is_empty() || param.name.starts_with('_') {
            continue;
        }
        let mut cx = Cx {
            p,
            m,
            module,
            text,
            errs: vec![param.name.clone()],
            taint: HashSet::new(),
            inside: true,
            follow: true,
        };
        cx.taint_locals(*hf, hfun.span.start_byte, hfun.span.end_byte);
        let yields = match h.yields {
            HandlerYields::Error => Channel::Raise,
            HandlerYields::Result => Channel::Result,
        };
        let mut leak: Option<(Span, Channel)> = None;
        if let Some(v) = &hfun.expr_body {
            if cx.carries(v, yields == Channel::Raise) {
                leak = Some((head_span(hfun.span), yields));
            }
        }
        for x in &module.exits {
            if leak.is_some() || x.func != Some(*hf) || !exit_counts(x) {
                continue;
            }
            let Some(v) = &x.value else { continue };
            let channel = if x.kind == ExitKind::Raise {
                Channel::Raise
            } else {
                yields
            };
            if cx.carries(v, channel == Channel::Raise) {
                leak = Some((x.span, channel));
            }
        }
        let Some((at, channel)) = leak else { continue };
        // The work the handler is attached to: the receiver chain.
        let mut io = false;
        let mut r = c.receiver.as_ref();
        let mut steps = 0;
        while let Some(Expr::Call(id)) = r {
            io |= p.call_does_io(
                CallRef {
                    module: m,
                    call: *id,
                },
                text.typed,
            );
            r = module.call(*id).receiver.as_ref();
            steps += 1;
            if io || steps > 32 {
                break;
            }
        }
        if !io {
            continue;
        }
        // The handler's value becomes the call's: an error the caller
        // propagates unless it catches around it, or a result it returns.
        let passes = match channel {
            Channel::Raise => !c.ctx.iter().any(|x| matches!(x, Ctx::Try(_))),
            Channel::Result => p.returns_call(m, g, ci as CallId),
        };
        if !passes {
            continue;
        }
        let Some(tool) = p.reaches_tool(FuncRef { module: m, func: g }, channel) else {
            continue;
        };
        let what = format!("the text of the error `{}`", param.name);
        out.push(report(p, m, g, hfun.span, at, &what, channel, tool));
    }
}

#[allow(clippy::too_many_arguments)]
fn report(
    p: &Project,
    m: u32,
    func: FuncId,
    span: Span,
    exit: Span,
    what: &str,
    channel: Channel,
    tool: FuncRef,
) -> Finding {
    let way = match channel {
        Channel::Result => "the tool's result",
        Channel::Raise => "the error the tool raises",
    };
    let name = p
        .entry_of(tool)
        .map(|e| e.describe(p))
        .unwrap_or_else(|| "an MCP tool".to_string());
    let mut f = RULE.finding(
        p,
        m,
        Some(func),
        span,
        format!(
            "{what} from upstream, database or file-system work reaches {way} ({name}): \
             hosts, paths, SQL and stack traces go to the model"
        ),
        HELP.to_string(),
    );
    f.related.push(Related {
        location: Location {
            path: p.module(m).path.clone(),
            span: head_span(exit),
        },
        message: format!("the error text leaves here, through {way}"),
    });
    f
}

/// Servers that send the text of unhandled tool errors unless masked
/// (`fastmcp.FastMCP(..)` without `mask_error_details=True`).
fn masking(p: &Project, m: u32, out: &mut Vec<Finding>) {
    let module = p.module(m);
    let lk = p.lk(m);
    if lk.error_masking.is_empty() {
        return;
    }
    for (ci, c) in module.calls.iter().enumerate() {
        let Some(path) = c.path.as_deref() else {
            continue;
        };
        let Some(mk) = lk
            .error_masking
            .iter()
            .find(|x| any_matches(&x.constructors, path))
        else {
            continue;
        };
        if c.has_spread_arg() {
            continue;
        }
        if let Some(v) = c.kwarg(&mk.keyword) {
            if !matches!(v, Expr::Bool(false) | Expr::Null) {
                continue;
            }
        }
        let me = CallRef {
            module: m,
            call: ci as CallId,
        };
        let io = p.io_functions();
        let Some(tool) = p
            .entries()
            .iter()
            .find(|e| e.role == Role::Tool && io.contains(&e.func) && registered_on(p, e, me))
        else {
            continue;
        };
        // Last: it reads the whole project.
        if project_masks(p, &mk.assignments, &mk.env) {
            continue;
        }
        let th = p.module(tool.func.module).func(tool.func.func);
        let mut f = RULE.finding(
            p,
            tool.func.module,
            Some(tool.func.func),
            head_span(th.span),
            format!(
                "this `fastmcp` server sends `str(e)` of every exception a tool lets escape \
                 to the client ({} does upstream, database or file-system work): \
                 `{}` is not set (nor FASTMCP_MASK_ERROR_DETAILS, as far as the code shows)",
                tool.describe(p),
                mk.keyword
            ),
            format!(
                "pass `{}=True` and raise `ToolError(\"..\")` with a message you wrote where \
                 the client should see one",
                mk.keyword
            ),
        );
        f.location = Location {
            path: module.path.clone(),
            span: c.span,
        };
        f.fix = mask_fix(c, &mk.keyword, mk.fix_value.as_deref());
        out.push(f);
    }
}

/// `FastMCP("x")` → `FastMCP("x", mask_error_details=True)`; a literal
/// `False`/`None` given is overwritten.
fn mask_fix(
    c: &crate::facts::Call,
    keyword: &str,
    value: Option<&str>,
) -> Option<crate::finding::Fix> {
    let value = value?;
    let item = format!("{keyword}={value}");
    let says = format!("pass `{item}`: clients get a generic message, the log keeps the detail");
    let edit = match c
        .args
        .iter()
        .position(|a| a.name.as_deref() == Some(keyword))
    {
        Some(i) if matches!(c.args[i].value, Expr::Bool(false) | Expr::Null) => {
            super::edits::replace(c.arg_span_at(i)?, item)
        }
        Some(_) => return None,
        None => super::edits::append(c.arg_list.as_ref()?, &item, false),
    };
    super::edits::fix(says, vec![edit])
}

/// Is tool entry `e` registered on the server built by call `server`?
fn registered_on(p: &Project, e: &crate::link::Entry, server: CallRef) -> bool {
    let Some((m, func, recv, pos)) = p.tool_server(e) else {
        return false;
    };
    p.trace(m, func, &recv, pos)
        .iter()
        .any(|o| matches!(o, Origin::Call(k) if *k == server))
}

/// Does the project turn masking on for the whole process: an assignment
/// to the settings attribute, or the environment variable named in code?
fn project_masks(p: &Project, assignments: &[String], env: &[String]) -> bool {
    p.modules.iter().any(|m| {
        m.bindings.iter().any(|b| {
            assignments
                .iter()
                .any(|a| b.name == *a || b.name.ends_with(&format!(".{a}")))
                && !matches!(b.value, Expr::Bool(false))
        }) || {
            let mut named = false;
            let mut look = |e: &Expr| {
                e.walk(&mut |x| {
                    named |= matches!(x, Expr::Str(s) if env.iter().any(|v| v == s));
                })
            };
            for c in &m.calls {
                for a in &c.args {
                    look(&a.value);
                }
                if let Some(r) = &c.receiver {
                    look(r);
                }
            }
            for b in &m.bindings {
                look(&b.value);
            }
            named
        }
    })
}
