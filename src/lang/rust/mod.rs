//! Lowers a tree-sitter-rust tree into facts.
//!
//! One recursive walk with `kind()` dispatch. Macro bodies are token trees to
//! the grammar; `macros.rs` re-parses the ones whose body is made of
//! expressions (small, bounded parses) and lowers them with positions mapped
//! back into the file. Comments are found by a byte scan for `/` plus a
//! point lookup in the tree, so the walk itself never has to look at them.

mod macros;
#[cfg(test)]
mod tests;

use super::{Builder, LowerError};
use crate::facts::{
    BindScope, Binding, CallId, CatchClause, Class, Comment, Ctx, Decorator, Exit, ExitKind, Expr,
    FuncKind, LoopKind, Module, Object, Param, Region, RegionKind, Span, Try, TryKind, Update,
};
use std::sync::OnceLock;
use tree_sitter::{Node, Point, Tree};

type R<T> = Result<T, LowerError>;

pub fn lower(tree: &Tree, src: &str) -> Result<Module, LowerError> {
    let mut b = Builder::new(src);
    let mut mac = macros::MacroState::new(src.len());
    let root = tree.root_node();
    {
        let mut l = L {
            b: &mut b,
            src,
            shift: Shift::default(),
            mac: &mut mac,
            tail: false,
            clause_span: None,
        };
        l.comments(root);
        l.list(root, false, Member::No)?;
    }
    Ok(b.m)
}

/// Field ids of the grammar, looked up once.
struct Fields {
    alias: u16,
    alternative: u16,
    argument: u16,
    arguments: u16,
    body: u16,
    condition: u16,
    consequence: u16,
    field: u16,
    function: u16,
    left: u16,
    length: u16,
    list: u16,
    macro_: u16,
    name: u16,
    operator: u16,
    parameters: u16,
    path: u16,
    pattern: u16,
    return_type: u16,
    right: u16,
    trait_: u16,
    type_: u16,
    value: u16,
}

fn fields() -> &'static Fields {
    static F: OnceLock<Fields> = OnceLock::new();
    F.get_or_init(|| {
        let lang: tree_sitter::Language = tree_sitter_rust::LANGUAGE.into();
        let id = |n: &str| {
            lang.field_id_for_name(n)
                .map(|f| f.get())
                .unwrap_or(u16::MAX)
        };
        Fields {
            alias: id("alias"),
            alternative: id("alternative"),
            argument: id("argument"),
            arguments: id("arguments"),
            body: id("body"),
            condition: id("condition"),
            consequence: id("consequence"),
            field: id("field"),
            function: id("function"),
            left: id("left"),
            length: id("length"),
            list: id("list"),
            macro_: id("macro"),
            name: id("name"),
            operator: id("operator"),
            parameters: id("parameters"),
            path: id("path"),
            pattern: id("pattern"),
            return_type: id("return_type"),
            right: id("right"),
            trait_: id("trait"),
            type_: id("type"),
            value: id("value"),
        }
    })
}

/// Maps positions in a re-parsed macro body back into the file. The body is
/// copied byte for byte (after a one-line prefix), so only the first row's
/// columns move; the identity for the file's own tree.
#[derive(Clone, Copy, Debug, Default)]
struct Shift {
    byte: i64,
    /// 0-based row of the buffer's first row in the file.
    row: u32,
    /// Column shift of the buffer's first row.
    col: i64,
}

impl Shift {
    /// (byte, 1-based line, column) in the file.
    fn pos(&self, byte: usize, p: Point) -> (u32, u32, u32) {
        let b = (byte as i64 + self.byte).max(0) as u32;
        if p.row == 0 {
            (b, self.row + 1, (p.column as i64 + self.col).max(0) as u32)
        } else {
            (b, self.row + p.row as u32 + 1, p.column as u32)
        }
    }

    fn span(&self, n: Node) -> Span {
        let (sb, sl, sc) = self.pos(n.start_byte(), n.start_position());
        let (eb, el, ec) = self.pos(n.end_byte(), n.end_position());
        Span {
            start_byte: sb,
            end_byte: eb,
            start_line: sl,
            start_col: sc,
            end_line: el,
            end_col: ec,
        }
    }
}

/// Where a declaration list sits: functions directly in an impl or a trait
/// body are methods.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Member {
    No,
    /// `impl T` (`trait_impl == false`) or `impl Trait for T`.
    Impl {
        trait_impl: bool,
    },
    Trait,
}

/// The lowering walk over one tree: the file's own, or a re-parsed macro
/// body (`src` is then that body's buffer, `shift` maps it into the file).
struct L<'a, 's> {
    b: &'a mut Builder<'s>,
    src: &'a str,
    shift: Shift,
    mac: &'a mut macros::MacroState,
    /// The next expression lowered is in tail position of a function or
    /// closure body (taken by `expr` on entry).
    tail: bool,
    /// Where the value [`L::clause_value`] last returned is written.
    clause_span: Option<Span>,
}

/// The named children of `n` (comments excluded).
fn kids<'t>(n: Node<'t>) -> Vec<Node<'t>> {
    let mut c = n.walk();
    n.named_children(&mut c).filter(|k| !k.is_extra()).collect()
}

/// All children of `n`, anonymous tokens included (comments excluded).
fn tokens<'t>(n: Node<'t>) -> Vec<Node<'t>> {
    let mut c = n.walk();
    n.children(&mut c).filter(|k| !k.is_extra()).collect()
}

fn first_kid(n: Node<'_>) -> Option<Node<'_>> {
    // Index access is linear, but the first named child is near the start.
    (0..n.named_child_count())
        .map_while(|i| n.named_child(i))
        .find(|k| !k.is_extra())
}

/// Has `n` an anonymous child token `kind` (`async`, `;`)? For small nodes.
fn has_token(n: Node, kind: &str) -> bool {
    let count = n.child_count();
    if count > 12 {
        let mut c = n.walk();
        let found = n
            .children(&mut c)
            .any(|k| !k.is_named() && k.kind() == kind);
        return found;
    }
    (0..count)
        .filter_map(|i| n.child(i))
        .any(|k| !k.is_named() && k.kind() == kind)
}

/// A path as written, with generics / turbofish and whitespace removed:
/// `Vec::<u8>::new` → `Vec::new`, `reqwest :: Client` → `reqwest::Client`.
fn clean_path(t: &str) -> String {
    let t = t.trim();
    if t.starts_with('<') {
        // `<T as Trait>::f`: keep it readable.
        let t = t.split_whitespace().collect::<Vec<_>>().join(" ");
        return t
            .replace("< ", "<")
            .replace(" >", ">")
            .replace(" ::", "::")
            .replace(":: ", "::");
    }
    let mut out = String::with_capacity(t.len());
    let mut depth = 0u32;
    let mut prev = '\0';
    for c in t.chars() {
        match c {
            '<' => {
                if depth == 0 && out.ends_with("::") {
                    out.truncate(out.len() - 2);
                }
                depth += 1;
            }
            '>' if depth > 0 && prev != '-' => depth -= 1,
            _ if depth > 0 => {}
            c if c.is_whitespace() => {}
            c => out.push(c),
        }
        prev = c;
    }
    let s = out.strip_prefix("::").unwrap_or(&out);
    let s = s.strip_suffix("::").unwrap_or(s);
    if s.len() == out.len() {
        out
    } else {
        s.to_string()
    }
}

fn last_segment(p: &str) -> &str {
    p.rsplit("::").next().unwrap_or(p)
}

/// The text between the first and the last `"` of a string literal (plain,
/// byte, C or raw). Escapes are left as written.
fn string_content(t: &str) -> String {
    match (t.find('"'), t.rfind('"')) {
        (Some(a), Some(z)) if z > a => t[a + 1..z].to_string(),
        _ => t.to_string(),
    }
}

fn is_string(kind: &str) -> bool {
    matches!(kind, "string_literal" | "raw_string_literal")
}

impl<'a, 's> L<'a, 's> {
    fn text(&self, n: Node) -> &'a str {
        self.src.get(n.start_byte()..n.end_byte()).unwrap_or("")
    }

    fn span(&self, n: Node) -> Span {
        self.shift.span(n)
    }

    /// `Expr::Unknown` with the (bounded) text of `n`.
    fn unknown(&self, n: Node) -> Expr {
        let t = self.text(n);
        let mut end = t.len().min(240);
        while !t.is_char_boundary(end) {
            end -= 1;
        }
        Expr::unknown(&t[..end])
    }

    fn path(&self, n: Node) -> String {
        clean_path(self.text(n))
    }

    fn in_ctx<T>(&mut self, c: Ctx, f: impl FnOnce(&mut Self) -> T) -> T {
        self.b.ctx.push(c);
        let out = f(self);
        self.b.ctx.pop();
        out
    }

    fn scope(&self) -> BindScope {
        match self.b.func {
            Some(f) => BindScope::Function(f),
            None => BindScope::Module,
        }
    }

    fn bind(&mut self, name: String, value: Expr, span: Span, scope: BindScope) {
        self.b.m.bindings.push(Binding {
            name,
            value,
            span,
            scope,
            func: self.b.func,
        });
    }

    fn exit(&mut self, n: Node, kind: ExitKind, value: Option<Expr>, value_span: Option<Span>) {
        let e = Exit {
            span: self.span(n),
            kind,
            value,
            value_span,
            func: self.b.func,
            ctx: self.b.ctx.clone(),
            guard: self.b.guard(),
        };
        self.b.m.exits.push(e);
    }

    // ---------------------------------------------------------------- comments

    /// Records every comment of the file: a scan for `/` in the source, then
    /// a point lookup to tell comments from division and string contents.
    fn comments(&mut self, root: Node) {
        let bytes = self.src.as_bytes();
        let mut i = 0;
        while let Some(off) = self.src[i..].find('/') {
            let p = i + off;
            i = p + 1;
            let Some(&next) = bytes.get(p + 1) else {
                break;
            };
            if next != b'/' && next != b'*' {
                continue;
            }
            // The smallest named node around `//` / `/*` is the comment, if
            // this is one (the tokens themselves are anonymous).
            let Some(n) = root.named_descendant_for_byte_range(p, p + 2) else {
                continue;
            };
            if matches!(n.kind(), "line_comment" | "block_comment") && n.start_byte() == p {
                let text = self.text(n).trim_end_matches(['\n', '\r']).to_string();
                let span = self.span(n);
                self.b.m.comments.push(Comment { span, text });
                i = n.end_byte().max(i);
            }
        }
    }

    // ------------------------------------------------------------ statements

    /// Lowers a source file, declaration list or block. Returns the block's
    /// tail expression (its value) and the node it came from. With `tail`,
    /// that expression is in tail position of the enclosing function.
    fn list<'t>(&mut self, n: Node<'t>, tail: bool, member: Member) -> R<Option<(Expr, Node<'t>)>> {
        self.b.enter()?;
        let ks = kids(n);
        let mut out = None;
        let mut attrs_from: Option<usize> = None;
        for (i, &k) in ks.iter().enumerate() {
            let kind = k.kind();
            if kind == "attribute_item" {
                attrs_from.get_or_insert(i);
                continue;
            }
            let attrs = match attrs_from.take() {
                Some(s) => &ks[s..i],
                None => &[][..],
            };
            let last = i + 1 == ks.len();
            let v = self.stmt(k, attrs, last && tail, member)?;
            if last {
                out = v;
            }
        }
        self.b.leave();
        Ok(out)
    }

    /// One statement or item. Returns the value of an expression written
    /// without a trailing semicolon (a block's tail).
    fn stmt<'t>(
        &mut self,
        n: Node<'t>,
        attrs: &[Node],
        tail: bool,
        member: Member,
    ) -> R<Option<(Expr, Node<'t>)>> {
        let f = fields();
        if self.is_test_item(attrs) {
            let span = self.span(n);
            self.b.m.regions.push(Region {
                span,
                kind: RegionKind::Test,
            });
        }
        match n.kind() {
            "function_item" => self.function(n, attrs, member)?,
            "impl_item" => self.impl_item(n, attrs)?,
            "trait_item" => self.trait_item(n, attrs)?,
            "mod_item" => {
                if let Some(body) = n.child_by_field_id(f.body) {
                    self.list(body, false, Member::No)?;
                }
            }
            "use_declaration" => {
                if let Some(arg) = n.child_by_field_id(f.argument) {
                    self.use_tree(arg, "")?;
                }
            }
            "let_declaration" => self.let_decl(n)?,
            "static_item" | "const_item" => self.static_item(n)?,
            "expression_statement" => {
                let Some(e) = first_kid(n) else {
                    return Ok(None);
                };
                if has_token(n, ";") {
                    self.expr(e)?;
                } else {
                    self.tail = tail;
                    let v = self.expr(e)?;
                    return Ok(Some((v, e)));
                }
            }
            "struct_item"
            | "enum_item"
            | "union_item"
            | "type_item"
            | "function_signature_item"
            | "associated_type"
            | "foreign_mod_item"
            | "extern_crate_declaration"
            | "macro_definition"
            | "inner_attribute_item"
            | "attribute_item"
            | "empty_statement"
            | "label"
            | "line_comment"
            | "block_comment" => {}
            _ => {
                self.tail = tail;
                let v = self.expr(n)?;
                return Ok(Some((v, n)));
            }
        }
        Ok(None)
    }

    /// `#[cfg(test)]`, `#[test]`, `#[tokio::test]`, `#[rstest]` and the like:
    /// the item is test code.
    fn is_test_item(&self, attrs: &[Node]) -> bool {
        attrs.iter().any(|a| {
            let t: String = self
                .text(*a)
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect();
            let inner = t.trim_start_matches("#[").trim_end_matches(']').to_string();
            let head = inner.split('(').next().unwrap_or("");
            inner == "cfg(test)"
                || head == "test"
                || head.ends_with("::test")
                || head == "rstest"
                || head == "test_case"
        })
    }

    fn use_tree(&mut self, n: Node, prefix: &str) -> R<()> {
        self.b.enter()?;
        let f = fields();
        let join = |p: String| {
            if prefix.is_empty() {
                p
            } else if p.is_empty() {
                prefix.to_string()
            } else {
                format!("{prefix}::{p}")
            }
        };
        match n.kind() {
            "identifier" | "scoped_identifier" | "self" | "crate" | "super" | "metavariable" => {
                let path = join(self.path(n));
                self.import(path, None, n);
            }
            "use_as_clause" => {
                let path = n.child_by_field_id(f.path).map(|p| self.path(p));
                let alias = n.child_by_field_id(f.alias).map(|a| self.text(a));
                if let (Some(path), Some(alias)) = (path, alias) {
                    if alias != "_" {
                        self.import(join(path), Some(alias.to_string()), n);
                    }
                }
            }
            "scoped_use_list" => {
                let p = match n.child_by_field_id(f.path) {
                    Some(p) => join(self.path(p)),
                    None => prefix.to_string(),
                };
                if let Some(list) = n.child_by_field_id(f.list) {
                    self.use_tree(list, &p)?;
                }
            }
            "use_list" => {
                for k in kids(n) {
                    self.use_tree(k, prefix)?;
                }
            }
            _ => {} // use_wildcard
        }
        self.b.leave();
        Ok(())
    }

    fn import(&mut self, path: String, alias: Option<String>, n: Node) {
        // `a::b::{self}` stands for `a::b`.
        let path = match path.strip_suffix("::self") {
            Some(p) => p.to_string(),
            None => path,
        };
        let local = match alias {
            Some(a) => a,
            None => last_segment(&path).to_string(),
        };
        if matches!(local.as_str(), "self" | "crate" | "super" | "") {
            return;
        }
        let span = self.span(n);
        self.b
            .m
            .imports
            .push(crate::facts::Import { local, path, span });
    }

    fn let_decl(&mut self, n: Node) -> R<()> {
        let f = fields();
        let value = n.child_by_field_id(f.value);
        if let Some(alt) = n.child_by_field_id(f.alternative) {
            // let-else: the else block runs when the pattern does not match.
            let try_id = self.push_try(n, TryKind::LetElse);
            if let Some(v) = value {
                self.in_ctx(Ctx::Try(try_id), |l| l.expr(v))?;
            }
            let clause = Ctx::Catch { try_id, clause: 0 };
            let v = self.in_ctx(clause, |l| l.clause_value(alt, false))?;
            let c = CatchClause {
                span: self.span(alt),
                types: Vec::new(),
                binding: None,
                value: v,
                value_span: self.clause_span.take(),
            };
            self.b.m.tries[try_id as usize].clauses.push(c);
            return Ok(());
        }
        let Some(value) = value else {
            return Ok(());
        };
        let name = n
            .child_by_field_id(f.pattern)
            .filter(|p| p.kind() == "identifier")
            .map(|p| self.text(p).to_string());
        let v = match &name {
            Some(name) if value.kind() == "closure_expression" => {
                self.closure(value, name.clone())?
            }
            _ => self.expr(value)?,
        };
        if let Some(name) = name {
            let scope = self.scope();
            self.bind(name, v, self.span(n), scope);
        }
        Ok(())
    }

    fn static_item(&mut self, n: Node) -> R<()> {
        let f = fields();
        let (Some(name), Some(value)) = (n.child_by_field_id(f.name), n.child_by_field_id(f.value))
        else {
            return Ok(());
        };
        let name = self.text(name).to_string();
        let v = if value.kind() == "closure_expression" {
            self.closure(value, name.clone())?
        } else {
            self.expr(value)?
        };
        let scope = self.scope();
        self.bind(name, v, self.span(n), scope);
        Ok(())
    }

    // ------------------------------------------------- functions and classes

    fn decorators(&mut self, attrs: &[Node]) -> R<Vec<Decorator>> {
        let mut out = Vec::new();
        for &a in attrs {
            if a.kind() != "attribute_item" {
                continue;
            }
            let Some(attr) = first_kid(a) else { continue };
            if let Some(expr) = self.attribute(a, attr)? {
                out.push(Decorator {
                    span: self.span(a),
                    expr,
                });
            }
        }
        Ok(out)
    }

    fn function(&mut self, n: Node, attrs: &[Node], member: Member) -> R<()> {
        let f = fields();
        let decorators = self.decorators(attrs)?;
        let name = n
            .child_by_field_id(f.name)
            .map(|x| self.text(x).to_string())
            .unwrap_or_default();
        let mut is_async = false;
        // Trait methods are callable wherever the trait is.
        let mut exported = matches!(member, Member::Trait | Member::Impl { trait_impl: true });
        {
            let mut c = n.walk();
            for k in n.children(&mut c) {
                match k.kind() {
                    "visibility_modifier" => exported = true,
                    "function_modifiers" => is_async |= has_token(k, "async"),
                    _ => {}
                }
            }
        }
        let params = match n.child_by_field_id(f.parameters) {
            Some(p) => self.params(p),
            None => Vec::new(),
        };
        let kind = if member == Member::No {
            FuncKind::Def
        } else {
            FuncKind::Method
        };
        let returns = n
            .child_by_field_id(f.return_type)
            .map(|r| self.text(r).to_string());
        let (id, saved) = self.b.begin_function(name, kind, self.span(n));
        {
            let func = self.b.func_mut(id);
            func.is_async = is_async;
            func.params = params;
            func.decorators = decorators;
            func.exported = exported;
            func.returns = returns;
        }
        let r = match n.child_by_field_id(f.body) {
            Some(body) => self.list(body, true, Member::No).map(|_| ()),
            None => Ok(()),
        };
        self.b.end_function(saved);
        r
    }

    fn params(&self, n: Node) -> Vec<Param> {
        let f = fields();
        let mut out = Vec::new();
        let mut c = n.walk();
        for k in n.named_children(&mut c) {
            match k.kind() {
                "self_parameter" => out.push(Param {
                    name: "self".into(),
                    annotation: None,
                    destructured: Vec::new(),
                }),
                "parameter" => {
                    let ann = k
                        .child_by_field_id(f.type_)
                        .map(|t| self.text(t).to_string());
                    if let Some(p) = k.child_by_field_id(f.pattern) {
                        let mut param = self.pattern_param(p);
                        param.annotation = ann;
                        out.push(param);
                    }
                }
                _ => {}
            }
        }
        out
    }

    /// A parameter from its pattern: an identifier names it; any other
    /// pattern keeps its text as the name and lists the names it binds.
    fn pattern_param(&self, p: Node) -> Param {
        let name = match p.kind() {
            "self" => "self".to_string(),
            _ => self.text(p).to_string(),
        };
        let mut destructured = Vec::new();
        if !matches!(p.kind(), "identifier" | "self") {
            self.pattern_names(p, &mut destructured);
        }
        Param {
            name,
            annotation: None,
            destructured,
        }
    }

    /// The names a pattern binds (iterative: patterns can nest deeply).
    fn pattern_names(&self, p: Node, out: &mut Vec<String>) {
        let f = fields();
        let mut stack = vec![p];
        while let Some(n) = stack.pop() {
            match n.kind() {
                "identifier" => out.push(self.text(n).to_string()),
                "shorthand_field_identifier" => out.push(self.text(n).to_string()),
                "field_pattern" => {
                    if let Some(p) = n.child_by_field_id(f.pattern) {
                        stack.push(p);
                    } else if let Some(name) = n.child_by_field_id(f.name) {
                        stack.push(name);
                    }
                }
                "tuple_struct_pattern" | "struct_pattern" => {
                    let mut c = n.walk();
                    let mut ks: Vec<Node> = Vec::new();
                    if c.goto_first_child() {
                        loop {
                            if c.node().is_named() && c.field_id().map(|x| x.get()) != Some(f.type_)
                            {
                                ks.push(c.node());
                            }
                            if !c.goto_next_sibling() {
                                break;
                            }
                        }
                    }
                    stack.extend(ks.into_iter().rev());
                }
                "tuple_pattern" | "slice_pattern" | "ref_pattern" | "mut_pattern"
                | "reference_pattern" | "or_pattern" | "captured_pattern" => {
                    let mut ks = kids(n);
                    ks.reverse();
                    stack.extend(ks);
                }
                _ => {}
            }
        }
    }

    /// The implementing type's name: `Weather<T>`, `&'a mut foo::Weather` → `Weather`.
    fn type_name(&self, t: Node) -> String {
        let f = fields();
        let mut t = t;
        loop {
            match t.kind() {
                "reference_type" | "generic_type" | "pointer_type" => {
                    match t.child_by_field_id(f.type_) {
                        Some(inner) => t = inner,
                        None => break,
                    }
                }
                "scoped_type_identifier" => match t.child_by_field_id(f.name) {
                    Some(inner) => t = inner,
                    None => break,
                },
                _ => break,
            }
        }
        last_segment(&self.path(t)).to_string()
    }

    fn impl_item(&mut self, n: Node, attrs: &[Node]) -> R<()> {
        let f = fields();
        let decorators = self.decorators(attrs)?;
        let name = n
            .child_by_field_id(f.type_)
            .map(|t| self.type_name(t))
            .unwrap_or_default();
        let trait_name = n.child_by_field_id(f.trait_).map(|t| self.path(t));
        let trait_impl = trait_name.is_some();
        let class = Class {
            name,
            span: self.span(n),
            decorators,
            trait_name,
            bases: Vec::new(),
        };
        let (_, outer) = self.b.begin_class(class);
        let r = match n.child_by_field_id(f.body) {
            Some(body) => self
                .list(body, false, Member::Impl { trait_impl })
                .map(|_| ()),
            None => Ok(()),
        };
        self.b.end_class(outer);
        r
    }

    fn trait_item(&mut self, n: Node, attrs: &[Node]) -> R<()> {
        let f = fields();
        let decorators = self.decorators(attrs)?;
        let name = n
            .child_by_field_id(f.name)
            .map(|t| self.text(t).to_string())
            .unwrap_or_default();
        let class = Class {
            name,
            span: self.span(n),
            decorators,
            trait_name: None,
            bases: Vec::new(),
        };
        let (_, outer) = self.b.begin_class(class);
        let r = match n.child_by_field_id(f.body) {
            Some(body) => self.list(body, false, Member::Trait).map(|_| ()),
            None => Ok(()),
        };
        self.b.end_class(outer);
        r
    }

    fn closure(&mut self, n: Node, name: String) -> R<Expr> {
        let f = fields();
        let body = n.child_by_field_id(f.body);
        let is_async = has_token(n, "async") || body.is_some_and(|b| b.kind() == "async_block");
        let mut params = Vec::new();
        if let Some(ps) = n.child_by_field_id(f.parameters) {
            let mut c = ps.walk();
            for k in ps.children(&mut c) {
                match k.kind() {
                    "|" | "," => {}
                    _ if k.is_extra() => {}
                    "parameter" => {
                        if let Some(p) = k.child_by_field_id(f.pattern) {
                            let mut param = self.pattern_param(p);
                            param.annotation = k
                                .child_by_field_id(f.type_)
                                .map(|t| self.text(t).to_string());
                            params.push(param);
                        }
                    }
                    _ => params.push(self.pattern_param(k)),
                }
            }
        }
        let (id, saved) = self.b.begin_function(name, FuncKind::Lambda, self.span(n));
        {
            let func = self.b.func_mut(id);
            func.is_async = is_async;
            func.params = params;
        }
        let r = match body {
            Some(b) if b.kind() == "block" => self.list(b, true, Member::No).map(|_| ()),
            Some(b) if b.is_named() => match self.expr(b) {
                Ok(e) => {
                    let at = self.span(b);
                    let func = self.b.func_mut(id);
                    func.expr_body = Some(e);
                    func.expr_body_span = Some(at);
                    Ok(())
                }
                Err(e) => Err(e),
            },
            _ => Ok(()),
        };
        self.b.end_function(saved);
        r?;
        Ok(Expr::Func(id))
    }

    // ------------------------------------------------------------ expressions

    fn expr(&mut self, n: Node) -> R<Expr> {
        let tail = std::mem::take(&mut self.tail);
        self.b.enter()?;
        // A table of small handlers rather than one big `match`: this
        // recursion is as deep as the code is nested, and a debug build
        // gives a big function a stack slot for every arm's temporaries.
        let h: Handler<'a, 's> = handler(n.kind());
        let r = h(self, n, tail);
        self.b.leave();
        r
    }

    /// Records a tail expression's value as an `Exit`.
    fn tailed(&mut self, n: Node, tail: bool, e: Expr) -> R<Expr> {
        if tail {
            let at = self.span(n);
            self.exit(n, ExitKind::Tail, Some(e.clone()), Some(at));
        }
        Ok(e)
    }

    fn h_leaf(&mut self, n: Node, tail: bool) -> R<Expr> {
        let t = self.text(n);
        let e = match n.kind() {
            "self" => Expr::Name("self".into()),
            "scoped_identifier"
            | "scoped_type_identifier"
            | "generic_type"
            | "generic_type_with_turbofish" => Expr::Name(clean_path(t)),
            "string_literal" | "raw_string_literal" => Expr::Str(string_content(t)),
            "char_literal" => Expr::Str(t.trim_start_matches('b').trim_matches('\'').to_string()),
            "integer_literal" | "float_literal" => Expr::Num(t.to_string()),
            "boolean_literal" => Expr::Bool(t == "true"),
            "unit_expression" => Expr::unknown("()"),
            _ => Expr::Name(t.to_string()),
        };
        self.tailed(n, tail, e)
    }

    /// `foo::<T>` as a value.
    fn h_generic_fn(&mut self, n: Node, tail: bool) -> R<Expr> {
        let e = match n.child_by_field_id(fields().function) {
            Some(inner) => self.expr(inner)?,
            None => Expr::Name(self.path(n)),
        };
        self.tailed(n, tail, e)
    }

    /// Calls, field accesses, `.await` and `?`: see [`L::chain`].
    fn h_chain(&mut self, n: Node, tail: bool) -> R<Expr> {
        let e = self.chain(n)?;
        self.tailed(n, tail, e)
    }

    /// A call: a plain one directly (nested calls are common, keep their
    /// recursion cheap), a method call as a chain.
    fn h_call(&mut self, n: Node, tail: bool) -> R<Expr> {
        let e = if self.method_of(n).is_some() {
            self.chain(n)?
        } else {
            self.call(n)?
        };
        self.tailed(n, tail, e)
    }

    /// `(x)`: `x`.
    fn h_inner(&mut self, n: Node, tail: bool) -> R<Expr> {
        let e = match first_kid(n) {
            Some(k) => self.expr(k)?,
            None => self.unknown(n),
        };
        self.tailed(n, tail, e)
    }

    /// `&x`, `&mut x`, `x as T`: `x`.
    fn h_value(&mut self, n: Node, tail: bool) -> R<Expr> {
        let e = match n.child_by_field_id(fields().value) {
            Some(k) => self.expr(k)?,
            None => self.unknown(n),
        };
        self.tailed(n, tail, e)
    }

    fn h_unary(&mut self, n: Node, tail: bool) -> R<Expr> {
        let op = n.child(0).map(|o| self.text(o)).unwrap_or("").to_string();
        let operand = match first_kid(n) {
            Some(k) => self.expr(k)?,
            None => self.unknown(n),
        };
        let e = Expr::Unary {
            op,
            operand: Box::new(operand),
        };
        self.tailed(n, tail, e)
    }

    fn h_binary(&mut self, n: Node, tail: bool) -> R<Expr> {
        let e = self.binary(n)?;
        self.tailed(n, tail, e)
    }

    fn h_assign(&mut self, n: Node, _tail: bool) -> R<Expr> {
        self.assign(n)
    }

    fn h_compound(&mut self, n: Node, _tail: bool) -> R<Expr> {
        let f = fields();
        let target = match n.child_by_field_id(f.left) {
            Some(l) => self.expr(l)?.dotted(),
            None => None,
        };
        let value = match n.child_by_field_id(f.right) {
            Some(r) => Some(self.expr(r)?),
            None => None,
        };
        let op = n.child_by_field_id(f.operator).map(|o| self.text(o));
        if let (Some(name), Some(op), Some(value)) = (target, op, value) {
            let op = op.trim_end_matches('=').to_string();
            let span = self.span(n);
            self.b.m.updates.push(Update {
                name,
                op,
                value,
                span,
                func: self.b.func,
            });
        }
        Ok(self.unknown(n))
    }

    /// `a..b`, `a..=b`: a binary operation, so a loop over one counts.
    fn h_range(&mut self, n: Node, _tail: bool) -> R<Expr> {
        let mut sides = Vec::new();
        let mut op = "..".to_string();
        for k in tokens(n) {
            if k.is_named() {
                sides.push(self.expr(k)?);
            } else {
                op = self.text(k).to_string();
            }
        }
        let mut sides = sides.into_iter();
        Ok(Expr::Binary {
            op,
            lhs: Box::new(sides.next().unwrap_or(Expr::Null)),
            rhs: Box::new(sides.next().unwrap_or(Expr::Null)),
        })
    }

    fn h_index(&mut self, n: Node, tail: bool) -> R<Expr> {
        let ks = kids(n);
        let a = match ks.first() {
            Some(&k) => self.expr(k)?,
            None => self.unknown(n),
        };
        let i = match ks.get(1) {
            Some(&k) => self.expr(k)?,
            None => self.unknown(n),
        };
        self.tailed(n, tail, Expr::Index(Box::new(a), Box::new(i)))
    }

    fn h_array(&mut self, n: Node, tail: bool) -> R<Expr> {
        let e = self.array(n)?;
        self.tailed(n, tail, e)
    }

    fn h_closure(&mut self, n: Node, tail: bool) -> R<Expr> {
        let e = self.closure(n, String::new())?;
        self.tailed(n, tail, e)
    }

    fn h_block(&mut self, n: Node, tail: bool) -> R<Expr> {
        self.block_value(n, tail)
    }

    /// `unsafe { .. }`, `const { .. }`, `try { .. }`: the block's value.
    fn h_wrapped_block(&mut self, n: Node, tail: bool) -> R<Expr> {
        match n.child_by_field_id(fields().body).or_else(|| first_kid(n)) {
            Some(b) => self.block_value(b, tail),
            None => Ok(self.unknown(n)),
        }
    }

    /// `async { .. }` is not a function: its calls run in the enclosing
    /// one, in the enclosing context.
    /// `async { .. }` / `async move { .. }`: a future, run where it is
    /// awaited or handed to a deadline, not where it is written; a lambda,
    /// like a closure.
    fn h_async(&mut self, n: Node, _tail: bool) -> R<Expr> {
        let (id, saved) = self
            .b
            .begin_function(String::new(), FuncKind::Lambda, self.span(n));
        self.b.func_mut(id).is_async = true;
        let r = match first_kid(n).filter(|b| b.kind() == "block") {
            Some(b) => self.list(b, true, Member::No).map(|_| ()),
            None => Ok(()),
        };
        self.b.end_function(saved);
        r?;
        Ok(Expr::Func(id))
    }

    fn h_loop(&mut self, n: Node, _tail: bool) -> R<Expr> {
        match n.kind() {
            "for_expression" => self.for_expr(n),
            "while_expression" => self.while_expr(n),
            _ => self.loop_expr(n),
        }
    }

    fn h_exit(&mut self, n: Node, _tail: bool) -> R<Expr> {
        self.exit_expr(n)
    }

    fn h_struct(&mut self, n: Node, tail: bool) -> R<Expr> {
        let e = self.struct_expr(n)?;
        self.tailed(n, tail, e)
    }

    fn h_let_condition(&mut self, n: Node, _tail: bool) -> R<Expr> {
        if let Some(v) = n.child_by_field_id(fields().value) {
            self.expr(v)?;
        }
        Ok(self.unknown(n))
    }

    /// Anything else (ranges, yield, let chains, ERROR nodes): walk its
    /// children so the calls inside are still found.
    fn h_other(&mut self, n: Node, _tail: bool) -> R<Expr> {
        for k in kids(n) {
            self.stmt(k, &[], false, Member::No)?;
        }
        Ok(self.unknown(n))
    }

    /// A block used as a value: its tail expression.
    fn block_value(&mut self, n: Node, tail: bool) -> R<Expr> {
        Ok(match self.list(n, tail, Member::No)? {
            Some((v, _)) => v,
            None => self.unknown(n),
        })
    }

    /// A method chain `a.b(x).c(y).await?.d` nests to the left, one level
    /// per link: walk its spine without recursing (builder chains can be
    /// long). Calls are reserved outermost first, like a recursive walk
    /// would; the receiver of each link is the previous link's value.
    fn chain(&mut self, n: Node) -> R<Expr> {
        let f = fields();
        let mut spine: Vec<Node> = Vec::new();
        let mut cur = n;
        loop {
            let next = match cur.kind() {
                "call_expression" => match self.method_of(cur) {
                    Some(fe) => fe.child_by_field_id(f.value),
                    None => break,
                },
                "field_expression" => cur.child_by_field_id(f.value),
                "await_expression" | "try_expression" => first_kid(cur),
                _ => break,
            };
            let Some(next) = next else { break };
            spine.push(cur);
            cur = next;
        }
        let ids: Vec<Option<CallId>> = spine
            .iter()
            .map(|s| (s.kind() == "call_expression").then(|| self.b.reserve_call(self.span(*s))))
            .collect();
        let mut acc = if spine.is_empty() {
            // A call whose callee is not a member: `f(x)`, `Client::new()`.
            return self.call(cur);
        } else {
            self.expr(cur)?
        };
        let mut fields_deep = 0;
        for (&s, id) in spine.iter().zip(ids).rev() {
            match s.kind() {
                "call_expression" => {
                    let Some(id) = id else { continue };
                    let field = self
                        .method_of(s)
                        .and_then(|fe| fe.child_by_field_id(f.field))
                        .map(|x| self.text(x))
                        .unwrap_or("");
                    self.b
                        .set_callee(id, Expr::Attr(Box::new(acc), field.to_string()));
                    self.call_args(id, s)?;
                    acc = Expr::Call(id);
                }
                "field_expression" => {
                    // `a.b.c`: the Expr nests, so the depth counts.
                    self.b.enter()?;
                    fields_deep += 1;
                    let field = s
                        .child_by_field_id(f.field)
                        .map(|x| self.text(x))
                        .unwrap_or("");
                    acc = Expr::Attr(Box::new(acc), field.to_string());
                }
                "await_expression" => {
                    if let Expr::Call(id) = acc {
                        self.b.call_mut(id).awaited = true;
                    }
                }
                _ => {} // `?`
            }
        }
        for _ in 0..fields_deep {
            self.b.leave();
        }
        Ok(acc)
    }

    /// The `field_expression` callee of a method call (`x.m(..)`, `x.m::<T>(..)`).
    fn method_of<'t>(&self, call: Node<'t>) -> Option<Node<'t>> {
        let f = fields();
        let mut func = call.child_by_field_id(f.function)?;
        if func.kind() == "generic_function" {
            func = func.child_by_field_id(f.function)?;
        }
        (func.kind() == "field_expression").then_some(func)
    }

    /// A call whose callee is not a member access.
    fn call(&mut self, n: Node) -> R<Expr> {
        let id = self.b.reserve_call(self.span(n));
        let callee = match n.child_by_field_id(fields().function) {
            Some(func) => self.expr(func)?,
            None => Expr::Unknown(String::new()),
        };
        self.b.set_callee(id, callee);
        self.call_args(id, n)?;
        Ok(Expr::Call(id))
    }

    fn call_args(&mut self, id: CallId, n: Node) -> R<()> {
        self.edit_facts(id, n);
        let Some(args) = n.child_by_field_id(fields().arguments) else {
            return Ok(());
        };
        let mut i = 0u32;
        for k in kids(args) {
            if k.kind() == "attribute_item" {
                continue;
            }
            self.b.ctx.push(Ctx::Arg { call: id, index: i });
            let v = self.expr(k)?;
            self.b.ctx.pop();
            self.b.push_arg(id, None, v);
            let at = self.span(k);
            self.b.arg_span(id, at);
            i += 1;
        }
        Ok(())
    }

    /// Where call `id`'s name and argument list are written (for `--fix`).
    /// Out of line: `call_args` is on the recursion path of nested calls,
    /// and its frame should stay small.
    #[inline(never)]
    fn edit_facts(&mut self, id: CallId, n: Node) {
        let name_span = self.callee_name(n).map(|x| self.span(x));
        let list = n.child_by_field_id(fields().arguments).map(|args| {
            crate::lang::list_span(
                args,
                self.src,
                |x| self.span(x),
                |k| k.kind() != "attribute_item",
            )
        });
        let c = self.b.call_mut(id);
        c.name_span = name_span;
        c.arg_list = list;
    }

    /// The name a call's callee ends in: the method of `x.m(..)` /
    /// `x.m::<T>(..)`, the last segment of `a::b::f(..)`.
    fn callee_name<'t>(&self, call: Node<'t>) -> Option<Node<'t>> {
        let f = fields();
        let mut func = call.child_by_field_id(f.function)?;
        if func.kind() == "generic_function" {
            func = func.child_by_field_id(f.function)?;
        }
        match func.kind() {
            "field_expression" => func.child_by_field_id(f.field),
            "scoped_identifier" => func.child_by_field_id(f.name),
            "identifier" => Some(func),
            _ => None,
        }
    }

    /// `a + b + c` nests to the left: walk that spine without recursing.
    fn binary(&mut self, n: Node) -> R<Expr> {
        let f = fields();
        let mut spine = vec![n];
        let mut leftmost = n;
        while let Some(l) = leftmost.child_by_field_id(f.left) {
            if l.kind() != "binary_expression" {
                break;
            }
            // Each level counts: the `Expr` built is as deep as the spine.
            self.b.enter()?;
            spine.push(l);
            leftmost = l;
        }
        let mut acc = match leftmost.child_by_field_id(f.left) {
            Some(l) => self.expr(l)?,
            None => self.unknown(leftmost),
        };
        for &b in spine.iter().rev() {
            let op = b
                .child_by_field_id(f.operator)
                .map(|o| self.text(o))
                .unwrap_or("")
                .to_string();
            let rhs = match b.child_by_field_id(f.right) {
                Some(r) => self.expr(r)?,
                None => self.unknown(b),
            };
            acc = Expr::Binary {
                op,
                lhs: Box::new(acc),
                rhs: Box::new(rhs),
            };
        }
        for _ in 1..spine.len() {
            self.b.leave();
        }
        Ok(acc)
    }

    fn array(&mut self, n: Node) -> R<Expr> {
        let f = fields();
        let length = n.child_by_field_id(f.length);
        let mut items = Vec::new();
        for k in kids(n) {
            if k.kind() == "attribute_item" {
                continue;
            }
            let v = self.expr(k)?;
            if length.is_some_and(|l| l.id() == k.id()) {
                continue;
            }
            items.push(v);
        }
        Ok(Expr::Array(items))
    }

    /// `x = v` / `self.x = v` (a reassignment is a binding too).
    fn assign(&mut self, n: Node) -> R<Expr> {
        let f = fields();
        let (Some(left), Some(right)) = (n.child_by_field_id(f.left), n.child_by_field_id(f.right))
        else {
            return Ok(self.unknown(n));
        };
        let target = self.expr(left)?;
        let value = self.expr(right)?;
        let span = self.span(n);
        match target {
            Expr::Name(name) => {
                let scope = self.scope();
                self.bind(name, value, span, scope);
            }
            Expr::Attr(obj, field)
                if matches!(&*obj, Expr::Name(s) if s == "self") && self.b.func.is_some() =>
            {
                if let Some(class) = self.b.current_class_name() {
                    self.bind(field, value, span, BindScope::Class(class));
                }
            }
            t => {
                if let Some(name) = t.dotted() {
                    let scope = self.scope();
                    self.bind(name, value, span, scope);
                }
            }
        }
        Ok(self.unknown(n))
    }

    fn struct_expr(&mut self, n: Node) -> R<Expr> {
        let f = fields();
        let name = n
            .child_by_field_id(f.name)
            .map(|x| self.path(x))
            .unwrap_or_default();
        let mut obj = Object::default();
        let mut spans = Vec::new();
        if let Some(body) = n.child_by_field_id(f.body) {
            for k in kids(body) {
                match k.kind() {
                    "field_initializer" => {
                        let key = k
                            .child_by_field_id(f.field)
                            .map(|x| self.text(x).to_string())
                            .unwrap_or_default();
                        let v = match k.child_by_field_id(f.value) {
                            Some(v) => self.expr(v)?,
                            None => self.unknown(k),
                        };
                        obj.entries.push((key, v));
                        spans.push(self.span(k));
                    }
                    "shorthand_field_initializer" => {
                        let id = kids(k).into_iter().find(|x| x.kind() == "identifier");
                        if let Some(id) = id {
                            let key = self.text(id).to_string();
                            obj.entries.push((key.clone(), Expr::Name(key)));
                            spans.push(self.span(k));
                        }
                    }
                    "base_field_initializer" => {
                        if let Some(b) = first_kid(k) {
                            self.expr(b)?;
                        }
                        obj.spread = true;
                    }
                    _ => {}
                }
            }
        }
        // `Self { client, .. }` / `Weather { .. }` inside `impl Weather`.
        let class = match self.b.current_class_name() {
            Some(c) if name == "Self" || last_segment(&name) == c => Some(c),
            _ => None,
        };
        if let Some(class) = class {
            for ((k, v), span) in obj.entries.iter().zip(spans) {
                self.bind(k.clone(), v.clone(), span, BindScope::Class(class.clone()));
            }
        }
        obj.type_name = Some(name);
        Ok(Expr::Object(obj))
    }

    // ------------------------------------------------------------ control flow

    fn push_try(&mut self, n: Node, kind: TryKind) -> u32 {
        let id = self.b.m.tries.len() as u32;
        let t = Try {
            span: self.span(n),
            kind,
            func: self.b.func,
            clauses: Vec::new(),
            has_finally: false,
            ctx: self.b.ctx.clone(),
        };
        self.b.m.tries.push(t);
        id
    }

    /// The value of a match arm / if branch / else block: the expression, or
    /// a block's tail; `return v` gives `v`.
    /// The value of an arm or block, and where it is written (left in
    /// `clause_span`).
    fn clause_value(&mut self, n: Node, tail: bool) -> R<Option<Expr>> {
        self.clause_span = None;
        let (v, node) = match n.kind() {
            "block" => match self.list(n, tail, Member::No)? {
                Some(t) => t,
                // `{ ..; return v; }`, `{ ..; bail!(..); }`: the exit's value.
                None => return Ok(self.last_statement_exit(n)),
            },
            _ => {
                self.tail = tail;
                (self.expr(n)?, n)
            }
        };
        if node.kind() == "return_expression" {
            let span = self.span(node);
            return Ok(match self.b.m.exits.last() {
                Some(e) if e.span == span && e.kind == ExitKind::Return => {
                    self.clause_span = e.value_span;
                    e.value.clone()
                }
                _ => None,
            });
        }
        self.clause_span = Some(self.span(node));
        Ok(Some(v))
    }

    /// The value of the exit the block's last statement (`return v;`,
    /// `bail!(..);`) just recorded.
    fn last_statement_exit(&mut self, block: Node) -> Option<Expr> {
        let last = kids(block).pop()?;
        let e = match last.kind() {
            "expression_statement" => first_kid(last)?,
            _ => last,
        };
        if !matches!(e.kind(), "return_expression" | "macro_invocation") {
            return None;
        }
        let span = self.span(e);
        match self.b.m.exits.last() {
            Some(x) if x.span == span && matches!(x.kind, ExitKind::Return | ExitKind::Raise) => {
                self.clause_span = x.value_span;
                x.value.clone()
            }
            _ => None,
        }
    }

    /// For `Err(e)` (also `Ok(Err(e))`, `Result::Err(e)`, `Err(a) | Err(b)`):
    /// `Some(binding)`. Looks at a bounded number of sub-patterns, without
    /// recursing (patterns can nest deeply).
    fn err_pattern(&self, p: Node) -> Option<Option<String>> {
        let f = fields();
        let mut todo = vec![p];
        let mut budget = 64;
        while let Some(p) = todo.pop() {
            budget -= 1;
            if budget == 0 {
                break;
            }
            match p.kind() {
                "match_pattern" => todo.extend(first_kid(p)),
                "or_pattern" => {
                    let mut ks = kids(p);
                    ks.reverse();
                    todo.extend(ks);
                }
                "tuple_struct_pattern" => {
                    let Some(ty) = p.child_by_field_id(f.type_) else {
                        continue;
                    };
                    let ty = self.path(ty);
                    let inner: Vec<Node> = kids(p).into_iter().skip(1).collect();
                    match (last_segment(&ty), inner.as_slice()) {
                        ("Err", [one]) if one.kind() == "identifier" => {
                            return Some(Some(self.text(*one).to_string()));
                        }
                        ("Err", [one]) if one.kind() == "captured_pattern" => {
                            let name = first_kid(*one)
                                .filter(|k| k.kind() == "identifier")
                                .map(|k| self.text(k).to_string());
                            return Some(name);
                        }
                        ("Err", _) => return Some(None),
                        ("Ok" | "Some", [one]) => todo.push(*one),
                        _ => {}
                    }
                }
                _ => {}
            }
        }
        None
    }

    fn is_ok_pattern(&self, p: Node) -> bool {
        let f = fields();
        p.kind() == "tuple_struct_pattern"
            && p.child_by_field_id(f.type_)
                .is_some_and(|t| last_segment(&self.path(t)) == "Ok")
    }

    fn match_expr(&mut self, n: Node, tail: bool) -> R<Expr> {
        let f = fields();
        let scrutinee = n.child_by_field_id(f.value);
        let arms: Vec<Node> = match n.child_by_field_id(f.body) {
            Some(b) => kids(b)
                .into_iter()
                .filter(|a| a.kind() == "match_arm")
                .collect(),
            None => Vec::new(),
        };
        let errs: Vec<Option<Option<String>>> = arms
            .iter()
            .map(|a| {
                a.child_by_field_id(f.pattern)
                    .and_then(|p| self.err_pattern(p))
            })
            .collect();
        if errs.iter().all(Option::is_none) {
            if let Some(s) = scrutinee {
                self.expr(s)?;
            }
            for &a in &arms {
                self.arm(a, tail)?;
            }
            return Ok(self.unknown(n));
        }
        let try_id = self.push_try(n, TryKind::Match);
        if let Some(s) = scrutinee {
            self.in_ctx(Ctx::Try(try_id), |l| l.expr(s))?;
        }
        let mut clause = 0u32;
        for (&a, err) in arms.iter().zip(errs) {
            let Some(binding) = err else {
                self.arm(a, tail)?;
                continue;
            };
            let value = self.in_ctx(Ctx::Catch { try_id, clause }, |l| l.arm(a, tail))?;
            let value_span = value.as_ref().and(self.clause_span.take());
            // The pattern, without its guard.
            let span = match a.child_by_field_id(f.pattern) {
                Some(p) => self.span(first_kid(p).unwrap_or(p)),
                None => self.span(a),
            };
            self.b.m.tries[try_id as usize].clauses.push(CatchClause {
                span,
                types: Vec::new(),
                binding,
                value,
                value_span,
            });
            clause += 1;
        }
        Ok(self.unknown(n))
    }

    fn arm(&mut self, a: Node, tail: bool) -> R<Option<Expr>> {
        let f = fields();
        if let Some(guard) = a
            .child_by_field_id(f.pattern)
            .and_then(|p| p.child_by_field_id(f.condition))
        {
            self.expr(guard)?;
        }
        self.clause_span = None;
        match a.child_by_field_id(f.value) {
            Some(v) => self.clause_value(v, tail),
            None => Ok(None),
        }
    }

    fn else_value(&mut self, e: Node, tail: bool) -> R<Option<Expr>> {
        match first_kid(e) {
            Some(k) if k.kind() == "if_expression" => {
                self.tail = tail;
                let v = self.expr(k)?;
                self.clause_span = Some(self.span(k));
                Ok(Some(v))
            }
            Some(k) => self.clause_value(k, tail),
            None => Ok(None),
        }
    }

    /// An `if` is a conditional around the exits in it (see `Exit::guard`).
    fn if_expr(&mut self, n: Node, tail: bool) -> R<Expr> {
        let span = self.span(n);
        self.b.guards.push(span);
        let out = self.if_expr_inner(n, tail);
        self.b.guards.pop();
        out
    }

    /// Adds the error clause of an `if let` to try `try_id`: at `span`, its
    /// value written where `clause_span` says. Out of line, to keep
    /// `if_expr_inner`'s frame (on the recursion path) small.
    #[inline(never)]
    fn push_clause(
        &mut self,
        try_id: u32,
        span: Option<Span>,
        binding: Option<String>,
        value: &Option<Expr>,
    ) {
        let value_span = value.as_ref().and(self.clause_span.take());
        self.b.m.tries[try_id as usize].clauses.push(CatchClause {
            span: span.unwrap_or_default(),
            types: Vec::new(),
            binding,
            value: value.clone(),
            value_span,
        });
    }

    fn if_expr_inner(&mut self, n: Node, tail: bool) -> R<Expr> {
        let f = fields();
        let cond = n.child_by_field_id(f.condition);
        let cons = n.child_by_field_id(f.consequence);
        let alt = n.child_by_field_id(f.alternative);
        let mut cond_value = None;
        let (then, otherwise);
        match cond {
            Some(c) if c.kind() == "let_condition" => {
                let pat = c.child_by_field_id(f.pattern);
                let val = c.child_by_field_id(f.value);
                let err = pat.and_then(|p| self.err_pattern(p));
                let ok_else = pat.is_some_and(|p| self.is_ok_pattern(p)) && alt.is_some();
                if err.is_some() || ok_else {
                    let try_id = self.push_try(n, TryKind::Match);
                    if let Some(v) = val {
                        cond_value = Some(self.in_ctx(Ctx::Try(try_id), |l| l.expr(v))?);
                    }
                    let catch = Ctx::Catch { try_id, clause: 0 };
                    // The clause is pushed as soon as its value is known,
                    // while `clause_span` still says where it is written.
                    if let Some(binding_name) = err {
                        then = match cons {
                            Some(b) => self.in_ctx(catch, |l| l.clause_value(b, tail))?,
                            None => None,
                        };
                        self.push_clause(try_id, pat.map(|p| self.span(p)), binding_name, &then);
                        otherwise = match alt {
                            Some(e) => self.else_value(e, tail)?,
                            None => None,
                        };
                    } else {
                        then = match cons {
                            Some(b) => self.clause_value(b, tail)?,
                            None => None,
                        };
                        self.clause_span = None;
                        otherwise = match alt {
                            Some(e) => self.in_ctx(catch, |l| l.else_value(e, tail))?,
                            None => None,
                        };
                        self.push_clause(try_id, alt.map(|e| self.span(e)), None, &otherwise);
                    }
                } else {
                    if let Some(v) = val {
                        cond_value = Some(self.expr(v)?);
                    }
                    then = match cons {
                        Some(b) => self.clause_value(b, tail)?,
                        None => None,
                    };
                    otherwise = match alt {
                        Some(e) => self.else_value(e, tail)?,
                        None => None,
                    };
                }
            }
            _ => {
                if let Some(c) = cond {
                    cond_value = Some(self.expr(c)?);
                }
                then = match cons {
                    Some(b) => self.clause_value(b, tail)?,
                    None => None,
                };
                otherwise = match alt {
                    Some(e) => self.else_value(e, tail)?,
                    None => None,
                };
            }
        }
        Ok(match (alt, cond_value) {
            (Some(_), Some(c)) => Expr::Conditional {
                cond: Box::new(c),
                then: Box::new(then.unwrap_or_else(|| Expr::unknown("{}"))),
                otherwise: Box::new(otherwise.unwrap_or_else(|| Expr::unknown("{}"))),
            },
            _ => self.unknown(n),
        })
    }

    fn loop_body(&mut self, n: Node, id: u32) -> R<Expr> {
        if let Some(body) = n.child_by_field_id(fields().body) {
            self.in_ctx(Ctx::Loop(id), |l| l.list(body, false, Member::No))?;
        }
        Ok(self.unknown(n))
    }

    fn for_expr(&mut self, n: Node) -> R<Expr> {
        let f = fields();
        let iter = match n.child_by_field_id(f.value) {
            Some(v) => Some(self.expr(v)?),
            None => None,
        };
        let mut vars = Vec::new();
        if let Some(p) = n.child_by_field_id(f.pattern) {
            self.pattern_names(p, &mut vars);
        }
        let id = self
            .b
            .push_loop(self.span(n), LoopKind::ForEach, iter, vars, None);
        self.loop_body(n, id)
    }

    fn while_expr(&mut self, n: Node) -> R<Expr> {
        let f = fields();
        let cond = match n.child_by_field_id(f.condition) {
            Some(c) if c.kind() == "let_condition" => match c.child_by_field_id(f.value) {
                Some(v) => Some(self.expr(v)?),
                None => None,
            },
            Some(c) => Some(self.expr(c)?),
            None => None,
        };
        let id = self
            .b
            .push_loop(self.span(n), LoopKind::While, None, Vec::new(), cond);
        self.loop_body(n, id)
    }

    fn loop_expr(&mut self, n: Node) -> R<Expr> {
        let id = self
            .b
            .push_loop(self.span(n), LoopKind::Loop, None, Vec::new(), None);
        self.loop_body(n, id)
    }

    fn exit_expr(&mut self, n: Node) -> R<Expr> {
        let kind = match n.kind() {
            "return_expression" => ExitKind::Return,
            "break_expression" => ExitKind::Break,
            _ => ExitKind::Continue,
        };
        let (value, value_span) = match kids(n).into_iter().find(|k| k.kind() != "label") {
            Some(v) => (Some(self.expr(v)?), Some(self.span(v))),
            None => (None, None),
        };
        self.exit(n, kind, value, value_span);
        Ok(self.unknown(n))
    }
}

type Handler<'a, 's> = for<'t> fn(&mut L<'a, 's>, Node<'t>, bool) -> R<Expr>;

fn handler<'a, 's>(kind: &str) -> Handler<'a, 's> {
    match kind {
        "identifier"
        | "metavariable"
        | "type_identifier"
        | "primitive_type"
        | "self"
        | "scoped_identifier"
        | "scoped_type_identifier"
        | "generic_type"
        | "generic_type_with_turbofish"
        | "string_literal"
        | "raw_string_literal"
        | "char_literal"
        | "integer_literal"
        | "float_literal"
        | "boolean_literal"
        | "unit_expression" => L::h_leaf,
        "generic_function" => L::h_generic_fn,
        "call_expression" => L::h_call,
        "field_expression" | "await_expression" | "try_expression" => L::h_chain,
        "macro_invocation" => L::macro_call,
        "parenthesized_expression" => L::h_inner,
        "reference_expression" | "type_cast_expression" => L::h_value,
        "unary_expression" => L::h_unary,
        "binary_expression" => L::h_binary,
        "assignment_expression" => L::h_assign,
        "compound_assignment_expr" => L::h_compound,
        "range_expression" => L::h_range,
        "index_expression" => L::h_index,
        "tuple_expression" | "array_expression" => L::h_array,
        "closure_expression" => L::h_closure,
        "block" => L::h_block,
        "unsafe_block" | "const_block" | "try_block" => L::h_wrapped_block,
        "async_block" | "gen_block" => L::h_async,
        "if_expression" => L::if_expr,
        "match_expression" => L::match_expr,
        "for_expression" | "while_expression" | "loop_expression" => L::h_loop,
        "return_expression" | "break_expression" | "continue_expression" => L::h_exit,
        "struct_expression" => L::h_struct,
        "let_condition" => L::h_let_condition,
        _ => L::h_other,
    }
}
