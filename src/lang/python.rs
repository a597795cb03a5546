//! Lowers a Python tree (tree-sitter-python 0.25) into facts.
//!
//! One recursive walk with kind dispatch. Node kinds and field names are
//! mapped to small integers once per process ([`Tables`]), so the dispatch
//! is a table lookup and a `match` on an enum, and children are visited with
//! a pool of reused tree cursors (no per-node allocation, no quadratic
//! `child(i)` / `next_sibling` walks).

use super::{span_of, unquote, Builder, LowerError};
use crate::facts::{
    BindScope, Binding, CallId, CatchClause, Class, Ctx, Decorator, Exit, ExitKind, Expr, FuncKind,
    Import, LoopKind, Module, Object, Param, Region, RegionKind, Span, TemplatePart, Try, TryKind,
    Update,
};
use std::collections::HashSet;
use std::sync::OnceLock;
use tree_sitter::{Node, Tree, TreeCursor};

type R<T> = Result<T, LowerError>;

pub fn lower(tree: &Tree, src: &str) -> Result<Module, LowerError> {
    let mut l = Lower {
        b: Builder::new(src),
        t: tables(),
        cursors: Vec::new(),
        st: FnState::default(),
    };
    l.stmt(tree.root_node())?;
    l.resolve_catch_types();
    let comments = &mut l.b.m.comments;
    if !comments.is_sorted_by_key(|c| c.span.start_byte) {
        comments.sort_unstable_by_key(|c| c.span.start_byte);
    }
    comments.dedup_by_key(|c| c.span.start_byte);
    Ok(l.b.m)
}

// ---------------------------------------------------------------------------
// Kind and field tables

/// The node kinds the walk dispatches on. Everything else is `Other`
/// (named) or `Anon` (punctuation and keywords).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum K {
    Module,
    Block,
    Comment,
    ExpressionStatement,
    Assignment,
    AugmentedAssignment,
    ImportStatement,
    ImportFromStatement,
    FutureImportStatement,
    AliasedImport,
    DottedName,
    RelativeImport,
    WildcardImport,
    FunctionDefinition,
    DecoratedDefinition,
    Decorator,
    ClassDefinition,
    IfStatement,
    ElifClause,
    ElseClause,
    ForStatement,
    WhileStatement,
    TryStatement,
    ExceptClause,
    FinallyClause,
    WithStatement,
    WithClause,
    WithItem,
    MatchStatement,
    CaseClause,
    ReturnStatement,
    RaiseStatement,
    ContinueStatement,
    BreakStatement,
    GlobalStatement,
    NonlocalStatement,
    PassStatement,
    Identifier,
    Attribute,
    Subscript,
    Call,
    ArgumentList,
    KeywordArgument,
    ListSplat,
    DictionarySplat,
    ParenthesizedListSplat,
    String,
    StringContent,
    Interpolation,
    ConcatenatedString,
    Integer,
    Float,
    True,
    False,
    None,
    Dictionary,
    Pair,
    List,
    Tuple,
    Set,
    ExpressionList,
    PatternList,
    TuplePattern,
    ListPattern,
    ListComprehension,
    SetComprehension,
    GeneratorExpression,
    DictionaryComprehension,
    ForInClause,
    IfClause,
    Lambda,
    TypedParameter,
    DefaultParameter,
    TypedDefaultParameter,
    ListSplatPattern,
    DictionarySplatPattern,
    Await,
    Yield,
    ParenthesizedExpression,
    NotOperator,
    UnaryOperator,
    BooleanOperator,
    BinaryOperator,
    ComparisonOperator,
    ConditionalExpression,
    NamedExpression,
    TypeAliasStatement,
    AsPattern,
    AsPatternTarget,
    Ellipsis,
    /// The `async` keyword (anonymous).
    Async,
    /// Any other anonymous node.
    Anon,
    /// Any other named node, including `ERROR`.
    Other,
}

fn kind_of(name: &str, named: bool) -> K {
    if !named {
        return if name == "async" { K::Async } else { K::Anon };
    }
    match name {
        "module" => K::Module,
        "block" => K::Block,
        "comment" => K::Comment,
        "expression_statement" => K::ExpressionStatement,
        "assignment" => K::Assignment,
        "augmented_assignment" => K::AugmentedAssignment,
        "import_statement" => K::ImportStatement,
        "import_from_statement" => K::ImportFromStatement,
        "future_import_statement" => K::FutureImportStatement,
        "aliased_import" => K::AliasedImport,
        "dotted_name" => K::DottedName,
        "relative_import" => K::RelativeImport,
        "wildcard_import" => K::WildcardImport,
        "function_definition" => K::FunctionDefinition,
        "decorated_definition" => K::DecoratedDefinition,
        "decorator" => K::Decorator,
        "class_definition" => K::ClassDefinition,
        "if_statement" => K::IfStatement,
        "elif_clause" => K::ElifClause,
        "else_clause" => K::ElseClause,
        "for_statement" => K::ForStatement,
        "while_statement" => K::WhileStatement,
        "try_statement" => K::TryStatement,
        "except_clause" | "except_group_clause" => K::ExceptClause,
        "finally_clause" => K::FinallyClause,
        "with_statement" => K::WithStatement,
        "with_clause" => K::WithClause,
        "with_item" => K::WithItem,
        "match_statement" => K::MatchStatement,
        "case_clause" => K::CaseClause,
        "return_statement" => K::ReturnStatement,
        "raise_statement" => K::RaiseStatement,
        "continue_statement" => K::ContinueStatement,
        "break_statement" => K::BreakStatement,
        "global_statement" => K::GlobalStatement,
        "nonlocal_statement" => K::NonlocalStatement,
        "pass_statement" => K::PassStatement,
        "identifier" => K::Identifier,
        "attribute" => K::Attribute,
        "subscript" => K::Subscript,
        "call" => K::Call,
        "argument_list" => K::ArgumentList,
        "keyword_argument" => K::KeywordArgument,
        "list_splat" => K::ListSplat,
        "dictionary_splat" => K::DictionarySplat,
        "parenthesized_list_splat" => K::ParenthesizedListSplat,
        "string" => K::String,
        "string_content" => K::StringContent,
        "interpolation" => K::Interpolation,
        "concatenated_string" => K::ConcatenatedString,
        "integer" => K::Integer,
        "float" => K::Float,
        "true" => K::True,
        "false" => K::False,
        "none" => K::None,
        "dictionary" => K::Dictionary,
        "pair" => K::Pair,
        "list" => K::List,
        "tuple" => K::Tuple,
        "set" => K::Set,
        "expression_list" => K::ExpressionList,
        "pattern_list" => K::PatternList,
        "tuple_pattern" => K::TuplePattern,
        "list_pattern" => K::ListPattern,
        "list_comprehension" => K::ListComprehension,
        "set_comprehension" => K::SetComprehension,
        "generator_expression" => K::GeneratorExpression,
        "dictionary_comprehension" => K::DictionaryComprehension,
        "for_in_clause" => K::ForInClause,
        "if_clause" => K::IfClause,
        "lambda" => K::Lambda,
        "typed_parameter" => K::TypedParameter,
        "default_parameter" => K::DefaultParameter,
        "typed_default_parameter" => K::TypedDefaultParameter,
        "list_splat_pattern" => K::ListSplatPattern,
        "dictionary_splat_pattern" => K::DictionarySplatPattern,
        "await" => K::Await,
        "yield" => K::Yield,
        "parenthesized_expression" => K::ParenthesizedExpression,
        "not_operator" => K::NotOperator,
        "unary_operator" => K::UnaryOperator,
        "boolean_operator" => K::BooleanOperator,
        "binary_operator" => K::BinaryOperator,
        "comparison_operator" => K::ComparisonOperator,
        "conditional_expression" => K::ConditionalExpression,
        "named_expression" => K::NamedExpression,
        "type_alias_statement" => K::TypeAliasStatement,
        "as_pattern" => K::AsPattern,
        "as_pattern_target" => K::AsPatternTarget,
        "ellipsis" => K::Ellipsis,
        _ => K::Other,
    }
}

/// Field ids of the grammar (`NONE` for a field the grammar lacks, which
/// never matches a child).
struct Fields {
    name: u16,
    parameters: u16,
    body: u16,
    return_type: u16,
    type_parameters: u16,
    superclasses: u16,
    definition: u16,
    condition: u16,
    alternative: u16,
    left: u16,
    right: u16,
    type_: u16,
    value: u16,
    alias: u16,
    object: u16,
    attribute: u16,
    function: u16,
    arguments: u16,
    operator: u16,
    argument: u16,
    key: u16,
    subscript: u16,
    expression: u16,
    format_specifier: u16,
    module_name: u16,
    cause: u16,
    subject: u16,
    guard: u16,
    operators: u16,
}

const NONE: u16 = u16::MAX;

struct Tables {
    kinds: Vec<K>,
    f: Fields,
}

fn tables() -> &'static Tables {
    static T: OnceLock<Tables> = OnceLock::new();
    T.get_or_init(|| {
        let lang: tree_sitter::Language = tree_sitter_python::LANGUAGE.into();
        let kinds = (0..lang.node_kind_count() as u16)
            .map(|id| match lang.node_kind_for_id(id) {
                Some(name) => kind_of(name, lang.node_kind_is_named(id)),
                None => K::Other,
            })
            .collect();
        let fid = |n: &str| lang.field_id_for_name(n).map_or(NONE, |f| f.get());
        let f = Fields {
            name: fid("name"),
            parameters: fid("parameters"),
            body: fid("body"),
            return_type: fid("return_type"),
            type_parameters: fid("type_parameters"),
            superclasses: fid("superclasses"),
            definition: fid("definition"),
            condition: fid("condition"),
            alternative: fid("alternative"),
            left: fid("left"),
            right: fid("right"),
            type_: fid("type"),
            value: fid("value"),
            alias: fid("alias"),
            object: fid("object"),
            attribute: fid("attribute"),
            function: fid("function"),
            arguments: fid("arguments"),
            operator: fid("operator"),
            argument: fid("argument"),
            key: fid("key"),
            subscript: fid("subscript"),
            expression: fid("expression"),
            format_specifier: fid("format_specifier"),
            module_name: fid("module_name"),
            cause: fid("cause"),
            subject: fid("subject"),
            guard: fid("guard"),
            operators: fid("operators"),
        };
        Tables { kinds, f }
    })
}

// ---------------------------------------------------------------------------
// The walk

/// Per-function state, saved and restored around every function body.
#[derive(Default)]
struct FnState<'s> {
    /// Lowering statements directly in a class body (not in a method).
    in_class_body: bool,
    /// Parameters and names assigned so far in the current function.
    locals: HashSet<&'s str>,
    /// Names declared `nonlocal` in the current function.
    nonlocals: Vec<&'s str>,
}

struct Lower<'t, 's> {
    b: Builder<'s>,
    t: &'static Tables,
    /// Reused cursors: one per level of `each` currently running.
    cursors: Vec<TreeCursor<'t>>,
    st: FnState<'s>,
}

/// A plain string whose prefix has no `f`/`t` cannot hold interpolations.
fn may_interpolate(text: &str) -> bool {
    text.bytes()
        .take_while(|b| *b != b'"' && *b != b'\'')
        .any(|b| matches!(b, b'f' | b'F' | b't' | b'T'))
}

impl<'t, 's> Lower<'t, 's> {
    // ----- helpers ---------------------------------------------------------

    #[inline]
    fn k(&self, n: Node) -> K {
        self.t
            .kinds
            .get(n.kind_id() as usize)
            .copied()
            .unwrap_or(K::Other)
    }

    #[inline]
    fn text(&self, n: Node) -> &'s str {
        let src: &'s str = self.b.src;
        src.get(n.start_byte()..n.end_byte()).unwrap_or("")
    }

    /// `Expr::Unknown` with the node's text, cut before it is normalized so
    /// that a huge node costs no more than a small one.
    fn unk(&self, n: Node) -> Expr {
        let t = self.text(n);
        let mut end = t.len().min(160);
        while !t.is_char_boundary(end) {
            end -= 1;
        }
        Expr::unknown(&t[..end])
    }

    /// A cursor on `n` from the pool (give it back with `self.cursors.push`).
    fn cursor(&mut self, n: Node<'t>) -> TreeCursor<'t> {
        match self.cursors.pop() {
            Some(mut c) => {
                c.reset(n);
                c
            }
            None => n.walk(),
        }
    }

    /// Visits every child of `n` (named or not) with its field id (0: none).
    fn each(&mut self, n: Node<'t>, mut f: impl FnMut(&mut Self, Node<'t>, u16) -> R<()>) -> R<()> {
        let mut c = self.cursor(n);
        if c.goto_first_child() {
            loop {
                let fid = c.field_id().map_or(0, |x| x.get());
                f(self, c.node(), fid)?;
                if !c.goto_next_sibling() {
                    break;
                }
            }
        }
        self.cursors.push(c);
        Ok(())
    }

    /// Visits the named children of `n`, recording comments.
    fn each_named(
        &mut self,
        n: Node<'t>,
        mut f: impl FnMut(&mut Self, Node<'t>) -> R<()>,
    ) -> R<()> {
        let mut c = self.cursor(n);
        if c.goto_first_child() {
            loop {
                let node = c.node();
                if node.is_named() {
                    if self.k(node) == K::Comment {
                        self.b.comment(node);
                    } else {
                        f(self, node)?;
                    }
                }
                if !c.goto_next_sibling() {
                    break;
                }
            }
        }
        self.cursors.push(c);
        Ok(())
    }

    /// The first child in each of the fields `ids`, in one pass over the
    /// children (comments among them are recorded).
    /// Children the parser could not place (`ERROR` nodes) are lowered too,
    /// for the calls in them.
    fn fields<const N: usize>(&mut self, n: Node<'t>, ids: [u16; N]) -> R<[Option<Node<'t>>; N]> {
        let mut out = [None; N];
        let mut c = self.cursor(n);
        if c.goto_first_child() {
            loop {
                match c.field_id() {
                    Some(f) => {
                        if let Some(i) = ids.iter().position(|id| *id == f.get()) {
                            if out[i].is_none() {
                                out[i] = Some(c.node());
                            }
                        }
                    }
                    None => {
                        let ch = c.node();
                        if self.k(ch) == K::Comment {
                            self.b.comment(ch);
                        } else if ch.is_error() {
                            self.stmt(ch)?;
                        }
                    }
                }
                if !c.goto_next_sibling() {
                    break;
                }
            }
        }
        self.cursors.push(c);
        Ok(out)
    }

    /// Lowers a child the handler has no place for, if it is an `ERROR`.
    fn stray(&mut self, c: Node<'t>) -> R<()> {
        if c.is_error() {
            self.stmt(c)
        } else {
            Ok(())
        }
    }

    /// Lowers the named children of `n`: the first one's value is returned,
    /// the rest are lowered for their calls. (A plain loop, not `each_named`:
    /// this is on the recursion path of parentheses, `await` and splats.)
    fn inner_expr(&mut self, n: Node<'t>) -> R<Option<Expr>> {
        let mut first = None;
        let mut c = self.cursor(n);
        if c.goto_first_child() {
            loop {
                let ch = c.node();
                if ch.is_named() {
                    if self.k(ch) == K::Comment {
                        self.b.comment(ch);
                    } else {
                        let e = self.expr(ch)?;
                        if first.is_none() {
                            first = Some(e);
                        }
                    }
                }
                if !c.goto_next_sibling() {
                    break;
                }
            }
        }
        self.cursors.push(c);
        Ok(first)
    }

    fn in_ctx<T>(&mut self, ctx: Ctx, f: impl FnOnce(&mut Self) -> T) -> T {
        self.b.ctx.push(ctx);
        let out = f(self);
        self.b.ctx.pop();
        out
    }

    fn enter_fn(&mut self, params: Vec<&'s str>) -> FnState<'s> {
        std::mem::replace(
            &mut self.st,
            FnState {
                in_class_body: false,
                locals: params.into_iter().collect(),
                nonlocals: Vec::new(),
            },
        )
    }

    fn leave_fn(&mut self, outer: FnState<'s>) {
        self.st = outer;
    }

    // ----- statements ------------------------------------------------------

    fn stmt(&mut self, n: Node<'t>) -> R<()> {
        self.b.enter()?;
        let r = self.stmt_inner(n);
        self.b.leave();
        r
    }

    fn stmts(&mut self, n: Node<'t>) -> R<()> {
        let mut c = self.cursor(n);
        if c.goto_first_child() {
            loop {
                let ch = c.node();
                if ch.is_named() {
                    self.stmt(ch)?;
                }
                if !c.goto_next_sibling() {
                    break;
                }
            }
        }
        self.cursors.push(c);
        Ok(())
    }

    /// Dispatch only (see [`Lower::expr_inner`]).
    fn stmt_inner(&mut self, n: Node<'t>) -> R<()> {
        match self.k(n) {
            K::Module | K::Block | K::ElseClause | K::FinallyClause => self.stmts(n),
            K::Comment => {
                self.b.comment(n);
                Ok(())
            }
            K::ExpressionStatement => self.expression_stmt(n),
            K::Assignment => self.assignment(n),
            K::AugmentedAssignment => self.augmented(n),
            K::ImportStatement => self.import(n),
            K::ImportFromStatement => self.import_from(n),
            K::FutureImportStatement | K::PassStatement => Ok(()),
            K::FunctionDefinition => self.function_def(n, Vec::new()),
            K::ClassDefinition => self.class_def(n, Vec::new()),
            K::DecoratedDefinition => self.decorated(n),
            K::IfStatement => {
                if self.b.func.is_none() && self.is_main_guard(n) {
                    let span = self.b.span(n);
                    self.b.m.regions.push(Region {
                        span,
                        kind: RegionKind::MainBlock,
                    });
                }
                let span = self.b.span(n);
                self.guarded(span, |s| s.with_head(n, s.t.f.condition))
            }
            K::ElifClause => self.with_head(n, self.t.f.condition),
            K::MatchStatement => self.with_head(n, self.t.f.subject),
            K::CaseClause => {
                let span = self.b.span(n);
                self.guarded(span, |s| s.case_clause(n))
            }
            K::ForStatement => self.for_stmt(n),
            K::WhileStatement => self.while_stmt(n),
            K::TryStatement => self.try_stmt(n),
            K::WithStatement => self.with_stmt(n),
            K::ReturnStatement => self.exit(n, ExitKind::Return),
            K::RaiseStatement => self.exit(n, ExitKind::Raise),
            K::ContinueStatement => self.exit(n, ExitKind::Continue),
            K::BreakStatement => self.exit(n, ExitKind::Break),
            K::GlobalStatement => self.global(n),
            K::NonlocalStatement => self.nonlocal(n),
            K::TypeAliasStatement => self.type_alias(n),
            _ => self.expr_inner(n).map(drop),
        }
    }

    /// `if __name__ == "__main__":` (either side, either quote).
    fn is_main_guard(&self, n: Node<'t>) -> bool {
        let Some(cond) = n.child_by_field_id(self.t.f.condition) else {
            return false;
        };
        let t: String = self
            .text(cond)
            .chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| if c == '\'' { '"' } else { c })
            .collect();
        t == "__name__==\"__main__\"" || t == "\"__main__\"==__name__"
    }

    fn expression_stmt(&mut self, n: Node<'t>) -> R<()> {
        self.each_named(n, |s, c| {
            // Docstrings and other bare string statements: nothing to see.
            if s.k(c) == K::String && !may_interpolate(s.text(c)) {
                return Ok(());
            }
            // A call (or `await` of one) whose value is thrown away.
            if matches!(s.k(c), K::Call | K::Await) {
                if let Expr::Call(id) = s.expr(c)? {
                    s.b.call_mut(id).discarded = true;
                }
                return Ok(());
            }
            s.stmt(c)
        })
    }

    /// `x += v`: no binding, but both sides may hold calls.
    fn augmented(&mut self, n: Node<'t>) -> R<()> {
        let f = &self.t.f;
        let [left, op, right] = self.fields(n, [f.left, f.operator, f.right])?;
        let target = match left {
            Some(l) => self.expr(l)?.dotted(),
            None => None,
        };
        let value = match right {
            Some(r) => Some(self.expr(r)?),
            None => None,
        };
        if let (Some(name), Some(op), Some(value)) = (target, op, value) {
            let op = self.text(op).trim_end_matches('=').to_string();
            self.b.m.updates.push(Update {
                name,
                op,
                value,
                span: span_of(n),
                func: self.b.func,
            });
        }
        Ok(())
    }

    /// `if`/`elif`/`match`: the `head` field is an expression, the rest
    /// (blocks, `elif`/`else` clauses, `case` clauses) are statements.
    /// Runs `f` inside the conditional spanning `span` (see `Exit::guard`).
    fn guarded(&mut self, span: Span, f: impl FnOnce(&mut Self) -> R<()>) -> R<()> {
        self.b.guards.push(span);
        let out = f(self);
        self.b.guards.pop();
        out
    }

    fn with_head(&mut self, n: Node<'t>, head: u16) -> R<()> {
        let mut c = self.cursor(n);
        if c.goto_first_child() {
            loop {
                let ch = c.node();
                if c.field_id().is_some_and(|f| f.get() == head) {
                    self.expr(ch)?;
                } else if ch.is_named() {
                    self.stmt(ch)?;
                }
                if !c.goto_next_sibling() {
                    break;
                }
            }
        }
        self.cursors.push(c);
        Ok(())
    }

    fn case_clause(&mut self, n: Node<'t>) -> R<()> {
        let guard = self.t.f.guard;
        self.each(n, |s, c, fid| {
            if fid == guard {
                s.inner_expr(c)?;
            } else if s.k(c) == K::Block || s.k(c) == K::Comment {
                s.stmt(c)?;
            } else if c.is_named() {
                s.scan(c)?;
            }
            Ok(())
        })
    }

    /// `type X = ..`, or `type(x).attr = v` which the grammar also parses as
    /// a type alias (`type` is a soft keyword): then the target is rebuilt,
    /// with `type(x)` as a call.
    fn type_alias(&mut self, n: Node<'t>) -> R<()> {
        let f = &self.t.f;
        let [left, right] = self.fields(n, [f.left, f.right])?;
        let target = left.and_then(|l| l.named_child(0));
        match target {
            Some(t) if matches!(self.k(t), K::Attribute | K::Subscript) => {
                let value = match right.and_then(|r| r.named_child(0)) {
                    Some(r) => Some(self.expr(r)?),
                    None => None,
                };
                let target = self.type_call_chain(t, n)?;
                if let (Some(value), Some((name, scope))) = (value, self.attr_binding(&target)) {
                    let func = self.b.func;
                    self.b.m.bindings.push(Binding {
                        name,
                        value,
                        span: span_of(n),
                        scope,
                        func,
                    });
                }
                Ok(())
            }
            _ => {
                for x in [left, right].into_iter().flatten() {
                    self.scan(x)?;
                }
                Ok(())
            }
        }
    }

    /// The target of a misparsed `type(args).a[i] = v`: the leftmost
    /// parenthesized expression (or tuple) holds the arguments of `type`.
    fn type_call_chain(&mut self, n: Node<'t>, stmt: Node<'t>) -> R<Expr> {
        self.b.enter()?;
        let f = &self.t.f;
        let r = match self.k(n) {
            K::Attribute => {
                let [obj, attr] = self.fields(n, [f.object, f.attribute])?;
                let obj = match obj {
                    Some(o) => self.type_call_chain(o, stmt)?,
                    None => self.unk(n),
                };
                let attr = attr.map_or("", |a| self.text(a)).to_owned();
                Ok(Expr::Attr(Box::new(obj), attr))
            }
            K::Subscript => {
                let [value, sub] = self.fields(n, [f.value, f.subscript])?;
                let value = match value {
                    Some(v) => self.type_call_chain(v, stmt)?,
                    None => self.unk(n),
                };
                let sub = self.opt_expr(sub, n)?;
                Ok(Expr::Index(Box::new(value), Box::new(sub)))
            }
            K::ParenthesizedExpression | K::Tuple => {
                let (s, e) = (span_of(stmt), span_of(n));
                let span = Span {
                    end_byte: e.end_byte,
                    end_line: e.end_line,
                    end_col: e.end_col,
                    ..s
                };
                let id = self.b.reserve_call(span);
                self.b.set_callee(id, Expr::Name("type".to_owned()));
                let mut index = 0;
                self.each_named(n, |s, c| {
                    s.b.ctx.push(Ctx::Arg { call: id, index });
                    let v = s.expr(c)?;
                    s.b.ctx.pop();
                    s.b.push_arg(id, None, v);
                    index += 1;
                    Ok(())
                })?;
                Ok(Expr::Call(id))
            }
            _ => self.expr(n),
        };
        self.b.leave();
        r
    }

    fn global(&mut self, n: Node<'t>) -> R<()> {
        self.each_named(n, |s, c| {
            if let Some(f) = s.b.func {
                let name = s.text(c);
                let globals = &mut s.b.func_mut(f).globals;
                if !globals.iter().any(|g| g == name) {
                    globals.push(name.to_owned());
                }
            }
            Ok(())
        })
    }

    fn nonlocal(&mut self, n: Node<'t>) -> R<()> {
        self.each_named(n, |s, c| {
            let name = s.text(c);
            s.st.nonlocals.push(name);
            Ok(())
        })
    }

    fn exit(&mut self, n: Node<'t>, kind: ExitKind) -> R<()> {
        let cause = self.t.f.cause;
        let mut value = None;
        let mut value_span = None;
        self.each(n, |s, c, fid| {
            if !c.is_named() {
                return Ok(());
            }
            if s.k(c) == K::Comment {
                s.b.comment(c);
            } else if fid == cause || value.is_some() {
                s.expr(c)?;
            } else {
                value = Some(s.expr(c)?);
                value_span = Some(span_of(c));
            }
            Ok(())
        })?;
        let e = Exit {
            span: span_of(n),
            kind,
            value,
            value_span,
            func: self.b.func,
            ctx: self.b.ctx.clone(),
            guard: self.b.guard(),
        };
        self.b.m.exits.push(e);
        Ok(())
    }

    // ----- imports ---------------------------------------------------------

    /// A dotted name as `a.b.c`, whatever whitespace it was written with.
    fn dotted(&self, n: Node) -> String {
        let t = self.text(n);
        if t.bytes()
            .any(|b| b.is_ascii_whitespace() || b == b'\\' || b == b'#')
        {
            // Rare: `a . b`, line continuations or comments inside.
            let mut out = String::new();
            let mut c = n.walk();
            if c.goto_first_child() {
                loop {
                    let ch = c.node();
                    if self.k(ch) == K::Identifier {
                        if !out.is_empty() {
                            out.push('.');
                        }
                        out.push_str(self.text(ch));
                    }
                    if !c.goto_next_sibling() {
                        break;
                    }
                }
            }
            out
        } else {
            t.to_owned()
        }
    }

    fn push_import(&mut self, local: String, path: String, span: Span) {
        self.b.m.imports.push(Import { local, path, span });
    }

    /// `import a.b.c` binds `a`; `import a.b as x` binds `x` to `a.b`.
    fn import(&mut self, n: Node<'t>) -> R<()> {
        let f = &self.t.f;
        let (fname, falias) = (f.name, f.alias);
        self.each_named(n, |s, c| {
            match s.k(c) {
                K::DottedName => {
                    let d = s.dotted(c);
                    let root = d.split('.').next().unwrap_or("").to_owned();
                    s.push_import(root.clone(), root, span_of(c));
                }
                K::AliasedImport => {
                    let [name, alias] = s.fields(c, [fname, falias])?;
                    if let (Some(name), Some(alias)) = (name, alias) {
                        let path = s.dotted(name);
                        s.push_import(s.text(alias).to_owned(), path, span_of(c));
                    }
                }
                _ => {}
            }
            Ok(())
        })
    }

    /// `from m import a as b` binds `b` to `m.a`; relative modules keep their
    /// dots (`from . import x` → `.x`, `from ..m import y` → `..m.y`).
    fn import_from(&mut self, n: Node<'t>) -> R<()> {
        let f = &self.t.f;
        let (fmodule, fname, falias) = (f.module_name, f.name, f.alias);
        let mut module = String::new();
        self.each(n, |s, c, fid| {
            if fid == fmodule {
                module = match s.k(c) {
                    K::DottedName => s.dotted(c),
                    _ => s.text(c).chars().filter(|c| !c.is_whitespace()).collect(),
                };
                return Ok(());
            }
            let join = |m: &str, name: &str| {
                if m.is_empty() || m.ends_with('.') {
                    format!("{m}{name}")
                } else {
                    format!("{m}.{name}")
                }
            };
            match s.k(c) {
                K::DottedName if fid == fname => {
                    let name = s.dotted(c);
                    let local = name.rsplit('.').next().unwrap_or("").to_owned();
                    let path = join(&module, &name);
                    s.push_import(local, path, span_of(c));
                }
                K::AliasedImport => {
                    let [name, alias] = s.fields(c, [fname, falias])?;
                    if let (Some(name), Some(alias)) = (name, alias) {
                        let path = join(&module, &s.dotted(name));
                        s.push_import(s.text(alias).to_owned(), path, span_of(c));
                    }
                }
                K::Comment => s.b.comment(c),
                _ => {}
            }
            Ok(())
        })
    }

    // ----- functions and classes ---------------------------------------------

    fn decorated(&mut self, n: Node<'t>) -> R<()> {
        let fdef = self.t.f.definition;
        let mut decorators = Vec::new();
        let mut def = None;
        self.each(n, |s, c, fid| {
            if fid == fdef {
                def = Some(c);
            } else {
                match s.k(c) {
                    K::Decorator => {
                        // Lowered in the enclosing scope: decorators run there.
                        let expr = s.inner_expr(c)?.unwrap_or_else(|| s.unk(c));
                        decorators.push(Decorator {
                            span: span_of(c),
                            expr,
                        });
                    }
                    K::Comment => s.b.comment(c),
                    _ if c.is_named() => s.stmt(c)?,
                    _ => {}
                }
            }
            Ok(())
        })?;
        match def {
            Some(d) if self.k(d) == K::FunctionDefinition => self.function_def(d, decorators),
            Some(d) if self.k(d) == K::ClassDefinition => self.class_def(d, decorators),
            Some(d) => self.stmt(d),
            None => Ok(()),
        }
    }

    /// Lowers a parameter list in the enclosing scope (defaults and
    /// annotations are evaluated there). Returns the params and their names.
    fn params(&mut self, n: Node<'t>) -> R<(Vec<Param>, Vec<&'s str>)> {
        let f = &self.t.f;
        let (fname, ftype, fvalue) = (f.name, f.type_, f.value);
        let mut params = Vec::new();
        let mut names = Vec::new();
        self.each_named(n, |s, c| {
            let mut name: Option<Node> = None;
            let mut annotation = None;
            match s.k(c) {
                K::Identifier => name = Some(c),
                K::ListSplatPattern | K::DictionarySplatPattern => {
                    name = c.named_child(0);
                }
                K::TypedParameter => {
                    s.each(c, |s, ch, fid| {
                        if fid == ftype {
                            annotation = Some(s.text(ch).to_owned());
                            s.scan(ch)?;
                        } else {
                            match s.k(ch) {
                                K::Identifier | K::TuplePattern => name = Some(ch),
                                K::ListSplatPattern | K::DictionarySplatPattern => {
                                    name = ch.named_child(0);
                                }
                                K::Comment => s.b.comment(ch),
                                _ => {}
                            }
                        }
                        Ok(())
                    })?;
                }
                K::DefaultParameter | K::TypedDefaultParameter => {
                    let [nm, ty, value] = s.fields(c, [fname, ftype, fvalue])?;
                    name = nm;
                    if let Some(ty) = ty {
                        annotation = Some(s.text(ty).to_owned());
                        s.scan(ty)?;
                    }
                    if let Some(v) = value {
                        s.expr(v)?;
                    }
                }
                K::TuplePattern => name = Some(c),
                _ => s.stray(c)?,
            }
            if let Some(nm) = name {
                let (text, destructured) = if s.k(nm) == K::TuplePattern {
                    let start = names.len();
                    s.pattern_names(nm, &mut names)?;
                    let d = names[start..].iter().map(|d| (*d).to_owned()).collect();
                    (String::new(), d)
                } else {
                    let t = s.text(nm);
                    names.push(t);
                    (t.to_owned(), Vec::new())
                };
                params.push(Param {
                    name: text,
                    annotation,
                    destructured,
                });
            }
            Ok(())
        })?;
        Ok((params, names))
    }

    fn function_def(&mut self, n: Node<'t>, decorators: Vec<Decorator>) -> R<()> {
        let f = &self.t.f;
        let (fname, fparams, fret, ftp, fbody) = (
            f.name,
            f.parameters,
            f.return_type,
            f.type_parameters,
            f.body,
        );
        let mut is_async = false;
        let (mut name, mut params, mut ret, mut tparams, mut body) = (None, None, None, None, None);
        let mut errors = Vec::new();
        self.each(n, |s, c, fid| {
            match fid {
                _ if fid == 0 => match s.k(c) {
                    K::Async => is_async = true,
                    K::Comment => s.b.comment(c),
                    // Most often a broken first statement of the body.
                    _ if c.is_error() => errors.push(c),
                    _ => {}
                },
                _ if fid == fname => name = Some(c),
                _ if fid == fparams => params = Some(c),
                _ if fid == fret => ret = Some(c),
                _ if fid == ftp => tparams = Some(c),
                _ if fid == fbody => body = Some(c),
                _ => {}
            }
            Ok(())
        })?;
        let name = name.map_or("", |n| self.text(n));
        let (params, names) = match params {
            Some(p) => self.params(p)?,
            None => (Vec::new(), Vec::new()),
        };
        for x in [ret, tparams].into_iter().flatten() {
            self.scan(x)?;
        }
        let kind = if self.st.in_class_body {
            FuncKind::Method
        } else {
            FuncKind::Def
        };
        let exported =
            (self.b.func.is_none() || kind == FuncKind::Method) && !name.starts_with('_');
        let (id, saved) = self.b.begin_function(name.to_owned(), kind, span_of(n));
        {
            let func = self.b.func_mut(id);
            func.is_async = is_async;
            func.params = params;
            func.decorators = decorators;
            func.exported = exported;
        }
        if let Some(r) = ret {
            let t = self.text(r).to_owned();
            self.b.func_mut(id).returns = Some(t);
        }
        let outer = self.enter_fn(names);
        let mut r = Ok(());
        for x in errors.into_iter().chain(body) {
            r = self.stmt(x);
            if r.is_err() {
                break;
            }
        }
        self.leave_fn(outer);
        self.b.end_function(saved);
        r
    }

    /// `lambda params: body`, named after the target it is assigned to.
    fn lambda(&mut self, n: Node<'t>, name: Option<&str>) -> R<Expr> {
        let f = &self.t.f;
        let [params, body] = self.fields(n, [f.parameters, f.body])?;
        let (params, names) = match params {
            Some(p) => self.params(p)?,
            None => (Vec::new(), Vec::new()),
        };
        let (id, saved) =
            self.b
                .begin_function(name.unwrap_or("").to_owned(), FuncKind::Lambda, span_of(n));
        self.b.func_mut(id).params = params;
        let outer = self.enter_fn(names);
        let body_node = body;
        let body = match body {
            Some(b) => self.expr(b).map(Some),
            None => Ok(None),
        };
        self.leave_fn(outer);
        self.b.func_mut(id).expr_body = body?;
        self.b.func_mut(id).expr_body_span = self.b.m.functions[id as usize]
            .expr_body
            .as_ref()
            .and(body_node.map(span_of));
        self.b.end_function(saved);
        Ok(Expr::Func(id))
    }

    fn class_def(&mut self, n: Node<'t>, decorators: Vec<Decorator>) -> R<()> {
        let f = &self.t.f;
        let [name, supers, tparams, body] =
            self.fields(n, [f.name, f.superclasses, f.type_parameters, f.body])?;
        let mut bases = Vec::new();
        if let Some(sup) = supers {
            let fvalue = f.value;
            self.each_named(sup, |s, c| {
                if s.k(c) == K::KeywordArgument {
                    // `metaclass=M`: not a base.
                    if let [Some(v)] = s.fields(c, [fvalue])? {
                        s.scan(v)?;
                    }
                } else {
                    bases.push(s.text(c).to_owned());
                    s.scan(c)?;
                }
                Ok(())
            })?;
        }
        if let Some(tp) = tparams {
            self.scan(tp)?;
        }
        let class = Class {
            name: name.map_or("", |n| self.text(n)).to_owned(),
            span: span_of(n),
            decorators,
            trait_name: None,
            bases,
        };
        let (_, outer) = self.b.begin_class(class);
        let was = std::mem::replace(&mut self.st.in_class_body, true);
        let r = match body {
            Some(b) => self.stmt(b),
            None => Ok(()),
        };
        self.st.in_class_body = was;
        self.b.end_class(outer);
        r
    }

    // ----- assignments and bindings ---------------------------------------

    fn assignment(&mut self, n: Node<'t>) -> R<()> {
        let f = &self.t.f;
        let ids = [f.left, f.type_, f.right];
        let [left, ty, mut right] = self.fields(n, ids)?;
        if let Some(t) = ty {
            self.scan(t)?;
        }
        // `a = b = v`: the targets chain down the right-hand side.
        let mut more = Vec::new();
        while let Some(r) = right {
            if self.k(r) != K::Assignment {
                break;
            }
            let [l2, t2, r2] = self.fields(r, ids)?;
            if let Some(t) = t2 {
                self.scan(t)?;
            }
            more.extend(l2);
            right = r2;
        }
        let hint = left.and_then(|l| self.target_name(l));
        let mut value = match right {
            Some(r) => match self.k(r) {
                K::Lambda => Some(self.lambda(r, hint)?),
                K::AugmentedAssignment => {
                    self.stmt(r)?;
                    None
                }
                _ => Some(self.expr(r)?),
            },
            None => None,
        };
        let span = span_of(n);
        let Some(left) = left else { return Ok(()) };
        if more.is_empty() {
            return self.target(left, value, span);
        }
        self.target(left, value.clone(), span)?;
        let last = more.len() - 1;
        for (i, t) in more.into_iter().enumerate() {
            let v = if i == last {
                value.take()
            } else {
                value.clone()
            };
            self.target(t, v, span)?;
        }
        Ok(())
    }

    /// The name a lambda assigned to `target` takes.
    fn target_name(&self, target: Node<'t>) -> Option<&'s str> {
        match self.k(target) {
            K::Identifier => Some(self.text(target)),
            K::Attribute => target
                .child_by_field_id(self.t.f.attribute)
                .map(|a| self.text(a)),
            _ => None,
        }
    }

    /// Binds an assignment target (also `with .. as target`). Tuple and
    /// subscript targets record no binding but are lowered for their calls.
    fn target(&mut self, t: Node<'t>, value: Option<Expr>, span: Span) -> R<()> {
        match self.k(t) {
            K::Identifier => {
                let name = self.text(t);
                if let Some(value) = value {
                    self.bind_name(name, value, span);
                }
                Ok(())
            }
            K::Attribute => {
                let e = self.expr(t)?;
                if let Some(value) = value {
                    if let Some((name, scope)) = self.attr_binding(&e) {
                        let func = self.b.func;
                        self.b.m.bindings.push(Binding {
                            name,
                            value,
                            span,
                            scope,
                            func,
                        });
                    }
                }
                Ok(())
            }
            K::Subscript => self.expr(t).map(drop),
            K::ParenthesizedExpression => match t.named_child(0) {
                Some(inner) if self.k(inner) != K::Comment => self.target(inner, value, span),
                _ => self.scan(t),
            },
            _ => {
                let mut names = Vec::new();
                self.pattern_names(t, &mut names)?;
                self.mark_locals(&names);
                self.scan(t)
            }
        }
    }

    fn bind_name(&mut self, name: &'s str, value: Expr, span: Span) {
        let scope = self.name_scope(name);
        if matches!(scope, BindScope::Function(_)) {
            self.st.locals.insert(name);
        }
        let func = self.b.func;
        self.b.m.bindings.push(Binding {
            name: name.to_owned(),
            value,
            span,
            scope,
            func,
        });
    }

    /// The scope an assignment to the bare name `name` binds in.
    fn name_scope(&self, name: &str) -> BindScope {
        if self.st.in_class_body {
            if let Some(c) = self.b.class {
                return BindScope::Class(self.b.m.classes[c as usize].name.clone());
            }
        }
        let Some(f) = self.b.func else {
            return BindScope::Module;
        };
        let func = &self.b.m.functions[f as usize];
        if func.globals.iter().any(|g| g == name) {
            BindScope::Module
        } else if self.st.nonlocals.contains(&name) {
            func.parent.map_or(BindScope::Module, BindScope::Function)
        } else {
            BindScope::Function(f)
        }
    }

    /// `self.x = v` → (`x`, Class); `a.b.c = v` → (`a.b.c`, the scope of `a`).
    fn attr_binding(&self, e: &Expr) -> Option<(String, BindScope)> {
        let Expr::Attr(obj, field) = e else {
            return None;
        };
        if let Expr::Name(root) = &**obj {
            if (root == "self" || root == "cls") && self.b.func.is_some() {
                if let Some(class) = self.b.current_class_name() {
                    return Some((field.clone(), BindScope::Class(class)));
                }
            }
        }
        let dotted = e.dotted()?;
        let root = e.root_name()?;
        let scope = match self.b.func {
            Some(f)
                if self.st.locals.contains(root)
                    && !self.b.m.functions[f as usize]
                        .globals
                        .iter()
                        .any(|g| g == root) =>
            {
                BindScope::Function(f)
            }
            _ => BindScope::Module,
        };
        Some((dotted, scope))
    }

    /// The plain names a target pattern binds (`a, (b, *c)` → a, b, c).
    fn pattern_names(&mut self, n: Node<'t>, out: &mut Vec<&'s str>) -> R<()> {
        match self.k(n) {
            K::Identifier => {
                out.push(self.text(n));
                Ok(())
            }
            K::PatternList
            | K::TuplePattern
            | K::ListPattern
            | K::Tuple
            | K::List
            | K::ExpressionList
            | K::ParenthesizedExpression
            | K::ListSplatPattern
            | K::ListSplat => {
                self.b.enter()?;
                let r = self.each_named(n, |s, c| s.pattern_names(c, out));
                self.b.leave();
                r
            }
            _ => Ok(()),
        }
    }

    /// Names bound by a pattern are locals of the current function.
    fn mark_locals(&mut self, names: &[&'s str]) {
        if self.b.func.is_some() && !self.st.in_class_body {
            self.st.locals.extend(names.iter().copied());
        }
    }

    // ----- compound statements ---------------------------------------------

    fn for_stmt(&mut self, n: Node<'t>) -> R<()> {
        let f = &self.t.f;
        let [left, right, body, alt] = self.fields(n, [f.left, f.right, f.body, f.alternative])?;
        let iter = match right {
            Some(r) => Some(self.expr(r)?),
            None => None,
        };
        let mut names = Vec::new();
        if let Some(l) = left {
            self.pattern_names(l, &mut names)?;
            self.mark_locals(&names);
            if self.k(l) != K::Identifier {
                self.scan(l)?;
            }
        }
        let vars = names.iter().map(|v| (*v).to_owned()).collect();
        let id = self
            .b
            .push_loop(span_of(n), LoopKind::ForEach, iter, vars, None);
        if let Some(b) = body {
            self.in_ctx(Ctx::Loop(id), |s| s.stmt(b))?;
        }
        if let Some(a) = alt {
            self.stmt(a)?;
        }
        Ok(())
    }

    fn while_stmt(&mut self, n: Node<'t>) -> R<()> {
        let f = &self.t.f;
        let [cond, body, alt] = self.fields(n, [f.condition, f.body, f.alternative])?;
        let cond = match cond {
            Some(c) => Some(self.expr(c)?),
            None => None,
        };
        let id = self
            .b
            .push_loop(span_of(n), LoopKind::While, None, Vec::new(), cond);
        if let Some(b) = body {
            self.in_ctx(Ctx::Loop(id), |s| s.stmt(b))?;
        }
        if let Some(a) = alt {
            self.stmt(a)?;
        }
        Ok(())
    }

    fn try_stmt(&mut self, n: Node<'t>) -> R<()> {
        let id = self.b.m.tries.len() as u32;
        let t = Try {
            span: span_of(n),
            kind: TryKind::Try,
            func: self.b.func,
            clauses: Vec::new(),
            has_finally: false,
            ctx: self.b.ctx.clone(),
        };
        self.b.m.tries.push(t);
        let fbody = self.t.f.body;
        self.each(n, |s, c, fid| {
            if fid == fbody {
                return s.in_ctx(Ctx::Try(id), |s| s.stmt(c));
            }
            match s.k(c) {
                K::ExceptClause => s.except_clause(id, c),
                K::FinallyClause => {
                    s.b.m.tries[id as usize].has_finally = true;
                    s.in_ctx(Ctx::Finally(id), |s| s.stmt(c))
                }
                _ if c.is_named() => s.stmt(c),
                _ => Ok(()),
            }
        })
    }

    fn except_clause(&mut self, try_id: u32, n: Node<'t>) -> R<()> {
        let f = &self.t.f;
        let (fvalue, falias) = (f.value, f.alias);
        let mut types = Vec::new();
        let mut binding = None;
        let mut body = None;
        let mut errors = Vec::new();
        self.each(n, |s, c, fid| {
            if fid == fvalue {
                if s.k(c) == K::AsPattern {
                    s.each_named(c, |s, ch| {
                        if s.k(ch) == K::AsPatternTarget {
                            binding = Some(s.text(ch).trim().to_owned());
                            Ok(())
                        } else {
                            s.except_types(ch, &mut types)
                        }
                    })?;
                } else {
                    s.except_types(c, &mut types)?;
                }
            } else if fid == falias {
                binding = Some(s.text(c).trim().to_owned());
            } else {
                match s.k(c) {
                    K::Block => body = Some(c),
                    K::Comment => s.b.comment(c),
                    _ if c.is_error() => errors.push(c),
                    _ => {}
                }
            }
            Ok(())
        })?;
        let clauses = &mut self.b.m.tries[try_id as usize].clauses;
        let clause = clauses.len() as u32;
        clauses.push(CatchClause {
            span: span_of(n),
            types,
            binding,
            value: None,
            value_span: None,
        });
        self.b.ctx.push(Ctx::Catch { try_id, clause });
        for x in errors.into_iter().chain(body) {
            self.stmt(x)?;
        }
        self.b.ctx.pop();
        Ok(())
    }

    /// The exception types of `except T`, `except (A, b.C)`, `except A, B`.
    fn except_types(&mut self, n: Node<'t>, out: &mut Vec<String>) -> R<()> {
        match self.k(n) {
            K::Tuple | K::ParenthesizedExpression | K::ExpressionList => {
                self.b.enter()?;
                let r = self.each_named(n, |s, c| s.except_types(c, out));
                self.b.leave();
                r
            }
            _ => {
                let t = self.text(n);
                if t.bytes().any(|b| b.is_ascii_whitespace()) {
                    out.push(t.split_whitespace().collect());
                } else {
                    out.push(t.to_owned());
                }
                self.scan(n)
            }
        }
    }

    fn with_stmt(&mut self, n: Node<'t>) -> R<()> {
        let fbody = self.t.f.body;
        let mut items: Vec<CallId> = Vec::new();
        let mut objects: Vec<String> = Vec::new();
        let mut body = None;
        self.each(n, |s, c, fid| {
            if fid == fbody {
                body = Some(c);
                return Ok(());
            }
            match s.k(c) {
                K::WithClause => s.each_named(c, |s, item| {
                    if s.k(item) == K::WithItem {
                        s.with_item(item, &mut items, &mut objects)
                    } else {
                        s.stmt(item)
                    }
                }),
                K::Comment => {
                    s.b.comment(c);
                    Ok(())
                }
                _ => s.stray(c),
            }
        })?;
        if let Some(b) = body {
            self.in_ctx(Ctx::With { items, objects }, |s| s.stmt(b))?;
        }
        Ok(())
    }

    /// `X` or `X as y`: lowers `X` (collecting it when it is a call) and
    /// binds `y = X`.
    fn with_item(
        &mut self,
        item: Node<'t>,
        items: &mut Vec<CallId>,
        objects: &mut Vec<String>,
    ) -> R<()> {
        let [Some(v)] = self.fields(item, [self.t.f.value])? else {
            return Ok(());
        };
        let (value, target) = if self.k(v) == K::AsPattern {
            let mut value = None;
            let mut target = None;
            self.each_named(v, |s, c| {
                if s.k(c) == K::AsPatternTarget {
                    target = c.named_child(0);
                } else if value.is_none() {
                    value = Some(c);
                }
                Ok(())
            })?;
            (value, target)
        } else {
            (Some(v), None)
        };
        let Some(value) = value else { return Ok(()) };
        let e = self.expr(value)?;
        match &e {
            Expr::Call(id) => items.push(*id),
            other => {
                objects.extend(other.dotted());
                if matches!(other, Expr::Name(_) | Expr::Attr(..) | Expr::Index(..)) {
                    self.b.m.with_values.push(crate::facts::WithValue {
                        value: other.clone(),
                        span: span_of(value),
                        func: self.b.func,
                    })
                }
            }
        }
        if let Some(t) = target {
            self.target(t, Some(e), span_of(item))?;
        }
        Ok(())
    }

    // ----- expressions -----------------------------------------------------

    fn expr(&mut self, n: Node<'t>) -> R<Expr> {
        self.b.enter()?;
        let r = self.expr_inner(n);
        self.b.leave();
        r
    }

    /// Lowers only what can hold calls (annotations, patterns, format specs).
    fn scan(&mut self, n: Node<'t>) -> R<()> {
        match self.k(n) {
            K::Call | K::Lambda | K::NamedExpression | K::Await | K::String => {
                self.expr(n)?;
                Ok(())
            }
            K::Comment => {
                self.b.comment(n);
                Ok(())
            }
            K::Identifier | K::Integer | K::Float | K::True | K::False | K::None => Ok(()),
            _ => {
                self.b.enter()?;
                let r = self.each_named(n, |s, c| s.scan(c));
                self.b.leave();
                r
            }
        }
    }

    /// Lowers the children of a node we do not model, for the calls in them.
    fn generic(&mut self, n: Node<'t>) -> R<Expr> {
        self.each_named(n, |s, c| s.stmt(c))?;
        Ok(self.unk(n))
    }

    /// Dispatch only: every arm is one call, so that this frame (on the
    /// path of every level of recursion) stays small in unoptimized builds.
    fn expr_inner(&mut self, n: Node<'t>) -> R<Expr> {
        match self.k(n) {
            K::Identifier => Ok(Expr::Name(self.text(n).to_owned())),
            K::Attribute => self.attribute(n),
            K::Call => self.call(n),
            K::String => self.string(n),
            K::ConcatenatedString => self.concatenated(n),
            K::Integer | K::Float => Ok(Expr::Num(self.text(n).to_owned())),
            K::True => Ok(Expr::Bool(true)),
            K::False => Ok(Expr::Bool(false)),
            K::None => Ok(Expr::Null),
            K::Await => self.await_expr(n),
            K::Yield => self.yield_expr(n),
            K::ParenthesizedExpression => self.paren(n),
            K::Subscript => self.subscript(n),
            K::Dictionary => self.dictionary(n),
            K::List | K::Tuple | K::Set | K::ExpressionList | K::PatternList => self.array(n),
            K::ListComprehension
            | K::SetComprehension
            | K::GeneratorExpression
            | K::DictionaryComprehension => self.comprehension(n),
            K::Lambda => self.lambda(n, None),
            K::NotOperator | K::UnaryOperator => self.unary(n),
            K::BooleanOperator | K::BinaryOperator => self.binary(n),
            K::ComparisonOperator => self.comparison(n),
            K::ConditionalExpression => self.conditional(n),
            K::NamedExpression => self.walrus(n),
            K::ListSplat
            | K::DictionarySplat
            | K::ParenthesizedListSplat
            | K::ListSplatPattern
            | K::DictionarySplatPattern => self.spread(n),
            K::Ellipsis => Ok(Expr::Unknown("...".to_owned())),
            K::Assignment | K::AugmentedAssignment => self.stmt_as_expr(n),
            _ => self.generic(n),
        }
    }

    fn stmt_as_expr(&mut self, n: Node<'t>) -> R<Expr> {
        self.stmt_inner(n)?;
        Ok(self.unk(n))
    }

    /// `yield v`: recorded as an exit, so that what a lifespan context
    /// manager yields can be traced into the tools that read it.
    fn yield_expr(&mut self, n: Node<'t>) -> R<Expr> {
        let value = self.inner_expr(n)?;
        self.b.m.exits.push(Exit {
            span: span_of(n),
            kind: ExitKind::Yield,
            value,
            value_span: None,
            func: self.b.func,
            ctx: self.b.ctx.clone(),
            guard: self.b.guard(),
        });
        Ok(self.unk(n))
    }

    fn await_expr(&mut self, n: Node<'t>) -> R<Expr> {
        let inner = self.inner_expr(n)?.unwrap_or_else(|| self.unk(n));
        if let Expr::Call(id) = inner {
            self.b.call_mut(id).awaited = true;
        }
        Ok(inner)
    }

    fn paren(&mut self, n: Node<'t>) -> R<Expr> {
        let inner = self.inner_expr(n)?;
        Ok(inner.unwrap_or_else(|| self.unk(n)))
    }

    fn array(&mut self, n: Node<'t>) -> R<Expr> {
        let mut items = Vec::new();
        let mut c = self.cursor(n);
        if c.goto_first_child() {
            loop {
                let ch = c.node();
                if ch.is_named() {
                    if self.k(ch) == K::Comment {
                        self.b.comment(ch);
                    } else {
                        items.push(self.expr(ch)?);
                    }
                }
                if !c.goto_next_sibling() {
                    break;
                }
            }
        }
        self.cursors.push(c);
        Ok(Expr::Array(items))
    }

    fn unary(&mut self, n: Node<'t>) -> R<Expr> {
        let f = &self.t.f;
        let [op, arg] = self.fields(n, [f.operator, f.argument])?;
        let operand = self.opt_expr(arg, n)?;
        let op = match op {
            Some(o) => self.text(o),
            None => "not",
        };
        Ok(Expr::Unary {
            op: op.to_owned(),
            operand: Box::new(operand),
        })
    }

    fn binary(&mut self, n: Node<'t>) -> R<Expr> {
        let f = &self.t.f;
        let [l, op, r] = self.fields(n, [f.left, f.operator, f.right])?;
        let lhs = self.opt_expr(l, n)?;
        let rhs = self.opt_expr(r, n)?;
        Ok(Expr::Binary {
            op: op.map_or("", |o| self.text(o)).to_owned(),
            lhs: Box::new(lhs),
            rhs: Box::new(rhs),
        })
    }

    /// `then if cond else otherwise`.
    fn conditional(&mut self, n: Node<'t>) -> R<Expr> {
        let mut parts: [Option<Expr>; 3] = [None, None, None];
        let mut i = 0;
        self.each_named(n, |s, c| {
            let e = s.expr(c)?;
            if i < 3 {
                parts[i] = Some(e);
            }
            i += 1;
            Ok(())
        })?;
        match parts {
            [Some(then), Some(cond), Some(otherwise)] => Ok(Expr::Conditional {
                cond: Box::new(cond),
                then: Box::new(then),
                otherwise: Box::new(otherwise),
            }),
            _ => Ok(self.unk(n)),
        }
    }

    /// `(name := value)`: binds `name`, evaluates to the value.
    fn walrus(&mut self, n: Node<'t>) -> R<Expr> {
        let f = &self.t.f;
        let [name, value] = self.fields(n, [f.name, f.value])?;
        let name = name.map(|x| self.text(x));
        let v = match value {
            Some(v) if self.k(v) == K::Lambda => self.lambda(v, name)?,
            Some(v) => self.expr(v)?,
            None => self.unk(n),
        };
        if let Some(name) = name {
            self.bind_name(name, v.clone(), span_of(n));
        }
        Ok(v)
    }

    fn spread(&mut self, n: Node<'t>) -> R<Expr> {
        let inner = self.inner_expr(n)?.unwrap_or_else(|| self.unk(n));
        Ok(Expr::Spread(Box::new(inner)))
    }

    fn opt_expr(&mut self, n: Option<Node<'t>>, parent: Node<'t>) -> R<Expr> {
        match n {
            Some(n) => self.expr(n),
            None => Ok(self.unk(parent)),
        }
    }

    fn attribute(&mut self, n: Node<'t>) -> R<Expr> {
        let f = &self.t.f;
        let [obj, attr] = self.fields(n, [f.object, f.attribute])?;
        let obj = self.opt_expr(obj, n)?;
        let attr = attr.map_or("", |a| self.text(a));
        Ok(Expr::Attr(Box::new(obj), attr.to_owned()))
    }

    fn subscript(&mut self, n: Node<'t>) -> R<Expr> {
        let f = &self.t.f;
        let (fvalue, fsub) = (f.value, f.subscript);
        let mut value = None;
        let mut index = None;
        self.each(n, |s, c, fid| {
            if fid == fvalue {
                value = Some(s.expr(c)?);
            } else if fid == fsub {
                let e = s.expr(c)?;
                if index.is_none() {
                    index = Some(e);
                }
            } else if s.k(c) == K::Comment {
                s.b.comment(c);
            } else {
                s.stray(c)?;
            }
            Ok(())
        })?;
        match (value, index) {
            (Some(v), Some(i)) => Ok(Expr::Index(Box::new(v), Box::new(i))),
            _ => Ok(self.unk(n)),
        }
    }

    fn comparison(&mut self, n: Node<'t>) -> R<Expr> {
        let fops = self.t.f.operators;
        let mut op: Option<Node> = None;
        let mut operands: [Option<Expr>; 2] = [None, None];
        let mut i = 0;
        self.each(n, |s, c, fid| {
            if fid == fops {
                if op.is_none() {
                    op = Some(c);
                }
            } else if c.is_named() {
                if s.k(c) == K::Comment {
                    s.b.comment(c);
                } else {
                    let e = s.expr(c)?;
                    if i < 2 {
                        operands[i] = Some(e);
                    }
                    i += 1;
                }
            }
            Ok(())
        })?;
        let op = match op.map(|o| self.text(o)) {
            // `is not` / `not in` may be written with any whitespace.
            Some(t) if t.bytes().any(|b| b.is_ascii_whitespace()) => {
                t.split_whitespace().collect::<Vec<_>>().join(" ")
            }
            Some(t) => t.to_owned(),
            None => String::new(),
        };
        match operands {
            [Some(lhs), Some(rhs)] => Ok(Expr::Binary {
                op,
                lhs: Box::new(lhs),
                rhs: Box::new(rhs),
            }),
            _ => Ok(self.unk(n)),
        }
    }

    fn call(&mut self, n: Node<'t>) -> R<Expr> {
        let f = &self.t.f;
        let [mut func, args] = self.fields(n, [f.function, f.arguments])?;
        let mut span = span_of(n);
        // The grammar sometimes reads `*a.b.c()` as a call of `*a.b.c`:
        // lower it as the splat of a call of `a.b.c`.
        let splat = match func {
            Some(x) if matches!(self.k(x), K::ListSplat | K::DictionarySplat) => {
                func = x.named_child(0);
                if let Some(inner) = func {
                    let s = span_of(inner);
                    span = Span {
                        start_byte: s.start_byte,
                        start_line: s.start_line,
                        start_col: s.start_col,
                        ..span
                    };
                }
                true
            }
            _ => false,
        };
        let id = self.b.reserve_call(span);
        let callee = self.opt_expr(func, n)?;
        self.b.set_callee(id, callee);
        self.edit_facts(id, func, args);
        if let Some(a) = args {
            if self.k(a) == K::ArgumentList {
                self.arguments(id, a)?;
            } else {
                // `f(x for x in y)`
                let v = self.in_ctx(Ctx::Arg { call: id, index: 0 }, |s| s.expr(a))?;
                self.b.push_arg(id, None, v);
            }
        }
        if splat {
            return Ok(Expr::Spread(Box::new(Expr::Call(id))));
        }
        Ok(Expr::Call(id))
    }

    /// Where call `id`'s name and argument list are written (for `--fix`).
    /// Out of line: `call` is on the recursion path of nested calls, and
    /// its frame should stay small.
    #[inline(never)]
    fn edit_facts(&mut self, id: CallId, func: Option<Node<'t>>, args: Option<Node<'t>>) {
        let name_span = func.and_then(|f| self.last_name(f)).map(span_of);
        let list = args
            .filter(|a| self.k(*a) == K::ArgumentList)
            .map(|a| crate::lang::list_span(a, self.b.src, span_of, |_| true));
        let c = self.b.call_mut(id);
        c.name_span = name_span;
        c.arg_list = list;
    }

    /// The name a callee ends in: `get` of `requests.get`, `f` of `f`.
    fn last_name(&self, callee: Node<'t>) -> Option<Node<'t>> {
        match self.k(callee) {
            K::Identifier => Some(callee),
            K::Attribute => callee.child_by_field_id(self.t.f.attribute),
            _ => None,
        }
    }

    /// The arguments of call `id`, each lowered under `Ctx::Arg`. (A plain
    /// loop: this is on the recursion path of nested calls.)
    fn arguments(&mut self, id: CallId, list: Node<'t>) -> R<()> {
        let f = &self.t.f;
        let (fname, fvalue) = (f.name, f.value);
        let mut index = 0u32;
        let mut c = self.cursor(list);
        if c.goto_first_child() {
            loop {
                let ch = c.node();
                if ch.is_named() {
                    match self.k(ch) {
                        K::Comment => self.b.comment(ch),
                        K::KeywordArgument => {
                            let [name, value] = self.fields(ch, [fname, fvalue])?;
                            let name = name.map(|x| self.text(x).to_owned());
                            self.b.ctx.push(Ctx::Arg { call: id, index });
                            let v = self.opt_expr(value, ch)?;
                            self.b.ctx.pop();
                            self.b.push_arg(id, name, v);
                            let span = span_of(ch);
                            self.b.arg_span(id, span);
                            index += 1;
                        }
                        _ => {
                            self.b.ctx.push(Ctx::Arg { call: id, index });
                            let v = self.expr(ch)?;
                            self.b.ctx.pop();
                            self.b.push_arg(id, None, v);
                            self.b.arg_span(id, span_of(ch));
                            index += 1;
                        }
                    }
                }
                if !c.goto_next_sibling() {
                    break;
                }
            }
        }
        self.cursors.push(c);
        Ok(())
    }

    fn string(&mut self, n: Node<'t>) -> R<Expr> {
        let text = self.text(n);
        if !may_interpolate(text) {
            return Ok(Expr::Str(unquote(text)));
        }
        let f = &self.t.f;
        let (fexpr, fspec) = (f.expression, f.format_specifier);
        let mut parts = Vec::new();
        let mut interpolated = false;
        self.each_named(n, |s, c| {
            match s.k(c) {
                K::StringContent => parts.push(TemplatePart::Lit(s.text(c).to_owned())),
                K::Interpolation => {
                    interpolated = true;
                    let [e, spec] = s.fields(c, [fexpr, fspec])?;
                    let v = s.opt_expr(e, c)?;
                    if let Some(spec) = spec {
                        s.scan(spec)?;
                    }
                    parts.push(TemplatePart::Expr(v));
                }
                _ => {}
            }
            Ok(())
        })?;
        if interpolated {
            Ok(Expr::Template(parts))
        } else {
            Ok(Expr::Str(lits(parts)))
        }
    }

    /// `"a" "b"` → `Str("ab")`; with an f-string among them, a `Template`.
    fn concatenated(&mut self, n: Node<'t>) -> R<Expr> {
        let mut parts = Vec::new();
        let mut interpolated = false;
        self.each_named(n, |s, c| {
            match s.expr(c)? {
                Expr::Str(t) => parts.push(TemplatePart::Lit(t)),
                Expr::Template(p) => {
                    interpolated = true;
                    parts.extend(p);
                }
                other => {
                    interpolated = true;
                    parts.push(TemplatePart::Expr(other));
                }
            }
            Ok(())
        })?;
        if interpolated {
            Ok(Expr::Template(parts))
        } else {
            Ok(Expr::Str(lits(parts)))
        }
    }

    fn dictionary(&mut self, n: Node<'t>) -> R<Expr> {
        let f = &self.t.f;
        let (fkey, fvalue) = (f.key, f.value);
        let mut obj = Object::default();
        self.each_named(n, |s, c| {
            match s.k(c) {
                K::Pair => {
                    let [key, value] = s.fields(c, [fkey, fvalue])?;
                    let key = match key {
                        Some(k) => match s.k(k) {
                            K::String | K::ConcatenatedString => match s.expr(k)? {
                                Expr::Str(t) => Some(t),
                                _ => None,
                            },
                            K::Integer | K::Float | K::True | K::False | K::None => {
                                Some(s.text(k).to_owned())
                            }
                            _ => {
                                s.expr(k)?;
                                None
                            }
                        },
                        None => None,
                    };
                    let v = s.opt_expr(value, c)?;
                    match key {
                        Some(k) => {
                            obj.entries.push((k, v));
                            obj.push_span(span_of(c));
                        }
                        None => obj.spread = true,
                    }
                }
                _ => {
                    // `**x` (and anything the parser could not make sense of).
                    s.expr(c)?;
                    obj.spread = true;
                }
            }
            Ok(())
        })?;
        Ok(Expr::Object(obj))
    }

    /// `[elt for v in iter ...]`: the element and the first iterable.
    fn comprehension(&mut self, n: Node<'t>) -> R<Expr> {
        let f = &self.t.f;
        let (fbody, fkey, fvalue, fright) = (f.body, f.key, f.value, f.right);
        let mut elt = None;
        let mut iter = None;
        self.each(n, |s, c, fid| {
            if fid == fbody {
                elt = Some(if s.k(c) == K::Pair {
                    let [k, v] = s.fields(c, [fkey, fvalue])?;
                    let k = s.opt_expr(k, c)?;
                    let v = s.opt_expr(v, c)?;
                    Expr::Array(vec![k, v])
                } else {
                    s.expr(c)?
                });
                return Ok(());
            }
            match s.k(c) {
                K::ForInClause => s.each(c, |s, ch, fid| {
                    if fid == fright && ch.is_named() {
                        let e = s.expr(ch)?;
                        if iter.is_none() {
                            iter = Some(e);
                        }
                    } else if s.k(ch) == K::Comment {
                        s.b.comment(ch);
                    }
                    Ok(())
                }),
                K::IfClause => s.inner_expr(c).map(drop),
                K::Comment => {
                    s.b.comment(c);
                    Ok(())
                }
                _ => s.stray(c),
            }
        })?;
        match (elt, iter) {
            (Some(elt), Some(iter)) => Ok(Expr::Comprehension {
                elt: Box::new(elt),
                iter: Box::new(iter),
            }),
            _ => Ok(self.unk(n)),
        }
    }

    // ----- after the walk --------------------------------------------------

    /// Caught types are resolved through imports (`from httpx import
    /// HTTPError` makes `except HTTPError` catch `httpx.HTTPError`).
    fn resolve_catch_types(&mut self) {
        let m = &mut self.b.m;
        if m.imports.is_empty() {
            return;
        }
        for t in &mut m.tries {
            for c in &mut t.clauses {
                for ty in &mut c.types {
                    let (root, rest) = match ty.split_once('.') {
                        Some((r, rest)) => (r, Some(rest)),
                        None => (ty.as_str(), None),
                    };
                    if let Some(i) = m.imports.iter().rev().find(|i| i.local == root) {
                        if i.path != root {
                            *ty = match rest {
                                Some(rest) => format!("{}.{rest}", i.path),
                                None => i.path.clone(),
                            };
                        }
                    }
                }
            }
        }
    }
}

fn lits(parts: Vec<TemplatePart>) -> String {
    let mut out = String::new();
    for p in parts {
        if let TemplatePart::Lit(t) = p {
            if out.is_empty() {
                out = t;
            } else {
                out.push_str(&t);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::facts::*;
    use crate::lang::LowerError;

    fn lower(src: &str) -> Module {
        crate::lang::lower(Lang::Python, "t.py", src).expect("lowers")
    }

    fn name(n: &str) -> Expr {
        Expr::Name(n.into())
    }

    fn attr(e: Expr, a: &str) -> Expr {
        Expr::Attr(Box::new(e), a.into())
    }

    fn s(t: &str) -> Expr {
        Expr::Str(t.into())
    }

    /// The calls whose last callee segment is `n`, in id order.
    fn calls<'a>(m: &'a Module, n: &str) -> Vec<(CallId, &'a Call)> {
        m.calls
            .iter()
            .enumerate()
            .filter(|(_, c)| c.name() == Some(n))
            .map(|(i, c)| (i as CallId, c))
            .collect()
    }

    fn call<'a>(m: &'a Module, n: &str) -> (CallId, &'a Call) {
        let mut v = calls(m, n);
        assert_eq!(v.len(), 1, "expected one call to {n}: {:#?}", m.calls);
        v.remove(0)
    }

    fn func<'a>(m: &'a Module, n: &str) -> (FuncId, &'a Function) {
        let (i, f) = m
            .functions
            .iter()
            .enumerate()
            .find(|(_, f)| f.name == n)
            .unwrap_or_else(|| panic!("no function {n}: {:#?}", m.functions));
        (i as FuncId, f)
    }

    fn binding<'a>(m: &'a Module, n: &str) -> &'a Binding {
        let v: Vec<_> = m.bindings.iter().filter(|b| b.name == n).collect();
        assert_eq!(v.len(), 1, "expected one binding of {n}: {:#?}", m.bindings);
        v[0]
    }

    fn import<'a>(m: &'a Module, local: &str) -> &'a str {
        &m.import(local)
            .unwrap_or_else(|| panic!("no import {local}: {:#?}", m.imports))
            .path
    }

    const WEATHER: &str = r#"
import asyncio
import httpx
from mcp.server.fastmcp import FastMCP
import requests as rq

mcp = FastMCP("weather")
API = "https://api.weather.example/v1"
client = httpx.AsyncClient(base_url=API, timeout=httpx.Timeout(10.0))

class Api:
    session = rq.Session()

    def __init__(self):
        self.client = httpx.AsyncClient(timeout=None)

    async def get(self, u):
        return await self.client.get(u)

@mcp.tool()
async def forecast(city: str) -> str:
    """Forecast for a city."""
    async with asyncio.timeout(10):
        r = await client.get(f"{API}/forecast/{city}", params={"q": city})
    try:
        rq.get(url, timeout=5, **kw)
    except (httpx.HTTPError, OSError) as e:
        return f"failed: {e}"
    return r.text

if __name__ == "__main__":
    mcp.run(transport="stdio")
"#;

    #[test]
    fn fastmcp_server() {
        let m = lower(WEATHER);
        assert!(!m.has_syntax_errors);

        // Imports.
        assert_eq!(import(&m, "rq"), "requests");
        assert_eq!(import(&m, "FastMCP"), "mcp.server.fastmcp.FastMCP");

        // `rq.get` resolves through the import and sits in the try body.
        let (_, get) = calls(&m, "get")
            .into_iter()
            .find(|(_, c)| c.receiver == Some(name("rq")))
            .unwrap();
        assert_eq!(get.path.as_deref(), Some("requests.get"));
        assert_eq!(get.kwarg("timeout"), Some(&Expr::Num("5".into())));
        assert!(get.has_spread_arg());
        assert_eq!(get.positional(0), Some(&name("url")));
        let (fid, forecast) = func(&m, "forecast");
        assert_eq!(get.func, Some(fid));
        assert_eq!(get.ctx, vec![Ctx::Try(0)]);

        // `self.client.get(u)` in a method: receiver is the attribute, no path.
        let (_, sget) = calls(&m, "get")
            .into_iter()
            .find(|(_, c)| c.receiver == Some(attr(name("self"), "client")))
            .unwrap();
        assert_eq!(sget.path, None);
        assert!(sget.awaited);
        assert_eq!(sget.func, Some(func(&m, "get").0));
        assert_eq!(sget.positional(0), Some(&name("u")));

        // Class bindings.
        let b = m.bindings_of(None, "client");
        assert_eq!(b.len(), 1);
        let cls: Vec<_> = m.class_bindings("Api", "client");
        assert_eq!(cls.len(), 1);
        let Expr::Call(ctor) = cls[0].value else {
            panic!("{:?}", cls[0].value)
        };
        assert_eq!(m.call(ctor).path.as_deref(), Some("httpx.AsyncClient"));
        assert_eq!(m.call(ctor).kwarg("timeout"), Some(&Expr::Null));
        let sess = m.class_bindings("Api", "session");
        assert_eq!(sess.len(), 1);
        assert_eq!(sess[0].func, None);
        let Expr::Call(sc) = sess[0].value else {
            panic!()
        };
        assert_eq!(m.call(sc).path.as_deref(), Some("requests.Session"));
        assert_eq!(m.call(sc).func, None);

        // The decorator: a call `mcp.tool()` made at module level.
        assert!(forecast.is_async);
        assert!(forecast.exported);
        assert_eq!(forecast.kind, FuncKind::Def);
        assert_eq!(forecast.decorators.len(), 1);
        let Expr::Call(d) = forecast.decorators[0].expr else {
            panic!("{:?}", forecast.decorators[0].expr)
        };
        let tool = m.call(d);
        assert_eq!(tool.method.as_deref(), Some("tool"));
        assert_eq!(tool.receiver, Some(name("mcp")));
        assert_eq!(tool.func, None);
        // The function's span starts at `async def`, the decorator's at `@`.
        let def_line = WEATHER
            .lines()
            .position(|l| l.starts_with("async def forecast"))
            .unwrap() as u32
            + 1;
        assert_eq!(forecast.span.start_line, def_line);
        assert_eq!(forecast.span.start_col, 0);
        assert_eq!(forecast.decorators[0].span.start_line, def_line - 1);
        assert_eq!(
            forecast.params,
            vec![Param {
                name: "city".into(),
                annotation: Some("str".into()),
                destructured: vec![],
            }]
        );

        // `async with asyncio.timeout(10):` wraps the client call.
        let (tid, timeout) = call(&m, "timeout");
        assert_eq!(timeout.path.as_deref(), Some("asyncio.timeout"));
        let (_, cget) = calls(&m, "get")
            .into_iter()
            .find(|(_, c)| c.receiver == Some(name("client")))
            .unwrap();
        assert_eq!(
            cget.ctx,
            vec![Ctx::With {
                items: vec![tid],
                objects: vec![]
            }]
        );
        assert!(cget.awaited);
        assert_eq!(
            cget.positional(0),
            Some(&Expr::Template(vec![
                TemplatePart::Expr(name("API")),
                TemplatePart::Lit("/forecast/".into()),
                TemplatePart::Expr(name("city")),
            ]))
        );
        let Some(Expr::Object(params)) = cget.kwarg("params") else {
            panic!()
        };
        assert_eq!(params.get("q"), Some(&name("city")));
        assert!(!params.spread);
        let r = binding(&m, "r");
        assert_eq!(r.scope, BindScope::Function(fid));

        // The except clause and the leaked error detail.
        assert_eq!(m.tries.len(), 1);
        let t = &m.tries[0];
        assert_eq!(t.func, Some(fid));
        assert_eq!(t.clauses.len(), 1);
        assert_eq!(t.clauses[0].types, vec!["httpx.HTTPError", "OSError"]);
        assert_eq!(t.clauses[0].binding.as_deref(), Some("e"));
        let exit = m
            .exits
            .iter()
            .find(|e| {
                e.ctx
                    == vec![Ctx::Catch {
                        try_id: 0,
                        clause: 0,
                    }]
            })
            .unwrap();
        assert_eq!(exit.kind, ExitKind::Return);
        let Some(Expr::Template(parts)) = &exit.value else {
            panic!("{:?}", exit.value)
        };
        assert!(parts.contains(&TemplatePart::Expr(name("e"))));
        assert_eq!(parts[0], TemplatePart::Lit("failed: ".into()));

        // The main guard runs at module level.
        let (rid, run) = call(&m, "run");
        assert_eq!(run.func, None);
        assert_eq!(run.kwarg("transport"), Some(&s("stdio")));
        assert!(m.module_calls.contains(&rid));

        // Methods.
        let (_, init) = func(&m, "__init__");
        assert_eq!(init.kind, FuncKind::Method);
        assert_eq!(init.class, Some(0));
        assert!(!init.exported);
        assert_eq!(init.params[0].name, "self");
        let (_, g) = func(&m, "get");
        assert!(g.is_async && g.exported);
        assert_eq!(m.classes[0].name, "Api");
    }

    #[test]
    fn imports() {
        let m = lower(
            r#"
import a.b.c
import a.b as x, os
from a.b import c as d, e
from . import util
from .. m import y
from ..m import z as zz
from .pkg.mod import fetch
from m import *
from __future__ import annotations
from x import (
    p,  # the p
    q as r,
)
def f():
    import json
    from urllib import request as ur
"#,
        );
        let got: Vec<(&str, &str)> = m
            .imports
            .iter()
            .map(|i| (i.local.as_str(), i.path.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("a", "a"),
                ("x", "a.b"),
                ("os", "os"),
                ("d", "a.b.c"),
                ("e", "a.b.e"),
                ("util", ".util"),
                ("y", "..m.y"),
                ("zz", "..m.z"),
                ("fetch", ".pkg.mod.fetch"),
                ("p", "x.p"),
                ("r", "x.q"),
                ("json", "json"),
                ("ur", "urllib.request"),
            ]
        );
        assert!(m.bindings.is_empty());
        assert_eq!(m.comments.len(), 1);
        assert_eq!(m.comments[0].text, "# the p");
        assert_eq!(m.imports[0].span.start_line, 2);
    }

    #[test]
    fn decorators_are_lowered_in_the_enclosing_scope() {
        let m = lower(
            r#"
from tenacity import retry, stop_after_attempt, wait_exponential

def make(server):
    @server.call_tool()
    @retry(stop=stop_after_attempt(3), wait=wait_exponential(multiplier=1))
    @staticmethod
    async def handle(name, arguments):
        return await dispatch(name, arguments)
    return handle
"#,
        );
        let (make, _) = func(&m, "make");
        let (hid, h) = func(&m, "handle");
        assert_eq!(h.parent, Some(make));
        assert!(!h.exported, "nested functions are not exported");
        assert_eq!(h.decorators.len(), 3);
        let Expr::Call(ct) = h.decorators[0].expr else {
            panic!()
        };
        assert_eq!(m.call(ct).method.as_deref(), Some("call_tool"));
        assert_eq!(m.call(ct).func, Some(make));
        let Expr::Call(rid) = h.decorators[1].expr else {
            panic!()
        };
        let r = m.call(rid);
        assert_eq!(r.path.as_deref(), Some("tenacity.retry"));
        assert_eq!(r.func, Some(make));
        let Some(Expr::Call(stop)) = r.kwarg("stop") else {
            panic!()
        };
        let stop = m.call(*stop);
        assert_eq!(stop.path.as_deref(), Some("tenacity.stop_after_attempt"));
        assert_eq!(
            stop.ctx,
            vec![Ctx::Arg {
                call: rid,
                index: 0
            }]
        );
        assert_eq!(stop.func, Some(make));
        let (_, w) = call(&m, "wait_exponential");
        assert_eq!(
            w.ctx,
            vec![Ctx::Arg {
                call: rid,
                index: 1
            }]
        );
        assert_eq!(h.decorators[2].expr, name("staticmethod"));
        let (_, d) = call(&m, "dispatch");
        assert_eq!(d.func, Some(hid));
        assert!(d.awaited);
        // The function's span is the def, without the decorators.
        assert_eq!(h.span.start_line, 8);
        assert_eq!(h.decorators[0].span.start_line, 5);
    }

    #[test]
    fn params_and_defaults() {
        let m = lower(
            r#"
class C:
    def m(self, a, b: int, c=make_default(), d: "str" = "x", /, *args: Any, e, f: int = 1, **kwargs):
        pass
    @classmethod
    def k(cls, *, key): ...
h = lambda x, y=1, *r, **kw: x
"#,
        );
        let (_, f) = func(&m, "m");
        let names: Vec<&str> = f.params.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(
            names,
            vec!["self", "a", "b", "c", "d", "args", "e", "f", "kwargs"]
        );
        let ann: Vec<Option<&str>> = f.params.iter().map(|p| p.annotation.as_deref()).collect();
        assert_eq!(
            ann,
            vec![
                None,
                None,
                Some("int"),
                None,
                Some("\"str\""),
                Some("Any"),
                None,
                Some("int"),
                None
            ]
        );
        // A default value is evaluated where the def is: in the class body.
        let (_, mk) = call(&m, "make_default");
        assert_eq!(mk.func, None);
        let (_, k) = func(&m, "k");
        assert_eq!(k.params.len(), 2);
        assert_eq!(k.params[0].name, "cls");
        assert_eq!(k.params[1].name, "key");
        let (hid, h) = func(&m, "h");
        assert_eq!(h.kind, FuncKind::Lambda);
        let names: Vec<&str> = h.params.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, vec!["x", "y", "r", "kw"]);
        assert_eq!(h.expr_body, Some(name("x")));
        assert_eq!(binding(&m, "h").value, Expr::Func(hid));
    }

    #[test]
    fn exported_and_kinds() {
        let m = lower(
            r#"
def public(): pass
def _private(): pass
async def outer():
    def inner(): pass
class K:
    def method(self): pass
    def _helper(self):
        def closure(): pass
    if TYPE_CHECKING:
        def typed(self): pass
if sys.version_info > (3, 10):
    def conditional(): pass
"#,
        );
        let e = |n: &str| func(&m, n).1.exported;
        assert!(e("public"));
        assert!(!e("_private"));
        assert!(e("outer"));
        assert!(!e("inner"));
        assert!(e("method"));
        assert!(!e("_helper"));
        assert!(!e("closure"));
        assert!(e("conditional"));
        let k = |n: &str| func(&m, n).1.kind;
        assert_eq!(k("method"), FuncKind::Method);
        assert_eq!(k("typed"), FuncKind::Method);
        assert_eq!(k("closure"), FuncKind::Def);
        assert_eq!(k("inner"), FuncKind::Def);
        assert_eq!(func(&m, "closure").1.class, None);
        assert_eq!(func(&m, "typed").1.class, Some(0));
        assert!(func(&m, "outer").1.is_async);
        assert!(!func(&m, "public").1.is_async);
        assert_eq!(func(&m, "inner").1.parent, Some(func(&m, "outer").0));
    }

    #[test]
    fn classes_and_self_bindings() {
        let m = lower(
            r#"
import httpx
@dataclass(frozen=True)
class Client(Base, mixins.Retry, metaclass=Meta):
    timeout: float = 10.0
    limits: httpx.Limits
    pool = httpx.Limits(max_connections=10)
    def __init__(self, base):
        self.http = httpx.Client(base_url=base)
        self.base, self.x = base, 1
        self.cfg.timeout = 3
        def later():
            self.late = make()
        later()
    def fetch(self):
        return self.http.get("/x")

class Other:
    class Inner:
        field = inner_value()
        def go(self):
            self.z = 1
"#,
        );
        let c = &m.classes[0];
        assert_eq!(c.name, "Client");
        assert_eq!(c.bases, vec!["Base", "mixins.Retry"]);
        assert_eq!(c.decorators.len(), 1);
        let Expr::Call(dc) = c.decorators[0].expr else {
            panic!()
        };
        assert_eq!(m.call(dc).kwarg("frozen"), Some(&Expr::Bool(true)));
        assert_eq!(c.span.start_line, 4);
        let t = m.class_bindings("Client", "timeout");
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].value, Expr::Num("10.0".into()));
        assert!(m.class_bindings("Client", "limits").is_empty());
        assert_eq!(m.class_bindings("Client", "pool").len(), 1);
        let http = m.class_bindings("Client", "http");
        assert_eq!(http.len(), 1);
        assert_eq!(http[0].func, Some(func(&m, "__init__").0));
        // Tuple targets record no binding.
        assert!(m.class_bindings("Client", "base").is_empty());
        // Nested attributes keep their dotted name.
        let cfg = binding(&m, "self.cfg.timeout");
        assert_eq!(cfg.value, Expr::Num("3".into()));
        // A closure inside a method still binds on the class.
        assert_eq!(m.class_bindings("Client", "late").len(), 1);
        assert_eq!(m.class_bindings("Inner", "field").len(), 1);
        assert_eq!(m.class_bindings("Inner", "z").len(), 1);
        assert!(m.class_bindings("Other", "field").is_empty());
        let (_, fetch) = func(&m, "fetch");
        assert_eq!(m.classes[fetch.class.unwrap() as usize].name, "Client");
        let (_, go) = func(&m, "go");
        assert_eq!(m.classes[go.class.unwrap() as usize].name, "Inner");
        // Keyword arguments of the class statement are not bases.
        assert_eq!(m.classes.len(), 3);
    }

    #[test]
    fn scopes_globals_and_nonlocals() {
        let m = lower(
            r#"
import requests
_client = None
counter = 0
def get_client():
    global _client
    if _client is None:
        _client = requests.Session()
    local = 1
    return _client
def outer():
    n = 0
    def bump():
        nonlocal n
        n = n + 1
    return bump
def configure(session):
    requests.adapters.DEFAULT_RETRIES = 5
    session.timeout = 3
    obj = make()
    obj.timeout = 4
"#,
        );
        let (gid, g) = func(&m, "get_client");
        assert_eq!(g.globals, vec!["_client"]);
        let c: Vec<_> = m.bindings.iter().filter(|b| b.name == "_client").collect();
        assert_eq!(c.len(), 2);
        assert!(c.iter().all(|b| b.scope == BindScope::Module));
        assert_eq!(c[1].func, Some(gid));
        assert_eq!(binding(&m, "local").scope, BindScope::Function(gid));
        let (oid, _) = func(&m, "outer");
        let n: Vec<_> = m.bindings.iter().filter(|b| b.name == "n").collect();
        assert_eq!(n.len(), 2);
        assert!(n.iter().all(|b| b.scope == BindScope::Function(oid)));
        let (cid, _) = func(&m, "configure");
        assert_eq!(
            binding(&m, "requests.adapters.DEFAULT_RETRIES").scope,
            BindScope::Module
        );
        assert_eq!(
            binding(&m, "session.timeout").scope,
            BindScope::Function(cid)
        );
        assert_eq!(binding(&m, "obj.timeout").scope, BindScope::Function(cid));
        // The module-level `_client` shadows nothing: calls resolve through imports.
        let (_, sess) = call(&m, "Session");
        assert_eq!(sess.path.as_deref(), Some("requests.Session"));
    }

    #[test]
    fn with_statements() {
        let m = lower(
            r#"
import httpx
async def main(lock):
    async with httpx.AsyncClient(timeout=5) as client, client.stream("GET", u) as resp:
        await resp.aread()
    with lock:
        work()
    with (open("a") as fa, open("b") as fb):
        copy(fa, fb)
    with ctx() as (a, b):
        pass
    with self_ref() as self.handle:
        pass
"#,
        );
        let (fid, _) = func(&m, "main");
        let (cid, c) = call(&m, "AsyncClient");
        assert_eq!(c.path.as_deref(), Some("httpx.AsyncClient"));
        let (sid, _) = call(&m, "stream");
        let (_, aread) = call(&m, "aread");
        assert_eq!(
            aread.ctx,
            vec![Ctx::With {
                items: vec![cid, sid],
                objects: vec![]
            }]
        );
        let client = binding(&m, "client");
        assert_eq!(client.value, Expr::Call(cid));
        assert_eq!(client.scope, BindScope::Function(fid));
        assert_eq!(binding(&m, "resp").value, Expr::Call(sid));
        let (_, work) = call(&m, "work");
        assert_eq!(
            work.ctx,
            vec![Ctx::With {
                items: vec![],
                objects: vec!["lock".to_string()]
            }]
        );
        // A `with` on a value (a lock, a semaphore) is kept as such.
        assert_eq!(
            m.with_values
                .iter()
                .map(|w| (w.value.clone(), w.func))
                .collect::<Vec<_>>(),
            vec![(Expr::Name("lock".into()), Some(fid))]
        );
        let opens: Vec<CallId> = calls(&m, "open").into_iter().map(|(i, _)| i).collect();
        assert_eq!(opens.len(), 2);
        let (_, copy) = call(&m, "copy");
        assert_eq!(
            copy.ctx,
            vec![Ctx::With {
                items: opens,
                objects: vec![]
            }]
        );
        assert!(binding(&m, "fa").value == Expr::Call(calls(&m, "open")[0].0));
        assert!(m.bindings.iter().all(|b| b.name != "a" && b.name != "b"));
        assert_eq!(binding(&m, "self.handle").scope, BindScope::Module);
    }

    #[test]
    fn try_except_finally() {
        let m = lower(
            r#"
from httpx import HTTPError as HE
import httpx
def check(token):
    try:
        verify(token)
    except HE:
        log()
    except (ValueError, httpx.TimeoutException) as err:
        raise ToolError(str(err)) from err
    except:
        return True
    else:
        after()
    finally:
        cleanup()
    try:
        pass
    except* ExceptionGroup as eg:
        handle(eg)
"#,
        );
        assert_eq!(m.tries.len(), 2);
        let t = &m.tries[0];
        assert!(t.has_finally);
        assert_eq!(t.kind, TryKind::Try);
        assert_eq!(t.clauses.len(), 3);
        assert_eq!(t.clauses[0].types, vec!["httpx.HTTPError"]);
        assert_eq!(t.clauses[0].binding, None);
        assert_eq!(
            t.clauses[1].types,
            vec!["ValueError", "httpx.TimeoutException"]
        );
        assert_eq!(t.clauses[1].binding.as_deref(), Some("err"));
        assert!(t.clauses[2].types.is_empty());
        assert_eq!(t.clauses[2].span.start_line, 11);
        assert_eq!(call(&m, "verify").1.ctx, vec![Ctx::Try(0)]);
        assert_eq!(
            call(&m, "log").1.ctx,
            vec![Ctx::Catch {
                try_id: 0,
                clause: 0
            }]
        );
        assert_eq!(call(&m, "after").1.ctx, vec![]);
        assert_eq!(call(&m, "cleanup").1.ctx, vec![Ctx::Finally(0)]);
        // `raise ToolError(str(err)) from err`
        let raise = m.exits.iter().find(|e| e.kind == ExitKind::Raise).unwrap();
        assert_eq!(
            raise.ctx,
            vec![Ctx::Catch {
                try_id: 0,
                clause: 1
            }]
        );
        let Some(Expr::Call(te)) = raise.value else {
            panic!()
        };
        assert_eq!(m.call(te).name(), Some("ToolError"));
        let (_, str_call) = call(&m, "str");
        assert_eq!(str_call.positional(0), Some(&name("err")));
        assert_eq!(str_call.ctx.len(), 2);
        // Fail-open: `except: return True`.
        let ret = m
            .exits
            .iter()
            .find(|e| e.value == Some(Expr::Bool(true)))
            .unwrap();
        assert_eq!(
            ret.ctx,
            vec![Ctx::Catch {
                try_id: 0,
                clause: 2
            }]
        );
        let t2 = &m.tries[1];
        assert_eq!(t2.clauses[0].types, vec!["ExceptionGroup"]);
        assert_eq!(t2.clauses[0].binding.as_deref(), Some("eg"));
        assert!(!t2.has_finally);
    }

    #[test]
    fn nested_tries_and_loops() {
        let m = lower(
            r#"
import time
def fetch_with_retry(url):
    for attempt, delay in enumerate(delays()):
        try:
            return requests.get(url)
        except Exception:
            time.sleep(delay)
            continue
    else:
        give_up()
    while not done():
        try:
            poll()
        finally:
            break
"#,
        );
        assert_eq!(m.loops.len(), 2);
        let l = &m.loops[0];
        assert_eq!(l.kind, LoopKind::ForEach);
        assert_eq!(l.vars, vec!["attempt", "delay"]);
        let Some(Expr::Call(it)) = l.iter else {
            panic!()
        };
        assert_eq!(m.call(it).name(), Some("enumerate"));
        assert_eq!(m.call(it).ctx, vec![]);
        assert_eq!(
            call(&m, "delays").1.ctx,
            vec![Ctx::Arg { call: it, index: 0 }]
        );
        assert_eq!(call(&m, "get").1.ctx, vec![Ctx::Loop(0), Ctx::Try(0)]);
        let (_, sleep) = call(&m, "sleep");
        assert_eq!(sleep.path.as_deref(), Some("time.sleep"));
        assert_eq!(
            sleep.ctx,
            vec![
                Ctx::Loop(0),
                Ctx::Catch {
                    try_id: 0,
                    clause: 0
                }
            ]
        );
        assert_eq!(m.tries[0].ctx, vec![Ctx::Loop(0)]);
        assert_eq!(call(&m, "give_up").1.ctx, vec![]);
        let w = &m.loops[1];
        assert_eq!(w.kind, LoopKind::While);
        assert!(matches!(&w.cond, Some(Expr::Unary { op, .. }) if op == "not"));
        assert_eq!(call(&m, "done").1.ctx, vec![]);
        assert_eq!(call(&m, "poll").1.ctx, vec![Ctx::Loop(1), Ctx::Try(1)]);
        let kinds: Vec<(ExitKind, Vec<Ctx>)> =
            m.exits.iter().map(|e| (e.kind, e.ctx.clone())).collect();
        assert_eq!(
            kinds,
            vec![
                (ExitKind::Return, vec![Ctx::Loop(0), Ctx::Try(0)]),
                (
                    ExitKind::Continue,
                    vec![
                        Ctx::Loop(0),
                        Ctx::Catch {
                            try_id: 0,
                            clause: 0
                        }
                    ]
                ),
                (ExitKind::Break, vec![Ctx::Loop(1), Ctx::Finally(1)]),
            ]
        );
        assert_eq!(m.exits[1].value, None);
    }

    #[test]
    fn strings() {
        let m = lower(
            r#"
a = "plain"
b = 'single'
c = """triple
quoted"""
d = b"bytes\n"
e = r"raw\d"
f = f"{host}:{port!r:>{width()}}/x"
g = "https://" "api.example.com" '/v1'
h = f"{base}/a" "/b"
i = f"no interpolation {{x}}"
j = ""
k = F'''{x}'''
"#,
        );
        let v = |n: &str| binding(&m, n).value.clone();
        assert_eq!(v("a"), s("plain"));
        assert_eq!(v("b"), s("single"));
        assert_eq!(v("c"), s("triple\nquoted"));
        assert_eq!(v("d"), s("bytes\\n"));
        assert_eq!(v("e"), s("raw\\d"));
        assert_eq!(
            v("f"),
            Expr::Template(vec![
                TemplatePart::Expr(name("host")),
                TemplatePart::Lit(":".into()),
                TemplatePart::Expr(name("port")),
                TemplatePart::Lit("/x".into()),
            ])
        );
        // A call inside a format spec is still seen.
        assert_eq!(calls(&m, "width").len(), 1);
        assert_eq!(v("g"), s("https://api.example.com/v1"));
        assert_eq!(
            v("h"),
            Expr::Template(vec![
                TemplatePart::Expr(name("base")),
                TemplatePart::Lit("/a".into()),
                TemplatePart::Lit("/b".into()),
            ])
        );
        assert_eq!(v("i"), s("no interpolation {{x}}"));
        assert_eq!(v("j"), s(""));
        assert_eq!(v("k"), Expr::Template(vec![TemplatePart::Expr(name("x"))]));
    }

    #[test]
    fn expressions() {
        let m = lower(
            r#"
x = not a
y = a or b and c
z = base * 2 ** n
w = a if cond else b
cmp = a is not None
chain = 0 < a <= 10
neg = -1
lst = [1, "two", *rest]
tup = (1,)
st = {a, b}
dct = {"k": 1, 2: "two", key: v, **extra}
sub = headers["Authorization"]
comp = [fetch(u) for u in urls if u]
dcomp = {k: v for k, v in items.items()}
gen = sum(len(x) for x in xs)
opt = (m := re.match(p, s))
flag = True
none = None
ell = ...
"#,
        );
        let v = |n: &str| binding(&m, n).value.clone();
        assert_eq!(
            v("x"),
            Expr::Unary {
                op: "not".into(),
                operand: Box::new(name("a"))
            }
        );
        let Expr::Binary { op, rhs, .. } = v("y") else {
            panic!()
        };
        assert_eq!(op, "or");
        assert!(matches!(*rhs, Expr::Binary { ref op, .. } if op == "and"));
        let Expr::Binary { op, rhs, .. } = v("z") else {
            panic!()
        };
        assert_eq!(op, "*");
        assert!(matches!(*rhs, Expr::Binary { ref op, .. } if op == "**"));
        assert_eq!(
            v("w"),
            Expr::Conditional {
                cond: Box::new(name("cond")),
                then: Box::new(name("a")),
                otherwise: Box::new(name("b")),
            }
        );
        assert_eq!(
            v("cmp"),
            Expr::Binary {
                op: "is not".into(),
                lhs: Box::new(name("a")),
                rhs: Box::new(Expr::Null),
            }
        );
        assert!(matches!(v("chain"), Expr::Binary { ref op, .. } if op == "<"));
        assert_eq!(
            v("neg"),
            Expr::Unary {
                op: "-".into(),
                operand: Box::new(Expr::Num("1".into()))
            }
        );
        assert_eq!(
            v("lst"),
            Expr::Array(vec![
                Expr::Num("1".into()),
                s("two"),
                Expr::Spread(Box::new(name("rest")))
            ])
        );
        assert_eq!(v("tup"), Expr::Array(vec![Expr::Num("1".into())]));
        assert_eq!(v("st"), Expr::Array(vec![name("a"), name("b")]));
        let Expr::Object(o) = v("dct") else { panic!() };
        assert_eq!(
            o.entries,
            vec![
                ("k".to_string(), Expr::Num("1".into())),
                ("2".to_string(), s("two"))
            ]
        );
        assert!(o.spread);
        assert_eq!(
            v("sub"),
            Expr::Index(Box::new(name("headers")), Box::new(s("Authorization")))
        );
        let Expr::Comprehension { elt, iter } = v("comp") else {
            panic!()
        };
        assert_eq!(*iter, name("urls"));
        let Expr::Call(fid) = *elt else { panic!() };
        assert_eq!(m.call(fid).name(), Some("fetch"));
        let Expr::Comprehension { elt, iter } = v("dcomp") else {
            panic!()
        };
        assert!(matches!(*elt, Expr::Array(ref kv) if kv.len() == 2));
        assert!(matches!(*iter, Expr::Call(_)));
        let (gid, gen) = call(&m, "sum");
        assert!(matches!(
            gen.positional(0),
            Some(Expr::Comprehension { .. })
        ));
        assert_eq!(
            call(&m, "len").1.ctx,
            vec![Ctx::Arg {
                call: gid,
                index: 0
            }]
        );
        // Walrus: both names are bound to the call.
        let Expr::Call(mid) = v("m") else { panic!() };
        assert_eq!(v("opt"), Expr::Call(mid));
        assert_eq!(m.call(mid).path.as_deref(), Some("re.match"));
        assert_eq!(v("flag"), Expr::Bool(true));
        assert_eq!(v("none"), Expr::Null);
        assert!(matches!(v("ell"), Expr::Unknown(_)));
    }

    #[test]
    fn assignment_forms() {
        let m = lower(
            r#"
a = b = make()
x: int = 5
y: Final[str]
count += step()
p, q = pair()
[r, t] = 1, 2
items[key()] = value()
handler = lambda req: req.json()
obj.cb = lambda: None
"#,
        );
        let (mid, _) = call(&m, "make");
        assert_eq!(binding(&m, "a").value, Expr::Call(mid));
        assert_eq!(binding(&m, "b").value, Expr::Call(mid));
        assert_eq!(binding(&m, "x").value, Expr::Num("5".into()));
        assert!(m.bindings.iter().all(|b| b.name != "y"));
        assert!(m.bindings.iter().all(|b| b.name != "count"));
        assert_eq!(calls(&m, "step").len(), 1);
        assert!(m
            .bindings
            .iter()
            .all(|b| !["p", "q", "r", "t", "items"].contains(&b.name.as_str())));
        assert_eq!(calls(&m, "pair").len(), 1);
        assert_eq!(calls(&m, "key").len(), 1);
        assert_eq!(calls(&m, "value").len(), 1);
        let (hid, h) = func(&m, "handler");
        assert_eq!(h.kind, FuncKind::Lambda);
        assert_eq!(binding(&m, "handler").value, Expr::Func(hid));
        let (_, json) = call(&m, "json");
        assert_eq!(json.func, Some(hid));
        assert_eq!(json.path, None, "a parameter is a value, not a module");
        assert!(matches!(h.expr_body, Some(Expr::Call(_))));
        let (cbid, _) = func(&m, "cb");
        assert_eq!(binding(&m, "obj.cb").value, Expr::Func(cbid));
        assert_eq!(m.bindings.len(), 5);
    }

    #[test]
    fn call_chains_and_arguments() {
        let m = lower(
            r#"
resp = httpx.Client(timeout=3).get(url, headers={"a": 1}).raise_for_status()
gather = asyncio.gather(*[fetch(u) for u in urls], return_exceptions=True)
"#,
        );
        let (rid, raise) = call(&m, "raise_for_status");
        let (gid, get) = call(&m, "get");
        let (cid, client) = call(&m, "Client");
        assert!(rid < gid && gid < cid);
        assert_eq!(raise.receiver, Some(Expr::Call(gid)));
        assert_eq!(get.receiver, Some(Expr::Call(cid)));
        assert_eq!(client.path.as_deref(), Some("httpx.Client"));
        assert_eq!(raise.path, None);
        assert_eq!(raise.span.start_col, 7);
        assert_eq!(raise.span.start_byte, client.span.start_byte);
        assert_eq!(m.calls_on(cid).count(), 1);
        assert!(matches!(get.kwarg("headers"), Some(Expr::Object(_))));
        let (aid, g) = call(&m, "gather");
        assert_eq!(g.kwarg("return_exceptions"), Some(&Expr::Bool(true)));
        let Some(Arg {
            name: None,
            value: Expr::Spread(inner),
        }) = g.args.first()
        else {
            panic!("{:?}", g.args)
        };
        assert!(matches!(**inner, Expr::Comprehension { .. }));
        assert_eq!(
            call(&m, "fetch").1.ctx,
            vec![Ctx::Arg {
                call: aid,
                index: 0
            }]
        );
    }

    #[test]
    fn match_statements_and_misc_statements() {
        let m = lower(
            r#"
async def tool(cmd):
    match cmd:
        case {"op": "get"} if allowed(cmd):
            return await get()
        case Point(x=0):
            post()
        case _:
            pass
    assert check(), "msg"
    del cache[key()]
    print(f"{len(x)}")
    yield produce()
    type Alias = list[int]
"#,
        );
        for n in [
            "allowed", "get", "post", "check", "key", "print", "len", "produce",
        ] {
            assert_eq!(calls(&m, n).len(), 1, "{n}");
            assert_eq!(call(&m, n).1.func, Some(0), "{n}");
        }
        assert!(call(&m, "get").1.awaited);
        // The return, and the yield (what a lifespan hands to the tools).
        assert_eq!(m.exits.len(), 2);
        let y = m.exits.iter().find(|x| x.kind == ExitKind::Yield).unwrap();
        assert!(matches!(y.value, Some(Expr::Call(_))));
    }

    #[test]
    fn comments_are_recorded_in_order() {
        let m = lower(
            r#"# header
import os  # trailing
@mcp.tool()  # on the decorator
# between
def f(
    a,  # param
):
    # in body
    call(
        x,  # in args
    )
    return {
        "k": 1,  # in dict
    }
"#,
        );
        let texts: Vec<&str> = m.comments.iter().map(|c| c.text.as_str()).collect();
        assert_eq!(
            texts,
            vec![
                "# header",
                "# trailing",
                "# on the decorator",
                "# between",
                "# param",
                "# in body",
                "# in args",
                "# in dict"
            ]
        );
        assert_eq!(m.comments[1].span.start_line, 2);
    }

    #[test]
    fn broken_code_still_lowers() {
        let m = crate::lang::lower(
            Lang::Python,
            "t.py",
            r#"
import requests
def f(:
    requests.get(url)
x = = requests.put(u)
class :
    def g(self):
        return requests.post(u, json=body) +
"#,
        )
        .unwrap();
        assert!(m.has_syntax_errors);
        assert!(calls(&m, "get")
            .iter()
            .any(|(_, c)| c.path.as_deref() == Some("requests.get")));
        assert!(calls(&m, "post")
            .iter()
            .any(|(_, c)| c.path.as_deref() == Some("requests.post")));
        assert_eq!(call(&m, "put").1.path.as_deref(), Some("requests.put"));
    }

    /// Sources nested `n` deep in different ways (indentation-nested ones
    /// at most 2,000 deep: their size grows with the square of the depth).
    fn deep_cases(n: usize) -> Vec<String> {
        let indented = |head: &str| {
            let n = n.min(2_000);
            (0..n)
                .map(|i| format!("{}{head}\n", " ".repeat(i)))
                .collect::<String>()
                + &" ".repeat(n)
                + "pass\n"
        };
        vec![
            format!("x = {}1{}\n", "(".repeat(n), ")".repeat(n)),
            format!("x = {}1{}\n", "[".repeat(n), "]".repeat(n)),
            format!("x = {}1{}\n", "f(".repeat(n), ")".repeat(n)),
            format!("x = {}1{}\n", "{'k': ".repeat(n), "}".repeat(n)),
            format!("x = {}1\n", "-".repeat(n)),
            format!("x = {}1\n", "not ".repeat(n)),
            format!("x = {}1\n", "await ".repeat(n)),
            format!("x = {}1\n", "lambda: ".repeat(n)),
            format!("x = 1{}\n", " + 1".repeat(n)),
            format!("x = a{}\n", ".b".repeat(n)),
            format!("x = a{}\n", "()".repeat(n)),
            format!("x = a{}\n", "[0]".repeat(n)),
            format!("x = {}\n", "a if b else ".repeat(n) + "c"),
            format!("x = {}1{}\n", "f(k=".repeat(n), ")".repeat(n)),
            indented("if x:"),
            indented("def f():"),
            indented("class C:"),
            indented("try:"),
            indented("with f() as x:"),
            indented("for x in f():"),
        ]
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        for (i, src) in deep_cases(20_000).iter().enumerate() {
            let r = crate::lang::lower(Lang::Python, "t.py", src);
            assert!(
                matches!(r, Err(LowerError::TooDeep)),
                "case {i}: {:?}",
                r.map(|m| m.calls.len())
            );
        }
    }

    #[test]
    fn ordinary_nesting_is_fine() {
        for (i, src) in deep_cases(100).iter().enumerate() {
            let r = crate::lang::lower(Lang::Python, "t.py", src);
            assert!(r.is_ok(), "case {i}: {:?}", r.err());
        }
        let src = format!("x = {}1{}\n", "f(".repeat(100), ")".repeat(100));
        assert_eq!(lower(&src).calls.len(), 100);
        // Long flat sequences are not nesting.
        let src = "f(1)\n".repeat(20_000);
        assert_eq!(lower(&src).calls.len(), 20_000);
        let src = format!("x = [{}]\n", "g(), ".repeat(20_000));
        assert_eq!(lower(&src).calls.len(), 20_000);
    }

    #[test]
    fn type_call_misparsed_as_type_alias() {
        let m = lower(
            r#"
type Alias = list[int]
def patch(mock, sig):
    type(mock)._mock_check_sig = check(sig)
    type(a, b)[0].c = 1
"#,
        );
        let types = calls(&m, "type");
        assert_eq!(types.len(), 2);
        let (tid, t) = types[0];
        assert_eq!(t.positional(0), Some(&name("mock")));
        assert_eq!(t.span.start_line, 4);
        assert_eq!(t.span.start_col, 4);
        assert_eq!(t.span.end_col, 14);
        assert_eq!(t.func, Some(0));
        assert_eq!(types[1].1.args.len(), 2);
        assert_eq!(call(&m, "check").1.func, Some(0));
        assert!(m.calls_on(tid).next().is_none());
        assert!(m.bindings.is_empty());
    }

    #[test]
    fn splat_of_a_method_call() {
        // tree-sitter-python reads this `*sys.version.split()` as a call
        // whose callee is `*sys.version.split`.
        let m = lower("print(\"==\", platform.python_implementation(), *sys.version.split())\n");
        let (pid, p) = call(&m, "print");
        let (sid, split) = call(&m, "split");
        assert_eq!(split.receiver, Some(attr(name("sys"), "version")));
        assert_eq!(split.path.as_deref(), Some("sys.version.split"));
        assert_eq!(split.span.start_col, 47);
        assert_eq!(
            split.ctx,
            vec![Ctx::Arg {
                call: pid,
                index: 2
            }]
        );
        assert_eq!(p.args[2].value, Expr::Spread(Box::new(Expr::Call(sid))));
        assert!(p.has_spread_arg());
    }

    #[test]
    fn function_contexts() {
        let m = lower(
            r#"
import asyncio
async def serve(app, items):
    results = await asyncio.gather(*map(lambda i: fetch(i), items))
    async with lock():
        def inner():
            return work()
    app.add_route("/x", handler=lambda req: handle(req))
    return [await process(r) for r in results]
"#,
        );
        let (sid, _) = func(&m, "serve");
        let (gid, _) = call(&m, "gather");
        let (mid, _) = call(&m, "map");
        let lambdas: Vec<(FuncId, &Function)> = m
            .functions
            .iter()
            .enumerate()
            .filter(|(_, f)| f.kind == FuncKind::Lambda)
            .map(|(i, f)| (i as FuncId, f))
            .collect();
        assert_eq!(lambdas.len(), 2);
        assert_eq!(lambdas[0].1.parent, Some(sid));
        assert_eq!(
            lambdas[0].1.ctx,
            vec![
                Ctx::Arg {
                    call: gid,
                    index: 0
                },
                Ctx::Arg {
                    call: mid,
                    index: 0
                }
            ]
        );
        assert_eq!(lambdas[0].1.params[0].name, "i");
        let (_, fetch) = call(&m, "fetch");
        assert_eq!(fetch.func, Some(lambdas[0].0));
        assert_eq!(fetch.ctx, vec![], "contexts restart inside a function");
        assert_eq!(fetch.path.as_deref(), Some("fetch"));
        let (lid, _) = call(&m, "lock");
        let (iid, inner) = func(&m, "inner");
        assert_eq!(
            inner.ctx,
            vec![Ctx::With {
                items: vec![lid],
                objects: vec![]
            }]
        );
        assert_eq!(call(&m, "work").1.func, Some(iid));
        let (rid, _) = call(&m, "add_route");
        assert_eq!(
            lambdas[1].1.ctx,
            vec![Ctx::Arg {
                call: rid,
                index: 1
            }]
        );
        assert_eq!(lambdas[1].1.name, "");
        let (_, process) = call(&m, "process");
        assert!(process.awaited);
        assert_eq!(process.func, Some(sid));
        assert!(m.calls.iter().all(|c| !c.is_new && !c.is_macro));
    }
}
