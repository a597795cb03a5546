//! Lowers TypeScript, TSX and JavaScript trees into facts.
//!
//! One adapter serves the three grammars (tree-sitter-typescript's
//! `typescript` and `tsx`, and tree-sitter-javascript): their node kinds
//! mostly coincide, and the TS-only kinds (type annotations, `as`, `!`,
//! `satisfies`, parameter properties, interfaces) are simply absent from
//! JavaScript trees.
//!
//! Cost: node kinds and field names are mapped to a small enum and ids once
//! per grammar (cached for the process); each node's children are gathered
//! once, with one shared cursor, into pooled buffers, and comments are
//! recorded while those buffers are filled. Type-only subtrees are not
//! lowered; a cursor pass over them only picks up their comments.

use super::{span_of, Builder, LowerError};
use crate::facts::{
    BindScope, Binding, CatchClause, Class, ClassId, Ctx, Decorator, Exit, ExitKind, Expr, FuncId,
    FuncKind, Import, LoopKind, Module, Object, Param, Span, TemplatePart, Try, TryKind, Update,
};
use std::collections::HashSet;
use std::sync::{Mutex, OnceLock};
use tree_sitter::{Language, Node, Tree, TreeCursor};

type R<T> = Result<T, LowerError>;

pub fn lower(tree: &Tree, src: &str) -> Result<Module, LowerError> {
    let lang = tree.language();
    let g = grammar(&lang);
    let root = tree.root_node();
    let mut l = Lower {
        b: Builder::new(src),
        g,
        cursor: root.walk(),
        pool: Vec::new(),
        decls: HashSet::new(),
        pending_scope: Vec::new(),
        exported_names: Vec::new(),
    };
    l.walk(root)?;
    l.finish();
    Ok(l.b.m)
}

// ---------------------------------------------------------------------------
// Grammar tables

/// The node kinds the adapter tells apart. Several grammar kinds can map to
/// one (`function_expression` and `generator_function` are both `FunctionExpr`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum K {
    Other,
    Comment,
    // statements and declarations
    StatementBlock,
    ExpressionStatement,
    LexicalDeclaration,
    VariableDeclarator,
    FunctionDeclaration,
    ClassDeclaration,
    ClassHeritage,
    ExtendsClause,
    MethodDefinition,
    FieldDefinition,
    ClassStaticBlock,
    ExportStatement,
    ExportClause,
    ExportSpecifier,
    ImportStatement,
    ImportClause,
    NamedImports,
    ImportSpecifier,
    NamespaceImport,
    ImportRequireClause,
    Return,
    Throw,
    Break,
    Continue,
    For,
    ForIn,
    While,
    Do,
    Try,
    CatchClause,
    FinallyClause,
    EmptyStatement,
    /// Types, interfaces, signatures, `declare` blocks: nothing in them runs.
    TypeOnly,
    // expressions
    Identifier,
    PropertyIdentifier,
    This,
    Super,
    Member,
    Subscript,
    Call,
    New,
    Await,
    Arrow,
    FunctionExpr,
    Class,
    Str,
    TemplateString,
    TemplateSubstitution,
    Number,
    True,
    False,
    Null,
    Object,
    Pair,
    ShorthandProperty,
    Spread,
    ComputedPropertyName,
    Array,
    Binary,
    Unary,
    Ternary,
    Parenthesized,
    /// `x as T`, `x satisfies T`, `x!`, `<T>x`, `f<T>`: the inner expression.
    Wrapper,
    Assignment,
    AugmentedAssignment,
    Sequence,
    Import,
    Decorator,
    // parameters and patterns
    FormalParameters,
    RequiredParameter,
    ObjectPattern,
    ArrayPattern,
    AssignmentPattern,
    ObjectAssignmentPattern,
    PairPattern,
    ShorthandPattern,
    RestPattern,
    AccessibilityModifier,
    // anonymous tokens
    Async,
    TypeKw,
    /// `if (..) ..`, a `case`/`default` of a switch: conditionals around
    /// exits (see `Exit::guard`).
    Conditional,
}

impl K {
    /// Kinds that `expr` lowers to something better than `Unknown`.
    fn is_expr(self) -> bool {
        use K::*;
        matches!(
            self,
            Identifier
                | This
                | Super
                | Member
                | Subscript
                | Call
                | New
                | Await
                | Arrow
                | FunctionExpr
                | Class
                | Str
                | TemplateString
                | Number
                | True
                | False
                | Null
                | Object
                | Spread
                | Array
                | Binary
                | Unary
                | Ternary
                | Parenthesized
                | Wrapper
                | Assignment
                | AugmentedAssignment
                | Sequence
        )
    }
}

const NAMED_KINDS: &[(&str, K)] = &[
    ("comment", K::Comment),
    ("html_comment", K::Comment),
    ("statement_block", K::StatementBlock),
    ("expression_statement", K::ExpressionStatement),
    ("lexical_declaration", K::LexicalDeclaration),
    ("variable_declaration", K::LexicalDeclaration),
    ("using_declaration", K::LexicalDeclaration),
    ("variable_declarator", K::VariableDeclarator),
    ("function_declaration", K::FunctionDeclaration),
    ("generator_function_declaration", K::FunctionDeclaration),
    ("class_declaration", K::ClassDeclaration),
    ("abstract_class_declaration", K::ClassDeclaration),
    ("class_heritage", K::ClassHeritage),
    ("extends_clause", K::ExtendsClause),
    ("method_definition", K::MethodDefinition),
    ("public_field_definition", K::FieldDefinition),
    ("field_definition", K::FieldDefinition),
    ("class_static_block", K::ClassStaticBlock),
    ("export_statement", K::ExportStatement),
    ("export_clause", K::ExportClause),
    ("export_specifier", K::ExportSpecifier),
    ("import_statement", K::ImportStatement),
    ("import_clause", K::ImportClause),
    ("named_imports", K::NamedImports),
    ("import_specifier", K::ImportSpecifier),
    ("namespace_import", K::NamespaceImport),
    ("import_require_clause", K::ImportRequireClause),
    ("return_statement", K::Return),
    ("throw_statement", K::Throw),
    ("break_statement", K::Break),
    ("continue_statement", K::Continue),
    ("for_statement", K::For),
    ("for_in_statement", K::ForIn),
    ("while_statement", K::While),
    ("do_statement", K::Do),
    ("try_statement", K::Try),
    ("if_statement", K::Conditional),
    ("switch_case", K::Conditional),
    ("switch_default", K::Conditional),
    ("catch_clause", K::CatchClause),
    ("finally_clause", K::FinallyClause),
    ("empty_statement", K::EmptyStatement),
    ("identifier", K::Identifier),
    ("property_identifier", K::PropertyIdentifier),
    ("private_property_identifier", K::PropertyIdentifier),
    ("this", K::This),
    ("super", K::Super),
    ("member_expression", K::Member),
    ("subscript_expression", K::Subscript),
    ("call_expression", K::Call),
    ("new_expression", K::New),
    ("await_expression", K::Await),
    ("arrow_function", K::Arrow),
    ("function_expression", K::FunctionExpr),
    ("function", K::FunctionExpr),
    ("generator_function", K::FunctionExpr),
    ("class", K::Class),
    ("string", K::Str),
    ("template_string", K::TemplateString),
    ("template_substitution", K::TemplateSubstitution),
    ("number", K::Number),
    ("true", K::True),
    ("false", K::False),
    ("null", K::Null),
    ("undefined", K::Null),
    ("object", K::Object),
    ("pair", K::Pair),
    ("shorthand_property_identifier", K::ShorthandProperty),
    ("spread_element", K::Spread),
    ("computed_property_name", K::ComputedPropertyName),
    ("array", K::Array),
    ("binary_expression", K::Binary),
    ("unary_expression", K::Unary),
    ("ternary_expression", K::Ternary),
    ("parenthesized_expression", K::Parenthesized),
    ("as_expression", K::Wrapper),
    ("satisfies_expression", K::Wrapper),
    ("non_null_expression", K::Wrapper),
    ("type_assertion", K::Wrapper),
    ("instantiation_expression", K::Wrapper),
    ("assignment_expression", K::Assignment),
    ("augmented_assignment_expression", K::AugmentedAssignment),
    ("sequence_expression", K::Sequence),
    ("import", K::Import),
    ("decorator", K::Decorator),
    ("formal_parameters", K::FormalParameters),
    ("required_parameter", K::RequiredParameter),
    ("optional_parameter", K::RequiredParameter),
    ("object_pattern", K::ObjectPattern),
    ("array_pattern", K::ArrayPattern),
    ("assignment_pattern", K::AssignmentPattern),
    ("object_assignment_pattern", K::ObjectAssignmentPattern),
    ("pair_pattern", K::PairPattern),
    ("shorthand_property_identifier_pattern", K::ShorthandPattern),
    ("rest_pattern", K::RestPattern),
    ("accessibility_modifier", K::AccessibilityModifier),
];

/// Named kinds that only describe types: skipped (their comments are kept).
const TYPE_KINDS: &[&str] = &[
    "abstract_method_signature",
    "adding_type_annotation",
    "ambient_declaration",
    "array_type",
    "asserts",
    "asserts_annotation",
    "call_signature",
    "conditional_type",
    "constraint",
    "construct_signature",
    "constructor_type",
    "default_type",
    "existential_type",
    "extends_type_clause",
    "flow_maybe_type",
    "function_signature",
    "function_type",
    "generic_type",
    "implements_clause",
    "index_signature",
    "index_type_query",
    "infer_type",
    "interface_body",
    "interface_declaration",
    "intersection_type",
    "literal_type",
    "lookup_type",
    "mapped_type_clause",
    "method_signature",
    "nested_type_identifier",
    "object_type",
    "omitting_type_annotation",
    "opting_type_annotation",
    "optional_type",
    "parenthesized_type",
    "predefined_type",
    "property_signature",
    "readonly_type",
    "rest_type",
    "template_literal_type",
    "template_type",
    "this_type",
    "tuple_type",
    "type_alias_declaration",
    "type_annotation",
    "type_arguments",
    "type_identifier",
    "type_parameter",
    "type_parameters",
    "type_predicate",
    "type_predicate_annotation",
    "type_query",
    "union_type",
];

/// Field ids of one grammar; `NONE` where the grammar lacks the field.
#[derive(Clone, Copy)]
struct Fields {
    name: u16,
    value: u16,
    body: u16,
    parameters: u16,
    parameter: u16,
    function: u16,
    arguments: u16,
    object: u16,
    property: u16,
    left: u16,
    right: u16,
    operator: u16,
    condition: u16,
    consequence: u16,
    alternative: u16,
    handler: u16,
    finalizer: u16,
    source: u16,
    declaration: u16,
    key: u16,
    pattern: u16,
    alias: u16,
    constructor: u16,
    index: u16,
    increment: u16,
    initializer: u16,
    argument: u16,
    kind: u16,
    return_type: u16,
}

/// A field id no child carries (children without a field report 0).
const NONE: u16 = u16::MAX;

struct Grammar {
    lang: Language,
    kinds: Vec<K>,
    f: Fields,
}

impl Grammar {
    fn new(lang: Language) -> Grammar {
        let count = lang.node_kind_count();
        let mut kinds = vec![K::Other; count];
        for (id, slot) in kinds.iter_mut().enumerate() {
            let id = id as u16;
            let Some(name) = lang.node_kind_for_id(id) else {
                continue;
            };
            *slot = if lang.node_kind_is_named(id) {
                if let Some((_, k)) = NAMED_KINDS.iter().find(|(n, _)| *n == name) {
                    *k
                } else if TYPE_KINDS.contains(&name) {
                    K::TypeOnly
                } else {
                    K::Other
                }
            } else {
                match name {
                    "async" => K::Async,
                    "type" | "typeof" => K::TypeKw,
                    _ => K::Other,
                }
            };
        }
        let fid = |n: &str| lang.field_id_for_name(n).map_or(NONE, |f| f.get());
        let f = Fields {
            name: fid("name"),
            value: fid("value"),
            body: fid("body"),
            parameters: fid("parameters"),
            parameter: fid("parameter"),
            function: fid("function"),
            arguments: fid("arguments"),
            object: fid("object"),
            property: fid("property"),
            left: fid("left"),
            right: fid("right"),
            operator: fid("operator"),
            condition: fid("condition"),
            consequence: fid("consequence"),
            alternative: fid("alternative"),
            handler: fid("handler"),
            finalizer: fid("finalizer"),
            source: fid("source"),
            declaration: fid("declaration"),
            key: fid("key"),
            pattern: fid("pattern"),
            alias: fid("alias"),
            constructor: fid("constructor"),
            index: fid("index"),
            increment: fid("increment"),
            initializer: fid("initializer"),
            argument: fid("argument"),
            kind: fid("kind"),
            return_type: fid("return_type"),
        };
        Grammar { lang, kinds, f }
    }

    fn kind(&self, n: Node) -> K {
        self.kinds
            .get(n.kind_id() as usize)
            .copied()
            .unwrap_or(K::Other)
    }
}

/// The cached tables for the grammar a tree was parsed with.
fn grammar(lang: &Language) -> &'static Grammar {
    static TS: OnceLock<Grammar> = OnceLock::new();
    static TSX: OnceLock<Grammar> = OnceLock::new();
    static JS: OnceLock<Grammar> = OnceLock::new();
    type Known<'a> = (&'a OnceLock<Grammar>, fn() -> Language);
    let known: [Known; 3] = [
        (&TS, || tree_sitter_typescript::LANGUAGE_TYPESCRIPT.into()),
        (&TSX, || tree_sitter_typescript::LANGUAGE_TSX.into()),
        (&JS, || tree_sitter_javascript::LANGUAGE.into()),
    ];
    for (cell, make) in known {
        let g = cell.get_or_init(|| Grammar::new(make()));
        if g.lang == *lang {
            return g;
        }
    }
    // Another build of a JS-family grammar: build its tables once.
    static OTHERS: Mutex<Vec<&'static Grammar>> = Mutex::new(Vec::new());
    let mut others = OTHERS.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(g) = others.iter().find(|g| g.lang == *lang) {
        return g;
    }
    let g: &'static Grammar = Box::leak(Box::new(Grammar::new(lang.clone())));
    others.push(g);
    g
}

// ---------------------------------------------------------------------------
// The walk

/// One child of a node: its kind, field id (0 = none) and node. Comments
/// are never kids (they are recorded as the kids are gathered), nor are
/// anonymous tokens other than the few the adapter looks at.
#[derive(Clone, Copy)]
struct Kid<'t> {
    k: K,
    field: u16,
    node: Node<'t>,
}

fn field<'t>(ks: &[Kid<'t>], f: u16) -> Option<Node<'t>> {
    ks.iter().find(|k| k.field == f).map(|k| k.node)
}

/// Module-level declarations are keyed by this function id.
const TOP: u32 = u32::MAX;

struct Lower<'t, 's> {
    b: Builder<'s>,
    g: &'static Grammar,
    cursor: TreeCursor<'t>,
    /// Reusable buffers for `kids`.
    pool: Vec<Vec<Kid<'t>>>,
    /// Names declared (`let`/`const`/`var`, parameters, functions, classes,
    /// catch bindings) per function (`TOP` for the module).
    decls: HashSet<(u32, &'s str)>,
    /// Assignment bindings inside functions whose scope depends on where
    /// their root name is declared: (binding index, root name).
    pending_scope: Vec<(usize, &'s str)>,
    /// Names exported by `export { a }`, `export default a`, `module.exports`.
    exported_names: Vec<String>,
}

impl<'t, 's> Lower<'t, 's> {
    // -- plumbing --------------------------------------------------------

    fn kind(&self, n: Node) -> K {
        self.g.kind(n)
    }

    fn txt(&self, n: Node) -> &'s str {
        self.b.src.get(n.start_byte()..n.end_byte()).unwrap_or("")
    }

    /// The children of `n` worth looking at, in order. Comments among them
    /// are recorded here. Give the buffer back with `done`.
    fn kids(&mut self, n: Node<'t>) -> Vec<Kid<'t>> {
        let mut v = self.pool.pop().unwrap_or_default();
        let c = &mut self.cursor;
        c.reset(n);
        if c.goto_first_child() {
            loop {
                let node = c.node();
                let k = self.g.kind(node);
                if k == K::Comment {
                    self.b.comment(node);
                } else {
                    let field = c.field_id().map_or(0, |f| f.get());
                    if field != 0 || k != K::Other || node.is_named() {
                        v.push(Kid { k, field, node });
                    }
                }
                if !c.goto_next_sibling() {
                    break;
                }
            }
        }
        v
    }

    fn done(&mut self, mut v: Vec<Kid<'t>>) {
        v.clear();
        self.pool.push(v);
    }

    /// Skips a subtree that holds no code, recording its comments.
    fn skip(&mut self, n: Node<'t>) {
        if n.child_count() == 0 {
            return;
        }
        // Most type annotations hold no comment: a text search is far
        // cheaper than visiting their nodes.
        let t = self.txt(n);
        if !t.contains("//") && !t.contains("/*") {
            return;
        }
        let c = &mut self.cursor;
        c.reset(n);
        if !c.goto_first_child() {
            return;
        }
        let mut depth = 1u32;
        loop {
            let node = c.node();
            if self.g.kind(node) == K::Comment {
                self.b.comment(node);
            }
            if c.goto_first_child() {
                depth += 1;
                continue;
            }
            loop {
                if c.goto_next_sibling() {
                    break;
                }
                if depth <= 1 || !c.goto_parent() {
                    return;
                }
                depth -= 1;
            }
        }
    }

    /// `Unknown` with the node's text, cut early so that wide nodes cost
    /// no more than narrow ones.
    fn unknown(&self, n: Node) -> Expr {
        let t = self.txt(n);
        if t.len() <= 160 {
            return Expr::unknown(t);
        }
        let mut cut = 160;
        while !t.is_char_boundary(cut) {
            cut -= 1;
        }
        let mut e = Expr::unknown(&t[..cut]);
        if let Expr::Unknown(s) = &mut e {
            if !s.ends_with('…') {
                s.push('…');
            }
        }
        e
    }

    fn with_ctx<T>(&mut self, ctx: Ctx, f: impl FnOnce(&mut Self) -> R<T>) -> R<T> {
        self.b.ctx.push(ctx);
        let r = f(self);
        self.b.ctx.pop();
        r
    }

    fn declare(&mut self, name: &'s str) {
        let f = self.b.func.unwrap_or(TOP);
        self.decls.insert((f, name));
    }

    fn local_scope(&self) -> BindScope {
        match self.b.func {
            Some(f) => BindScope::Function(f),
            None => BindScope::Module,
        }
    }

    fn bind(&mut self, name: String, value: Expr, span: Span, scope: BindScope) -> usize {
        let i = self.b.m.bindings.len();
        self.b.m.bindings.push(Binding {
            name,
            value,
            span,
            scope,
            func: self.b.func,
        });
        i
    }

    fn finish(&mut self) {
        // An assignment inside a function binds the innermost enclosing
        // function that declares its root name, else the module.
        let pending = std::mem::take(&mut self.pending_scope);
        for (i, root) in pending {
            let func = self.b.m.bindings[i].func;
            let scope = self
                .b
                .m
                .func_chain(func)
                .find(|f| self.decls.contains(&(*f, root)))
                .map_or(BindScope::Module, BindScope::Function);
            self.b.m.bindings[i].scope = scope;
        }
        if !self.exported_names.is_empty() {
            let names: HashSet<&str> = self.exported_names.iter().map(String::as_str).collect();
            for f in &mut self.b.m.functions {
                if f.parent.is_none() && names.contains(f.name.as_str()) {
                    f.exported = true;
                }
            }
        }
        self.b.m.comments.sort_by_key(|c| c.span.start_byte);
    }

    // -- statements ------------------------------------------------------

    fn walk(&mut self, n: Node<'t>) -> R<()> {
        self.b.enter()?;
        let r = self.walk_inner(n);
        self.b.leave();
        r
    }

    /// Picks the lowering of a statement (or any node met in statement
    /// position). Function pointers keep this frame small, as in `expr_inner`.
    fn walk_inner(&mut self, n: Node<'t>) -> R<()> {
        let k = self.kind(n);
        let lower: fn(&mut Self, Node<'t>) -> R<()> = match k {
            K::ExpressionStatement => Self::expression_statement,
            K::LexicalDeclaration => Self::plain_declaration,
            K::FunctionDeclaration => Self::function_declaration,
            K::ClassDeclaration => Self::class_declaration,
            K::ExportStatement => Self::export,
            K::ImportStatement => Self::import,
            K::Return | K::Throw | K::Break | K::Continue => Self::exit,
            K::For => Self::for_c,
            K::ForIn => Self::for_each,
            K::While => Self::while_loop,
            K::Do => Self::do_while,
            K::Try => Self::try_statement,
            K::Conditional => Self::conditional,
            K::TypeOnly | K::Comment => Self::skip_node,
            _ if n.child_count() == 0 => return Ok(()),
            k if k.is_expr() => Self::expr_statement,
            _ => Self::walk_kids,
        };
        lower(self, n)
    }

    fn conditional(&mut self, n: Node<'t>) -> R<()> {
        self.b.guards.push(span_of(n));
        let out = self.walk_kids(n);
        self.b.guards.pop();
        out
    }

    fn plain_declaration(&mut self, n: Node<'t>) -> R<()> {
        self.declaration(n, false, None)
    }

    fn function_declaration(&mut self, n: Node<'t>) -> R<()> {
        self.function(n, None, FuncKind::Def, false, Vec::new())?;
        Ok(())
    }

    fn class_declaration(&mut self, n: Node<'t>) -> R<()> {
        self.class(n, None, false, Vec::new())?;
        Ok(())
    }

    fn skip_node(&mut self, n: Node<'t>) -> R<()> {
        if self.kind(n) == K::Comment {
            self.b.comment(n);
        } else {
            self.skip(n);
        }
        Ok(())
    }

    /// An expression statement: a call (or `await` of one) at its top has
    /// its value thrown away.
    fn expression_statement(&mut self, n: Node<'t>) -> R<()> {
        let ks = self.kids(n);
        for k in &ks {
            if matches!(k.k, K::Call | K::Await) {
                if let Expr::Call(id) = self.expr(k.node)? {
                    self.b.call_mut(id).discarded = true;
                }
            } else {
                self.walk(k.node)?;
            }
        }
        self.done(ks);
        Ok(())
    }

    fn expr_statement(&mut self, n: Node<'t>) -> R<()> {
        self.expr(n)?;
        Ok(())
    }

    fn walk_kids(&mut self, n: Node<'t>) -> R<()> {
        let ks = self.kids(n);
        for k in &ks {
            self.walk(k.node)?;
        }
        self.done(ks);
        Ok(())
    }

    /// `const`/`let`/`var`/`using` declarations. Simple names declared are
    /// appended to `names` when asked (loop variables of a C-style for).
    fn declaration(
        &mut self,
        n: Node<'t>,
        exported: bool,
        mut names: Option<&mut Vec<String>>,
    ) -> R<()> {
        let ks = self.kids(n);
        for k in &ks {
            match k.k {
                K::VariableDeclarator => {
                    if let Some(name) = self.declarator(k.node, exported)? {
                        if let Some(names) = names.as_deref_mut() {
                            names.push(name.to_string());
                        }
                    }
                }
                _ if k.node.is_named() => self.walk(k.node)?,
                _ => {}
            }
        }
        self.done(ks);
        Ok(())
    }

    /// One `name = value` declarator; returns the name when it is a plain
    /// identifier.
    fn declarator(&mut self, n: Node<'t>, exported: bool) -> R<Option<&'s str>> {
        let ks = self.kids(n);
        let f = self.g.f;
        let name = field(&ks, f.name);
        let value = field(&ks, f.value);
        for k in &ks {
            if k.k == K::TypeOnly {
                self.skip(k.node);
            }
        }
        self.done(ks);
        let Some(name) = name else {
            if let Some(v) = value {
                self.expr(v)?;
            }
            return Ok(None);
        };
        match self.kind(name) {
            K::Identifier => {
                let local = self.txt(name);
                self.declare(local);
                let Some(v) = value else {
                    return Ok(Some(local));
                };
                if let Some(path) = self.require_path(v) {
                    // `const x = require('m')`: an import, not a binding.
                    self.b.m.imports.push(Import {
                        local: local.to_string(),
                        path,
                        span: span_of(n),
                    });
                    self.expr(v)?;
                    return Ok(Some(local));
                }
                let value = self.value(v, Some(local), exported)?;
                let scope = self.local_scope();
                self.bind(local.to_string(), value, span_of(n), scope);
                Ok(Some(local))
            }
            K::ObjectPattern | K::ArrayPattern => {
                let mut names = Vec::new();
                let required = match value {
                    Some(v) if self.kind(name) == K::ObjectPattern => self.require_path(v),
                    _ => None,
                };
                if let Some(path) = required {
                    self.require_pattern(name, &path, span_of(n), &mut names)?;
                } else {
                    self.pattern(name, &mut names)?;
                }
                for nm in names {
                    self.declare(nm);
                }
                if let Some(v) = value {
                    self.expr(v)?;
                }
                Ok(None)
            }
            _ => {
                self.walk(name)?;
                if let Some(v) = value {
                    self.expr(v)?;
                }
                Ok(None)
            }
        }
    }

    /// The module path a `require('m')`, `require('m').a.b` or
    /// `__importDefault(require('m'))` stands for.
    fn require_path(&self, v: Node<'t>) -> Option<String> {
        let f = self.g.f;
        let mut props: Vec<&'s str> = Vec::new();
        let mut cur = v;
        loop {
            match self.kind(cur) {
                K::Member => {
                    props.push(self.txt(cur.child_by_field_id(f.property)?));
                    cur = cur.child_by_field_id(f.object)?;
                }
                K::Parenthesized | K::Wrapper | K::Await => cur = cur.named_child(0)?,
                K::Call => {
                    let callee = cur.child_by_field_id(f.function)?;
                    let args = cur.child_by_field_id(f.arguments)?;
                    if let Some(module) = self.required_module(callee, args) {
                        let mut path = module.to_string();
                        for p in props.iter().rev() {
                            if *p != "default" {
                                path.push('.');
                                path.push_str(p);
                            }
                        }
                        return Some(path);
                    }
                    // Compiled ES modules wrap the require.
                    let wrapper = matches!(
                        self.txt(callee),
                        "__importDefault"
                            | "__importStar"
                            | "__toESM"
                            | "_interopRequireDefault"
                            | "_interopRequireWildcard"
                    );
                    let arg = args.named_child(0).filter(|a| self.kind(*a) == K::Call)?;
                    if !wrapper || args.named_child_count() != 1 {
                        return None;
                    }
                    cur = arg;
                }
                _ => return None,
            }
        }
    }

    /// `const { a, b: c } = require('m')`: imports a → m.a, c → m.b.
    fn require_pattern(
        &mut self,
        pat: Node<'t>,
        path: &str,
        span: Span,
        names: &mut Vec<&'s str>,
    ) -> R<()> {
        let ks = self.kids(pat);
        let f = self.g.f;
        for k in &ks {
            let (key, local) = match k.k {
                K::ShorthandPattern => (Some(k.node), Some(k.node)),
                K::PairPattern => (
                    k.node.child_by_field_id(f.key),
                    k.node
                        .child_by_field_id(f.value)
                        .filter(|v| self.kind(*v) == K::Identifier),
                ),
                K::ObjectAssignmentPattern => {
                    let left = k.node.child_by_field_id(f.left);
                    if let Some(right) = k.node.child_by_field_id(f.right) {
                        self.expr(right)?;
                    }
                    (left, left.filter(|l| self.kind(*l) == K::ShorthandPattern))
                }
                _ => {
                    self.pattern(k.node, names)?;
                    (None, None)
                }
            };
            let (Some(key), Some(local)) = (key, local) else {
                continue;
            };
            let key = match self.kind(key) {
                K::Str => unquote_js(self.txt(key)),
                _ => self.txt(key),
            };
            let local = self.txt(local);
            names.push(local);
            let path = if key == "default" {
                path.to_string()
            } else {
                format!("{path}.{key}")
            };
            self.b.m.imports.push(Import {
                local: local.to_string(),
                path,
                span,
            });
        }
        self.done(ks);
        Ok(())
    }

    /// Lowers a value that may be a function or class taking `name`
    /// (`const h = async () => ..`, `{ execute: async () => .. }`).
    fn value(&mut self, v: Node<'t>, name: Option<&str>, exported: bool) -> R<Expr> {
        let mut inner = v;
        while matches!(self.kind(inner), K::Parenthesized | K::Wrapper) {
            match inner.named_child(0) {
                Some(c) if self.kind(c) != K::TypeOnly => inner = c,
                _ => break,
            }
        }
        match self.kind(inner) {
            K::Arrow | K::FunctionExpr => {
                let name = name.map(str::to_string);
                let id = self.function(inner, name, FuncKind::Lambda, exported, Vec::new())?;
                Ok(Expr::Func(id))
            }
            K::Class => {
                self.class(inner, name, exported, Vec::new())?;
                Ok(self.unknown(inner))
            }
            _ => self.expr(v),
        }
    }

    /// Names bound by a destructuring pattern; default values are lowered.
    fn pattern(&mut self, p: Node<'t>, out: &mut Vec<&'s str>) -> R<()> {
        self.b.enter()?;
        let r = self.pattern_inner(p, out);
        self.b.leave();
        r
    }

    fn pattern_inner(&mut self, p: Node<'t>, out: &mut Vec<&'s str>) -> R<()> {
        let f = self.g.f;
        match self.kind(p) {
            K::Identifier | K::ShorthandPattern => {
                out.push(self.txt(p));
                Ok(())
            }
            K::ObjectPattern | K::ArrayPattern | K::RestPattern => {
                let ks = self.kids(p);
                for k in &ks {
                    if k.node.is_named() {
                        self.pattern(k.node, out)?;
                    }
                }
                self.done(ks);
                Ok(())
            }
            K::PairPattern | K::ObjectAssignmentPattern | K::AssignmentPattern => {
                let ks = self.kids(p);
                for k in &ks {
                    if k.field == f.value || k.field == f.left {
                        self.pattern(k.node, out)?;
                    } else if k.field == f.right {
                        self.expr(k.node)?;
                    } else if k.field == f.key && k.k == K::ComputedPropertyName {
                        self.walk_kids(k.node)?;
                    }
                }
                self.done(ks);
                Ok(())
            }
            K::TypeOnly => {
                self.skip(p);
                Ok(())
            }
            _ if p.child_count() == 0 => Ok(()),
            _ => self.expr(p).map(drop),
        }
    }

    fn export(&mut self, n: Node<'t>) -> R<()> {
        let ks = self.kids(n);
        let f = self.g.f;
        // `export type { .. }`, `export * from 'm'`, `export { a } from 'm'`
        // bind nothing here.
        let reexport = field(&ks, f.source).is_some();
        let type_only = ks.iter().any(|k| k.k == K::TypeKw);
        let mut decorators = Vec::new();
        for k in &ks {
            match k.k {
                K::Decorator => {
                    let d = self.decorator(k.node)?;
                    decorators.push(d);
                }
                _ if k.field == f.declaration => {
                    let d = std::mem::take(&mut decorators);
                    self.exported_declaration(k.node, d)?;
                }
                // `export { a, b as c } from "./impl.js"`: names this module
                // hands on, resolved like imports of it.
                K::ExportClause if reexport && !type_only => {
                    let source = field(&ks, f.source).map(|s| unquote_js(self.txt(s)).to_string());
                    let specs = self.kids(k.node);
                    for s in &specs {
                        if s.k != K::ExportSpecifier {
                            continue;
                        }
                        let (Some(source), Some(name)) =
                            (&source, s.node.child_by_field_id(f.name))
                        else {
                            continue;
                        };
                        let name = self.txt(name).to_string();
                        let local = s
                            .node
                            .child_by_field_id(f.alias)
                            .map(|a| self.txt(a).to_string())
                            .unwrap_or_else(|| name.clone());
                        self.b.m.imports.push(Import {
                            local,
                            path: format!("{source}.{name}"),
                            span: span_of(s.node),
                        });
                    }
                    self.done(specs);
                }
                K::ExportClause if !reexport && !type_only => {
                    let specs = self.kids(k.node);
                    for s in &specs {
                        if s.k == K::ExportSpecifier {
                            if let Some(name) = s.node.child_by_field_id(f.name) {
                                self.exported_names.push(self.txt(name).to_string());
                            }
                        }
                    }
                    self.done(specs);
                }
                K::Identifier => self.exported_names.push(self.txt(k.node).to_string()),
                _ if k.field == f.value || (k.node.is_named() && k.k.is_expr()) => {
                    self.value(k.node, None, true)?;
                }
                K::TypeOnly => self.skip(k.node),
                _ => {}
            }
        }
        self.done(ks);
        Ok(())
    }

    fn exported_declaration(&mut self, d: Node<'t>, decorators: Vec<Decorator>) -> R<()> {
        match self.kind(d) {
            K::FunctionDeclaration => self
                .function(d, None, FuncKind::Def, true, decorators)
                .map(drop),
            K::ClassDeclaration => self.class(d, None, true, decorators).map(drop),
            K::LexicalDeclaration => self.declaration(d, true, None),
            _ => self.walk(d),
        }
    }

    fn import(&mut self, n: Node<'t>) -> R<()> {
        let ks = self.kids(n);
        let f = self.g.f;
        let span = span_of(n);
        if ks.iter().any(|k| k.k == K::TypeKw) {
            // `import type { .. }`: no runtime binding.
            self.done(ks);
            return Ok(());
        }
        let source = field(&ks, f.source).map(|s| unquote_js(self.txt(s)));
        for k in &ks {
            match k.k {
                K::ImportClause => {
                    if let Some(source) = source {
                        self.import_clause(k.node, source, span);
                    }
                }
                K::ImportRequireClause => {
                    // `import fs = require("fs")`
                    let local = k
                        .node
                        .named_child(0)
                        .filter(|c| self.kind(*c) == K::Identifier);
                    let src = k.node.child_by_field_id(f.source);
                    if let (Some(local), Some(src)) = (local, src) {
                        self.b.m.imports.push(Import {
                            local: self.txt(local).to_string(),
                            path: unquote_js(self.txt(src)).to_string(),
                            span,
                        });
                    }
                }
                _ => {}
            }
        }
        self.done(ks);
        Ok(())
    }

    fn import_clause(&mut self, clause: Node<'t>, source: &str, span: Span) {
        let f = self.g.f;
        let ks = self.kids(clause);
        for k in &ks {
            match k.k {
                K::Identifier => self.push_import(k.node, source.to_string(), span),
                K::NamespaceImport => {
                    if let Some(id) = k.node.named_child(0) {
                        self.push_import(id, source.to_string(), span);
                    }
                }
                K::NamedImports => {
                    let specs = self.kids(k.node);
                    for s in &specs {
                        if s.k != K::ImportSpecifier {
                            continue;
                        }
                        let parts = self.kids(s.node);
                        let type_only = parts.iter().any(|p| p.k == K::TypeKw);
                        let name = field(&parts, f.name);
                        let alias = field(&parts, f.alias);
                        self.done(parts);
                        let Some(name) = name else { continue };
                        if type_only {
                            continue;
                        }
                        let member = match self.kind(name) {
                            K::Str => unquote_js(self.txt(name)),
                            _ => self.txt(name),
                        };
                        let path = if member == "default" {
                            source.to_string()
                        } else {
                            format!("{source}.{member}")
                        };
                        self.push_import(alias.unwrap_or(name), path, span);
                    }
                    self.done(specs);
                }
                _ => {}
            }
        }
        self.done(ks);
    }

    fn push_import(&mut self, local: Node<'t>, path: String, span: Span) {
        let local = self.txt(local).to_string();
        self.b.m.imports.push(Import { local, path, span });
    }

    fn exit(&mut self, n: Node<'t>) -> R<()> {
        let kind = match self.kind(n) {
            K::Return => ExitKind::Return,
            K::Throw => ExitKind::Raise,
            K::Break => ExitKind::Break,
            _ => ExitKind::Continue,
        };
        let ks = self.kids(n);
        let mut value = None;
        let mut value_span = None;
        if matches!(kind, ExitKind::Return | ExitKind::Raise) {
            for k in &ks {
                if k.node.is_named() {
                    value = Some(self.expr(k.node)?);
                    value_span = Some(span_of(k.node));
                }
            }
        }
        self.done(ks);
        self.b.m.exits.push(Exit {
            span: span_of(n),
            kind,
            value,
            value_span,
            func: self.b.func,
            ctx: self.b.ctx.clone(),
            guard: self.b.guard(),
        });
        Ok(())
    }

    /// `for (x of it)` / `for (k in obj)`.
    fn for_each(&mut self, n: Node<'t>) -> R<()> {
        let ks = self.kids(n);
        let f = self.g.f;
        let declares = field(&ks, f.kind).is_some();
        let mut names = Vec::new();
        if let Some(left) = field(&ks, f.left) {
            self.pattern(left, &mut names)?;
        }
        if declares {
            for nm in &names {
                self.declare(nm);
            }
        }
        let iter = match field(&ks, f.right) {
            Some(r) => Some(self.expr(r)?),
            None => None,
        };
        let vars = names.iter().map(|s| s.to_string()).collect();
        let id = self
            .b
            .push_loop(span_of(n), LoopKind::ForEach, iter, vars, None);
        if let Some(body) = field(&ks, f.body) {
            self.with_ctx(Ctx::Loop(id), |l| l.walk(body))?;
        }
        self.done(ks);
        Ok(())
    }

    /// `for (init; cond; step)`.
    fn for_c(&mut self, n: Node<'t>) -> R<()> {
        let ks = self.kids(n);
        let f = self.g.f;
        let mut vars = Vec::new();
        if let Some(init) = field(&ks, f.initializer) {
            match self.kind(init) {
                K::LexicalDeclaration => self.declaration(init, false, Some(&mut vars))?,
                K::Assignment => {
                    if let Some(left) = init.child_by_field_id(f.left) {
                        if self.kind(left) == K::Identifier {
                            vars.push(self.txt(left).to_string());
                        }
                    }
                    self.expr(init)?;
                }
                _ => self.walk(init)?,
            }
        }
        let cond_node = ks
            .iter()
            .find(|k| k.field == f.condition && k.node.is_named() && k.k != K::EmptyStatement)
            .map(|k| k.node);
        let cond = match cond_node {
            Some(c) => Some(self.expr(c)?),
            None => None,
        };
        let id = self
            .b
            .push_loop(span_of(n), LoopKind::ForC, None, vars, cond);
        let inc = field(&ks, f.increment);
        let body = field(&ks, f.body);
        self.with_ctx(Ctx::Loop(id), |l| {
            if let Some(body) = body {
                l.walk(body)?;
            }
            if let Some(inc) = inc {
                l.expr(inc)?;
            }
            Ok(())
        })?;
        self.done(ks);
        Ok(())
    }

    fn while_loop(&mut self, n: Node<'t>) -> R<()> {
        let ks = self.kids(n);
        let f = self.g.f;
        let cond = match field(&ks, f.condition) {
            Some(c) => Some(self.expr(c)?),
            None => None,
        };
        let id = self
            .b
            .push_loop(span_of(n), LoopKind::While, None, Vec::new(), cond);
        if let Some(body) = field(&ks, f.body) {
            self.with_ctx(Ctx::Loop(id), |l| l.walk(body))?;
        }
        self.done(ks);
        Ok(())
    }

    fn do_while(&mut self, n: Node<'t>) -> R<()> {
        let ks = self.kids(n);
        let f = self.g.f;
        let id = self
            .b
            .push_loop(span_of(n), LoopKind::DoWhile, None, Vec::new(), None);
        if let Some(body) = field(&ks, f.body) {
            self.with_ctx(Ctx::Loop(id), |l| l.walk(body))?;
        }
        if let Some(c) = field(&ks, f.condition) {
            let cond = self.expr(c)?;
            self.b.m.loops[id as usize].cond = Some(cond);
        }
        self.done(ks);
        Ok(())
    }

    fn try_statement(&mut self, n: Node<'t>) -> R<()> {
        let ks = self.kids(n);
        let f = self.g.f;
        let handler = field(&ks, f.handler);
        let finalizer = field(&ks, f.finalizer);
        let id = self.b.m.tries.len() as u32;
        self.b.m.tries.push(Try {
            span: span_of(n),
            kind: TryKind::Try,
            func: self.b.func,
            clauses: Vec::new(),
            has_finally: finalizer.is_some(),
            ctx: self.b.ctx.clone(),
        });
        if let Some(body) = field(&ks, f.body) {
            self.with_ctx(Ctx::Try(id), |l| l.walk(body))?;
        }
        self.done(ks);
        if let Some(h) = handler {
            let hk = self.kids(h);
            let param = hk
                .iter()
                .find(|k| k.field == self.g.f.parameter)
                .map(|k| k.node);
            let body = field(&hk, f.body);
            for k in &hk {
                if k.k == K::TypeOnly {
                    self.skip(k.node);
                }
            }
            self.done(hk);
            let mut binding = None;
            if let Some(p) = param {
                if self.kind(p) == K::Identifier {
                    let name = self.txt(p);
                    self.declare(name);
                    binding = Some(name.to_string());
                } else {
                    // `catch ({ message })`: the names are declared, but no
                    // single name holds the error.
                    let mut names = Vec::new();
                    self.pattern(p, &mut names)?;
                    for nm in names {
                        self.declare(nm);
                    }
                }
            }
            self.b.m.tries[id as usize].clauses.push(CatchClause {
                span: span_of(h),
                types: Vec::new(),
                binding,
                value: None,
                value_span: None,
            });
            if let Some(body) = body {
                let ctx = Ctx::Catch {
                    try_id: id,
                    clause: 0,
                };
                self.with_ctx(ctx, |l| l.walk(body))?;
            }
        }
        if let Some(fin) = finalizer {
            let fk = self.kids(fin);
            let body = field(&fk, f.body);
            self.done(fk);
            if let Some(body) = body {
                self.with_ctx(Ctx::Finally(id), |l| l.walk(body))?;
            }
        }
        Ok(())
    }

    // -- functions and classes ---------------------------------------------

    /// Lowers a function, method, arrow or function expression. `name`
    /// overrides the node's own name (a lambda takes the name it is
    /// assigned to). `exported` is dropped for `private` / `#` members.
    fn function(
        &mut self,
        n: Node<'t>,
        name: Option<String>,
        kind: FuncKind,
        exported: bool,
        decorators: Vec<Decorator>,
    ) -> R<FuncId> {
        self.b.enter()?;
        let r = self.function_inner(n, name, kind, exported, decorators);
        self.b.leave();
        r
    }

    fn function_inner(
        &mut self,
        n: Node<'t>,
        name: Option<String>,
        kind: FuncKind,
        mut exported: bool,
        mut decorators: Vec<Decorator>,
    ) -> R<FuncId> {
        let ks = self.kids(n);
        let f = self.g.f;
        let mut is_async = false;
        let mut last_decorator = None;
        let mut own_name = None;
        let mut returns = None;
        for k in &ks {
            match k.k {
                K::Async => is_async = true,
                K::Decorator => {
                    // JS keeps a method's decorators inside the method node;
                    // they run in the enclosing scope.
                    let d = self.decorator(k.node)?;
                    decorators.push(d);
                    last_decorator = Some(k.node);
                }
                K::AccessibilityModifier if self.txt(k.node) != "public" => exported = false,
                _ if k.field == f.name => own_name = Some(k.node),
                _ if k.field == f.return_type => returns = Some(k.node),
                _ => {}
            }
        }
        let name = match name {
            Some(n) => n,
            None => own_name.map_or_else(String::new, |n| self.member_name(n).to_string()),
        };
        if name.starts_with('#') {
            exported = false;
        }
        if kind == FuncKind::Def && !name.is_empty() {
            if let Some(own) = own_name {
                self.declare(self.txt(own));
            }
        }
        let span = match last_decorator.and_then(|d| d.next_sibling()) {
            Some(start) => span_between(start, n),
            None => span_of(n),
        };
        let (id, saved) = self.b.begin_function(name, kind, span);
        {
            let func = self.b.func_mut(id);
            func.is_async = is_async;
            func.decorators = decorators;
            func.exported = exported;
        }
        if let Some(r) = returns {
            // `: boolean` / `: Promise<boolean>`, without the colon.
            let t = self.txt(r).trim_start_matches(':').trim().to_owned();
            self.b.func_mut(id).returns = Some(t);
        }
        let mut result = Ok(());
        for k in &ks {
            result = if k.field == f.parameters {
                self.params(id, k.node)
            } else if k.field == f.parameter {
                // `x => ..`
                let name = self.txt(k.node);
                self.declare(name);
                self.b.func_mut(id).params.push(Param {
                    name: name.to_string(),
                    annotation: None,
                    destructured: Vec::new(),
                });
                Ok(())
            } else if k.field == f.body {
                if k.k == K::StatementBlock {
                    self.walk_kids(k.node)
                } else {
                    match self.expr(k.node) {
                        Ok(e) => {
                            self.b.func_mut(id).expr_body = Some(e);
                            self.b.func_mut(id).expr_body_span = Some(span_of(k.node));
                            Ok(())
                        }
                        Err(e) => Err(e),
                    }
                }
            } else {
                if k.k == K::TypeOnly {
                    self.skip(k.node);
                }
                Ok(())
            };
            if result.is_err() {
                break;
            }
        }
        self.b.end_function(saved);
        self.done(ks);
        result.map(|()| id)
    }

    /// A property / method name as written: identifiers and numbers as is,
    /// strings unquoted, computed names as their source text.
    fn member_name(&self, n: Node<'t>) -> &'s str {
        match self.kind(n) {
            K::Str => unquote_js(self.txt(n)),
            _ => self.txt(n),
        }
    }

    fn params(&mut self, func: FuncId, list: Node<'t>) -> R<()> {
        let ks = self.kids(list);
        let f = self.g.f;
        for k in &ks {
            if !k.node.is_named() {
                continue;
            }
            let param = match k.k {
                K::RequiredParameter => {
                    // TS: `a: T`, `b?: T = d`, `private client: Http`, `...rest: T[]`.
                    let parts = self.kids(k.node);
                    let mut param = None;
                    let mut annotation = None;
                    for p in &parts {
                        if p.field == f.pattern || p.field == f.name {
                            param = self.param_of(p.node)?;
                        } else if p.field == f.value {
                            self.expr(p.node)?;
                        } else if p.k == K::Decorator {
                            self.decorator(p.node)?;
                        } else if p.k == K::TypeOnly {
                            let t = self.txt(p.node);
                            annotation = Some(t.trim_start_matches(':').trim().to_string());
                            self.skip(p.node);
                        }
                    }
                    self.done(parts);
                    param.map(|mut p| {
                        p.annotation = annotation;
                        p
                    })
                }
                K::AssignmentPattern => {
                    // JS `a = 1`, `{ x } = {}`
                    let left = k.node.child_by_field_id(f.left);
                    let right = k.node.child_by_field_id(f.right);
                    let p = match left {
                        Some(l) => self.param_of(l)?,
                        None => None,
                    };
                    if let Some(r) = right {
                        self.expr(r)?;
                    }
                    p
                }
                _ => self.param_of(k.node)?,
            };
            if let Some(p) = param {
                self.b.func_mut(func).params.push(p);
            }
        }
        self.done(ks);
        Ok(())
    }

    /// The parameter a pattern declares (`this` declares none).
    fn param_of(&mut self, p: Node<'t>) -> R<Option<Param>> {
        self.b.enter()?;
        let r = self.param_of_inner(p);
        self.b.leave();
        r
    }

    fn param_of_inner(&mut self, p: Node<'t>) -> R<Option<Param>> {
        match self.kind(p) {
            K::Identifier => {
                let name = self.txt(p);
                self.declare(name);
                Ok(Some(Param {
                    name: name.to_string(),
                    annotation: None,
                    destructured: Vec::new(),
                }))
            }
            K::RestPattern => match p.named_child(0) {
                Some(inner) => self.param_of(inner),
                None => Ok(None),
            },
            K::ObjectPattern | K::ArrayPattern => {
                let mut names = Vec::new();
                self.pattern(p, &mut names)?;
                for nm in &names {
                    self.declare(nm);
                }
                Ok(Some(Param {
                    name: self.txt(p).to_string(),
                    annotation: None,
                    destructured: names.iter().map(|s| s.to_string()).collect(),
                }))
            }
            K::AssignmentPattern => {
                let left = p.child_by_field_id(self.g.f.left);
                if let Some(r) = p.child_by_field_id(self.g.f.right) {
                    self.expr(r)?;
                }
                match left {
                    Some(l) => self.param_of(l),
                    None => Ok(None),
                }
            }
            K::This => Ok(None),
            _ => {
                self.walk(p)?;
                Ok(None)
            }
        }
    }

    fn decorator(&mut self, n: Node<'t>) -> R<Decorator> {
        let ks = self.kids(n);
        let mut expr = None;
        for k in &ks {
            if k.node.is_named() && expr.is_none() {
                expr = Some(self.expr(k.node)?);
            }
        }
        self.done(ks);
        Ok(Decorator {
            span: span_of(n),
            expr: expr.unwrap_or_else(|| self.unknown(n)),
        })
    }

    fn class(
        &mut self,
        n: Node<'t>,
        name_hint: Option<&str>,
        exported: bool,
        decorators: Vec<Decorator>,
    ) -> R<ClassId> {
        self.b.enter()?;
        let r = self.class_inner(n, name_hint, exported, decorators);
        self.b.leave();
        r
    }

    fn class_inner(
        &mut self,
        n: Node<'t>,
        name_hint: Option<&str>,
        exported: bool,
        mut decorators: Vec<Decorator>,
    ) -> R<ClassId> {
        let ks = self.kids(n);
        let f = self.g.f;
        let mut name = None;
        let mut bases = Vec::new();
        let mut body = None;
        let mut last_decorator = None;
        for k in &ks {
            match k.k {
                K::Decorator => {
                    let d = self.decorator(k.node)?;
                    decorators.push(d);
                    last_decorator = Some(k.node);
                }
                K::ClassHeritage => self.heritage(k.node, &mut bases)?,
                K::TypeOnly if k.field != f.name => self.skip(k.node),
                _ if k.field == f.name => name = Some(self.txt(k.node)),
                _ if k.field == f.body => body = Some(k.node),
                _ => {}
            }
        }
        self.done(ks);
        if self.kind(n) == K::ClassDeclaration {
            if let Some(nm) = name {
                self.declare(nm);
            }
        }
        let name = name.or(name_hint).unwrap_or("").to_string();
        let span = match last_decorator.and_then(|d| d.next_sibling()) {
            Some(start) => span_between(start, n),
            None => span_of(n),
        };
        let (id, outer) = self.b.begin_class(Class {
            name,
            span,
            decorators,
            trait_name: None,
            bases,
        });
        let r = match body {
            Some(body) => self.class_body(body, exported),
            None => Ok(()),
        };
        self.b.end_class(outer);
        r.map(|()| id)
    }

    /// `extends Base` (JS: the expression; TS: an `extends_clause`).
    /// `implements` lists are types and are skipped.
    fn heritage(&mut self, n: Node<'t>, bases: &mut Vec<String>) -> R<()> {
        let ks = self.kids(n);
        let f = self.g.f;
        for k in &ks {
            match k.k {
                K::ExtendsClause => {
                    let parts = self.kids(k.node);
                    for p in &parts {
                        if p.field == f.value {
                            bases.push(self.txt(p.node).to_string());
                            self.expr(p.node)?;
                        } else if p.k == K::TypeOnly {
                            self.skip(p.node);
                        }
                    }
                    self.done(parts);
                }
                K::TypeOnly => self.skip(k.node),
                _ if k.node.is_named() => {
                    bases.push(self.txt(k.node).to_string());
                    self.expr(k.node)?;
                }
                _ => {}
            }
        }
        self.done(ks);
        Ok(())
    }

    fn class_body(&mut self, n: Node<'t>, exported: bool) -> R<()> {
        let ks = self.kids(n);
        let f = self.g.f;
        // TS puts a member's decorators before it, as siblings.
        let mut pending: Vec<Decorator> = Vec::new();
        for k in &ks {
            match k.k {
                K::Decorator => {
                    let d = self.decorator(k.node)?;
                    pending.push(d);
                }
                K::MethodDefinition => {
                    let d = std::mem::take(&mut pending);
                    self.function(k.node, None, FuncKind::Method, exported, d)?;
                }
                K::FieldDefinition => {
                    pending.clear();
                    self.class_field(k.node)?;
                }
                K::ClassStaticBlock => {
                    if let Some(body) = k.node.child_by_field_id(f.body) {
                        self.walk(body)?;
                    }
                }
                K::TypeOnly => {
                    pending.clear();
                    self.skip(k.node);
                }
                _ if k.node.is_named() => self.walk(k.node)?,
                _ => {}
            }
        }
        self.done(ks);
        Ok(())
    }

    /// `private http = axios.create(..)` → Binding{http, Class(name)}. An
    /// arrow or function value is a method (it sees `this`).
    fn class_field(&mut self, n: Node<'t>) -> R<()> {
        let ks = self.kids(n);
        let f = self.g.f;
        let mut name = None;
        let mut value = None;
        for k in &ks {
            match k.k {
                K::Decorator => {
                    self.decorator(k.node)?;
                }
                K::TypeOnly => self.skip(k.node),
                K::ComputedPropertyName => self.walk_kids(k.node)?,
                _ if k.field == f.name || k.field == f.property => {
                    name = Some(self.member_name(k.node));
                }
                _ if k.field == f.value => value = Some(k.node),
                _ => {}
            }
        }
        self.done(ks);
        let Some(v) = value else { return Ok(()) };
        let expr = match self.kind(v) {
            K::Arrow | K::FunctionExpr => {
                let id = self.function(
                    v,
                    name.map(str::to_string),
                    FuncKind::Method,
                    false,
                    Vec::new(),
                )?;
                Expr::Func(id)
            }
            _ => self.expr(v)?,
        };
        let class = self
            .b
            .class
            .map(|c| self.b.m.classes[c as usize].name.clone());
        if let (Some(name), Some(class)) = (name, class) {
            self.bind(name.to_string(), expr, span_of(n), BindScope::Class(class));
        }
        Ok(())
    }

    // -- expressions -------------------------------------------------------

    fn expr(&mut self, n: Node<'t>) -> R<Expr> {
        self.b.enter()?;
        let r = self.expr_inner(n);
        self.b.leave();
        r
    }

    /// Picks the lowering of an expression node. A table of plain function
    /// pointers keeps this frame (on every level of recursion) small.
    fn expr_inner(&mut self, n: Node<'t>) -> R<Expr> {
        let lower: fn(&mut Self, Node<'t>) -> R<Expr> = match self.kind(n) {
            K::Identifier => Self::name,
            K::This | K::Super | K::Number | K::True | K::False | K::Null | K::Str => Self::literal,
            K::TemplateString => Self::template,
            K::Member => Self::member,
            K::Subscript => Self::subscript,
            K::Call => Self::call,
            K::New => Self::new_call,
            K::Await => Self::await_expr,
            K::Arrow | K::FunctionExpr => Self::lambda,
            K::Class => Self::class_expr,
            K::Object => Self::object,
            K::Array => Self::array,
            K::Spread => Self::spread,
            K::Binary => Self::binary,
            K::Unary => Self::unary,
            K::Ternary => Self::ternary,
            K::Parenthesized | K::Wrapper => Self::inner,
            K::Assignment => Self::assignment,
            K::AugmentedAssignment => Self::augmented_assignment,
            K::Sequence => Self::sequence,
            K::TypeOnly => Self::type_expr,
            _ => Self::opaque,
        };
        lower(self, n)
    }

    fn name(&mut self, n: Node<'t>) -> R<Expr> {
        Ok(Expr::Name(self.txt(n).to_string()))
    }

    fn literal(&mut self, n: Node<'t>) -> R<Expr> {
        Ok(match self.kind(n) {
            K::This => Expr::Name("this".to_string()),
            K::Super => Expr::Name("super".to_string()),
            K::Number => Expr::Num(self.txt(n).to_string()),
            K::True => Expr::Bool(true),
            K::False => Expr::Bool(false),
            K::Str => Expr::Str(unquote_js(self.txt(n)).to_string()),
            _ => Expr::Null,
        })
    }

    fn lambda(&mut self, n: Node<'t>) -> R<Expr> {
        let id = self.function(n, None, FuncKind::Lambda, false, Vec::new())?;
        Ok(Expr::Func(id))
    }

    fn class_expr(&mut self, n: Node<'t>) -> R<Expr> {
        self.class(n, None, false, Vec::new())?;
        Ok(self.unknown(n))
    }

    fn type_expr(&mut self, n: Node<'t>) -> R<Expr> {
        self.skip(n);
        Ok(self.unknown(n))
    }

    /// Anything else: its calls are still lowered.
    fn opaque(&mut self, n: Node<'t>) -> R<Expr> {
        if n.child_count() > 0 {
            self.walk_kids(n)?;
        }
        Ok(self.unknown(n))
    }

    /// Parentheses, `as`, `satisfies`, `!`, `<T>x`: the inner expression.
    fn inner(&mut self, n: Node<'t>) -> R<Expr> {
        let ks = self.kids(n);
        let mut out = None;
        for k in &ks {
            if k.k == K::TypeOnly {
                self.skip(k.node);
            } else if k.node.is_named() {
                if out.is_none() {
                    out = Some(self.expr(k.node)?);
                } else {
                    self.walk(k.node)?;
                }
            }
        }
        self.done(ks);
        Ok(out.unwrap_or_else(|| self.unknown(n)))
    }

    fn sequence(&mut self, n: Node<'t>) -> R<Expr> {
        let ks = self.kids(n);
        let mut last = None;
        for k in &ks {
            if k.node.is_named() {
                last = Some(self.expr(k.node)?);
            }
        }
        self.done(ks);
        Ok(last.unwrap_or_else(|| self.unknown(n)))
    }

    fn member(&mut self, n: Node<'t>) -> R<Expr> {
        let ks = self.kids(n);
        let f = self.g.f;
        let obj = field(&ks, f.object);
        let prop = field(&ks, f.property);
        self.done(ks);
        let obj = match obj {
            Some(o) => self.expr(o)?,
            None => return Ok(self.unknown(n)),
        };
        let prop = prop.map_or("", |p| self.txt(p));
        Ok(Expr::Attr(Box::new(obj), prop.to_string()))
    }

    fn subscript(&mut self, n: Node<'t>) -> R<Expr> {
        let ks = self.kids(n);
        let f = self.g.f;
        let obj = field(&ks, f.object);
        let index = field(&ks, f.index);
        self.done(ks);
        let obj = match obj {
            Some(o) => self.expr(o)?,
            None => return Ok(self.unknown(n)),
        };
        let index = match index {
            Some(i) => self.expr(i)?,
            None => Expr::unknown(""),
        };
        Ok(Expr::Index(Box::new(obj), Box::new(index)))
    }

    fn call(&mut self, n: Node<'t>) -> R<Expr> {
        let ks = self.kids(n);
        let f = self.g.f;
        let callee = field(&ks, f.function);
        let args = field(&ks, f.arguments);
        for k in &ks {
            if k.k == K::TypeOnly {
                self.skip(k.node);
            }
        }
        self.done(ks);
        let dynamic_import = callee.is_some_and(|c| self.kind(c) == K::Import);
        let tagged = args.is_some_and(|a| self.kind(a) == K::TemplateString);
        if dynamic_import || tagged {
            // `import('m')` and tag`..` are not calls the rules know.
            if let (Some(c), true) = (callee, tagged) {
                self.walk(c)?;
            }
            if let Some(a) = args {
                self.walk(a)?;
            }
            return Ok(self.unknown(n));
        }
        if let (Some(c), Some(a)) = (callee, args) {
            if let Some(module) = self.required_module(c, a) {
                // `require('m')` loads a module, like `import`: its value is
                // the module's path, so `require('m').get(u)` resolves to
                // `m.get`.
                return Ok(Expr::Name(module.to_string()));
            }
        }
        let id = self.b.reserve_call(span_of(n));
        self.edit_facts(id, callee, args);
        // tree-sitter-typescript parses `await a.get<T>(x)` as a call of
        // `await a.get`: the call is what is awaited.
        let callee_expr = match callee {
            Some(c) if self.kind(c) == K::Await => {
                self.b.call_mut(id).awaited = true;
                self.inner(c)?
            }
            Some(c) => self.expr(c)?,
            None => self.unknown(n),
        };
        self.b.set_callee(id, callee_expr);
        if let Some(a) = args {
            self.args(id, a)?;
        }
        Ok(Expr::Call(id))
    }

    /// Where call `id`'s name and argument list are written (for `--fix`).
    /// Out of line: `call` is on the recursion path of nested calls, and
    /// its frame should stay small.
    #[inline(never)]
    fn edit_facts(&mut self, id: u32, callee: Option<Node<'t>>, args: Option<Node<'t>>) {
        let name_span = callee.and_then(|c| self.last_name(c)).map(span_of);
        let list = args
            .filter(|a| a.kind() == "arguments")
            .map(|a| crate::lang::list_span(a, self.b.src, span_of, |_| true));
        let c = self.b.call_mut(id);
        c.name_span = name_span;
        c.arg_list = list;
    }

    /// The name a callee ends in: `get` of `axios.get`, `fetch` of `fetch`
    /// (through the `await` of `await a.get<T>(x)`).
    fn last_name(&self, callee: Node<'t>) -> Option<Node<'t>> {
        match self.kind(callee) {
            K::Identifier => Some(callee),
            K::Member => callee.child_by_field_id(self.g.f.property),
            K::Await => callee.named_child(0).and_then(|c| self.last_name(c)),
            _ => None,
        }
    }

    /// `m` for `require('m')`.
    fn required_module(&self, callee: Node<'t>, args: Node<'t>) -> Option<&'s str> {
        if self.kind(callee) != K::Identifier
            || self.txt(callee) != "require"
            || args.named_child_count() != 1
        {
            return None;
        }
        let arg = args.named_child(0)?;
        (self.kind(arg) == K::Str).then(|| unquote_js(self.txt(arg)))
    }

    fn new_call(&mut self, n: Node<'t>) -> R<Expr> {
        let ks = self.kids(n);
        let f = self.g.f;
        let ctor = field(&ks, f.constructor);
        let args = field(&ks, f.arguments);
        for k in &ks {
            if k.k == K::TypeOnly {
                self.skip(k.node);
            }
        }
        self.done(ks);
        let id = self.b.reserve_call(span_of(n));
        self.b.call_mut(id).is_new = true;
        let callee = match ctor {
            Some(c) => self.expr(c)?,
            None => self.unknown(n),
        };
        self.b.set_callee(id, callee);
        if let Some(a) = args {
            self.args(id, a)?;
        }
        Ok(Expr::Call(id))
    }

    fn args(&mut self, id: u32, list: Node<'t>) -> R<()> {
        let ks = self.kids(list);
        let mut index = 0u32;
        for k in &ks {
            if !k.node.is_named() {
                continue;
            }
            let node = k.node;
            let value = self.with_ctx(Ctx::Arg { call: id, index }, |l| l.expr(node))?;
            self.b.push_arg(id, None, value);
            self.b.arg_span(id, span_of(node));
            index += 1;
        }
        self.done(ks);
        Ok(())
    }

    fn await_expr(&mut self, n: Node<'t>) -> R<Expr> {
        let ks = self.kids(n);
        let mut out = None;
        for k in &ks {
            if k.node.is_named() && out.is_none() {
                out = Some(self.expr(k.node)?);
            }
        }
        self.done(ks);
        match out {
            Some(Expr::Call(id)) => {
                self.b.call_mut(id).awaited = true;
                Ok(Expr::Call(id))
            }
            Some(e) => Ok(e),
            None => Ok(self.unknown(n)),
        }
    }

    fn spread(&mut self, n: Node<'t>) -> R<Expr> {
        let ks = self.kids(n);
        let mut out = None;
        for k in &ks {
            if k.node.is_named() && out.is_none() {
                out = Some(self.expr(k.node)?);
            }
        }
        self.done(ks);
        Ok(Expr::Spread(Box::new(
            out.unwrap_or_else(|| Expr::unknown("")),
        )))
    }

    fn template(&mut self, n: Node<'t>) -> R<Expr> {
        let src = self.b.src;
        let start = n.start_byte() + 1;
        let end = n.end_byte().saturating_sub(1).max(start);
        if n.named_child_count() == 0 {
            return Ok(Expr::Str(src.get(start..end).unwrap_or("").to_string()));
        }
        let ks = self.kids(n);
        let mut parts = Vec::new();
        let mut pos = start;
        for k in &ks {
            if k.k != K::TemplateSubstitution {
                continue;
            }
            let s = k.node.start_byte();
            if s > pos {
                parts.push(TemplatePart::Lit(src.get(pos..s).unwrap_or("").to_string()));
            }
            let sub = self.kids(k.node);
            let mut e = None;
            for p in &sub {
                if p.node.is_named() && e.is_none() {
                    e = Some(self.expr(p.node)?);
                }
            }
            self.done(sub);
            parts.push(TemplatePart::Expr(e.unwrap_or_else(|| Expr::unknown(""))));
            pos = k.node.end_byte();
        }
        self.done(ks);
        if parts.is_empty() {
            return Ok(Expr::Str(src.get(start..end).unwrap_or("").to_string()));
        }
        if end > pos {
            parts.push(TemplatePart::Lit(
                src.get(pos..end).unwrap_or("").to_string(),
            ));
        }
        Ok(Expr::Template(parts))
    }

    /// Where an object literal's members are written (for `--fix`). Out of
    /// line, as [`Self::edit_facts`].
    #[inline(never)]
    fn members(&self, n: Node<'t>) -> crate::facts::ListSpan {
        crate::lang::list_span(n, self.b.src, span_of, |_| true)
    }

    fn object(&mut self, n: Node<'t>) -> R<Expr> {
        let ks = self.kids(n);
        let f = self.g.f;
        let mut o = Object {
            list: Some(Box::new(self.members(n))),
            ..Object::default()
        };
        for k in &ks {
            match k.k {
                K::Pair => {
                    let parts = self.kids(k.node);
                    let key = field(&parts, f.key);
                    let value = field(&parts, f.value);
                    self.done(parts);
                    let key = match key {
                        Some(key) if self.kind(key) == K::ComputedPropertyName => {
                            self.walk_kids(key)?;
                            None
                        }
                        Some(key) => Some(self.member_name(key)),
                        None => None,
                    };
                    let value = match value {
                        Some(v) => self.value(v, key, false)?,
                        None => Expr::unknown(""),
                    };
                    match key {
                        Some(key) => {
                            o.entries.push((key.to_string(), value));
                            o.push_span(span_of(k.node));
                        }
                        None => o.spread = true,
                    }
                }
                K::ShorthandProperty => {
                    let name = self.txt(k.node);
                    o.entries
                        .push((name.to_string(), Expr::Name(name.to_string())));
                }
                K::Spread => {
                    o.spread = true;
                    self.walk_kids(k.node)?;
                }
                K::MethodDefinition => {
                    let key = k.node.child_by_field_id(f.name);
                    let id = self.function(k.node, None, FuncKind::Lambda, false, Vec::new())?;
                    match key {
                        Some(key) if self.kind(key) != K::ComputedPropertyName => {
                            let name = self.b.m.functions[id as usize].name.clone();
                            o.entries.push((name, Expr::Func(id)));
                        }
                        _ => o.spread = true,
                    }
                }
                _ if k.node.is_named() => self.walk(k.node)?,
                _ => {}
            }
        }
        self.done(ks);
        Ok(Expr::Object(o))
    }

    fn array(&mut self, n: Node<'t>) -> R<Expr> {
        let ks = self.kids(n);
        let mut items = Vec::new();
        for k in &ks {
            if k.node.is_named() {
                items.push(self.expr(k.node)?);
            }
        }
        self.done(ks);
        Ok(Expr::Array(items))
    }

    fn binary(&mut self, n: Node<'t>) -> R<Expr> {
        let ks = self.kids(n);
        let f = self.g.f;
        let left = field(&ks, f.left);
        let op = field(&ks, f.operator);
        let right = field(&ks, f.right);
        self.done(ks);
        let (Some(left), Some(right)) = (left, right) else {
            return self.opaque(n);
        };
        let lhs = self.expr(left)?;
        let rhs = self.expr(right)?;
        Ok(Expr::Binary {
            op: op.map_or("", |o| self.txt(o)).to_string(),
            lhs: Box::new(lhs),
            rhs: Box::new(rhs),
        })
    }

    fn unary(&mut self, n: Node<'t>) -> R<Expr> {
        let ks = self.kids(n);
        let f = self.g.f;
        let op = field(&ks, f.operator);
        let arg = field(&ks, f.argument);
        self.done(ks);
        let Some(arg) = arg else {
            return self.opaque(n);
        };
        let operand = self.expr(arg)?;
        Ok(Expr::Unary {
            op: op.map_or("", |o| self.txt(o)).to_string(),
            operand: Box::new(operand),
        })
    }

    fn ternary(&mut self, n: Node<'t>) -> R<Expr> {
        let ks = self.kids(n);
        let f = self.g.f;
        let c = field(&ks, f.condition);
        let t = field(&ks, f.consequence);
        let o = field(&ks, f.alternative);
        self.done(ks);
        let (Some(c), Some(t), Some(o)) = (c, t, o) else {
            return self.opaque(n);
        };
        let cond = self.expr(c)?;
        let then = self.expr(t)?;
        let otherwise = self.expr(o)?;
        Ok(Expr::Conditional {
            cond: Box::new(cond),
            then: Box::new(then),
            otherwise: Box::new(otherwise),
        })
    }

    /// `x = v`, `this.x = v`, `a.b.c = v`. The expression's value is `v`
    /// when that is cheap to copy.
    fn assignment(&mut self, n: Node<'t>) -> R<Expr> {
        let ks = self.kids(n);
        let f = self.g.f;
        let left = field(&ks, f.left);
        let right = field(&ks, f.right);
        self.done(ks);
        let (Some(left), Some(right)) = (left, right) else {
            return self.opaque(n);
        };
        self.assign(n, left, right)
    }

    /// `x ??= v` / `x ||= v` bind like `x = v`; other compound assignments
    /// only have their calls lowered.
    fn augmented_assignment(&mut self, n: Node<'t>) -> R<Expr> {
        let ks = self.kids(n);
        let f = self.g.f;
        let left = field(&ks, f.left);
        let op = field(&ks, f.operator);
        let right = field(&ks, f.right);
        self.done(ks);
        let (Some(left), Some(right)) = (left, right) else {
            return self.opaque(n);
        };
        if matches!(op.map(|o| self.txt(o)), Some("??=" | "||=")) {
            return self.assign(n, left, right);
        }
        let target = self.expr(left)?.dotted();
        let value = self.expr(right)?;
        if let (Some(name), Some(op)) = (target, op) {
            let op = self.txt(op).trim_end_matches('=').to_string();
            self.b.m.updates.push(Update {
                name,
                op,
                value,
                span: span_of(n),
                func: self.b.func,
            });
        }
        Ok(self.unknown(n))
    }

    fn assign(&mut self, n: Node<'t>, left: Node<'t>, right: Node<'t>) -> R<Expr> {
        let span = span_of(n);
        match self.kind(left) {
            K::Identifier => {
                let name = self.txt(left);
                let value = self.value(right, Some(name), false)?;
                let ret = cheap_copy(&value);
                let i = self.bind(name.to_string(), value, span, self.local_scope());
                if self.b.func.is_some() {
                    self.pending_scope.push((i, name));
                }
                Ok(ret.unwrap_or_else(|| self.unknown(right)))
            }
            K::ObjectPattern | K::ArrayPattern => {
                let mut names = Vec::new();
                self.pattern(left, &mut names)?;
                self.expr(right)
            }
            _ => {
                let target = self.expr(left)?;
                let hint = match &target {
                    Expr::Attr(_, field) => Some(field.clone()),
                    _ => None,
                };
                let value = self.value(right, hint.as_deref(), false)?;
                let ret = cheap_copy(&value);
                self.bind_target(target, value, span, left);
                Ok(ret.unwrap_or_else(|| self.unknown(right)))
            }
        }
    }

    /// The binding for an attribute target: `this.x` → Class(current
    /// class); other dotted targets → the dotted name.
    fn bind_target(&mut self, target: Expr, value: Expr, span: Span, left: Node<'t>) {
        if let Expr::Attr(obj, field) = &target {
            if matches!(&**obj, Expr::Name(n) if n == "this") {
                if let Some(class) = self.b.current_class_name() {
                    self.bind(field.clone(), value, span, BindScope::Class(class));
                    return;
                }
            }
        }
        let Some(name) = target.dotted() else { return };
        if let Expr::Func(id) = &value {
            if is_export_target(&name) {
                self.b.m.functions[*id as usize].exported = true;
            }
        }
        if is_export_target(&name) {
            match &value {
                Expr::Name(n) => self.exported_names.push(n.clone()),
                Expr::Object(o) => {
                    for (_, v) in &o.entries {
                        match v {
                            Expr::Name(n) => self.exported_names.push(n.clone()),
                            Expr::Func(id) => self.b.m.functions[*id as usize].exported = true,
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
        }
        let root = root_of(self.txt(left));
        let i = self.bind(name, value, span, self.local_scope());
        if self.b.func.is_some() && root != "this" && !root.is_empty() {
            self.pending_scope.push((i, root));
        }
    }
}

/// `module.exports`, `module.exports.x`, `exports.x`.
fn is_export_target(name: &str) -> bool {
    name == "module.exports" || name.starts_with("module.exports.") || name.starts_with("exports.")
}

/// The identifier a member chain's source text starts with.
fn root_of(text: &str) -> &str {
    let end = text
        .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$'))
        .unwrap_or(text.len());
    &text[..end]
}

/// A copy of `e` when copying costs nothing much.
fn cheap_copy(e: &Expr) -> Option<Expr> {
    match e {
        Expr::Call(_)
        | Expr::Func(_)
        | Expr::Name(_)
        | Expr::Num(_)
        | Expr::Bool(_)
        | Expr::Null => Some(e.clone()),
        Expr::Str(s) if s.len() <= 64 => Some(e.clone()),
        _ => None,
    }
}

/// A JS string literal's text without its quotes (escapes as written).
fn unquote_js(t: &str) -> &str {
    let b = t.as_bytes();
    if b.len() >= 2 && (b[0] == b'"' || b[0] == b'\'') && b[b.len() - 1] == b[0] {
        &t[1..t.len() - 1]
    } else {
        t
    }
}

/// From the start of `start` to the end of `end`.
fn span_between(start: Node, end: Node) -> Span {
    let s = start.start_position();
    let e = end.end_position();
    Span {
        start_byte: start.start_byte() as u32,
        end_byte: end.end_byte() as u32,
        start_line: s.row as u32 + 1,
        start_col: s.column as u32,
        end_line: e.row as u32 + 1,
        end_col: e.column as u32,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::{Call, CallId, Function, Lang};

    fn ts(src: &str) -> Module {
        crate::lang::lower(Lang::TypeScript, "server.ts", src).expect("lowers")
    }

    fn js(src: &str) -> Module {
        crate::lang::lower(Lang::JavaScript, "server.js", src).expect("lowers")
    }

    fn tsx(src: &str) -> Module {
        crate::lang::lower(Lang::TypeScript, "App.tsx", src).expect("lowers")
    }

    /// The first call whose resolved path is `path`.
    fn call<'m>(m: &'m Module, path: &str) -> (CallId, &'m Call) {
        m.calls
            .iter()
            .enumerate()
            .find(|(_, c)| c.path.as_deref() == Some(path))
            .map(|(i, c)| (i as CallId, c))
            .unwrap_or_else(|| panic!("no call to {path}: {:#?}", m.calls))
    }

    /// The first call of method / function `name`.
    fn named<'m>(m: &'m Module, name: &str) -> (CallId, &'m Call) {
        m.calls
            .iter()
            .enumerate()
            .find(|(_, c)| c.name() == Some(name))
            .map(|(i, c)| (i as CallId, c))
            .unwrap_or_else(|| panic!("no call named {name}: {:#?}", m.calls))
    }

    fn func<'m>(m: &'m Module, name: &str) -> (FuncId, &'m Function) {
        m.functions
            .iter()
            .enumerate()
            .find(|(_, f)| f.name == name)
            .map(|(i, f)| (i as FuncId, f))
            .unwrap_or_else(|| panic!("no function {name}: {:#?}", m.functions))
    }

    fn binding<'m>(m: &'m Module, name: &str) -> &'m Binding {
        m.bindings
            .iter()
            .find(|b| b.name == name)
            .unwrap_or_else(|| panic!("no binding {name}: {:#?}", m.bindings))
    }

    fn import<'m>(m: &'m Module, local: &str) -> &'m str {
        m.import(local)
            .map(|i| i.path.as_str())
            .unwrap_or_else(|| panic!("no import {local}: {:#?}", m.imports))
    }

    fn name(n: &str) -> Expr {
        Expr::Name(n.to_string())
    }

    fn attr(e: Expr, f: &str) -> Expr {
        Expr::Attr(Box::new(e), f.to_string())
    }

    fn obj(e: &Expr) -> &Object {
        match e {
            Expr::Object(o) => o,
            other => panic!("not an object: {other:?}"),
        }
    }

    const WEATHER: &str = r#"import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import axios from "axios";
import { fetch as uFetch } from "undici";
import { z } from "zod";

const BASE = "https://api.example.com";
const api = axios.create({ baseURL: "https://api.example.com", timeout: 5000 });
const server = new McpServer({ name: "weather", version: "1.0.0" });

// Forecast tool
server.tool("forecast", { city: z.string() }, async ({ city }, extra) => {
  const opts = { signal: AbortSignal.timeout(5000) };
  const r = await fetch(`${BASE}/forecast/${city}`, opts);
  const r2 = await fetch(url, { ...init });
  try { await api.get("/x"); } catch (err) { return { content: [{ type: "text", text: `failed: ${err.message}` }], isError: true }; }
  return { content: [{ type: "text", text: await r.text() }] };
});
server.registerTool("alerts", { title: "Alerts", inputSchema: {} }, async (args, { signal }) => fetch(u, { signal }));
class Client { private http = axios.create({ timeout: 1000 }); constructor() { this.db = new Pool({ max: 10 }); } }
const data = await uFetch("https://x.test");
"#;

    #[test]
    fn weather_server_imports_and_paths() {
        let m = ts(WEATHER);
        assert_eq!(
            import(&m, "McpServer"),
            "@modelcontextprotocol/sdk/server/mcp.js.McpServer"
        );
        assert_eq!(import(&m, "axios"), "axios");
        assert_eq!(import(&m, "uFetch"), "undici.fetch");
        assert_eq!(import(&m, "z"), "zod.z");

        let (_, create) = call(&m, "axios.create");
        assert_eq!(create.func, None);
        let opts = obj(create.positional(0).unwrap());
        assert_eq!(opts.get("timeout"), Some(&Expr::Num("5000".into())));
        assert_eq!(
            opts.get("baseURL"),
            Some(&Expr::Str("https://api.example.com".into()))
        );

        let (_, ctor) = call(&m, "@modelcontextprotocol/sdk/server/mcp.js.McpServer");
        assert!(ctor.is_new);
        assert_eq!(ctor.callee, name("McpServer"));

        let (_, u) = call(&m, "undici.fetch");
        assert!(u.awaited);
        assert_eq!(u.func, None);
        assert_eq!(u.positional(0), Some(&Expr::Str("https://x.test".into())));
    }

    #[test]
    fn weather_server_tool_handler() {
        let m = ts(WEATHER);
        let (tool_id, tool) = named(&m, "tool");
        assert_eq!(tool.receiver, Some(name("server")));
        assert_eq!(tool.method.as_deref(), Some("tool"));
        // `server` is a local value, not a module path.
        assert_eq!(tool.path, None);
        assert_eq!(tool.args.len(), 3);
        assert_eq!(tool.positional(0), Some(&Expr::Str("forecast".into())));
        let schema = obj(tool.positional(1).unwrap());
        let Some(Expr::Call(zs)) = schema.get("city") else {
            panic!("{schema:?}")
        };
        assert_eq!(m.call(*zs).path.as_deref(), Some("zod.z.string"));
        assert_eq!(
            m.call(*zs).ctx,
            vec![Ctx::Arg {
                call: tool_id,
                index: 1
            }]
        );
        let Some(Expr::Func(h)) = tool.positional(2) else {
            panic!("{:?}", tool.args)
        };
        let handler = m.func(*h);
        assert!(handler.is_async);
        assert_eq!(handler.kind, FuncKind::Lambda);
        assert_eq!(handler.parent, None);
        assert_eq!(
            handler.ctx,
            vec![Ctx::Arg {
                call: tool_id,
                index: 2
            }]
        );
        assert_eq!(handler.params.len(), 2);
        assert_eq!(handler.params[0].name, "{ city }");
        assert_eq!(handler.params[0].destructured, vec!["city".to_string()]);
        assert_eq!(handler.params[1].name, "extra");
        assert_eq!(handler.span.start_line, 11);
        assert_eq!(handler.expr_body, None);

        // Calls inside the handler belong to it, with contexts relative to its body.
        let fetches: Vec<&Call> = m
            .calls
            .iter()
            .filter(|c| c.path.as_deref() == Some("fetch"))
            .collect();
        assert_eq!(fetches.len(), 3);
        let f0 = fetches[0];
        assert_eq!(f0.func, Some(*h));
        assert!(f0.ctx.is_empty());
        assert!(f0.awaited);
        assert_eq!(
            f0.positional(0),
            Some(&Expr::Template(vec![
                TemplatePart::Expr(name("BASE")),
                TemplatePart::Lit("/forecast/".into()),
                TemplatePart::Expr(name("city")),
            ]))
        );
        assert_eq!(f0.positional(1), Some(&name("opts")));
        // `fetch(url, { ...init })`: options we cannot see through.
        let spread = obj(fetches[1].positional(1).unwrap());
        assert!(spread.spread);
        assert!(spread.entries.is_empty());
        // The handler's own calls are indexed under it.
        assert!(m.func_calls[*h as usize].len() >= 5);

        let opts = binding(&m, "opts");
        assert_eq!(opts.scope, BindScope::Function(*h));
        assert_eq!(opts.func, Some(*h));
        let Some(Expr::Call(t)) = obj(&opts.value).get("signal") else {
            panic!("{opts:?}")
        };
        assert_eq!(m.call(*t).path.as_deref(), Some("AbortSignal.timeout"));
        assert_eq!(binding(&m, "r").value, Expr::Call(call(&m, "fetch").0));
        assert_eq!(binding(&m, "api").scope, BindScope::Module);

        // try / catch, and the error leaking into the result.
        assert_eq!(m.tries.len(), 1);
        let t = &m.tries[0];
        assert_eq!(t.func, Some(*h));
        assert_eq!(t.clauses.len(), 1);
        assert_eq!(t.clauses[0].binding.as_deref(), Some("err"));
        assert!(t.clauses[0].types.is_empty());
        assert!(!t.has_finally);
        let (_, get) = named(&m, "get");
        assert_eq!(get.ctx, vec![Ctx::Try(0)]);
        assert!(get.awaited);
        assert_eq!(get.receiver, Some(name("api")));
        let exits: Vec<&Exit> = m.exits.iter().filter(|e| e.func == Some(*h)).collect();
        assert_eq!(exits.len(), 2);
        assert_eq!(exits[0].kind, ExitKind::Return);
        assert_eq!(
            exits[0].ctx,
            vec![Ctx::Catch {
                try_id: 0,
                clause: 0
            }]
        );
        let mut leaked = false;
        exits[0].value.as_ref().unwrap().walk(&mut |e| {
            if let Expr::Template(parts) = e {
                leaked |= parts.contains(&TemplatePart::Expr(attr(name("err"), "message")));
            }
        });
        assert!(leaked, "{:?}", exits[0].value);
        let ok = obj(exits[0].value.as_ref().unwrap());
        assert_eq!(ok.get("isError"), Some(&Expr::Bool(true)));
        assert!(exits[1].ctx.is_empty());
    }

    #[test]
    fn weather_server_register_tool_and_class() {
        let m = ts(WEATHER);
        let (reg_id, reg) = named(&m, "registerTool");
        let config = obj(reg.positional(1).unwrap());
        assert_eq!(config.get("title"), Some(&Expr::Str("Alerts".into())));
        assert!(matches!(config.get("inputSchema"), Some(Expr::Object(_))));
        let Some(Expr::Func(h)) = reg.positional(2) else {
            panic!()
        };
        let handler = m.func(*h);
        assert_eq!(
            handler.ctx,
            vec![Ctx::Arg {
                call: reg_id,
                index: 2
            }]
        );
        assert_eq!(handler.params[1].destructured, vec!["signal".to_string()]);
        let Some(Expr::Call(body)) = &handler.expr_body else {
            panic!("{:?}", handler.expr_body)
        };
        let inner = m.call(*body);
        assert_eq!(inner.path.as_deref(), Some("fetch"));
        assert_eq!(inner.func, Some(*h));
        assert_eq!(
            obj(inner.positional(1).unwrap()).get("signal"),
            Some(&name("signal"))
        );

        assert_eq!(m.classes.len(), 1);
        assert_eq!(m.classes[0].name, "Client");
        let http = binding(&m, "http");
        assert_eq!(http.scope, BindScope::Class("Client".into()));
        let Expr::Call(c) = http.value else { panic!() };
        assert_eq!(m.call(c).path.as_deref(), Some("axios.create"));
        let db = binding(&m, "db");
        assert_eq!(db.scope, BindScope::Class("Client".into()));
        let (ctor, f) = func(&m, "constructor");
        assert_eq!(f.kind, FuncKind::Method);
        assert_eq!(f.class, Some(0));
        assert_eq!(db.func, Some(ctor));
        let Expr::Call(pool) = db.value else { panic!() };
        assert!(m.call(pool).is_new);
        assert_eq!(m.call(pool).path.as_deref(), Some("Pool"));
        assert_eq!(m.comments.len(), 1);
        assert_eq!(m.comments[0].text, "// Forecast tool");
        assert_eq!(m.comments[0].span.start_line, 10);
    }

    const COMMONJS: &str = r#"#!/usr/bin/env node
'use strict';
const axios = require('axios');
const { Pool, Client: PgClient } = require('pg');
const fetch = require('node-fetch').default;
const sub = require('a/b').x.y;
const { Server } = require("@modelcontextprotocol/sdk/server/index.js");
const { CallToolRequestSchema } = require("@modelcontextprotocol/sdk/types.js");
const lib = __importDefault(require("lib"));

const server = new Server({ name: "db", version: "1.0.0" }, { capabilities: { tools: {} } });
let client;
async function getClient() {
  if (!client) client = new PgClient({ connectionTimeoutMillis: 1000 });
  return client;
}
axios.defaults.timeout = 5000;

server.setRequestHandler(CallToolRequestSchema, async (request) => {
  const { name, arguments: args } = request.params;
  for (let i = 0; i < 3; i++) {
    try {
      return await axios.post(url, args);
    } catch (e) {
      if (i === 2) throw e;
      await sleep(2 ** i * 100);
      continue;
    } finally {
      log("attempt");
    }
  }
  for (const [k, v] of Object.entries(args)) { console.log(k, v); }
  for (const key in args) {}
  while (!done()) { break; }
  do { n--; } while (n > 0);
  switch (name) { case "a": return handleA(); default: throw new Error(`unknown ${name}`); }
});
module.exports = { getClient, helper: function () {} };
exports.run = async () => {};
require("child_process").execSync("ls");
"#;

    #[test]
    fn commonjs_requires_are_imports_not_bindings() {
        let m = js(COMMONJS);
        assert_eq!(import(&m, "axios"), "axios");
        assert_eq!(import(&m, "Pool"), "pg.Pool");
        assert_eq!(import(&m, "PgClient"), "pg.Client");
        assert_eq!(import(&m, "fetch"), "node-fetch");
        assert_eq!(import(&m, "sub"), "a/b.x.y");
        assert_eq!(
            import(&m, "Server"),
            "@modelcontextprotocol/sdk/server/index.js.Server"
        );
        assert_eq!(import(&m, "lib"), "lib");
        // `require` is module loading, not a call; inline it resolves.
        assert!(m.calls.iter().all(|c| c.name() != Some("require")));
        let (_, exec) = call(&m, "child_process.execSync");
        assert_eq!(exec.receiver, Some(name("child_process")));
        for local in ["axios", "Pool", "PgClient", "fetch", "sub", "Server", "lib"] {
            assert!(
                m.bindings.iter().all(|b| b.name != local),
                "binding for import {local}"
            );
        }
        let (_, post) = call(&m, "axios.post");
        assert!(post.awaited);
        let (_, pg) = call(&m, "pg.Client");
        assert!(pg.is_new);
        // `client = ..` in getClient assigns the module's `let client`.
        let client = binding(&m, "client");
        assert_eq!(client.scope, BindScope::Module);
        assert_eq!(client.func, Some(func(&m, "getClient").0));
        let t = binding(&m, "axios.defaults.timeout");
        assert_eq!(t.scope, BindScope::Module);
        assert_eq!(t.value, Expr::Num("5000".into()));
        // `module.exports = { getClient, .. }` and `exports.run = ..` export.
        assert!(func(&m, "getClient").1.exported);
        assert!(func(&m, "helper").1.exported);
        assert!(func(&m, "run").1.exported);
        assert!(func(&m, "run").1.is_async);
    }

    #[test]
    fn loops_tries_and_exits() {
        let m = js(COMMONJS);
        let (_, handler) = named(&m, "setRequestHandler");
        let Some(Expr::Func(h)) = handler.positional(1) else {
            panic!()
        };
        let h = *h;
        assert_eq!(m.loops.len(), 5);
        let kinds: Vec<LoopKind> = m.loops.iter().map(|l| l.kind).collect();
        assert_eq!(
            kinds,
            vec![
                LoopKind::ForC,
                LoopKind::ForEach,
                LoopKind::ForEach,
                LoopKind::While,
                LoopKind::DoWhile
            ]
        );
        let retry = &m.loops[0];
        assert_eq!(retry.func, Some(h));
        assert_eq!(retry.vars, vec!["i".to_string()]);
        assert!(matches!(&retry.cond, Some(Expr::Binary { op, .. }) if op == "<"));
        let each = &m.loops[1];
        assert_eq!(each.vars, vec!["k".to_string(), "v".to_string()]);
        let Some(Expr::Call(entries)) = each.iter else {
            panic!()
        };
        // The iterable is outside the loop; the body inside.
        assert!(m.call(entries).ctx.is_empty());
        assert_eq!(named(&m, "log").1.ctx, vec![Ctx::Loop(0), Ctx::Finally(0)]);
        let (_, console) = call(&m, "console.log");
        assert_eq!(console.ctx, vec![Ctx::Loop(1)]);
        assert_eq!(m.loops[2].vars, vec!["key".to_string()]);
        assert_eq!(m.loops[2].iter, Some(name("args")));
        let Some(Expr::Unary { op, operand }) = &m.loops[3].cond else {
            panic!("{:?}", m.loops[3].cond)
        };
        assert_eq!(op, "!");
        assert!(matches!(**operand, Expr::Call(_)));
        assert!(matches!(&m.loops[4].cond, Some(Expr::Binary { op, .. }) if op == ">"));

        let t = &m.tries[0];
        assert!(t.has_finally);
        assert_eq!(t.ctx, vec![Ctx::Loop(0)]);
        assert_eq!(t.clauses[0].binding.as_deref(), Some("e"));
        let (_, post) = call(&m, "axios.post");
        assert_eq!(post.ctx, vec![Ctx::Loop(0), Ctx::Try(0)]);
        let (_, sleep) = call(&m, "sleep");
        let catch0 = Ctx::Catch {
            try_id: 0,
            clause: 0,
        };
        assert_eq!(sleep.ctx, vec![Ctx::Loop(0), catch0.clone()]);
        assert!(sleep.awaited);
        assert!(matches!(
            sleep.positional(0),
            Some(Expr::Binary { op, lhs, .. })
                if op == "*" && matches!(&**lhs, Expr::Binary { op, .. } if op == "**")
        ));

        let kinds: Vec<(ExitKind, bool)> = m
            .exits
            .iter()
            .filter(|e| e.func == Some(h))
            .map(|e| (e.kind, e.value.is_some()))
            .collect();
        assert_eq!(
            kinds,
            vec![
                (ExitKind::Return, true),
                (ExitKind::Raise, true),
                (ExitKind::Continue, false),
                (ExitKind::Break, false),
                (ExitKind::Return, true),
                (ExitKind::Raise, true),
            ]
        );
        let raise = m.exits.iter().find(|e| e.kind == ExitKind::Raise).unwrap();
        assert_eq!(raise.value, Some(name("e")));
        assert_eq!(raise.ctx, vec![Ctx::Loop(0), catch0]);
        let (_, err) = call(&m, "Error");
        assert!(err.is_new);
    }

    #[test]
    fn imports_of_every_form() {
        let m = ts(r#"import d from "m1";
import { a as b, c } from "m2";
import * as ns from "m3";
import e, { f } from "m4";
import type { T } from "m5";
import { type U, g } from "m6";
import { default as h } from "m7";
import "side-effect";
import fs = require("fs");
export { x } from "m8";
const lazy = await import("m9");
"#);
        let got: Vec<(&str, &str)> = m
            .imports
            .iter()
            .map(|i| (i.local.as_str(), i.path.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("d", "m1"),
                ("b", "m2.a"),
                ("c", "m2.c"),
                ("ns", "m3"),
                ("e", "m4"),
                ("f", "m4.f"),
                ("g", "m6.g"),
                ("h", "m7"),
                ("fs", "fs"),
                // A re-export: an import of this module resolves through it.
                ("x", "m8.x"),
            ]
        );
        assert_eq!(m.imports[1].span.start_line, 2);
        // A dynamic import is neither an import nor a call.
        assert!(m.calls.is_empty(), "{:?}", m.calls);
    }

    #[test]
    fn exports_mark_functions() {
        let m = ts(r#"export function a() {}
export async function b() {}
export const c = async (x: number) => x * 2;
export default function d() {}
function e() {}
function f() {}
const g = () => 1;
export { e, g as gee };
export class K { run() {} private hidden() {} #secret() {} protected p() {} }
"#);
        for (n, exported) in [
            ("a", true),
            ("b", true),
            ("c", true),
            ("d", true),
            ("e", true),
            ("f", false),
            ("g", true),
            ("run", true),
            ("hidden", false),
            ("#secret", false),
            ("p", false),
        ] {
            assert_eq!(func(&m, n).1.exported, exported, "{n}");
        }
        let (c, cf) = func(&m, "c");
        assert_eq!(cf.kind, FuncKind::Lambda);
        assert!(cf.is_async);
        assert_eq!(cf.params[0].annotation.as_deref(), Some("number"));
        assert!(matches!(&cf.expr_body, Some(Expr::Binary { op, .. }) if op == "*"));
        assert_eq!(binding(&m, "c").value, Expr::Func(c));
        assert!(func(&m, "b").1.is_async);
        assert!(!func(&m, "a").1.is_async);
    }

    #[test]
    fn export_default_values() {
        let m = ts("export default async () => { await work(); };\n");
        assert_eq!(m.functions.len(), 1);
        assert!(m.functions[0].exported);
        assert!(m.functions[0].is_async);
        assert_eq!(call(&m, "work").1.func, Some(0));
        let m = ts("const server = makeServer();\nexport default server;\n");
        assert_eq!(binding(&m, "server").scope, BindScope::Module);
    }

    #[test]
    fn classes_decorators_and_parameter_properties() {
        let src = r#"import { Injectable } from "@nestjs/common";
@Injectable()
export class WeatherService extends BaseService implements OnInit {
  private readonly http = axios.create({ baseURL: BASE, timeout: 2000 });
  static instances = 0;
  #cache = new Map();
  private apiKey: string;
  constructor(private client: HttpClient, public readonly retries = defaultRetries()) {
    super();
    this.pool = new Pool({ connectionTimeoutMillis: 1000 });
  }

  @Tool({ name: "forecast" })
  @Cached
  async forecast(@Arg("city") city: string, days?: number): Promise<string> {
    const res = await this.http.get<Forecast>(`/forecast/${city}`);
    const handler = () => { this.last = res; };
    return res.data;
  }

  get ready(): boolean { return true; }
  onInit = async () => { await this.client.ping(); };
}
"#;
        let m = ts(src);
        assert_eq!(m.classes.len(), 1);
        let class = &m.classes[0];
        assert_eq!(class.name, "WeatherService");
        assert_eq!(class.bases, vec!["BaseService".to_string()]);
        assert_eq!(class.decorators.len(), 1);
        let Expr::Call(inj) = class.decorators[0].expr else {
            panic!()
        };
        assert_eq!(
            m.call(inj).path.as_deref(),
            Some("@nestjs/common.Injectable")
        );
        // The class span starts after its decorators.
        assert_eq!(class.span.start_line, 3);

        let cls = |n: &str| {
            let b = binding(&m, n);
            assert_eq!(b.scope, BindScope::Class("WeatherService".into()), "{n}");
            b
        };
        let Expr::Call(h) = cls("http").value else {
            panic!()
        };
        assert_eq!(m.call(h).path.as_deref(), Some("axios.create"));
        assert_eq!(cls("instances").value, Expr::Num("0".into()));
        assert!(matches!(cls("#cache").value, Expr::Call(_)));
        assert!(cls("pool").func.is_some());
        assert!(m.bindings.iter().all(|b| b.name != "apiKey"));
        // `this.last = ..` in an arrow inside a method is still the class's.
        cls("last");

        let (ctor_id, ctor) = func(&m, "constructor");
        assert_eq!(ctor.kind, FuncKind::Method);
        let params: Vec<(&str, Option<&str>)> = ctor
            .params
            .iter()
            .map(|p| (p.name.as_str(), p.annotation.as_deref()))
            .collect();
        assert_eq!(
            params,
            vec![("client", Some("HttpClient")), ("retries", None)]
        );
        assert_eq!(call(&m, "defaultRetries").1.func, Some(ctor_id));
        assert_eq!(call(&m, "super").1.func, Some(ctor_id));

        let (fid, f) = func(&m, "forecast");
        assert_eq!(f.kind, FuncKind::Method);
        assert_eq!(f.class, Some(0));
        assert!(f.is_async);
        assert!(f.exported);
        assert_eq!(f.decorators.len(), 2);
        let Expr::Call(tool) = f.decorators[0].expr else {
            panic!()
        };
        assert_eq!(m.call(tool).path.as_deref(), Some("Tool"));
        assert_eq!(
            obj(m.call(tool).positional(0).unwrap()).get("name"),
            Some(&Expr::Str("forecast".into()))
        );
        assert_eq!(m.call(tool).func, None);
        assert_eq!(f.decorators[1].expr, name("Cached"));
        // The method's span starts at `async`, after the decorators.
        assert_eq!(f.span.start_line, 15);
        assert_eq!(f.span.start_col, 2);
        assert_eq!(&src[f.span.start_byte as usize..][..5], "async");
        let params: Vec<(&str, Option<&str>)> = f
            .params
            .iter()
            .map(|p| (p.name.as_str(), p.annotation.as_deref()))
            .collect();
        assert_eq!(
            params,
            vec![("city", Some("string")), ("days", Some("number"))]
        );

        // `await this.http.get<T>(..)`: the call is awaited, its receiver `this.http`.
        let (_, get) = named(&m, "get");
        assert_eq!(get.func, Some(fid));
        assert!(get.awaited);
        assert_eq!(get.receiver, Some(attr(name("this"), "http")));
        assert_eq!(get.path, None);

        assert_eq!(func(&m, "ready").1.kind, FuncKind::Method);
        let (on_init, oi) = func(&m, "onInit");
        assert_eq!(oi.kind, FuncKind::Method);
        assert_eq!(oi.class, Some(0));
        assert!(oi.is_async);
        assert_eq!(cls("onInit").value, Expr::Func(on_init));
        assert_eq!(named(&m, "ping").1.func, Some(on_init));
    }

    #[test]
    fn javascript_class_decorators_and_fields() {
        let m = js(r#"class Api {
  @route("/x") async get() { return this.client.get("/x"); }
  client = axios.create({ timeout: 10 });
  static #count = 0;
  static { init(); }
}
const Anon = class extends mixin(Base) { run() {} };
"#);
        let (_, get) = func(&m, "get");
        assert_eq!(get.decorators.len(), 1);
        assert_eq!(get.span.start_col, 15);
        assert!(get.is_async);
        assert_eq!(binding(&m, "client").scope, BindScope::Class("Api".into()));
        assert_eq!(binding(&m, "#count").scope, BindScope::Class("Api".into()));
        assert_eq!(call(&m, "init").1.func, None);
        assert_eq!(m.classes[1].name, "Anon");
        assert_eq!(m.classes[1].bases, vec!["mixin(Base)".to_string()]);
        assert_eq!(call(&m, "mixin").1.func, None);
        assert_eq!(func(&m, "run").1.class, Some(1));
    }

    #[test]
    fn this_assignment_outside_a_class() {
        let m = js("function Legacy() { this.client = makeClient(); }\n");
        let b = binding(&m, "this.client");
        assert_eq!(b.scope, BindScope::Function(0));
    }

    #[test]
    fn assignment_scopes_follow_declarations() {
        let m = js(r#"let shared;
function outer(p) {
  let local;
  const inner = () => { local = open(); shared = open(); p = 1; implicit = 2; };
  local ??= fallback();
  opts.timeout = 5;
  counter += 1;
}
const opts = {};
"#);
        let (outer, _) = func(&m, "outer");
        let (inner, _) = func(&m, "inner");
        let scope = |n: &str| binding(&m, n).scope.clone();
        assert_eq!(scope("local"), BindScope::Function(outer));
        assert_eq!(binding(&m, "local").func, Some(inner));
        assert_eq!(scope("shared"), BindScope::Module);
        assert_eq!(scope("p"), BindScope::Function(outer));
        assert_eq!(scope("implicit"), BindScope::Module);
        assert_eq!(scope("inner"), BindScope::Function(outer));
        assert_eq!(scope("opts.timeout"), BindScope::Module);
        let lazy: Vec<&Binding> = m.bindings.iter().filter(|b| b.name == "local").collect();
        assert_eq!(lazy.len(), 2);
        assert!(matches!(lazy[1].value, Expr::Call(_)));
        assert!(m.bindings.iter().all(|b| b.name != "counter"));
    }

    #[test]
    fn expressions() {
        let m = ts(r#"const a = x ?? true;
const b = !ok;
const c = cond ? "yes" : null;
const d = undefined;
const e = (value as any) satisfies Foo;
const f = maybe!;
const g = <T>other;
const h = `plain`;
const i = arr[0];
const j = a?.b?.c;
const k = [1, ...rest, "s"];
const l = { "quoted": 1, 2: "two", [computed]: 3, short, method() { return 1; } };
const n = -1;
const o = typeof x;
const p = /re/g;
const q = 'single';
const r = (1, 2, go());
"#);
        let v = |n: &str| binding(&m, n).value.clone();
        assert!(
            matches!(v("a"), Expr::Binary { op, rhs, .. } if op == "??" && *rhs == Expr::Bool(true))
        );
        assert!(matches!(v("b"), Expr::Unary { op, .. } if op == "!"));
        assert!(matches!(v("c"), Expr::Conditional { otherwise, .. } if *otherwise == Expr::Null));
        assert_eq!(v("d"), Expr::Null);
        assert_eq!(v("e"), name("value"));
        assert_eq!(v("f"), name("maybe"));
        assert_eq!(v("g"), name("other"));
        assert_eq!(v("h"), Expr::Str("plain".into()));
        assert_eq!(
            v("i"),
            Expr::Index(Box::new(name("arr")), Box::new(Expr::Num("0".into())))
        );
        assert_eq!(v("j"), attr(attr(name("a"), "b"), "c"));
        assert_eq!(
            v("k"),
            Expr::Array(vec![
                Expr::Num("1".into()),
                Expr::Spread(Box::new(name("rest"))),
                Expr::Str("s".into())
            ])
        );
        let l = v("l");
        let l = obj(&l);
        assert!(l.spread);
        let keys: Vec<&str> = l.entries.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, vec!["quoted", "2", "short", "method"]);
        assert_eq!(l.get("short"), Some(&name("short")));
        assert!(matches!(l.get("method"), Some(Expr::Func(_))));
        assert_eq!(func(&m, "method").1.kind, FuncKind::Lambda);
        assert!(matches!(v("n"), Expr::Unary { op, .. } if op == "-"));
        assert!(matches!(v("o"), Expr::Unary { op, .. } if op == "typeof"));
        assert!(matches!(v("p"), Expr::Unknown(t) if t == "/re/g"));
        assert_eq!(v("q"), Expr::Str("single".into()));
        assert_eq!(v("r"), Expr::Call(call(&m, "go").0));
    }

    #[test]
    fn calls_chains_and_options() {
        let src = "const res = await axios\n  .get(url, { timeout: 5000 })\n  .then((r) => r.data)\n  .catch(() => true);\nnew Client;\nobj?.method?.(1);\nhelper`tagged ${inner()}`;\n(async () => { await boot(); })();\n";
        let m = ts(src);
        let (catch_id, catch) = named(&m, "catch");
        assert!(catch.awaited);
        assert_eq!(catch.span.start_line, 1);
        assert_eq!(catch.span.start_col, 18);
        let Some(Expr::Call(then_id)) = &catch.receiver else {
            panic!()
        };
        let then = m.call(*then_id);
        assert_eq!(then.method.as_deref(), Some("then"));
        assert!(!then.awaited);
        let Some(Expr::Call(get_id)) = &then.receiver else {
            panic!()
        };
        assert!(catch_id < *then_id && *then_id < *get_id);
        let get = m.call(*get_id);
        assert_eq!(get.path.as_deref(), Some("axios.get"));
        assert_eq!(
            obj(get.positional(1).unwrap()).get("timeout"),
            Some(&Expr::Num("5000".into()))
        );
        // `.catch(() => true)`: a fail-open handler, as an expression body.
        let Some(Expr::Func(cb)) = catch.positional(0) else {
            panic!()
        };
        assert_eq!(m.func(*cb).expr_body, Some(Expr::Bool(true)));
        assert_eq!(
            m.func(*cb).ctx,
            vec![Ctx::Arg {
                call: catch_id,
                index: 0
            }]
        );
        assert_eq!(binding(&m, "res").value, Expr::Call(catch_id));
        assert_eq!(m.calls_on(*get_id).count(), 1);

        let (_, client) = named(&m, "Client");
        assert!(client.is_new);
        assert!(client.args.is_empty());
        let (_, method) = call(&m, "obj.method");
        assert_eq!(method.positional(0), Some(&Expr::Num("1".into())));
        // A tagged template is not a call, but calls inside it are.
        assert!(m.calls.iter().all(|c| c.name() != Some("helper")));
        assert_eq!(call(&m, "inner").1.func, None);
        // An IIFE's callee is the function.
        let iife = m
            .calls
            .iter()
            .find(|c| matches!(c.callee, Expr::Func(_)))
            .unwrap();
        let Expr::Func(f) = iife.callee else { panic!() };
        assert_eq!(call(&m, "boot").1.func, Some(f));
    }

    #[test]
    fn fastmcp_add_tool_names_object_lambdas() {
        let m = ts(r#"import { FastMCP } from "fastmcp";
const server = new FastMCP({ name: "x", version: "1.0.0" });
server.addTool({
  name: "fetch-page",
  parameters: z.object({ url: z.string() }),
  execute: async (args, { log }) => {
    const page = await fetch(args.url);
    return page.text();
  },
  async annotate() { return 1; },
});
"#);
        let (add, add_call) = named(&m, "addTool");
        let spec = obj(add_call.positional(0).unwrap());
        assert_eq!(spec.get("name"), Some(&Expr::Str("fetch-page".into())));
        let Some(Expr::Func(exec)) = spec.get("execute") else {
            panic!()
        };
        let f = m.func(*exec);
        assert_eq!(f.name, "execute");
        assert!(f.is_async);
        assert_eq!(
            f.ctx,
            vec![Ctx::Arg {
                call: add,
                index: 0
            }]
        );
        assert_eq!(call(&m, "fetch").1.func, Some(*exec));
        assert!(func(&m, "annotate").1.is_async);
    }

    #[test]
    fn tsx_components() {
        let m = tsx(r#"import React, { useEffect } from "react";
export default function App({ items }: Props) {
  useEffect(() => { load().then(setData); }, []);
  const data = useQuery<Item[]>(() => fetchItems(), { staleTime: 1000 });
  return (
    <div onClick={() => track("click")} title={t("x")}>
      {/* jsx comment */}
      {items.map((i) => <Item key={i.id} value={format(i)} {...spread(i)} />)}
    </div>
  );
}
"#);
        let (app, f) = func(&m, "App");
        assert!(f.exported);
        assert_eq!(f.params[0].destructured, vec!["items".to_string()]);
        assert_eq!(f.params[0].annotation.as_deref(), Some("Props"));
        assert_eq!(call(&m, "react.useEffect").1.func, Some(app));
        for path in ["load", "fetchItems", "track", "t", "format", "spread"] {
            call(&m, path);
        }
        assert_eq!(call(&m, "t").1.func, Some(app));
        let (_, track) = call(&m, "track");
        assert_eq!(m.func(track.func.unwrap()).parent, Some(app));
        let (_, format) = call(&m, "format");
        assert_eq!(m.func(format.func.unwrap()).params[0].name, "i");
        assert_eq!(m.comments.len(), 1);
        assert_eq!(m.comments[0].text, "/* jsx comment */");
        let (_, q) = named(&m, "useQuery");
        assert_eq!(
            obj(q.positional(1).unwrap()).get("staleTime"),
            Some(&Expr::Num("1000".into()))
        );
    }

    #[test]
    fn comments_everywhere_in_order() {
        let m = ts(r#"// head
interface Opts { // in an interface
  timeout: number; /* typed */
}
type T = /* in a type */ string;
const x = call( // in args
  1, /* between */ 2);
function f(a: /* param type */ string) { return a; } // trailing
"#);
        let texts: Vec<&str> = m.comments.iter().map(|c| c.text.as_str()).collect();
        assert_eq!(
            texts,
            vec![
                "// head",
                "// in an interface",
                "/* typed */",
                "/* in a type */",
                "// in args",
                "/* between */",
                "/* param type */",
                "// trailing",
            ]
        );
        assert_eq!(m.comments[7].span.start_line, 8);
    }

    #[test]
    fn syntax_errors_still_lower_calls() {
        let m = ts("const a = fetch(url, { timeout: 1 };\nfunction broken( {\n  axios.get(x);\n}\nawait other();\n");
        assert!(m.has_syntax_errors);
        assert!(m.calls.iter().any(|c| c.name() == Some("fetch")));
        assert!(m.calls.iter().any(|c| c.name() == Some("get")));
        assert!(m.calls.iter().any(|c| c.name() == Some("other")));
        let m = js("server.tool('x', async () => { await fetch(u) ");
        assert!(m.calls.iter().any(|c| c.name() == Some("fetch")));
    }

    #[test]
    fn ts_only_declarations_hold_no_code() {
        let m = ts(r#"declare module "x" { export function y(): void; }
declare const z: number;
interface I { m(): void }
type Fn = (a: string) => Promise<void>;
abstract class A { abstract run(): void; go() { return act(); } }
enum E { A = compute(), B = 2 }
namespace NS { export function inner() { call(); } }
function over(a: string): void;
function over(a: any) { impl(); }
"#);
        let names: Vec<&str> = m.functions.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, vec!["go", "inner", "over"]);
        for path in ["act", "compute", "call", "impl"] {
            call(&m, path);
        }
        assert_eq!(m.classes[0].name, "A");
    }

    fn deep(lang: Lang, path: &str, shape: (&str, &str, &str), n: usize) -> R<Module> {
        let (open, mid, close) = shape;
        let src = format!("{}{}{}", open.repeat(n), mid, close.repeat(n));
        crate::lang::lower(lang, path, &src)
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let shapes: &[(&str, &str, &str)] = &[
            ("[", "1", "]"),
            ("f(", "1", ")"),
            ("(", "1", ")"),
            ("a.b(", "1", ").c"),
            ("x = {a: ", "1", "}"),
            ("() => ", "1", ""),
            ("async (a) => { return ", "1", "}"),
            ("if (a) {", "f()", "}"),
            ("1 + ", "1", ""),
            ("c ? 1 : ", "1", ""),
            ("`${", "1", "}`"),
            ("!", "1", ""),
            ("await ", "1", ""),
            ("new A(", "1", ")"),
            ("for (const a of b) {", "f()", "}"),
            ("try {", "f()", "} catch (e) {}"),
            ("function f() {", "g()", "}"),
            ("class A { m() {", "g()", "} }"),
            ("x = y = ", "1", ""),
            ("x = ", "a", ".b"),
            ("<div>", "", "</div>"),
            ("__importDefault(", "require('m')", ")"),
        ];
        for &shape in shapes {
            for (lang, path) in [
                (Lang::TypeScript, "t.ts"),
                (Lang::JavaScript, "t.js"),
                (Lang::TypeScript, "t.tsx"),
            ] {
                // JSX is not TypeScript syntax; TSX is TypeScript's grammar
                // plus JSX.
                let jsx = shape.0 == "<div>";
                if (jsx && path == "t.ts") || (!jsx && path == "t.tsx") {
                    continue;
                }
                let r = deep(lang, path, shape, 20_000);
                assert!(
                    matches!(r, Err(LowerError::TooDeep)),
                    "{shape:?} {path}: {:?}",
                    r.map(|m| m.calls.len())
                );
                // Nesting real code reaches is fine, even unoptimised.
                assert!(deep(lang, path, shape, 25).is_ok(), "{shape:?} {path}");
            }
        }
        // Destructuring patterns in parameters.
        let pattern = |n: usize| format!("function f({}b{}) {{}}", "{a: ".repeat(n), "}".repeat(n));
        for (lang, path) in [(Lang::TypeScript, "t.ts"), (Lang::JavaScript, "t.js")] {
            let r = crate::lang::lower(lang, path, &pattern(20_000));
            assert!(matches!(r, Err(LowerError::TooDeep)), "{path}");
            let m = crate::lang::lower(lang, path, &pattern(25)).unwrap();
            assert_eq!(m.functions[0].params[0].destructured, vec!["b".to_string()]);
        }
    }

    #[test]
    fn catch_without_binding_and_typed_catch() {
        let m = ts("try { a(); } catch { b(); }\ntry { c(); } catch (e: unknown) { throw new Wrapped(e); } finally { d(); }\n");
        assert_eq!(m.tries.len(), 2);
        assert_eq!(m.tries[0].clauses[0].binding, None);
        assert!(!m.tries[0].has_finally);
        assert_eq!(m.tries[1].clauses[0].binding.as_deref(), Some("e"));
        assert!(m.tries[1].clauses[0].types.is_empty());
        assert_eq!(
            call(&m, "b").1.ctx,
            vec![Ctx::Catch {
                try_id: 0,
                clause: 0
            }]
        );
        assert_eq!(call(&m, "d").1.ctx, vec![Ctx::Finally(1)]);
        let (_, w) = call(&m, "Wrapped");
        assert!(w.is_new);
        assert_eq!(w.positional(0), Some(&name("e")));
        assert_eq!(m.exits[0].kind, ExitKind::Raise);
        assert_eq!(m.exits[0].value, Some(Expr::Call(call(&m, "Wrapped").0)));
    }

    #[test]
    fn export_default_class_and_object() {
        let m = ts("export default class extends Base { async handle() { await go(); } }\n");
        assert_eq!(m.classes[0].bases, vec!["Base".to_string()]);
        let (_, h) = func(&m, "handle");
        assert!(h.exported);
        assert_eq!(h.class, Some(0));
        let m = js("export default { async fetch(request, env) { return handle(request); } };\n");
        let (_, f) = func(&m, "fetch");
        assert_eq!(f.params.len(), 2);
        assert_eq!(call(&m, "handle").1.func, Some(0));
    }
}
