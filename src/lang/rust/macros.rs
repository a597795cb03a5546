//! Macro invocations and attributes.
//!
//! The grammar leaves a macro's body as a token tree. A macro invocation is
//! a `Call` with `is_macro`; its arguments are recovered by re-parsing the
//! body's text as Rust, wrapped so that it parses as a call's arguments
//! (`fn __m(){__f(<body>);}`) or as a block (`fn __m(){<body>}`), and the
//! resulting nodes are lowered with a [`Shift`] that maps their positions
//! back into the file. The body is copied byte for byte (a few tokens are
//! rewritten in place, same length: tracing's `%x` sigils, `key: v`, `;` in
//! `vec![x; n]`), so the shift is one offset plus a column offset on the
//! first row. Bodies of 64 KiB or more are not re-parsed, and the total
//! re-parsed bytes per file are capped (nested macros re-parse their inner
//! text once per level).
//!
//! - format-like macros (`format!`, `println!`, `anyhow!`, `bail!`, `info!`,
//!   `write!`, ...): arguments, and their value is a `Template`;
//! - `json!`: the value is an `Object`/`Array` built from the tokens, the
//!   non-literal values are re-parsed;
//! - `tokio::select!`: each branch's future is an argument, the handlers are
//!   lowered in place;
//! - other `name!(..)` / `name![..]`: arguments; other `name! { .. }`: a
//!   block of statements and items lowered in place (`lazy_static!`).

use super::{fields, first_kid, is_string, kids, last_segment, tokens, Member, Shift, L, R};
use crate::facts::{Arg, CallId, Ctx, ExitKind, Expr, Object, Span, TemplatePart};
use std::cell::RefCell;
use tree_sitter::{Node, ParseOptions, ParseState, Parser, Point, Tree};

/// Bodies this large are not re-parsed.
const MAX_BODY: usize = 64 * 1024;

/// Macros nested deeper than this inside re-parsed bodies are left as
/// calls without arguments.
const MAX_NESTING: u32 = 16;

pub(super) struct MacroState {
    /// Bytes left to re-parse in this file.
    budget: usize,
    /// Re-parsed bodies we are inside of.
    nesting: u32,
    /// Re-parsing an unknown macro's body: stop at the first error.
    strict: bool,
}

impl MacroState {
    pub(super) fn new(src_len: usize) -> Self {
        MacroState {
            budget: src_len.saturating_mul(2).saturating_add(1 << 20),
            nesting: 0,
            strict: false,
        }
    }
}

thread_local! {
    static PARSER: RefCell<Option<Parser>> = const { RefCell::new(None) };
}

/// Parses a wrapped macro body. With `strict`, gives up as soon as the
/// parser meets an error: error recovery is what makes re-parsing a body
/// that is not Rust (a DSL) expensive. The check runs every 100 parser
/// operations, so where it stops does not depend on timing.
fn parse(text: &str, strict: bool) -> Option<Tree> {
    PARSER.with(|p| {
        let mut p = p.try_borrow_mut().ok()?;
        if p.is_none() {
            let mut parser = Parser::new();
            parser
                .set_language(&tree_sitter_rust::LANGUAGE.into())
                .ok()?;
            *p = Some(parser);
        }
        let parser = p.as_mut()?;
        let bytes = text.as_bytes();
        let mut input = |i: usize, _: Point| bytes.get(i..).unwrap_or(&[]);
        let mut give_up = |s: &ParseState| strict && s.has_error();
        let opts = ParseOptions::new().progress_callback(&mut give_up);
        let tree = parser.parse_with_options(&mut input, None, Some(opts));
        if tree.is_none() {
            // A halted parse would resume on the next call.
            parser.reset();
        }
        tree
    })
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Comma-separated expressions, the first string literal a format string.
    Format,
    Json,
    Select,
    /// Comma-separated expressions.
    Args,
    /// Statements and items.
    Block,
    /// A macro we do not know: re-parsed only when its tokens look like
    /// expressions (or, braced, statements).
    Unknown,
}

fn classify(short: &str) -> Kind {
    match short {
        "json" => Kind::Json,
        "select" | "select_biased" => Kind::Select,
        "format" | "format_args" | "print" | "println" | "eprint" | "eprintln" | "write"
        | "writeln" | "panic" | "todo" | "unimplemented" | "unreachable" | "anyhow" | "bail"
        | "eyre" | "ensure" | "assert" | "assert_eq" | "assert_ne" | "debug_assert"
        | "debug_assert_eq" | "debug_assert_ne" | "trace" | "debug" | "info" | "warn" | "error"
        | "event" | "dbg" => Kind::Format,
        "vec" | "join" | "try_join" | "matches" | "pin" | "pin_mut" => Kind::Args,
        "lazy_static" | "thread_local" | "task_local" | "stream" | "try_stream" => Kind::Block,
        _ => Kind::Unknown,
    }
}

/// Identifiers that are keywords (or contextual ones) inside token trees.
const KEYWORD_IDENTS: &[&str] = &[
    "move", "dyn", "ref", "in", "else", "yield", "raw", "box", "union", "auto", "default",
];

/// The text between a token tree's delimiters.
struct Inner {
    start: usize,
    end: usize,
    point: Point,
}

fn inner_of(tt: Node) -> Option<Inner> {
    let first = tt.child(0)?;
    if !matches!(first.kind(), "(" | "[" | "{") {
        return None;
    }
    let last = tt.child(tt.child_count().saturating_sub(1))?;
    let end = if last.id() != first.id() && matches!(last.kind(), ")" | "]" | "}") {
        last.start_byte()
    } else {
        tt.end_byte()
    };
    (end >= first.end_byte()).then(|| Inner {
        start: first.end_byte(),
        end,
        point: first.end_position(),
    })
}

/// The tokens of a token tree, its delimiters left out.
fn body_tokens<'t>(tt: Node<'t>) -> Vec<Node<'t>> {
    let mut ts = tokens(tt);
    if ts
        .last()
        .is_some_and(|t| matches!(t.kind(), ")" | "]" | "}"))
        && ts.len() > 1
    {
        ts.pop();
    }
    if ts
        .first()
        .is_some_and(|t| matches!(t.kind(), "(" | "[" | "{"))
    {
        ts.remove(0);
    }
    ts
}

/// Splits tokens at top-level commas; each part with the comma before it.
fn split_commas<'x, 't>(ts: &'x [Node<'t>]) -> Vec<(Option<Node<'t>>, &'x [Node<'t>])> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut sep = None;
    for (i, t) in ts.iter().enumerate() {
        if t.kind() == "," {
            out.push((sep, &ts[start..i]));
            sep = Some(*t);
            start = i + 1;
        }
    }
    if start < ts.len() {
        out.push((sep, &ts[start..]));
    }
    out
}

#[derive(Clone, Copy)]
enum Wrap {
    Args,
    Block,
}

struct Reparsed {
    tree: Tree,
    text: String,
    shift: Shift,
}

/// The `arguments` node of the wrapper `fn __m(){__f(..);}`.
fn wrapper_args(root: Node) -> Option<Node> {
    let f = fields();
    let func = first_kid(root).filter(|k| k.kind() == "function_item")?;
    let body = func.child_by_field_id(f.body)?;
    let stmts = kids(body);
    let [st] = stmts.as_slice() else {
        return None;
    };
    let call = if st.kind() == "expression_statement" {
        first_kid(*st)?
    } else {
        *st
    };
    if call.kind() != "call_expression" {
        return None;
    }
    call.child_by_field_id(f.arguments)
}

/// `{}` / `{name}` / `{0:?}` placeholders of a format string, filled from
/// the macro's arguments (the ones after the format string).
fn template(args: &[Arg]) -> Option<Expr> {
    let (fi, fmt) = args
        .iter()
        .enumerate()
        .find_map(|(i, a)| match (&a.name, &a.value) {
            (None, Expr::Str(s)) => Some((i, s.as_str())),
            _ => None,
        })?;
    let positional: Vec<&Expr> = args[fi + 1..]
        .iter()
        .filter(|a| a.name.is_none())
        .map(|a| &a.value)
        .collect();
    let mut parts = Vec::new();
    let mut lit = String::new();
    let mut next = 0usize;
    let mut rest = fmt;
    while let Some(i) = rest.find(['{', '}']) {
        lit.push_str(&rest[..i]);
        let c = rest.as_bytes()[i];
        let after = &rest[i + 1..];
        if after.as_bytes().first() == Some(&c) {
            lit.push(c as char);
            rest = &after[1..];
            continue;
        }
        if c == b'}' {
            lit.push('}');
            rest = after;
            continue;
        }
        let Some(close) = after.find('}') else {
            lit.push_str(&rest[i..]);
            rest = "";
            break;
        };
        let spec = &after[..close];
        rest = &after[close + 1..];
        let arg = spec.split(':').next().unwrap_or("").trim();
        let value = if arg.is_empty() {
            next += 1;
            positional.get(next - 1).map(|e| (*e).clone())
        } else if let Ok(n) = arg.parse::<usize>() {
            positional.get(n).map(|e| (*e).clone())
        } else {
            let named = args.iter().find(|a| a.name.as_deref() == Some(arg));
            Some(match named {
                Some(a) => a.value.clone(),
                None => Expr::Name(arg.to_string()),
            })
        };
        if !lit.is_empty() {
            parts.push(TemplatePart::Lit(std::mem::take(&mut lit)));
        }
        parts.push(TemplatePart::Expr(
            value.unwrap_or_else(|| Expr::unknown(&format!("{{{spec}}}"))),
        ));
    }
    lit.push_str(rest);
    if !lit.is_empty() {
        parts.push(TemplatePart::Lit(lit));
    }
    Some(Expr::Template(parts))
}

/// A `json!` value being assembled: literals are read from the tokens, the
/// other values (`Slot`s) are re-parsed together.
enum J {
    Obj(Vec<(String, J)>, bool),
    Arr(Vec<J>),
    Lit(Expr),
    Slot(usize),
}

impl J {
    fn into_expr(self, exprs: &mut [Option<Expr>]) -> Expr {
        match self {
            J::Obj(entries, spread) => Expr::Object(Object {
                type_name: None,
                list: None,
                spans: Vec::new(),
                entries: entries
                    .into_iter()
                    .map(|(k, v)| (k, v.into_expr(exprs)))
                    .collect(),
                spread,
            }),
            J::Arr(items) => Expr::Array(items.into_iter().map(|v| v.into_expr(exprs)).collect()),
            J::Lit(e) => e,
            J::Slot(i) => exprs
                .get_mut(i)
                .and_then(Option::take)
                .unwrap_or_else(|| Expr::unknown("")),
        }
    }
}

/// A range of the body to re-parse as one argument, and the byte of a
/// separator token before it that becomes the comma.
#[derive(Clone, Copy)]
struct Piece {
    start: usize,
    end: usize,
    comma: usize,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Future,
    Other,
}

impl<'a, 's> L<'a, 's> {
    pub(super) fn macro_call(&mut self, n: Node, tail: bool) -> R<Expr> {
        let f = fields();
        let name = n
            .child_by_field_id(f.macro_)
            .map(|m| self.path(m))
            .unwrap_or_default();
        let id = self.b.reserve_call(self.span(n));
        self.b.set_callee(id, Expr::Name(name.clone()));
        self.b.call_mut(id).is_macro = true;
        let short = last_segment(&name);
        let value = match kids(n).into_iter().find(|k| k.kind() == "token_tree") {
            Some(tt) => self.macro_body(id, short, tt)?,
            None => None,
        };
        match short {
            "bail" => {
                let v = value.clone().or_else(|| {
                    self.b.m.calls[id as usize]
                        .args
                        .first()
                        .map(|a| a.value.clone())
                });
                self.exit(n, ExitKind::Raise, v, None);
            }
            "panic" | "todo" | "unimplemented" | "unreachable" => {}
            _ if tail => {
                let v = value.clone().unwrap_or(Expr::Call(id));
                let at = self.span(n);
                self.exit(n, ExitKind::Tail, Some(v), Some(at));
            }
            _ => {}
        }
        Ok(value.unwrap_or(Expr::Call(id)))
    }

    /// Recovers a macro's arguments; returns its value when it is not the
    /// call itself (a `Template`, a `json!` object).
    fn macro_body(&mut self, id: CallId, short: &str, tt: Node) -> R<Option<Expr>> {
        let Some(inner) = inner_of(tt) else {
            return Ok(None);
        };
        if inner.end - inner.start >= MAX_BODY || inner.end == inner.start {
            return Ok(None);
        }
        if self.mac.nesting >= MAX_NESTING {
            return Ok(None);
        }
        self.mac.nesting += 1;
        let r = self.macro_kind(id, short, tt, &inner);
        self.mac.nesting -= 1;
        r
    }

    fn macro_kind(&mut self, id: CallId, short: &str, tt: Node, inner: &Inner) -> R<Option<Expr>> {
        let mut kind = classify(short);
        let unknown = kind == Kind::Unknown;
        if unknown {
            let ts = body_tokens(tt);
            let braced = tt.child(0).is_some_and(|d| d.kind() == "{");
            if self.plausible(&ts, true) {
                kind = Kind::Args;
            } else if braced && self.plausible(&ts, false) {
                kind = Kind::Block;
            } else {
                return Ok(None);
            }
        }
        let saved = std::mem::replace(&mut self.mac.strict, unknown);
        let r = self.macro_kind_known(id, kind, tt, inner);
        self.mac.strict = saved;
        r
    }

    /// Could these top-level tokens be comma-separated expressions (`args`)
    /// or statements? Rules out `quote!`'s `#x`, `macro_rules` fragments'
    /// `$x`, items in an argument list, and DSLs that put two names or
    /// literals next to each other.
    fn plausible(&self, ts: &[Node], args: bool) -> bool {
        let mut prev_atom = false;
        for t in ts {
            let k = t.kind();
            if matches!(k, "#" | "$") {
                return false;
            }
            if args
                && matches!(
                    k,
                    "fn" | "struct"
                        | "enum"
                        | "impl"
                        | "trait"
                        | "pub"
                        | "use"
                        | "mod"
                        | "static"
                        | "type"
                        | "where"
                        | "let"
                        | "extern"
                        | "=>"
                        | ";"
                )
            {
                return false;
            }
            let atom = match k {
                "identifier" => !KEYWORD_IDENTS.contains(&self.text(*t)),
                "integer_literal" | "float_literal" | "string_literal" | "raw_string_literal"
                | "char_literal" | "boolean_literal" => true,
                _ => false,
            };
            if atom && prev_atom {
                return false;
            }
            prev_atom = atom;
        }
        true
    }

    fn macro_kind_known(
        &mut self,
        id: CallId,
        kind: Kind,
        tt: Node,
        inner: &Inner,
    ) -> R<Option<Expr>> {
        match kind {
            Kind::Json => self.json_macro(id, tt, inner),
            Kind::Select => {
                self.select_macro(id, tt, inner)?;
                Ok(None)
            }
            Kind::Block => {
                self.block_macro(tt, inner)?;
                Ok(None)
            }
            kind => {
                self.args_macro(id, tt, inner)?;
                if kind == Kind::Format {
                    Ok(template(&self.b.m.calls[id as usize].args))
                } else {
                    Ok(None)
                }
            }
        }
    }

    fn sub<'c>(&'c mut self, src: &'c str, shift: Shift) -> L<'c, 's> {
        L {
            b: &mut *self.b,
            src,
            shift,
            mac: &mut *self.mac,
            tail: false,
            clause_span: None,
        }
    }

    fn reparse(&mut self, buf: Vec<u8>, inner: &Inner, wrap: Wrap) -> Option<Reparsed> {
        if buf.len() > self.mac.budget {
            return None;
        }
        self.mac.budget -= buf.len();
        let (pre, post) = match wrap {
            Wrap::Args => ("fn __m(){__f(", ");}"),
            Wrap::Block => ("fn __m(){", "\n}"),
        };
        let body = String::from_utf8(buf).ok()?;
        let mut text = String::with_capacity(pre.len() + body.len() + post.len());
        text.push_str(pre);
        text.push_str(&body);
        text.push_str(post);
        let tree = parse(&text, self.mac.strict)?;
        let (byte, line, col) = self.shift.pos(inner.start, inner.point);
        let shift = Shift {
            byte: byte as i64 - pre.len() as i64,
            row: line - 1,
            col: col as i64 - pre.len() as i64,
        };
        Some(Reparsed { tree, text, shift })
    }

    /// The body of the wrapper function, statements lowered in place (when
    /// the body did not parse as the expected call).
    fn wrapper_body(&mut self, root: Node) -> R<()> {
        let body = first_kid(root)
            .filter(|k| k.kind() == "function_item")
            .and_then(|func| func.child_by_field_id(fields().body));
        if let Some(body) = body {
            self.list(body, false, Member::No)?;
        }
        Ok(())
    }

    fn body_bytes(&self, inner: &Inner) -> Vec<u8> {
        self.src.as_bytes()[inner.start..inner.end].to_vec()
    }

    /// `name!(a, b, key = c)`: arguments under `Ctx::Arg`.
    fn args_macro(&mut self, id: CallId, tt: Node, inner: &Inner) -> R<()> {
        let ts = body_tokens(tt);
        // Without a nested token tree there is no call, closure or block:
        // read the arguments off the tokens.
        if !ts.iter().any(|t| t.kind() == "token_tree") {
            if let Some(args) = self.simple_args(&ts) {
                self.b.call_mut(id).args = args;
                return Ok(());
            }
        }
        let mut buf = self.body_bytes(inner);
        let mut set = |t: Node, c: u8| {
            if let Some(b) = t
                .start_byte()
                .checked_sub(inner.start)
                .and_then(|o| buf.get_mut(o))
            {
                *b = c;
            }
        };
        for (j, t) in ts.iter().enumerate() {
            let prev = j.checked_sub(1).map(|p| ts[p].kind());
            match t.kind() {
                // `vec![0; n]`
                ";" => set(*t, b','),
                // log's `target: "x"`
                ":" if prev == Some("identifier") && (j == 1 || ts[j - 2].kind() == ",") => {
                    set(*t, b'=')
                }
                // tracing's `user = %id`, `?err`
                "%" | "?" if matches!(prev, None | Some(",") | Some("=")) => set(*t, b' '),
                _ => {}
            }
        }
        let Some(re) = self.reparse(buf, inner, Wrap::Args) else {
            return Ok(());
        };
        let root = re.tree.root_node();
        let mut sub = self.sub(&re.text, re.shift);
        let Some(args) = wrapper_args(root) else {
            return sub.wrapper_body(root);
        };
        let f = fields();
        let mut i = 0u32;
        for k in kids(args) {
            if k.kind() == "attribute_item" {
                continue;
            }
            let mut name = None;
            let mut v = k;
            if k.kind() == "assignment_expression" {
                if let (Some(l), Some(r)) =
                    (k.child_by_field_id(f.left), k.child_by_field_id(f.right))
                {
                    if matches!(l.kind(), "identifier" | "field_expression") {
                        name = Some(sub.text(l).to_string());
                        v = r;
                    }
                }
            }
            let value = sub.in_ctx(Ctx::Arg { call: id, index: i }, |l| l.expr(v))?;
            sub.b.push_arg(id, name, value);
            i += 1;
        }
        Ok(())
    }

    /// Arguments made of names, literals, field accesses and paths, split
    /// at `,` (and `;`), or `None` for anything else.
    fn simple_args(&self, ts: &[Node]) -> Option<Vec<Arg>> {
        let mut out = Vec::new();
        let mut start = 0;
        for i in 0..=ts.len() {
            if i < ts.len() && !matches!(ts[i].kind(), "," | ";") {
                continue;
            }
            let seg = &ts[start..i];
            start = i + 1;
            if seg.is_empty() {
                continue;
            }
            let (name, value) = match seg {
                [k, eq, rest @ ..]
                    if k.kind() == "identifier"
                        && matches!(eq.kind(), "=" | ":")
                        && !rest.is_empty() =>
                {
                    (Some(self.text(*k).to_string()), rest)
                }
                _ => (None, seg),
            };
            // tracing's `%x` / `?x`
            let value = match value {
                [sigil, rest @ ..] if matches!(sigil.kind(), "%" | "?") && !rest.is_empty() => rest,
                v => v,
            };
            out.push(Arg {
                name,
                value: self.simple_expr(value)?,
            });
        }
        Some(out)
    }

    fn simple_expr(&self, ts: &[Node]) -> Option<Expr> {
        // Recurses once per prefix operator: keep it short.
        if ts.len() > 32 {
            return None;
        }
        let leaf = |t: Node| -> Option<Expr> {
            let text = self.text(t);
            Some(match t.kind() {
                k if is_string(k) => Expr::Str(super::string_content(text)),
                "integer_literal" | "float_literal" => Expr::Num(text.to_string()),
                "boolean_literal" => Expr::Bool(text == "true"),
                "char_literal" => {
                    Expr::Str(text.trim_start_matches('b').trim_matches('\'').to_string())
                }
                "identifier" | "self" => Expr::Name(text.to_string()),
                _ => return None,
            })
        };
        match ts {
            [t] => leaf(*t),
            [op, rest @ ..] if matches!(op.kind(), "&" | "-" | "!" | "*") => {
                let rest = match rest {
                    [m, r @ ..] if m.kind() == "mutable_specifier" => r,
                    r => r,
                };
                let inner = self.simple_expr(rest)?;
                Some(match op.kind() {
                    "&" => inner,
                    k => Expr::Unary {
                        op: k.to_string(),
                        operand: Box::new(inner),
                    },
                })
            }
            [first, ..] if matches!(first.kind(), "identifier" | "self" | "crate" | "super") => {
                // `a.b.c` or `a::b::C`
                let dots = ts.iter().skip(1).step_by(2).all(|t| t.kind() == ".");
                let colons = ts.iter().skip(1).step_by(2).all(|t| t.kind() == "::");
                let names = ts.iter().step_by(2).all(|t| {
                    matches!(
                        t.kind(),
                        "identifier" | "integer_literal" | "self" | "crate" | "super"
                    )
                });
                if ts.len().is_multiple_of(2) || !names {
                    return None;
                }
                if colons {
                    Some(Expr::Name(self.tokens_text(ts)))
                } else if dots {
                    let mut e = leaf(*first)?;
                    for t in ts.iter().skip(2).step_by(2) {
                        e = Expr::Attr(Box::new(e), self.text(*t).to_string());
                    }
                    Some(e)
                } else {
                    None
                }
            }
            _ => None,
        }
    }

    /// `lazy_static! { static ref C: T = ..; }` and other item macros.
    fn block_macro(&mut self, tt: Node, inner: &Inner) -> R<()> {
        let ts = body_tokens(tt);
        let mut buf = self.body_bytes(inner);
        for w in ts.windows(2) {
            if w[0].kind() == "static" && w[1].kind() == "identifier" && self.text(w[1]) == "ref" {
                let s = w[1].start_byte() - inner.start;
                buf[s..s + 3].fill(b' ');
            }
        }
        let Some(re) = self.reparse(buf, inner, Wrap::Block) else {
            return Ok(());
        };
        let root = re.tree.root_node();
        self.sub(&re.text, re.shift).wrapper_body(root)
    }

    /// A buffer of blanks (newlines kept) with the pieces copied in and a
    /// comma before each piece but the first.
    fn pieces_buf(&self, inner: &Inner, pieces: &[Piece]) -> Vec<u8> {
        let src = &self.src.as_bytes()[inner.start..inner.end];
        let mut buf: Vec<u8> = src
            .iter()
            .map(|&c| if c == b'\n' { b'\n' } else { b' ' })
            .collect();
        for (k, p) in pieces.iter().enumerate() {
            let (s, e) = (p.start - inner.start, p.end - inner.start);
            buf[s..e].copy_from_slice(&src[s..e]);
            if k > 0 {
                if let Some(c) = p
                    .comma
                    .checked_sub(inner.start)
                    .and_then(|c| buf.get_mut(c))
                {
                    *c = b',';
                }
            }
        }
        buf
    }

    /// Re-parses `pieces` as arguments and lowers them; `lower(i, node)` is
    /// called for each when they came back one for one, else every node is
    /// lowered in place.
    fn lower_pieces(
        &mut self,
        inner: &Inner,
        pieces: &[Piece],
        mut lower: impl FnMut(&mut L<'_, 's>, usize, Node) -> R<()>,
    ) -> R<()> {
        let buf = self.pieces_buf(inner, pieces);
        let Some(re) = self.reparse(buf, inner, Wrap::Args) else {
            return Ok(());
        };
        let root = re.tree.root_node();
        let mut sub = self.sub(&re.text, re.shift);
        let Some(args) = wrapper_args(root) else {
            return sub.wrapper_body(root);
        };
        let ks: Vec<Node> = kids(args)
            .into_iter()
            .filter(|k| k.kind() != "attribute_item")
            .collect();
        if ks.len() == pieces.len() {
            for (i, k) in ks.into_iter().enumerate() {
                lower(&mut sub, i, k)?;
            }
        } else {
            for k in ks {
                sub.expr(k)?;
            }
        }
        Ok(())
    }

    /// `tokio::select! { pat = fut(), if cond => handler, else => .. }`:
    /// futures are the arguments; preconditions and handlers are lowered in
    /// place (they run in the enclosing function, outside any argument).
    fn select_macro(&mut self, id: CallId, tt: Node, inner: &Inner) -> R<()> {
        let ts = body_tokens(tt);
        let n = ts.len();
        let kind = |i: usize| ts[i].kind();
        let mut pieces = Vec::new();
        let mut roles = Vec::new();
        let mut push = |s: Node, e: Node, comma: Node, role: Role| {
            pieces.push(Piece {
                start: s.start_byte(),
                end: e.end_byte(),
                comma: comma.start_byte(),
            });
            roles.push(role);
        };
        let mut i = 0;
        if n >= 2 && kind(0) == "identifier" && self.text(ts[0]) == "biased" && kind(1) == ";" {
            i = 2;
        }
        while i < n {
            while i < n && !matches!(kind(i), "=" | "=>") {
                i += 1;
            }
            if i >= n {
                break;
            }
            if kind(i) == "=" {
                let eq = ts[i];
                i += 1;
                let fs = i;
                while i < n
                    && kind(i) != "=>"
                    && !(kind(i) == "," && i + 1 < n && kind(i + 1) == "if")
                {
                    i += 1;
                }
                if i > fs {
                    push(ts[fs], ts[i - 1], eq, Role::Future);
                }
                if i < n && kind(i) == "," {
                    let if_tok = ts[i + 1];
                    i += 2;
                    let cs = i;
                    while i < n && kind(i) != "=>" {
                        i += 1;
                    }
                    if i > cs {
                        push(ts[cs], ts[i - 1], if_tok, Role::Other);
                    }
                }
                if i >= n {
                    break;
                }
            }
            let arrow = ts[i];
            i += 1;
            let braced =
                i < n && kind(i) == "token_tree" && ts[i].child(0).is_some_and(|c| c.kind() == "{");
            if braced {
                push(ts[i], ts[i], arrow, Role::Other);
                i += 1;
                if i < n && kind(i) == "," {
                    i += 1;
                }
            } else {
                let hs = i;
                while i < n && kind(i) != "," {
                    i += 1;
                }
                if i > hs {
                    push(ts[hs], ts[i - 1], arrow, Role::Other);
                }
                i += 1;
            }
        }
        if pieces.is_empty() {
            return Ok(());
        }
        let mut fut = 0u32;
        self.lower_pieces(inner, &pieces, |l, i, node| {
            if roles[i] == Role::Future {
                let v = l.in_ctx(
                    Ctx::Arg {
                        call: id,
                        index: fut,
                    },
                    |l| l.expr(node),
                )?;
                l.b.push_arg(id, None, v);
                fut += 1;
            } else {
                l.expr(node)?;
            }
            Ok(())
        })
    }

    /// `json!({"k": v, "a": [x, 1]})`: an `Object` (or `Array`, literal).
    fn json_macro(&mut self, id: CallId, tt: Node, inner: &Inner) -> R<Option<Expr>> {
        let ts = body_tokens(tt);
        let mut pieces = Vec::new();
        let j = self.json_value(&ts, tt.start_byte(), &mut pieces)?;
        let mut exprs: Vec<Option<Expr>> = vec![None; pieces.len()];
        if !pieces.is_empty() {
            self.lower_pieces(inner, &pieces, |l, i, node| {
                exprs[i] = Some(l.in_ctx(Ctx::Arg { call: id, index: 0 }, |l| l.expr(node))?);
                Ok(())
            })?;
        }
        let v = j.into_expr(&mut exprs);
        self.b.push_arg(id, None, v.clone());
        Ok(Some(v))
    }

    fn json_value(&mut self, ts: &[Node], sep: usize, pieces: &mut Vec<Piece>) -> R<J> {
        self.b.enter()?;
        let lit = match ts {
            [] => Some(J::Lit(Expr::Null)),
            [t] => match t.kind() {
                "token_tree" => match t.child(0).map(|c| c.kind()) {
                    Some("{") => Some(self.json_object(*t, pieces)?),
                    Some("[") => Some(self.json_array(*t, pieces)?),
                    _ => None,
                },
                k if is_string(k) => Some(J::Lit(Expr::Str(super::string_content(self.text(*t))))),
                "integer_literal" | "float_literal" => {
                    Some(J::Lit(Expr::Num(self.text(*t).into())))
                }
                "boolean_literal" => Some(J::Lit(Expr::Bool(self.text(*t) == "true"))),
                "identifier" if self.text(*t) == "null" => Some(J::Lit(Expr::Null)),
                "identifier" => Some(J::Lit(Expr::Name(self.text(*t).into()))),
                "self" => Some(J::Lit(Expr::Name("self".into()))),
                _ => None,
            },
            _ => None,
        };
        let out = match lit {
            Some(j) => j,
            None => {
                pieces.push(Piece {
                    start: ts[0].start_byte(),
                    end: ts[ts.len() - 1].end_byte(),
                    comma: sep,
                });
                J::Slot(pieces.len() - 1)
            }
        };
        self.b.leave();
        Ok(out)
    }

    fn json_object(&mut self, tt: Node, pieces: &mut Vec<Piece>) -> R<J> {
        let ts = body_tokens(tt);
        let mut entries = Vec::new();
        let mut spread = false;
        for (_, seg) in split_commas(&ts) {
            let [key, colon, value @ ..] = seg else {
                spread |= !seg.is_empty();
                continue;
            };
            let key = match key.kind() {
                k if is_string(k) => super::string_content(self.text(*key)),
                "identifier" => self.text(*key).to_string(),
                _ => {
                    spread = true;
                    continue;
                }
            };
            if colon.kind() != ":" {
                spread = true;
                continue;
            }
            let v = self.json_value(value, colon.start_byte(), pieces)?;
            entries.push((key, v));
        }
        Ok(J::Obj(entries, spread))
    }

    fn json_array(&mut self, tt: Node, pieces: &mut Vec<Piece>) -> R<J> {
        let ts = body_tokens(tt);
        let open = tt.start_byte();
        let mut items = Vec::new();
        for (sep, seg) in split_commas(&ts) {
            if seg.is_empty() {
                continue;
            }
            let sep = sep.map(|s| s.start_byte()).unwrap_or(open);
            items.push(self.json_value(seg, sep, pieces)?);
        }
        Ok(J::Arr(items))
    }

    // ------------------------------------------------------------ attributes

    /// `#[tool]` → `Name("tool")`; `#[tool(description = "..")]` → a `Call`
    /// (`is_macro`) whose args are the `key = value` pairs.
    pub(super) fn attribute(&mut self, item: Node, attr: Node) -> R<Option<Expr>> {
        let Some(path) = first_kid(attr) else {
            return Ok(None);
        };
        let name = self.path(path);
        let Some(tt) = attr.child_by_field_id(fields().arguments) else {
            return Ok(Some(Expr::Name(name)));
        };
        let id = self.b.reserve_call(self.span(item));
        self.b.set_callee(id, Expr::Name(name));
        self.b.call_mut(id).is_macro = true;
        let (args, spans) = self.attr_args(tt)?.into_iter().unzip();
        let c = self.b.call_mut(id);
        c.args = args;
        c.arg_spans = spans;
        Ok(Some(Expr::Call(id)))
    }

    /// The arguments of an attribute, each with where it is written.
    fn attr_args(&mut self, tt: Node) -> R<Vec<(Arg, Span)>> {
        self.b.enter()?;
        let ts = body_tokens(tt);
        let mut out = Vec::new();
        for (_, seg) in split_commas(&ts) {
            let span = match (seg.first(), seg.last()) {
                (Some(a), Some(b)) => span_between(self.span(*a), self.span(*b)),
                _ => Span::default(),
            };
            match seg {
                [] => {}
                [k, eq, rest @ ..] if k.kind() == "identifier" && eq.kind() == "=" => {
                    out.push((
                        Arg {
                            name: Some(self.text(*k).to_string()),
                            value: self.attr_value(rest),
                        },
                        span,
                    ));
                }
                [head @ .., last] if !head.is_empty() && last.kind() == "token_tree" => {
                    let name = self.tokens_text(head);
                    let (entries, spans) = self
                        .attr_args(*last)?
                        .into_iter()
                        .map(|(a, s)| match a.name {
                            Some(k) => ((k, a.value), s),
                            None => ((a.value.to_string(), a.value), s),
                        })
                        .unzip();
                    out.push((
                        Arg {
                            name: Some(name),
                            value: Expr::Object(Object {
                                type_name: None,
                                list: None,
                                entries,
                                spread: false,
                                spans,
                            }),
                        },
                        span,
                    ));
                }
                _ => out.push((
                    Arg {
                        name: None,
                        value: self.attr_value(seg),
                    },
                    span,
                )),
            }
        }
        self.b.leave();
        Ok(out)
    }

    /// The text from the first token to the last, whitespace removed.
    fn tokens_text(&self, ts: &[Node]) -> String {
        match (ts.first(), ts.last()) {
            (Some(a), Some(z)) => {
                let t = self.src.get(a.start_byte()..z.end_byte()).unwrap_or("");
                t.split_whitespace().collect()
            }
            _ => String::new(),
        }
    }

    fn attr_value(&self, ts: &[Node]) -> Expr {
        match ts {
            [t] => match t.kind() {
                k if is_string(k) => Expr::Str(super::string_content(self.text(*t))),
                "integer_literal" | "float_literal" => Expr::Num(self.text(*t).to_string()),
                "boolean_literal" => Expr::Bool(self.text(*t) == "true"),
                "identifier" | "self" | "crate" | "super" => Expr::Name(self.text(*t).to_string()),
                _ => self.unknown(*t),
            },
            [minus, num] if minus.kind() == "-" && num.kind().ends_with("_literal") => {
                Expr::Num(format!("-{}", self.text(*num)))
            }
            _ if ts
                .iter()
                .all(|t| matches!(t.kind(), "identifier" | "::" | "self" | "crate" | "super")) =>
            {
                Expr::Name(self.tokens_text(ts))
            }
            _ => Expr::unknown(&self.tokens_text(ts)),
        }
    }
}

/// From the start of `a` to the end of `b`.
fn span_between(a: Span, b: Span) -> Span {
    Span {
        end_byte: b.end_byte,
        end_line: b.end_line,
        end_col: b.end_col,
        ..a
    }
}
