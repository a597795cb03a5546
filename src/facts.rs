//! The language-neutral facts model.
//!
//! Each language adapter (`lang/*`) walks its tree once and lowers it into a
//! [`Module`]; the tree is dropped right after. Rules never see a tree: they
//! read these facts, so a rule is written once for Python, TypeScript and Rust.
//!
//! The model is deliberately small and syntactic. An [`Expr`] is a summary of
//! an expression (enough to tell a literal from a name, see an object's keys,
//! follow a builder chain or find a timer), not a full AST. Semantic questions
//! ("which client made this call?", "is this an upstream?") are answered on top
//! of it by `link` and `knowledge`.
//!
//! Ids are indices into the module's vectors. They are only meaningful within
//! the module that holds them.

use std::fmt;

pub type FuncId = u32;
pub type CallId = u32;
pub type ClassId = u32;
pub type LoopId = u32;
pub type TryId = u32;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Lang {
    Python,
    TypeScript,
    JavaScript,
    Rust,
}

impl Lang {
    /// The knowledge pack that describes this language's libraries.
    /// JavaScript shares TypeScript's: same libraries, same idioms.
    pub fn pack(self) -> &'static str {
        match self {
            Lang::Python => "python",
            Lang::TypeScript | Lang::JavaScript => "typescript",
            Lang::Rust => "rust",
        }
    }

    /// How a dotted path is joined in this language (`a.b` or `a::b`).
    pub fn sep(self) -> &'static str {
        match self {
            Lang::Rust => "::",
            _ => ".",
        }
    }

    /// How the language spells "no value", for messages (`timeout=None`).
    pub fn null_word(self) -> &'static str {
        match self {
            Lang::Python | Lang::Rust => "None",
            Lang::TypeScript | Lang::JavaScript => "null",
        }
    }

    /// How the language spells a boolean literal.
    pub fn bool_word(self, b: bool) -> &'static str {
        match (self, b) {
            (Lang::Python, true) => "True",
            (Lang::Python, false) => "False",
            (_, true) => "true",
            (_, false) => "false",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Lang::Python => "python",
            Lang::TypeScript => "typescript",
            Lang::JavaScript => "javascript",
            Lang::Rust => "rust",
        }
    }
}

/// A source range. Lines are 1-based; columns are 0-based byte offsets into
/// the line (reports convert them to whatever unit their format declares).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Span {
    pub start_byte: u32,
    pub end_byte: u32,
    pub start_line: u32,
    pub start_col: u32,
    pub end_line: u32,
    pub end_col: u32,
}

/// Where a bracketed list is written: a call's arguments, an object
/// literal's members. Facts for edits that add an item (`--fix`): rules
/// build edits from these, never from the text.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListSpan {
    /// From the opening bracket to the closing one, both included.
    pub span: Span,
    /// The last item (an argument, a member, a spread), if any.
    pub last: Option<Span>,
    /// The comma after the last item, if there is one.
    pub trailing_comma: Option<Span>,
    /// The whitespace before the last item when it begins its own line
    /// (a list written one item a line); `None` otherwise.
    pub indent: Option<String>,
}

/// A summary of an expression.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// A call; the id points into [`Module::calls`].
    Call(CallId),
    /// A bare identifier (`client`, `self`, `this`), or a Rust path written
    /// in full (`reqwest::Client`, `config::TIMEOUT`).
    Name(String),
    /// Member access: `obj.field` (`self.client`, `extra.signal`).
    Attr(Box<Expr>, String),
    /// Index access: `obj[key]`.
    Index(Box<Expr>, Box<Expr>),
    /// A string literal with no interpolation.
    Str(String),
    /// An interpolated string: f-string, template literal, `format!`.
    Template(Vec<TemplatePart>),
    /// A numeric literal as written (`10`, `2.5`, `60_000`).
    Num(String),
    Bool(bool),
    /// `None`, `null`, `undefined`.
    Null,
    /// Object literal / dict literal / Rust struct expression.
    Object(Object),
    /// List, tuple or array literal.
    Array(Vec<Expr>),
    /// `*x`, `**x`, `...x`, Rust `..base`: something we cannot see through.
    Spread(Box<Expr>),
    /// A lambda, arrow function, closure or function expression.
    Func(FuncId),
    /// A comprehension or generator: `[elt for .. in iter]`.
    Comprehension {
        elt: Box<Expr>,
        iter: Box<Expr>,
    },
    /// A binary or boolean operation (`a or b`, `x ?? true`, `base * 2 ** n`).
    Binary {
        op: String,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    /// A unary operation (`not x`, `!x`, `-1`).
    Unary {
        op: String,
        operand: Box<Expr>,
    },
    /// `a if c else b`, `c ? a : b`, Rust `if c { a } else { b }`.
    Conditional {
        cond: Box<Expr>,
        then: Box<Expr>,
        otherwise: Box<Expr>,
    },
    /// Anything else. The text is kept (truncated) for messages only.
    Unknown(String),
}

#[derive(Clone, Debug, PartialEq)]
pub enum TemplatePart {
    Lit(String),
    Expr(Expr),
}

#[derive(Clone, Debug, Default)]
pub struct Object {
    /// The struct's type for a Rust struct expression (`Self`, `Config`).
    pub type_name: Option<String>,
    /// Keys in source order. Computed keys are left out and set `spread`.
    pub entries: Vec<(String, Expr)>,
    /// The literal contains a spread or a computed key: keys we cannot see.
    pub spread: bool,
    /// Where each entry is written (index = entry), for findings that point
    /// at one key (`readOnlyHint: true`); shorter when an adapter does not
    /// know.
    pub spans: Vec<Span>,
    /// Where the literal's braces and members are written, when the adapter
    /// records it (TS/JS object literals): for edits that add a key. Boxed:
    /// an `Expr` is on the stack at every level of the adapters' recursion.
    pub list: Option<Box<ListSpan>>,
}

/// Equal by content: where the keys are written does not change the value.
impl PartialEq for Object {
    fn eq(&self, o: &Object) -> bool {
        self.type_name == o.type_name && self.entries == o.entries && self.spread == o.spread
    }
}

impl Object {
    pub fn get(&self, key: &str) -> Option<&Expr> {
        self.entries.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Where entry `key` is written, if known.
    pub fn span_of(&self, key: &str) -> Option<Span> {
        let i = self.entries.iter().position(|(k, _)| k == key)?;
        self.spans.get(i).copied()
    }

    /// Records where the entry just pushed is written.
    pub fn push_span(&mut self, span: Span) {
        self.spans
            .resize(self.entries.len().saturating_sub(1), Span::default());
        self.spans.push(span);
    }
}

impl Expr {
    pub fn unknown(text: &str) -> Expr {
        Expr::Unknown(truncate(text, 80))
    }

    /// The dotted text of a name or attribute chain (`self.client`), if it is one.
    pub fn dotted(&self) -> Option<String> {
        match self {
            Expr::Name(n) => Some(n.clone()),
            Expr::Attr(obj, field) => obj.dotted().map(|o| format!("{o}.{field}")),
            _ => None,
        }
    }

    /// The identifier at the root of a name/attribute chain.
    pub fn root_name(&self) -> Option<&str> {
        match self {
            Expr::Name(n) => Some(n),
            Expr::Attr(obj, _) | Expr::Index(obj, _) => obj.root_name(),
            _ => None,
        }
    }

    /// Visits this expression and every sub-expression, without following
    /// call ids or function ids (the caller decides whether to).
    pub fn walk<'a>(&'a self, f: &mut dyn FnMut(&'a Expr)) {
        f(self);
        match self {
            Expr::Attr(o, _) | Expr::Spread(o) => o.walk(f),
            Expr::Unary { operand, .. } => operand.walk(f),
            Expr::Index(a, b)
            | Expr::Binary { lhs: a, rhs: b, .. }
            | Expr::Comprehension { elt: a, iter: b } => {
                a.walk(f);
                b.walk(f);
            }
            Expr::Conditional {
                cond,
                then,
                otherwise,
            } => {
                cond.walk(f);
                then.walk(f);
                otherwise.walk(f);
            }
            Expr::Template(parts) => {
                for p in parts {
                    if let TemplatePart::Expr(e) = p {
                        e.walk(f);
                    }
                }
            }
            Expr::Object(o) => {
                for (_, v) in &o.entries {
                    v.walk(f);
                }
            }
            Expr::Array(items) => {
                for i in items {
                    i.walk(f);
                }
            }
            Expr::Call(_)
            | Expr::Name(_)
            | Expr::Str(_)
            | Expr::Num(_)
            | Expr::Bool(_)
            | Expr::Null
            | Expr::Func(_)
            | Expr::Unknown(_) => {}
        }
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Name(n) => write!(f, "{n}"),
            Expr::Attr(o, a) => write!(f, "{o}.{a}"),
            Expr::Str(s) => write!(f, "{s:?}"),
            Expr::Num(n) => write!(f, "{n}"),
            Expr::Bool(b) => write!(f, "{b}"),
            Expr::Null => write!(f, "null"),
            Expr::Call(id) => write!(f, "<call #{id}>"),
            Expr::Func(id) => write!(f, "<fn #{id}>"),
            Expr::Unknown(t) => write!(f, "{t}"),
            _ => write!(f, "<expr>"),
        }
    }
}

/// One argument of a call.
#[derive(Clone, Debug, PartialEq)]
pub struct Arg {
    /// The keyword for Python `name=value` (and Rust attribute `key = value`).
    pub name: Option<String>,
    pub value: Expr,
}

/// Where a call or a function sits, syntactically, inside its function:
/// the contexts a walk from the function body down to it passes through.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ctx {
    /// Inside argument `index` of `call` (at any depth within that argument,
    /// not crossing into a nested function).
    Arg { call: CallId, index: u32 },
    /// Inside the body of `with` / `async with` whose items are these calls;
    /// `objects` are its items that are names or attributes, dotted
    /// (`with breaker:`, `with self.breaker:`).
    With {
        items: Vec<CallId>,
        objects: Vec<String>,
    },
    /// Inside the body of a loop.
    Loop(LoopId),
    /// Inside the protected body of a try (or the scrutinee of a Rust `match`
    /// on a `Result`).
    Try(TryId),
    /// Inside catch clause / error arm number `clause` of a try.
    Catch { try_id: TryId, clause: u32 },
    /// Inside a `finally` block.
    Finally(TryId),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Call {
    /// From the first byte of the callee (for a Rust/JS chain, the chain's
    /// first byte) to the closing parenthesis.
    pub span: Span,
    /// The callee as written: `Name`, `Attr`, or anything else.
    pub callee: Expr,
    /// The callee's full path after imports are applied (`requests.get`,
    /// `reqwest::Client::new`, `fetch`), when its root is an import or an
    /// unbound global rather than a local value. Filled by [`Module::finish`].
    pub path: Option<String>,
    /// For `recv.method(..)`: the method name.
    pub method: Option<String>,
    /// For `recv.method(..)`: the receiver.
    pub receiver: Option<Expr>,
    pub args: Vec<Arg>,
    /// Where each argument is written (index = argument; a keyword argument
    /// with its keyword), when the adapter records it: for findings that
    /// point at one keyword argument, and for edits.
    pub arg_spans: Vec<Span>,
    /// Where the argument list is written, parentheses included; `None`
    /// for a call written without one (a Rust macro, `f(x for x in y)`).
    pub arg_list: Option<ListSpan>,
    /// Where the callee's last name is written: the method of
    /// `recv.method(..)`, the function of `f(..)` / `a::b::f(..)`.
    pub name_span: Option<Span>,
    /// The call's value is thrown away: it (or `await` of it) is the whole
    /// of an expression statement.
    pub discarded: bool,
    /// `new X(..)`.
    pub is_new: bool,
    /// The call's result is awaited (`await f()`, `f().await`).
    pub awaited: bool,
    /// A Rust macro invocation (`try_join!`); `args` were recovered from its tokens.
    pub is_macro: bool,
    /// The innermost enclosing function; `None` at module level.
    pub func: Option<FuncId>,
    /// Syntactic contexts between `func`'s body and this call, outermost first.
    pub ctx: Vec<Ctx>,
    /// Not written as a call: `link` made it from a function handed to an
    /// offloading call (`asyncio.to_thread(requests.get, url)` is
    /// `requests.get(url)` run through call `via`).
    pub via: Option<CallId>,
}

impl Call {
    /// The last segment of the callee: the method name, or the function name.
    pub fn name(&self) -> Option<&str> {
        if let Some(m) = &self.method {
            return Some(m);
        }
        match &self.callee {
            Expr::Name(n) => Some(n.rsplit("::").next().unwrap_or(n)),
            _ => None,
        }
    }

    /// Where keyword argument `name` is written, if known.
    pub fn kwarg_span(&self, name: &str) -> Option<Span> {
        let i = self
            .args
            .iter()
            .position(|a| a.name.as_deref() == Some(name))?;
        self.arg_spans
            .get(i)
            .copied()
            .filter(|s| *s != Span::default())
    }

    pub fn kwarg(&self, name: &str) -> Option<&Expr> {
        self.args
            .iter()
            .find(|a| a.name.as_deref() == Some(name))
            .map(|a| &a.value)
    }

    /// Where argument `index` of `args` is written, if the adapter knows.
    pub fn arg_span_at(&self, index: usize) -> Option<Span> {
        self.arg_spans
            .get(index)
            .copied()
            .filter(|s| *s != Span::default())
    }

    /// The index in `args` of positional argument number `i`.
    pub fn positional_index(&self, i: usize) -> Option<usize> {
        self.args
            .iter()
            .enumerate()
            .filter(|(_, a)| a.name.is_none() && !matches!(a.value, Expr::Spread(_)))
            .nth(i)
            .map(|(k, _)| k)
    }

    /// Positional (unnamed, non-spread) argument number `i`.
    pub fn positional(&self, i: usize) -> Option<&Expr> {
        self.args
            .iter()
            .filter(|a| a.name.is_none() && !matches!(a.value, Expr::Spread(_)))
            .nth(i)
            .map(|a| &a.value)
    }

    /// Any `*args`, `**kwargs` or `...spread` among the arguments.
    pub fn has_spread_arg(&self) -> bool {
        self.args.iter().any(|a| matches!(a.value, Expr::Spread(_)))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FuncKind {
    /// `def`, `function`, `fn`: a named declaration.
    Def,
    /// A method of a class / impl block.
    Method,
    /// A lambda, arrow function, closure or function expression.
    Lambda,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    pub name: String,
    /// The type annotation as written, if any.
    pub annotation: Option<String>,
    /// Destructured names (`{ city, units }`), when the param is a pattern.
    pub destructured: Vec<String>,
}

/// A Python decorator or a Rust attribute.
#[derive(Clone, Debug, PartialEq)]
pub struct Decorator {
    pub span: Span,
    /// The decorator as written: `Name`/`Attr` (`@mcp.tool`), or `Call`
    /// (`@mcp.tool()`, `@retry(stop=..)`). Rust attributes are `Name("tool")`
    /// or a `Call` whose args are the attribute's `key = value` pairs.
    pub expr: Expr,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Function {
    /// Empty for anonymous functions. For a lambda assigned to a name
    /// (`const handler = async () => ..`) the adapter uses that name.
    pub name: String,
    pub kind: FuncKind,
    /// The class / impl block this function is a direct member of.
    pub class: Option<ClassId>,
    /// The whole definition, from the `def`/`fn`/`function`/`async` keyword
    /// (decorators and attributes excluded).
    pub span: Span,
    pub is_async: bool,
    pub params: Vec<Param>,
    pub decorators: Vec<Decorator>,
    /// The enclosing function, for nested functions and lambdas.
    pub parent: Option<FuncId>,
    /// Contexts between the parent's body and this function (a lambda passed
    /// as an argument sits in `Ctx::Arg`).
    pub ctx: Vec<Ctx>,
    /// A lambda / closure whose body is an expression: that expression.
    pub expr_body: Option<Expr>,
    /// Where `expr_body` is written.
    pub expr_body_span: Option<Span>,
    /// Exported / `pub` / top-level-public: callers we do not see may exist.
    pub exported: bool,
    /// Names declared `global` (Python) in this function.
    pub globals: Vec<String>,
    /// The declared return type as written (`bool`, `Promise<boolean>`,
    /// `Result<bool, E>`), if any.
    pub returns: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Class {
    /// The class name, or for a Rust impl block the implementing type.
    pub name: String,
    pub span: Span,
    pub decorators: Vec<Decorator>,
    /// Rust `impl Trait for Type`: the trait, as written.
    pub trait_name: Option<String>,
    /// Python / TS base classes as written.
    pub bases: Vec<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum BindScope {
    Module,
    Function(FuncId),
    /// An attribute of instances of the named class/struct: `self.x` /
    /// `this.x` assigned in any method, a class field, or a Rust struct
    /// expression `Self { x: .. }` inside that type's impl.
    Class(String),
}

/// `name = value`. Names are dotted for attribute targets (`self.client`,
/// `axios.defaults.timeout`).
#[derive(Clone, Debug, PartialEq)]
pub struct Binding {
    pub name: String,
    pub value: Expr,
    pub span: Span,
    pub scope: BindScope,
    /// The function the assignment is written in (for resolving names in
    /// `value`), even when `scope` is `Module` or `Class`.
    pub func: Option<FuncId>,
}

/// `import x as y`, `from m import y`, `import { y } from 'm'`, `use m::y`.
#[derive(Clone, Debug, PartialEq)]
pub struct Import {
    /// The local name.
    pub local: String,
    /// The full path it stands for, in the language's own separator.
    /// Python relative imports keep their leading dots (`.util.fetch`);
    /// TS keeps the module specifier (`./util.js`, `axios`) and adds
    /// `.member` for named imports; a default import is the specifier.
    pub path: String,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoopKind {
    /// `for x in it` / `for (const x of it)` / Rust `for x in it`.
    ForEach,
    /// C-style `for (init; cond; step)`.
    ForC,
    While,
    DoWhile,
    /// Rust `loop {}`.
    Loop,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Loop {
    pub span: Span,
    pub kind: LoopKind,
    pub func: Option<FuncId>,
    /// What a for-each iterates over.
    pub iter: Option<Expr>,
    /// The loop variable(s) of a for-each / C-style for.
    pub vars: Vec<String>,
    /// The condition of a while / C-style for.
    pub cond: Option<Expr>,
    pub ctx: Vec<Ctx>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TryKind {
    /// Python `try/except`, JS `try/catch`.
    Try,
    /// Rust `match` with an `Err(..)` arm, or `if let Err(..)` / `if let Ok(..) else`.
    Match,
    /// Rust `let PAT = expr else { .. }`.
    LetElse,
}

#[derive(Clone, Debug, PartialEq)]
pub struct CatchClause {
    /// From the `except`/`catch` keyword or the arm's pattern.
    pub span: Span,
    /// Caught types as written (resolved through imports); empty for a bare
    /// `except:`, an untyped `catch (e)`, or `Err(_)`.
    pub types: Vec<String>,
    /// The name the error is bound to (`e` in `except X as e`, `catch (e)`, `Err(e)`).
    pub binding: Option<String>,
    /// The value of an arm written as an expression (`Err(_) => true`), or the
    /// tail expression of an arm / else block.
    pub value: Option<Expr>,
    /// Where `value` is written.
    pub value_span: Option<Span>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Try {
    pub span: Span,
    pub kind: TryKind,
    pub func: Option<FuncId>,
    pub clauses: Vec<CatchClause>,
    pub has_finally: bool,
    pub ctx: Vec<Ctx>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitKind {
    Return,
    /// Python `raise`, JS `throw`.
    Raise,
    /// A Rust function or closure body's tail expression (its value).
    Tail,
    Continue,
    Break,
    /// Python `yield v` (a generator's or a context manager's value).
    Yield,
}

/// Where control leaves a function or loop, and with what.
#[derive(Clone, Debug, PartialEq)]
pub struct Exit {
    pub span: Span,
    pub kind: ExitKind,
    pub value: Option<Expr>,
    /// Where `value` is written.
    pub value_span: Option<Span>,
    pub func: Option<FuncId>,
    pub ctx: Vec<Ctx>,
    /// The innermost conditional (`if`/`elif`/`else`, a `case`/`switch`
    /// branch) that holds this exit, if any: an exit whose guard lies inside
    /// a loop leaves that loop only sometimes (`if attempt == n: raise`).
    pub guard: Option<Span>,
}

/// `x op= v`: a compound assignment (`delay *= 2`, `attempt += 1`), which
/// binds nothing new but changes a value a loop may read.
#[derive(Clone, Debug, PartialEq)]
pub struct Update {
    /// The target as a dotted name (`delay`, `self.delay`).
    pub name: String,
    /// The operator without its `=` (`*`, `+`, `<<`).
    pub op: String,
    pub value: Expr,
    pub span: Span,
    pub func: Option<FuncId>,
}

/// A `with` entered on a value that is not a call.
#[derive(Clone, Debug, PartialEq)]
pub struct WithValue {
    /// The value as written (`sem`, `self._limiter`).
    pub value: Expr,
    pub span: Span,
    pub func: Option<FuncId>,
}

/// Code that never runs as part of a server, whatever calls it: the
/// adapters mark it, `link` keeps reach out of it and names it as the reason
/// a finding there is left out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RegionKind {
    /// Tests: Rust `#[cfg(test)]` items, `#[test]` / `#[tokio::test]`
    /// functions.
    Test,
    /// Python `if __name__ == "__main__":` bodies.
    MainBlock,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Region {
    pub span: Span,
    pub kind: RegionKind,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Comment {
    pub span: Span,
    /// The comment text including its markers (`# ..`, `// ..`, `/* .. */`).
    pub text: String,
}

/// Everything the rules know about one source file.
#[derive(Clone, Debug, Default)]
pub struct Module {
    /// Display path: relative to the working directory where possible, `/`-separated.
    pub path: String,
    pub lang: Option<Lang>,
    pub imports: Vec<Import>,
    pub functions: Vec<Function>,
    pub classes: Vec<Class>,
    pub calls: Vec<Call>,
    pub bindings: Vec<Binding>,
    pub loops: Vec<Loop>,
    pub tries: Vec<Try>,
    pub exits: Vec<Exit>,
    /// Compound assignments, in source order.
    pub updates: Vec<Update>,
    pub comments: Vec<Comment>,
    /// Code that is never server code (tests, `__main__` blocks).
    pub regions: Vec<Region>,
    /// The directory of the package (the nearest manifest: pyproject.toml,
    /// setup.py, package.json, Cargo.toml) this file belongs to, as a
    /// display path; empty when none was found. Set by the caller of
    /// `lang::lower`, which knows the file system.
    pub package: String,
    /// The name that package is imported by in a workspace, if its manifest
    /// gives one (`@corp/shared`, `shared_lib`).
    pub package_name: Option<String>,
    /// The Python dependencies the package's manifests declare, with
    /// their version specifiers (set with `package`).
    pub package_requires: crate::package::Requires,
    /// The tree had syntax errors; facts were built from what parsed.
    pub has_syntax_errors: bool,
    /// Calls made directly in each function (index = FuncId); filled by `finish`.
    pub func_calls: Vec<Vec<CallId>>,
    /// Calls made at module level; filled by `finish`.
    pub module_calls: Vec<CallId>,
    /// Functions nested directly in each function; filled by `finish`.
    pub func_children: Vec<Vec<FuncId>>,
    /// Bindings whose value is this call, by call; filled by `finish`.
    pub call_bindings: std::collections::HashMap<CallId, Vec<u32>>,
    /// Bindings whose value is this function (a lambda, an async block),
    /// by function; filled by `finish`.
    pub func_bindings: std::collections::HashMap<FuncId, Vec<u32>>,
    /// For each call, the calls made on its result; filled by `finish`.
    pub chained: Vec<Vec<CallId>>,
    /// Bindings by name; filled by `finish`.
    pub binding_index: std::collections::HashMap<String, Vec<u32>>,
    /// `with X:` / `async with X:` on a value that is not a call (`async
    /// with sem:`, `with self._lock:`): what a rule sees of a lock or a
    /// semaphore taken around a block.
    pub with_values: Vec<WithValue>,
    /// Names bound without a value we keep (loop variables, caught
    /// errors), by the function they are bound in; filled by `finish`.
    pub opaque_locals: std::collections::HashMap<String, Vec<Option<FuncId>>>,
}

impl Module {
    pub fn lang(&self) -> Lang {
        self.lang.unwrap_or(Lang::Python)
    }

    /// The calls made directly in `func` (at module level for `None`).
    pub fn calls_in(&self, func: Option<FuncId>) -> &[CallId] {
        match func {
            Some(f) => self
                .func_calls
                .get(f as usize)
                .map(Vec::as_slice)
                .unwrap_or(&[]),
            None => &self.module_calls,
        }
    }

    /// The never-server region that holds `span`, if any.
    pub fn region_of(&self, span: Span) -> Option<RegionKind> {
        self.regions
            .iter()
            .find(|r| r.span.start_byte <= span.start_byte && span.end_byte <= r.span.end_byte)
            .map(|r| r.kind)
    }

    pub fn call(&self, id: CallId) -> &Call {
        &self.calls[id as usize]
    }

    pub fn func(&self, id: FuncId) -> &Function {
        &self.functions[id as usize]
    }

    /// The chain of functions from `id` outwards (itself first).
    pub fn func_chain(&self, id: Option<FuncId>) -> impl Iterator<Item = FuncId> + '_ {
        std::iter::successors(id, move |f| self.functions[*f as usize].parent)
    }

    /// The import bound to `local`, if any.
    pub fn import(&self, local: &str) -> Option<&Import> {
        self.imports.iter().rev().find(|i| i.local == local)
    }

    /// Is `name` a parameter of `func` or of a function enclosing it?
    pub fn is_param(&self, func: Option<FuncId>, name: &str) -> bool {
        self.func_chain(func).any(|f| {
            self.func(f)
                .params
                .iter()
                .any(|p| p.name == name || p.destructured.iter().any(|d| d == name))
        })
    }

    /// Bindings of `name` visible from `func`: the innermost function that
    /// binds it, else the module (Python `global` assignments count as module).
    pub fn bindings_of(&self, func: Option<FuncId>, name: &str) -> Vec<&Binding> {
        let named: Vec<&Binding> = match self.binding_index.get(name) {
            Some(ids) => ids.iter().map(|i| &self.bindings[*i as usize]).collect(),
            // Before `finish` (adapters' own tests): scan.
            None if self.binding_index.is_empty() => {
                self.bindings.iter().filter(|b| b.name == name).collect()
            }
            None => return Vec::new(),
        };
        for f in self.func_chain(func) {
            let local: Vec<&Binding> = named
                .iter()
                .copied()
                .filter(|b| b.scope == BindScope::Function(f))
                .collect();
            if !local.is_empty() {
                return local;
            }
        }
        named
            .into_iter()
            .filter(|b| b.scope == BindScope::Module)
            .collect()
    }

    /// Is `name` a loop variable or a caught error in `func` or a function
    /// enclosing it: a local whose value we do not know?
    pub fn is_opaque_local(&self, func: Option<FuncId>, name: &str) -> bool {
        self.opaque_locals.get(name).is_some_and(|fs| {
            fs.iter()
                .any(|f| f.is_some() && self.func_chain(func).any(|g| Some(g) == *f))
        })
    }

    /// The bindings of `name` that can hold at byte `pos` of the file: within
    /// one scope, the last assignment before `pos` (when there is one) shadows
    /// the earlier ones; module-level bindings seen from a function all count,
    /// since the function may run after any of them.
    pub fn bindings_at(&self, func: Option<FuncId>, name: &str, pos: u32) -> Vec<&Binding> {
        let all = self.bindings_of(func, name);
        let same_scope = match all.first().map(|b| &b.scope) {
            Some(BindScope::Function(_)) => true,
            Some(BindScope::Module) => func.is_none(),
            _ => false,
        };
        if !same_scope || all.len() < 2 {
            return all;
        }
        let before = all
            .iter()
            .filter(|b| b.span.start_byte < pos)
            .max_by_key(|b| b.span.start_byte)
            .copied();
        match before {
            Some(b) => vec![b],
            None => all,
        }
    }

    /// Bindings of attribute `attr` (`self.client` → `client`) on instances
    /// of the class named `class`.
    pub fn class_bindings(&self, class: &str, attr: &str) -> Vec<&Binding> {
        self.bindings
            .iter()
            .filter(|b| b.name == attr && matches!(&b.scope, BindScope::Class(c) if c == class))
            .collect()
    }

    /// The class a function belongs to, walking out through lambdas and
    /// nested functions (a closure in a method still sees `self`).
    pub fn class_of(&self, func: Option<FuncId>) -> Option<&Class> {
        self.func_chain(func)
            .find_map(|f| self.func(f).class)
            .map(|c| &self.classes[c as usize])
    }

    /// Calls that use the result of `id` as their receiver (`id(..).next(..)`).
    pub fn calls_on(&self, id: CallId) -> impl Iterator<Item = (CallId, &Call)> + '_ {
        self.chained
            .get(id as usize)
            .map(|v| v.as_slice())
            .unwrap_or(&[])
            .iter()
            .map(move |c| (*c, &self.calls[*c as usize]))
    }

    /// Completes the facts after the walk: resolves call paths through
    /// imports, and indexes calls by function. Adapters call it last.
    pub fn finish(&mut self) {
        let lang = self.lang();
        self.binding_index.clear();
        for (i, b) in self.bindings.iter().enumerate() {
            self.binding_index
                .entry(b.name.clone())
                .or_default()
                .push(i as u32);
        }
        self.opaque_locals.clear();
        for l in &self.loops {
            for v in &l.vars {
                self.opaque_locals
                    .entry(v.clone())
                    .or_default()
                    .push(l.func);
            }
        }
        for t in &self.tries {
            for c in &t.clauses {
                if let Some(v) = &c.binding {
                    self.opaque_locals
                        .entry(v.clone())
                        .or_default()
                        .push(t.func);
                }
            }
        }
        let paths: Vec<Option<String>> = self
            .calls
            .iter()
            .map(|c| self.resolve_path(&c.callee, c.func, lang))
            .collect();
        for (c, p) in self.calls.iter_mut().zip(paths) {
            c.path = p;
        }
        self.chained = vec![Vec::new(); self.calls.len()];
        for (i, c) in self.calls.iter().enumerate() {
            if let Some(Expr::Call(r)) = c.receiver {
                if let Some(v) = self.chained.get_mut(r as usize) {
                    v.push(i as CallId);
                }
            }
        }
        self.func_calls = vec![Vec::new(); self.functions.len()];
        self.module_calls.clear();
        for (i, c) in self.calls.iter().enumerate() {
            match c.func {
                Some(f) => self.func_calls[f as usize].push(i as CallId),
                None => self.module_calls.push(i as CallId),
            }
        }
        self.call_bindings.clear();
        self.func_bindings.clear();
        for (i, b) in self.bindings.iter().enumerate() {
            match b.value {
                Expr::Call(c) => self.call_bindings.entry(c).or_default().push(i as u32),
                Expr::Func(f) => self.func_bindings.entry(f).or_default().push(i as u32),
                _ => {}
            }
        }
        self.func_children = vec![Vec::new(); self.functions.len()];
        for (i, f) in self.functions.iter().enumerate() {
            if let Some(p) = f.parent {
                self.func_children[p as usize].push(i as FuncId);
            }
        }
    }

    /// The path a callee (or any name/attribute expression) stands for, when
    /// its root is an import or an unbound global; `None` when the root is
    /// a local value (parameter, variable, `self`).
    pub fn resolve_path(&self, expr: &Expr, func: Option<FuncId>, lang: Lang) -> Option<String> {
        let sep = lang.sep();
        match expr {
            Expr::Name(n) if lang == Lang::Rust && n.contains("::") => {
                let (head, rest) = n.split_once("::").unwrap_or((n, ""));
                let head = match head {
                    "self" | "super" | "crate" | "Self" => return Some(n.clone()),
                    h => h,
                };
                match self.import(head) {
                    Some(i) => Some(format!("{}::{rest}", i.path)),
                    None => Some(n.clone()),
                }
            }
            Expr::Name(n) => {
                if matches!(n.as_str(), "self" | "this" | "cls" | "Self") {
                    return None;
                }
                // A parameter or a local variable is a value, not a module path
                // (`const axios = require('axios')` is lowered as an import).
                if self.is_param(func, n)
                    || !self.bindings_of(func, n).is_empty()
                    || self.is_opaque_local(func, n)
                {
                    return None;
                }
                match self.import(n) {
                    Some(i) => Some(i.path.clone()),
                    None => Some(n.clone()),
                }
            }
            // In Rust, `.` is always member access on a value.
            Expr::Attr(..) if lang == Lang::Rust => None,
            Expr::Attr(obj, field) => {
                let base = self.resolve_path(obj, func, lang)?;
                let base = match base.as_str() {
                    "globalThis" | "window" | "global" | "self" => return Some(field.clone()),
                    _ => base,
                };
                Some(format!("{base}{sep}{field}"))
            }
            _ => None,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.functions.is_empty() && self.calls.is_empty() && self.imports.is_empty()
    }
}

/// Truncates `s` to at most `max` characters, on a char boundary, with `…`.
pub fn truncate(s: &str, max: usize) -> String {
    let s: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.chars().count() <= max {
        s
    } else {
        let mut t: String = s.chars().take(max).collect();
        t.push('…');
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(callee: Expr, func: Option<FuncId>) -> Call {
        Call {
            span: Span::default(),
            callee,
            path: None,
            method: None,
            receiver: None,
            args: vec![],
            arg_spans: vec![],
            arg_list: None,
            name_span: None,
            discarded: false,
            is_new: false,
            awaited: false,
            is_macro: false,
            func,
            ctx: vec![],
            via: None,
        }
    }

    #[test]
    fn paths_resolve_through_imports_and_stop_at_locals() {
        let mut m = Module {
            lang: Some(Lang::Python),
            ..Default::default()
        };
        m.imports.push(Import {
            local: "h".into(),
            path: "httpx".into(),
            span: Span::default(),
        });
        m.bindings.push(Binding {
            name: "client".into(),
            value: Expr::Null,
            span: Span::default(),
            scope: BindScope::Module,
            func: None,
        });
        m.calls.push(call(
            Expr::Attr(Box::new(Expr::Name("h".into())), "get".into()),
            None,
        ));
        m.calls.push(call(
            Expr::Attr(Box::new(Expr::Name("client".into())), "get".into()),
            None,
        ));
        m.calls.push(call(Expr::Name("fetch".into()), None));
        m.finish();
        assert_eq!(m.calls[0].path.as_deref(), Some("httpx.get"));
        assert_eq!(m.calls[1].path, None);
        assert_eq!(m.calls[2].path.as_deref(), Some("fetch"));
        assert_eq!(m.module_calls, vec![0, 1, 2]);
    }

    #[test]
    fn rust_paths_map_their_first_segment() {
        let mut m = Module {
            lang: Some(Lang::Rust),
            ..Default::default()
        };
        m.imports.push(Import {
            local: "Client".into(),
            path: "reqwest::Client".into(),
            span: Span::default(),
        });
        m.calls
            .push(call(Expr::Name("Client::builder".into()), None));
        m.calls.push(call(Expr::Name("reqwest::get".into()), None));
        m.finish();
        assert_eq!(m.calls[0].path.as_deref(), Some("reqwest::Client::builder"));
        assert_eq!(m.calls[1].path.as_deref(), Some("reqwest::get"));
    }
}
