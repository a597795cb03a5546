//! Language adapters: parse a file with tree-sitter and lower its tree into
//! [`facts::Module`](crate::facts::Module) in one walk. The tree is dropped
//! when `lower` returns.
//!
//! Every adapter uses [`Builder`] for the bookkeeping they share (spans, the
//! function and context stacks, the depth guard), so that what differs
//! between languages is only which node kinds mean what.

pub mod python;
pub mod rust;
pub mod typescript;

use crate::facts::{
    Arg, Call, CallId, Class, ClassId, Comment, Ctx, Expr, FuncId, FuncKind, Function, Lang,
    ListSpan, Loop, LoopId, LoopKind, Module, Span,
};
use tree_sitter::{Node, Parser, Tree};

/// How deep the adapters follow nesting before giving up on a file. Real
/// code stays far below; generated or hostile files can go deeper than a
/// worker thread's stack allows.
pub const MAX_DEPTH: u32 = 1_000;

/// How much stack a walk may use, per thread. Depth alone is no guard:
/// unoptimized builds spend several KiB of stack per nesting level. Threads
/// whose stack size we do not know get a budget that fits the smallest
/// common one (2 MiB); the scanner's workers, which it builds with a large
/// stack, raise theirs so that `MAX_DEPTH` is what stops a walk.
pub const DEFAULT_STACK_BUDGET: usize = 1 << 20;

thread_local! {
    static STACK_BUDGET: std::cell::Cell<usize> = const { std::cell::Cell::new(DEFAULT_STACK_BUDGET) };
}

/// Sets this thread's stack budget for lowering (bytes).
pub fn set_stack_budget(bytes: usize) {
    STACK_BUDGET.with(|b| b.set(bytes));
}

/// This thread's stack budget for lowering (bytes).
pub fn stack_budget() -> usize {
    STACK_BUDGET.with(|b| b.get())
}

/// An address on the current stack, for measuring how much of it a walk used.
#[inline(always)]
pub fn stack_pointer() -> usize {
    let here = 0u8;
    std::hint::black_box(&here) as *const u8 as usize
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LowerError {
    #[error("nesting deeper than {MAX_DEPTH} levels")]
    TooDeep,
    #[error("the parser gave up on this file")]
    ParseFailed,
}

pub fn tree_sitter_language(lang: Lang, path: &str) -> tree_sitter::Language {
    match lang {
        Lang::Python => tree_sitter_python::LANGUAGE.into(),
        Lang::Rust => tree_sitter_rust::LANGUAGE.into(),
        Lang::JavaScript => tree_sitter_javascript::LANGUAGE.into(),
        Lang::TypeScript => {
            if path.ends_with(".tsx") {
                tree_sitter_typescript::LANGUAGE_TSX.into()
            } else {
                tree_sitter_typescript::LANGUAGE_TYPESCRIPT.into()
            }
        }
    }
}

pub fn parse(lang: Lang, path: &str, source: &str) -> Result<Tree, LowerError> {
    let mut parser = Parser::new();
    parser
        .set_language(&tree_sitter_language(lang, path))
        .map_err(|_| LowerError::ParseFailed)?;
    parser.parse(source, None).ok_or(LowerError::ParseFailed)
}

/// Parses and lowers one file.
pub fn lower(lang: Lang, path: &str, source: &str) -> Result<Module, LowerError> {
    let tree = parse(lang, path, source)?;
    let mut m = match lang {
        Lang::Python => python::lower(&tree, source)?,
        Lang::TypeScript | Lang::JavaScript => typescript::lower(&tree, source)?,
        Lang::Rust => rust::lower(&tree, source)?,
    };
    m.path = path.to_string();
    m.lang = Some(lang);
    m.has_syntax_errors = tree.root_node().has_error();
    m.finish();
    Ok(m)
}

/// Shared state of one lowering walk.
pub struct Builder<'s> {
    pub src: &'s str,
    pub m: Module,
    /// The innermost enclosing function.
    pub func: Option<FuncId>,
    /// The innermost enclosing class / impl block.
    pub class: Option<ClassId>,
    /// Contexts between the current function's body and the current node.
    pub ctx: Vec<Ctx>,
    /// The conditionals (`if` statements, `case` branches) around the
    /// current node, innermost last; see [`crate::facts::Exit::guard`].
    pub guards: Vec<Span>,
    depth: u32,
    /// Where the walk's stack starts, for the stack budget.
    stack_base: usize,
}

impl<'s> Builder<'s> {
    pub fn new(src: &'s str) -> Self {
        Builder {
            src,
            m: Module::default(),
            func: None,
            class: None,
            ctx: Vec::new(),
            guards: Vec::new(),
            depth: 0,
            stack_base: stack_pointer(),
        }
    }

    pub fn text(&self, node: Node) -> &'s str {
        node.utf8_text(self.src.as_bytes()).unwrap_or("")
    }

    pub fn span(&self, node: Node) -> Span {
        span_of(node)
    }

    /// Guards one level of recursion: the depth limit, and this thread's
    /// stack budget measured from where the walk began (unoptimized builds
    /// spend several KiB of stack per level). Pair every successful `enter`
    /// with `leave`.
    pub fn enter(&mut self) -> Result<(), LowerError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH || stack_pointer().abs_diff(self.stack_base) > stack_budget() {
            Err(LowerError::TooDeep)
        } else {
            Ok(())
        }
    }

    pub fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    /// Runs `f` with `ctx` pushed.
    pub fn in_ctx<T>(&mut self, ctx: Ctx, f: impl FnOnce(&mut Self) -> T) -> T {
        self.ctx.push(ctx);
        let out = f(self);
        self.ctx.pop();
        out
    }

    /// Runs `f` inside the conditional spanning `span`.
    pub fn in_guard<T>(&mut self, span: Span, f: impl FnOnce(&mut Self) -> T) -> T {
        self.guards.push(span);
        let out = f(self);
        self.guards.pop();
        out
    }

    /// The innermost conditional around the current node.
    pub fn guard(&self) -> Option<Span> {
        self.guards.last().copied()
    }

    /// Reserves a call id before its arguments are lowered, so that calls
    /// nested in the arguments can point at it through `Ctx::Arg`.
    pub fn reserve_call(&mut self, span: Span) -> CallId {
        let id = self.m.calls.len() as CallId;
        self.m.calls.push(Call {
            span,
            callee: Expr::Unknown(String::new()),
            path: None,
            method: None,
            receiver: None,
            args: Vec::new(),
            arg_spans: Vec::new(),
            arg_list: None,
            name_span: None,
            discarded: false,
            is_new: false,
            awaited: false,
            is_macro: false,
            func: self.func,
            ctx: self.ctx.clone(),
            via: None,
        });
        id
    }

    /// Records a loop in the current function and context. Its body is
    /// then lowered under `Ctx::Loop(id)`.
    pub fn push_loop(
        &mut self,
        span: Span,
        kind: LoopKind,
        iter: Option<Expr>,
        vars: Vec<String>,
        cond: Option<Expr>,
    ) -> LoopId {
        let id = self.m.loops.len() as LoopId;
        self.m.loops.push(Loop {
            span,
            kind,
            func: self.func,
            iter,
            vars,
            cond,
            ctx: self.ctx.clone(),
        });
        id
    }

    pub fn call_mut(&mut self, id: CallId) -> &mut Call {
        &mut self.m.calls[id as usize]
    }

    /// Fills in a reserved call's callee. A member callee (`Attr`) also sets
    /// `method` and `receiver`.
    pub fn set_callee(&mut self, id: CallId, callee: Expr) {
        let c = self.call_mut(id);
        if let Expr::Attr(recv, method) = &callee {
            c.method = Some(method.clone());
            c.receiver = Some((**recv).clone());
        }
        c.callee = callee;
    }

    /// Lowers argument `index` of call `id` with `Ctx::Arg` pushed.
    pub fn in_arg<T>(&mut self, id: CallId, index: u32, f: impl FnOnce(&mut Self) -> T) -> T {
        self.in_ctx(Ctx::Arg { call: id, index }, f)
    }

    pub fn push_arg(&mut self, id: CallId, name: Option<String>, value: Expr) {
        self.call_mut(id).args.push(Arg { name, value });
    }

    /// Records where the argument just pushed on call `id` is written.
    pub fn arg_span(&mut self, id: CallId, span: Span) {
        let c = self.call_mut(id);
        c.arg_spans
            .resize(c.args.len().saturating_sub(1), Span::default());
        c.arg_spans.push(span);
    }

    /// Starts a function: returns its id and the saved outer state, which
    /// [`Builder::end_function`] restores.
    pub fn begin_function(&mut self, name: String, kind: FuncKind, span: Span) -> (FuncId, Saved) {
        let id = self.m.functions.len() as FuncId;
        self.m.functions.push(Function {
            name,
            kind,
            class: if kind == FuncKind::Method {
                self.class
            } else {
                None
            },
            span,
            is_async: false,
            params: Vec::new(),
            decorators: Vec::new(),
            parent: self.func,
            ctx: self.ctx.clone(),
            expr_body: None,
            expr_body_span: None,
            exported: false,
            globals: Vec::new(),
            returns: None,
        });
        let saved = Saved {
            func: self.func,
            ctx: std::mem::take(&mut self.ctx),
            class: self.class,
        };
        self.func = Some(id);
        (id, saved)
    }

    pub fn end_function(&mut self, saved: Saved) {
        self.func = saved.func;
        self.ctx = saved.ctx;
        self.class = saved.class;
    }

    pub fn func_mut(&mut self, id: FuncId) -> &mut Function {
        &mut self.m.functions[id as usize]
    }

    /// Starts a class or impl block. Functions defined directly inside it
    /// (with `FuncKind::Method`) belong to it until `end_class`.
    pub fn begin_class(&mut self, class: Class) -> (ClassId, Option<ClassId>) {
        let id = self.m.classes.len() as ClassId;
        self.m.classes.push(class);
        let outer = self.class.replace(id);
        (id, outer)
    }

    pub fn end_class(&mut self, outer: Option<ClassId>) {
        self.class = outer;
    }

    pub fn comment(&mut self, node: Node) {
        let c = Comment {
            span: self.span(node),
            text: self.text(node).to_string(),
        };
        self.m.comments.push(c);
    }

    /// The name of the class the current function belongs to (for
    /// `self.x` / `this.x` bindings and Rust `Self`).
    pub fn current_class_name(&self) -> Option<String> {
        self.m
            .class_of(self.func)
            .map(|c| c.name.clone())
            .or_else(|| self.class.map(|c| self.m.classes[c as usize].name.clone()))
    }
}

/// Outer state saved by [`Builder::begin_function`].
pub struct Saved {
    func: Option<FuncId>,
    ctx: Vec<Ctx>,
    class: Option<ClassId>,
}

pub fn span_of(node: Node) -> Span {
    let s = node.start_position();
    let e = node.end_position();
    Span {
        start_byte: node.start_byte() as u32,
        end_byte: node.end_byte() as u32,
        start_line: s.row as u32 + 1,
        start_col: s.column as u32,
        end_line: e.row as u32 + 1,
        end_col: e.column as u32,
    }
}

/// Where the bracketed list `list` is written (see [`ListSpan`]): its
/// items are its named children that `is_item` accepts (comments are
/// never items). `span` maps a node to its place in the file (a Rust macro
/// body is re-parsed out of place); `text` is the text `list` was parsed
/// from. What the edits of `--fix` need to add an item.
pub fn list_span(
    list: Node,
    text: &str,
    span: impl Fn(Node) -> Span,
    is_item: impl Fn(Node) -> bool,
) -> ListSpan {
    let mut last: Option<Node> = None;
    let mut comma: Option<Node> = None;
    let mut c = list.walk();
    for k in list.children(&mut c) {
        if k.is_extra() {
            continue;
        }
        if k.is_named() && is_item(k) {
            last = Some(k);
            comma = None;
        } else if k.kind() == "," && last.is_some() {
            comma = Some(k);
        }
    }
    let indent = last.and_then(|l| {
        let col = l.start_position().column;
        let start = l.start_byte();
        let before = text.get(start.checked_sub(col)?..start)?;
        (l.start_position().row > list.start_position().row
            && before.chars().all(|ch| ch == ' ' || ch == '\t'))
        .then(|| before.to_string())
    });
    ListSpan {
        span: span(list),
        last: last.map(&span),
        trailing_comma: comma.map(&span),
        indent,
    }
}

/// Strips the quotes (and a Python string prefix) from a plain string
/// literal's text. Escapes are left as written; rules only compare hosts,
/// keys and keywords.
pub fn unquote(text: &str) -> String {
    let t = text.trim_start_matches(|c: char| c.is_ascii_alphabetic());
    for q in ["\"\"\"", "'''", "\"", "'", "`"] {
        if t.len() >= 2 * q.len() && t.starts_with(q) && t.ends_with(q) {
            return t[q.len()..t.len() - q.len()].to_string();
        }
    }
    text.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unquote_strips_quotes_and_prefixes() {
        assert_eq!(unquote("\"abc\""), "abc");
        assert_eq!(unquote("'abc'"), "abc");
        assert_eq!(unquote("r'abc'"), "abc");
        assert_eq!(unquote("\"\"\"abc\"\"\""), "abc");
        assert_eq!(unquote("`abc`"), "abc");
    }

    fn text(src: &str, s: crate::facts::Span) -> &str {
        &src[s.start_byte as usize..s.end_byte as usize]
    }

    /// What `--fix` builds its edits from: where arguments, lists, names
    /// and values are written, and which calls' values are thrown away.
    #[test]
    fn edit_facts_say_where_things_are_written() {
        use crate::facts::{Expr, Lang};
        let py = "import asyncio, requests\nasync def f(u):\n    r = requests.get(\n        u,\n        timeout=None,\n    )\n    await asyncio.gather(a(), b())\n    x = lambda _: True\n    try:\n        pass\n    except Exception:\n        return True\n";
        let m = lower(Lang::Python, "a.py", py).unwrap();
        let get = m
            .calls
            .iter()
            .find(|c| c.method.as_deref() == Some("get"))
            .unwrap();
        assert_eq!(text(py, get.name_span.unwrap()), "get");
        assert_eq!(
            get.arg_spans
                .iter()
                .map(|s| text(py, *s))
                .collect::<Vec<_>>(),
            ["u", "timeout=None"]
        );
        let list = get.arg_list.as_ref().unwrap();
        assert_eq!(text(py, list.last.unwrap()), "timeout=None");
        assert_eq!(text(py, list.trailing_comma.unwrap()), ",");
        assert_eq!(list.indent.as_deref(), Some("        "));
        assert!(!get.discarded);
        let gather = m
            .calls
            .iter()
            .find(|c| c.method.as_deref() == Some("gather"))
            .unwrap();
        assert!(gather.discarded);
        assert!(gather.arg_list.as_ref().unwrap().indent.is_none());
        let lam = m.functions.iter().find(|f| f.expr_body.is_some()).unwrap();
        assert_eq!(text(py, lam.expr_body_span.unwrap()), "True");
        let ret = m
            .exits
            .iter()
            .find(|e| e.value == Some(Expr::Bool(true)))
            .unwrap();
        assert_eq!(text(py, ret.value_span.unwrap()), "True");

        let ts = "async function f(u) {\n  await Promise.all([a(), b()]);\n  const r = await fetch(u, {\n    method: \"POST\",\n  });\n  return g().catch(() => true);\n}\n";
        let m = lower(Lang::TypeScript, "a.ts", ts).unwrap();
        let all = m
            .calls
            .iter()
            .find(|c| c.method.as_deref() == Some("all"))
            .unwrap();
        assert_eq!(text(ts, all.name_span.unwrap()), "all");
        assert!(all.discarded);
        let fetch = m
            .calls
            .iter()
            .find(|c| c.path.as_deref() == Some("fetch"))
            .unwrap();
        assert!(!fetch.discarded);
        let Some(Expr::Object(o)) = fetch.positional(1) else {
            panic!()
        };
        let members = o.list.as_deref().unwrap();
        assert_eq!(text(ts, members.last.unwrap()), "method: \"POST\"");
        assert_eq!(members.indent.as_deref(), Some("    "));
        assert!(members.trailing_comma.is_some());
        assert_eq!(
            text(ts, fetch.arg_span_at(1).unwrap()),
            &ts[ts.find("{\n    method").unwrap()..ts.find("}").unwrap() + 1]
        );
        let cb = m
            .functions
            .iter()
            .find(|f| f.expr_body == Some(Expr::Bool(true)))
            .unwrap();
        assert_eq!(text(ts, cb.expr_body_span.unwrap()), "true");

        let rs = "fn f(r: Result<bool, E>) -> bool {\n    let a = r.unwrap_or(true);\n    match r {\n        Ok(v) => v,\n        Err(_) => Ok(true),\n    }\n}\n";
        let m = lower(Lang::Rust, "a.rs", rs).unwrap();
        let uo = m
            .calls
            .iter()
            .find(|c| c.method.as_deref() == Some("unwrap_or"))
            .unwrap();
        assert_eq!(text(rs, uo.arg_span_at(0).unwrap()), "true");
        assert_eq!(text(rs, uo.name_span.unwrap()), "unwrap_or");
        let arm = &m.tries[0].clauses[0];
        assert_eq!(text(rs, arm.value_span.unwrap()), "Ok(true)");
    }
}
