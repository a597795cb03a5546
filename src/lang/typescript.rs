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
    BindScope, Binding, CatchClause, Class, ClassId, Ctx, Decorator, Exit, ExitKind, Expr,
    FuncId, FuncKind, Import, Loop, LoopKind, Module, Object, Param, Span, TemplatePart, Try,
    TryKind,
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
    let known: [(&OnceLock<Grammar>, fn() -> Language); 3] = [
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
            for f in &mut self.b.m.functions {
                if f.parent.is_none() && self.exported_names.contains(&f.name) {
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

    fn walk_inner(&mut self, n: Node<'t>) -> R<()> {
        match self.kind(n) {
            K::ExpressionStatement => self.walk_kids(n),
            K::LexicalDeclaration => self.declaration(n, false, None),
            K::FunctionDeclaration => self
                .function(n, None, FuncKind::Def, false, Vec::new())
                .map(drop),
            K::ClassDeclaration => self.class(n, None, false, Vec::new()).map(drop),
            K::ExportStatement => self.export(n),
            K::ImportStatement => self.import(n),
            K::Return => self.exit(n, ExitKind::Return),
            K::Throw => self.exit(n, ExitKind::Raise),
            K::Break => self.exit(n, ExitKind::Break),
            K::Continue => self.exit(n, ExitKind::Continue),
            K::For => self.for_c(n),
            K::ForIn => self.for_each(n),
            K::While => self.while_loop(n),
            K::Do => self.do_while(n),
            K::Try => self.try_statement(n),
            K::TypeOnly => {
                self.skip(n);
                Ok(())
            }
            K::Comment => {
                self.b.comment(n);
                Ok(())
            }
            _ if n.child_count() == 0 => Ok(()),
            k if k.is_expr() => self.expr(n).map(drop),
            _ => self.walk_kids(n),
        }
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
                K::Call => break,
                _ => return None,
            }
        }
        let callee = cur.child_by_field_id(f.function)?;
        let args = cur.child_by_field_id(f.arguments)?;
        if args.named_child_count() != 1 {
            return None;
        }
        let arg = args.named_child(0)?;
        let mut path = match (self.txt(callee), self.kind(arg)) {
            ("require", K::Str) => unquote_js(self.txt(arg)).to_string(),
            ("__importDefault" | "__importStar" | "__toESM" | "_interopRequireDefault", K::Call) => {
                self.require_path(arg)?
            }
            _ => return None,
        };
        for p in props.iter().rev() {
            if *p != "default" {
                path.push('.');
                path.push_str(p);
            }
        }
        Some(path)
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
                    let local = k.node.named_child(0).filter(|c| self.kind(*c) == K::Identifier);
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

    fn exit(&mut self, n: Node<'t>, kind: ExitKind) -> R<()> {
        let ks = self.kids(n);
        let mut value = None;
        if matches!(kind, ExitKind::Return | ExitKind::Raise) {
            for k in &ks {
                if k.node.is_named() {
                    value = Some(self.expr(k.node)?);
                }
            }
        }
        self.done(ks);
        self.b.m.exits.push(Exit {
            span: span_of(n),
            kind,
            value,
            func: self.b.func,
            ctx: self.b.ctx.clone(),
        });
        Ok(())
    }

    fn push_loop(&mut self, n: Node<'t>, kind: LoopKind) -> u32 {
        let id = self.b.m.loops.len() as u32;
        self.b.m.loops.push(Loop {
            span: span_of(n),
            kind,
            func: self.b.func,
            iter: None,
            vars: Vec::new(),
            cond: None,
            ctx: self.b.ctx.clone(),
        });
        id
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
        let id = self.push_loop(n, LoopKind::ForEach);
        let lp = &mut self.b.m.loops[id as usize];
        lp.iter = iter;
        lp.vars = names.iter().map(|s| s.to_string()).collect();
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
        let id = self.push_loop(n, LoopKind::ForC);
        let lp = &mut self.b.m.loops[id as usize];
        lp.vars = vars;
        lp.cond = cond;
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
        let id = self.push_loop(n, LoopKind::While);
        self.b.m.loops[id as usize].cond = cond;
        if let Some(body) = field(&ks, f.body) {
            self.with_ctx(Ctx::Loop(id), |l| l.walk(body))?;
        }
        self.done(ks);
        Ok(())
    }

    fn do_while(&mut self, n: Node<'t>) -> R<()> {
        let ks = self.kids(n);
        let f = self.g.f;
        let id = self.push_loop(n, LoopKind::DoWhile);
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
                Some(inner) if self.kind(inner) == K::Identifier => self.param_of(inner),
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
        let class = self.b.class.map(|c| self.b.m.classes[c as usize].name.clone());
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

    fn expr_inner(&mut self, n: Node<'t>) -> R<Expr> {
        match self.kind(n) {
            K::Identifier => Ok(Expr::Name(self.txt(n).to_string())),
            K::This => Ok(Expr::Name("this".to_string())),
            K::Super => Ok(Expr::Name("super".to_string())),
            K::Number => Ok(Expr::Num(self.txt(n).to_string())),
            K::True => Ok(Expr::Bool(true)),
            K::False => Ok(Expr::Bool(false)),
            K::Null => Ok(Expr::Null),
            K::Str => Ok(Expr::Str(unquote_js(self.txt(n)).to_string())),
            K::TemplateString => self.template(n),
            K::Member => self.member(n),
            K::Subscript => self.subscript(n),
            K::Call => self.call(n),
            K::New => self.new_call(n),
            K::Await => self.await_expr(n),
            K::Arrow | K::FunctionExpr => self
                .function(n, None, FuncKind::Lambda, false, Vec::new())
                .map(Expr::Func),
            K::Class => {
                self.class(n, None, false, Vec::new())?;
                Ok(self.unknown(n))
            }
            K::Object => self.object(n),
            K::Array => self.array(n),
            K::Spread => self.spread(n),
            K::Binary => self.binary(n),
            K::Unary => self.unary(n),
            K::Ternary => self.ternary(n),
            K::Parenthesized | K::Wrapper => self.inner(n),
            K::Assignment => self.assignment(n),
            K::AugmentedAssignment => self.augmented_assignment(n),
            K::Sequence => self.sequence(n),
            K::TypeOnly => {
                self.skip(n);
                Ok(self.unknown(n))
            }
            _ => self.opaque(n),
        }
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
        let id = self.b.reserve_call(span_of(n));
        let callee = match callee {
            Some(c) => self.expr(c)?,
            None => self.unknown(n),
        };
        self.b.set_callee(id, callee);
        if let Some(a) = args {
            self.args(id, a)?;
        }
        Ok(Expr::Call(id))
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
                parts.push(TemplatePart::Lit(
                    src.get(pos..s).unwrap_or("").to_string(),
                ));
            }
            let sub = self.kids(k.node);
            let mut e = None;
            for p in &sub {
                if p.node.is_named() && e.is_none() {
                    e = Some(self.expr(p.node)?);
                }
            }
            self.done(sub);
            parts.push(TemplatePart::Expr(
                e.unwrap_or_else(|| Expr::unknown("")),
            ));
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

    fn object(&mut self, n: Node<'t>) -> R<Expr> {
        let ks = self.kids(n);
        let f = self.g.f;
        let mut o = Object::default();
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
                        Some(key) => o.entries.push((key.to_string(), value)),
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
        self.expr(left)?;
        self.expr(right)?;
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
    use crate::facts::Lang;

    fn ts(src: &str) -> Module {
        crate::lang::lower(Lang::TypeScript, "t.ts", src).expect("lowers")
    }

    #[test]
    fn scratch_print() {
        let path = std::env::var("DUMP").unwrap_or_default();
        if path.is_empty() { return; }
        let src = std::fs::read_to_string(&path).unwrap();
        let lang = if path.ends_with(".js") { Lang::JavaScript } else { Lang::TypeScript };
        let m = crate::lang::lower(lang, &path, &src).unwrap();
        println!("IMPORTS"); for i in &m.imports { println!("  {} -> {}", i.local, i.path); }
        println!("FUNCS"); for (i, f) in m.functions.iter().enumerate() { println!("  #{i} {:?} {:?} async={} exp={} class={:?} parent={:?} ctx={:?} params={:?} decos={:?} body={:?} line={}", f.name, f.kind, f.is_async, f.exported, f.class, f.parent, f.ctx, f.params, f.decorators.iter().map(|d| &d.expr).collect::<Vec<_>>(), f.expr_body, f.span.start_line); }
        println!("CLASSES"); for c in &m.classes { println!("  {:?} bases={:?} decos={}", c.name, c.bases, c.decorators.len()); }
        println!("CALLS"); for (i, c) in m.calls.iter().enumerate() { println!("  #{i} path={:?} callee={:?} new={} aw={} func={:?} ctx={:?} line={}\n      args={:?}", c.path, c.callee, c.is_new, c.awaited, c.func, c.ctx, c.span.start_line, c.args.iter().map(|a| &a.value).collect::<Vec<_>>()); }
        println!("BINDINGS"); for b in &m.bindings { println!("  {} = {:?} scope={:?} func={:?}", b.name, b.value, b.scope, b.func); }
        println!("LOOPS {:?}", m.loops);
        println!("TRIES {:?}", m.tries);
        println!("EXITS"); for e in &m.exits { println!("  {:?} {:?} func={:?} ctx={:?}", e.kind, e.value, e.func, e.ctx); }
        println!("COMMENTS {:?}", m.comments.iter().map(|c| &c.text).collect::<Vec<_>>());
    }
}
