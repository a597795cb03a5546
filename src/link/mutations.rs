//! External mutations: what a tool handler changes outside its process
//! (directly or through the project functions it calls), each classified by
//! whether repeating it is safe, and the behaviour hints a tool declares.
//!
//! Only mutations we can read are reported: an HTTP verb we can see (the
//! client method, or a literal `method`), a SQL statement whose text we can
//! read, a file call with a write mode, an SDK call the knowledge packs list.
//! The vocabulary (verbs, SQL keywords, SDK calls, annotation spellings)
//! lives in the packs' `[mutation]`, `[[mutating_call]]` and
//! `[tool_annotations]` tables.

use super::*;
use crate::facts::{Call, Object};
use crate::knowledge::{Effect, MutatingCall, MutationVocab};

/// How far the call graph is followed from a handler.
const MUTATION_DEPTH: u32 = 5;

/// One external mutation.
#[derive(Clone, Debug)]
pub struct Mutation {
    pub call: CallRef,
    pub effect: Effect,
    /// For messages: `an HTTP POST`, `a SQL INSERT`, `a file removal`.
    pub what: String,
    /// The call passes an idempotency key upstream (an `Idempotency-Key`
    /// header, the SDK's `idempotency_key=`).
    pub keyed: bool,
    /// An INSERT that skips a row that exists, or follows a lookup in the
    /// same function: safe to repeat.
    pub deduped: bool,
    /// A POST whose URL or body says it reads (a search, a GraphQL query),
    /// or whose URL we cannot read: not certain to change anything.
    pub maybe_read: bool,
}

impl Mutation {
    /// Repeating it repeats the side effect, and nothing on the call itself
    /// prevents that.
    pub fn repeats(&self) -> bool {
        self.effect == Effect::Create && !self.keyed && !self.deduped
    }

    pub fn deletes(&self) -> bool {
        self.effect == Effect::Delete
    }
}

/// Which behaviour hint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HintKind {
    ReadOnly,
    Destructive,
    Idempotent,
}

/// A behaviour hint written with a literal boolean.
#[derive(Clone, Debug)]
pub struct Hint {
    pub kind: HintKind,
    /// The key as written (`readOnlyHint`, `read_only_hint`).
    pub key: String,
    pub value: bool,
    /// Where it is written: module and span (the registration's, when the
    /// adapter did not record the key's own).
    pub module: u32,
    pub span: Span,
}

/// `name` holds `word` as a whole word of its snake_case / camelCase /
/// kebab-case spelling (`create_order`, `sendEmail`; not `logbook`).
pub fn name_words(name: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for ch in name.chars() {
        if !ch.is_alphanumeric() {
            if !cur.is_empty() {
                words.push(std::mem::take(&mut cur));
            }
            prev_lower = false;
            continue;
        }
        if ch.is_uppercase() && prev_lower && !cur.is_empty() {
            words.push(std::mem::take(&mut cur));
        }
        prev_lower = ch.is_lowercase() || ch.is_ascii_digit();
        cur.extend(ch.to_lowercase());
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    words
}

/// The first mutating verb among the words of `name`.
pub fn mutating_verb<'a>(vocab: &'a MutationVocab, name: &str) -> Option<&'a str> {
    let words = name_words(name);
    vocab
        .verbs
        .iter()
        .find(|v| words.iter().any(|w| w == *v))
        .map(String::as_str)
}

/// Lower-cased, with `_` and `-` removed: `request_id` and `requestId` match.
fn squash(s: &str) -> String {
    s.chars()
        .filter(|c| *c != '_' && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

/// `e` reads or builds something named like an idempotency key.
fn mentions_key(vocab: &MutationVocab, e: &Expr) -> bool {
    let mut found = false;
    e.walk(&mut |x| match x {
        Expr::Name(n) | Expr::Attr(_, n) => found |= is_key_name(vocab, n),
        Expr::Object(o) => found |= o.entries.iter().any(|(k, _)| is_key_name(vocab, k)),
        _ => {}
    });
    found
}

/// `name` carries an idempotency key by its name.
pub fn is_key_name(vocab: &MutationVocab, name: &str) -> bool {
    let n = squash(name);
    vocab.key_names.iter().any(|k| n.contains(&squash(k)))
}

impl Project<'_> {
    /// The functions a handler runs: itself, the closures inside it, and
    /// the project functions they call (to a fixed depth), in visit order.
    pub fn handler_functions(&self, f: FuncRef) -> Vec<FuncRef> {
        let mut out = vec![f];
        let mut seen: HashSet<FuncRef> = HashSet::from([f]);
        let mut queue = VecDeque::from([(f, 0u32)]);
        while let Some((g, depth)) = queue.pop_front() {
            let module = self.module(g.module);
            let mut next: Vec<FuncRef> = module
                .func_children
                .get(g.func as usize)
                .into_iter()
                .flatten()
                .map(|c| FuncRef {
                    module: g.module,
                    func: *c,
                })
                .collect();
            if depth < MUTATION_DEPTH {
                next.extend(module.calls_in(Some(g.func)).iter().filter_map(|c| {
                    let r = CallRef {
                        module: g.module,
                        call: *c,
                    };
                    self.target(r).or_else(|| self.only_method_named(r))
                }));
            }
            for n in next {
                if seen.insert(n) {
                    out.push(n);
                    queue.push_back((n, depth + 1));
                }
            }
        }
        out
    }

    /// For a method call on a receiver we cannot type, the one method of
    /// that name the project defines, if there is exactly one.
    fn only_method_named(&self, c: CallRef) -> Option<FuncRef> {
        let call = self.module(c.module).call(c.call);
        call.method.as_ref()?;
        match self.by_name.get(call.name()?)?.as_slice() {
            [f] if self.module(f.module).func(f.func).class.is_some() => Some(*f),
            _ => None,
        }
    }

    /// Every external mutation a handler performs.
    pub fn handler_mutations(&self, f: FuncRef) -> Vec<Mutation> {
        let mut out = Vec::new();
        for g in self.handler_functions(f) {
            for &c in self.module(g.module).calls_in(Some(g.func)) {
                if let Some(m) = self.mutation(CallRef {
                    module: g.module,
                    call: c,
                }) {
                    out.push(m);
                }
            }
        }
        out
    }

    /// The handler takes an idempotency key and uses it: a parameter, or a
    /// field or key it reads or passes on, named like one.
    pub fn takes_idempotency_key(&self, f: FuncRef) -> bool {
        let module = self.module(f.module);
        let vocab = &self.lk(f.module).mutation;
        let func = module.func(f.func);
        if func
            .params
            .iter()
            .flat_map(|p| std::iter::once(&p.name).chain(&p.destructured))
            .any(|n| is_key_name(vocab, n))
        {
            return true;
        }
        let look = |e: &Expr| mentions_key(vocab, e);
        self.handler_functions(f).into_iter().any(|g| {
            let gm = self.module(g.module);
            gm.calls_in(Some(g.func)).iter().any(|&c| {
                let call = gm.call(c);
                call.args.iter().any(|a| look(&a.value)) || call.receiver.as_ref().is_some_and(look)
            }) || gm
                .bindings
                .iter()
                .filter(|b| b.func == Some(g.func))
                .any(|b| look(&b.value))
        })
    }

    /// The external mutation call `c` makes, if we can tell it makes one.
    pub fn mutation(&self, c: CallRef) -> Option<Mutation> {
        let module = self.module(c.module);
        let call = module.call(c.call);
        let lk = self.lk(c.module);
        let vocab = &lk.mutation;
        let up = self.upstream(c);
        if let Some(up) = &up {
            if vocab.http_clients.contains(&up.client.name) {
                return self.http_mutation(c, call, vocab);
            }
            if up.kind() == crate::knowledge::ClientKind::Db {
                if let Some(m) = self.sql_mutation(c, call, vocab) {
                    return Some(m);
                }
            }
        }
        // A project function of the same name is followed, not guessed at:
        // a method name alone says what a call does only on a known SDK
        // client, or where the project defines no method of that name.
        let ours = self.target(c).is_some()
            || up.is_none()
                && call.method.is_some()
                && call.name().is_some_and(|n| self.by_name.contains_key(n));
        let mc = lk
            .mutating_calls
            .iter()
            .filter(|mc| !ours || !mc.callee.is_empty())
            .find(|mc| self.is_mutating_call(c, call, mc, up.as_ref()))?;
        // Removing what the handler made for itself, in a `finally` or on
        // an error, is cleanup, not a change anyone sees.
        if mc.effect == Effect::Delete
            && call
                .ctx
                .iter()
                .any(|x| matches!(x, Ctx::Finally(_) | Ctx::Catch { .. }))
        {
            return None;
        }
        let keyed = self.passes_key(c, call, &mc.key_args, vocab);
        let name = call.name().unwrap_or("call");
        let what = match mc.effect {
            Effect::Create => format!("`{name}(..)`"),
            Effect::Write => format!("a write (`{name}(..)`)"),
            Effect::Delete => format!("a removal (`{name}(..)`)"),
        };
        Some(Mutation {
            call: c,
            effect: mc.effect,
            what,
            keyed,
            deduped: false,
            maybe_read: false,
        })
    }

    fn is_mutating_call(
        &self,
        c: CallRef,
        call: &Call,
        mc: &MutatingCall,
        up: Option<&Upstream>,
    ) -> bool {
        let method_ok =
            |names: &[String]| call.name().is_some_and(|n| names.iter().any(|x| x == n));
        let matched = if !mc.callee.is_empty() {
            call.path
                .as_deref()
                .is_some_and(|p| any_matches(&mc.callee, p))
                && (mc.methods.is_empty() || method_ok(&mc.methods))
        } else if let Some(client) = &mc.client {
            up.is_some_and(|u| u.client.name == *client) && method_ok(&mc.methods)
        } else if !mc.constructors.is_empty() {
            call.method.is_some()
                && method_ok(&mc.methods)
                && self.receiver_built_by(c, call, &mc.constructors)
        } else {
            call.method.is_some() && method_ok(&mc.methods)
        };
        if !matched {
            return false;
        }
        if mc.mode_arg.is_none() && mc.mode_kwarg.is_none() {
            return true;
        }
        // A file opened for writing: only a mode we can read counts.
        let mode = mc
            .mode_kwarg
            .as_deref()
            .and_then(|k| call.kwarg(k))
            .or_else(|| mc.mode_arg.and_then(|i| call.positional(i)));
        match mode.and_then(|e| self.text_of(c.module, call.func, e, call.span.start_byte)) {
            Some(m) => mc.write_modes.iter().any(|w| m.contains(w.as_str())),
            None => false,
        }
    }

    /// The receiver of `call` (or an object it is an attribute of:
    /// `client.messages` of `client`) was built by one of `ctors`.
    fn receiver_built_by(&self, c: CallRef, call: &Call, ctors: &[String]) -> bool {
        let mut recv = call.receiver.as_ref();
        for _ in 0..4 {
            let Some(r) = recv else { return false };
            let built = self
                .trace(c.module, call.func, r, call.span.start_byte)
                .iter()
                .any(|o| match o {
                    Origin::Call(k) => {
                        let kc = self.module(k.module).call(k.call);
                        kc.path.as_deref().is_some_and(|p| any_matches(ctors, p))
                    }
                    _ => false,
                });
            if built {
                return true;
            }
            recv = match r {
                Expr::Attr(o, _) => Some(o),
                _ => None,
            };
        }
        false
    }

    fn http_mutation(&self, c: CallRef, call: &Call, vocab: &MutationVocab) -> Option<Mutation> {
        let pos = call.span.start_byte;
        let name = call.name()?;
        let verb = if vocab.http_verbs.contains_key(name) {
            Some(name.to_string())
        } else if vocab.verb_arg_methods.iter().any(|m| m == name) {
            call.positional(0)
                .and_then(|e| self.verb_text(c.module, call, e))
        } else {
            None
        };
        // The verb in an options object (`fetch(url, { method: "POST" })`,
        // `axios({ method, url })`); without one, the client's GET.
        let verb = verb.or_else(|| {
            call.args.iter().find_map(|a| match &a.value {
                Expr::Object(o) => vocab
                    .verb_keys
                    .iter()
                    .find_map(|k| o.get(k))
                    .and_then(|e| self.verb_text(c.module, call, e)),
                _ => None,
            })
        })?;
        let verb = verb.to_ascii_lowercase();
        let effect = *vocab.http_verbs.get(&verb)?;
        let url = call
            .positional(0)
            .filter(|_| !vocab.verb_arg_methods.iter().any(|m| m == name))
            .or_else(|| call.positional(1))
            .or_else(|| call.kwarg("url"))
            .and_then(|e| self.text_of(c.module, call.func, e, pos));
        let body_queries = call.args.iter().any(|a| {
            let mut q = false;
            a.value.walk(&mut |x| {
                if let Expr::Object(o) = x {
                    q |= o.get("query").is_some();
                }
            });
            q
        });
        let maybe_read = effect == Effect::Create
            && (body_queries
                || url.as_deref().is_none_or(|u| {
                    let u = u.to_ascii_lowercase();
                    vocab.read_post_words.iter().any(|w| u.contains(w.as_str()))
                }));
        Some(Mutation {
            call: c,
            effect,
            what: format!("an HTTP {}", verb.to_ascii_uppercase()),
            keyed: self.passes_key(c, call, &[], vocab),
            deduped: false,
            maybe_read,
        })
    }

    /// An HTTP verb written as a string or a constant (`Method::POST`).
    fn verb_text(&self, m: u32, call: &Call, e: &Expr) -> Option<String> {
        match e {
            Expr::Name(n) => Some(last_segment(n).to_string()),
            Expr::Attr(_, n) => Some(n.clone()),
            e => self.text_of(m, call.func, e, call.span.start_byte),
        }
    }

    fn sql_mutation(&self, c: CallRef, call: &Call, vocab: &MutationVocab) -> Option<Mutation> {
        let sql = self.sql_of(c.module, call)?;
        let (keyword, rest) = first_keyword(&sql)?;
        let mut effect = *vocab.sql_statements.get(&keyword)?;
        let upper = sql.to_ascii_uppercase();
        let deletes = vocab.sql_deletes.contains(&keyword);
        if deletes {
            effect = Effect::Delete;
        }
        let mut deduped = false;
        if keyword == "UPDATE" && effect != Effect::Delete {
            effect = if relative_set(rest) {
                Effect::Create
            } else {
                Effect::Write
            };
        }
        if keyword == "INSERT" {
            deduped = vocab
                .sql_insert_dedup
                .iter()
                .any(|d| upper.contains(d.as_str()))
                || self.lookup_before(c, call);
        }
        Some(Mutation {
            call: c,
            effect,
            what: format!("a SQL {keyword}"),
            keyed: false,
            deduped,
            maybe_read: false,
        })
    }

    /// A SELECT .. WHERE run earlier in the same function: a lookup by key
    /// before an insert.
    fn lookup_before(&self, c: CallRef, call: &Call) -> bool {
        let module = self.module(c.module);
        module.calls_in(call.func).iter().any(|&o| {
            let oc = module.call(o);
            oc.span.start_byte < call.span.start_byte
                && self
                    .upstream(CallRef {
                        module: c.module,
                        call: o,
                    })
                    .is_some_and(|u| u.kind() == crate::knowledge::ClientKind::Db)
                && self.sql_of(c.module, oc).is_some_and(|s| {
                    let u = s.to_ascii_uppercase();
                    first_keyword(&s).is_some_and(|(k, _)| k == "SELECT") && u.contains("WHERE")
                })
        })
    }

    /// The SQL text a database call runs: its first argument, a `text`/`sql`
    /// key of an options object, or the statement it is chained on
    /// (`sqlx::query("..").execute(&pool)`); through one wrapping call
    /// (`text("..")`) and constants.
    fn sql_of(&self, m: u32, call: &Call) -> Option<String> {
        let module = self.module(m);
        let mut cur = Some(call);
        for _ in 0..4 {
            let c = cur?;
            let arg = c.positional(0).or_else(|| c.kwarg("query"));
            let arg = match arg {
                Some(Expr::Object(o)) => o.get("text").or_else(|| o.get("sql")),
                Some(Expr::Call(id)) => module.call(*id).positional(0),
                a => a,
            };
            if let Some(s) = arg.and_then(|e| self.text_of(m, c.func, e, c.span.start_byte)) {
                if first_keyword(&s).is_some() {
                    return Some(s);
                }
            }
            cur = match &c.receiver {
                Some(Expr::Call(r)) => Some(module.call(*r)),
                _ => None,
            };
        }
        None
    }

    /// The text of a string expression: a literal, an interpolated string
    /// (interpolations read as `?`), a `+` concatenation, or a constant.
    pub fn text_of(&self, m: u32, func: Option<FuncId>, e: &Expr, pos: u32) -> Option<String> {
        match e {
            Expr::Str(s) => Some(s.clone()),
            Expr::Template(parts) => Some(
                parts
                    .iter()
                    .map(|p| match p {
                        TemplatePart::Lit(s) => s.clone(),
                        TemplatePart::Expr(_) => "?".to_string(),
                    })
                    .collect(),
            ),
            Expr::Binary { op, lhs, rhs } if op == "+" => Some(
                self.text_of(m, func, lhs, pos)
                    .unwrap_or_else(|| "?".into())
                    + &self
                        .text_of(m, func, rhs, pos)
                        .unwrap_or_else(|| "?".into()),
            ),
            Expr::Name(_) | Expr::Attr(..) => {
                let mut found: Option<String> = None;
                for o in self.trace(m, func, e, pos) {
                    match o {
                        Origin::Lit(om, of, x @ (Expr::Str(_) | Expr::Template(_)))
                            if found.is_none() =>
                        {
                            found = self.text_of(om, of, &x, pos);
                        }
                        _ => return None,
                    }
                }
                found
            }
            _ => None,
        }
    }

    /// The call passes an idempotency key upstream: one of the SDK's `keys`
    /// as a keyword or option key, or a header named like one, on the call,
    /// in an options object it is given by name, or on its builder chain
    /// (`.header("Idempotency-Key", k)`).
    fn passes_key(&self, c: CallRef, call: &Call, keys: &[String], vocab: &MutationVocab) -> bool {
        let module = self.module(c.module);
        let is_header = |s: &str| {
            let s = s.to_ascii_lowercase();
            vocab.key_headers.contains(&s)
        };
        let mut found = false;
        let look = |e: &Expr, found: &mut bool| {
            e.walk(&mut |x| match x {
                Expr::Object(o) => {
                    *found |= o
                        .entries
                        .iter()
                        .any(|(k, _)| is_header(k) || keys.iter().any(|x| x == k))
                }
                Expr::Str(s) => *found |= is_header(s),
                _ => {}
            })
        };
        for a in &call.args {
            if a.name
                .as_deref()
                .is_some_and(|n| keys.iter().any(|k| k == n))
            {
                return true;
            }
            look(&a.value, &mut found);
            if let Expr::Name(_) = a.value {
                for o in self.trace(c.module, call.func, &a.value, call.span.start_byte) {
                    if let Origin::Lit(_, _, x) = o {
                        look(&x, &mut found);
                    }
                }
            }
        }
        for id in chained_after(module, c.call) {
            for a in &module.call(id).args {
                look(&a.value, &mut found);
            }
        }
        found
    }

    /// The behaviour hints written literally for tool entry `e`: on the
    /// handler's decorator or attribute, or on the registration call.
    pub fn tool_hints(&self, e: &Entry) -> Vec<Hint> {
        let ta = &self.lk(e.module).tool_annotations;
        let mut out = Vec::new();
        let hm = self.module(e.func.module);
        let mut calls: Vec<(u32, &Call)> = hm
            .func(e.func.func)
            .decorators
            .iter()
            .filter_map(|d| match d.expr {
                Expr::Call(id) => Some((e.func.module, hm.call(id))),
                _ => None,
            })
            .collect();
        let rm = self.module(e.module);
        if let Some(reg) = rm.calls.iter().find(|c| c.span == e.span) {
            calls.push((e.module, reg));
            // The handler wrapped where it is registered:
            // `mcp.add_tool(Tool.from_function(f, annotations=..))`.
            for a in &reg.args {
                if let Expr::Call(id) = a.value {
                    calls.push((e.module, rm.call(id)));
                }
            }
        }
        for (m, call) in calls {
            let fallback = call.span;
            let mut values: Vec<(&Expr, Span)> = Vec::new();
            for k in &ta.keys {
                if let Some(v) = call.kwarg(k) {
                    values.push((v, call.kwarg_span(k).unwrap_or(fallback)));
                }
            }
            for a in call.args.iter().filter(|a| a.name.is_none()) {
                let Expr::Object(o) = &a.value else { continue };
                for k in &ta.keys {
                    if let Some(v) = o.get(k) {
                        values.push((v, o.span_of(k).unwrap_or(fallback)));
                    }
                }
                // `server.tool(name, desc, schema, { readOnlyHint: true }, cb)`.
                if hint_keys(ta).any(|(k, _)| o.get(k).is_some()) {
                    values.push((&a.value, fallback));
                }
            }
            for (v, at) in values {
                self.hints_in(m, call, v, at, &mut out);
            }
        }
        out
    }

    fn hints_in(&self, m: u32, call: &Call, v: &Expr, at: Span, out: &mut Vec<Hint>) {
        let ta = &self.lk(m).tool_annotations;
        let module = self.module(m);
        let push = |key: &str, val: &Expr, span: Span, out: &mut Vec<Hint>| {
            let Expr::Bool(b) = val else { return };
            if let Some((_, kind)) = hint_keys(ta).find(|(k, _)| *k == key) {
                out.push(Hint {
                    kind,
                    key: key.to_string(),
                    value: *b,
                    module: m,
                    span,
                });
            }
        };
        match v {
            Expr::Object(o) => object_hints(o, at, &mut |k, val, s| push(k, val, s, out)),
            Expr::Call(id) => {
                let c = module.call(*id);
                let built = c.path.as_deref().or(c.name()).is_some_and(|p| {
                    any_matches(&ta.constructors, p)
                        || ta.constructors.iter().any(|x| last_segment(x) == p)
                });
                if built {
                    for (i, a) in c.args.iter().enumerate() {
                        if let Some(k) = &a.name {
                            let s = c
                                .arg_spans
                                .get(i)
                                .copied()
                                .filter(|s| *s != Span::default());
                            push(k, &a.value, s.unwrap_or(c.span), out);
                        }
                    }
                }
            }
            Expr::Name(_) => {
                for o in self.trace(m, call.func, v, call.span.start_byte) {
                    match o {
                        Origin::Lit(om, _, x @ Expr::Object(_)) if om == m => {
                            self.hints_in(m, call, &x, at, out)
                        }
                        Origin::Call(k) if k.module == m => {
                            self.hints_in(m, call, &Expr::Call(k.call), at, out)
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
}

fn hint_keys(
    ta: &crate::knowledge::ToolAnnotations,
) -> impl Iterator<Item = (&str, HintKind)> + '_ {
    ta.read_only
        .iter()
        .map(|k| (k.as_str(), HintKind::ReadOnly))
        .chain(
            ta.destructive
                .iter()
                .map(|k| (k.as_str(), HintKind::Destructive)),
        )
        .chain(
            ta.idempotent
                .iter()
                .map(|k| (k.as_str(), HintKind::Idempotent)),
        )
}

fn object_hints(o: &Object, at: Span, f: &mut dyn FnMut(&str, &Expr, Span)) {
    for (i, (k, v)) in o.entries.iter().enumerate() {
        let s = o.spans.get(i).copied().filter(|s| *s != Span::default());
        f(k, v, s.unwrap_or(at));
    }
}

/// The first keyword of a SQL statement, upper-case, and the text after it;
/// leading blanks, comments and parentheses are skipped.
pub fn first_keyword(sql: &str) -> Option<(String, &str)> {
    let mut s = sql;
    loop {
        s = s.trim_start_matches(|c: char| c.is_whitespace() || c == '(');
        if let Some(r) = s.strip_prefix("--") {
            s = r.split_once('\n').map(|(_, r)| r).unwrap_or("");
        } else if let Some(r) = s.strip_prefix("/*") {
            s = r.split_once("*/").map(|(_, r)| r).unwrap_or("");
        } else {
            break;
        }
    }
    let end = s
        .find(|c: char| !c.is_ascii_alphabetic())
        .unwrap_or(s.len());
    if end == 0 {
        return None;
    }
    Some((s[..end].to_ascii_uppercase(), &s[end..]))
}

/// `s` split at the commas outside parentheses.
fn top_level_commas(s: &str) -> Vec<&str> {
    let (mut out, mut depth, mut start) = (Vec::new(), 0i32, 0);
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

/// An UPDATE's SET assigns a column from itself (`qty = qty + $1`).
fn relative_set(rest: &str) -> bool {
    let upper = rest.to_ascii_uppercase();
    let Some(set) = upper.find("SET") else {
        return false;
    };
    let body = &rest[set + 3..];
    let end = ["WHERE", "RETURNING", "FROM"]
        .iter()
        .filter_map(|w| body.to_ascii_uppercase().find(w))
        .min()
        .unwrap_or(body.len());
    top_level_commas(&body[..end]).into_iter().any(|a| {
        let Some((col, val)) = a.split_once('=') else {
            return false;
        };
        let col = col.trim().trim_matches(['"', '`', '[', ']']);
        let col = col.rsplit('.').next().unwrap_or(col).to_ascii_lowercase();
        let val = val.trim().to_ascii_lowercase();
        let val = val.strip_prefix("coalesce(").unwrap_or(&val);
        let val = val.trim_start_matches(['"', '`']);
        !col.is_empty()
            && val.strip_prefix(col.as_str()).is_some_and(|r| {
                let r = r.trim_start_matches(['"', '`']);
                let r = r.trim_start_matches([',', ' ', '0', ')']);
                r.trim_start().starts_with(['+', '-', '|'])
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_of_names() {
        assert_eq!(name_words("create_order"), ["create", "order"]);
        assert_eq!(name_words("sendEmail"), ["send", "email"]);
        assert_eq!(name_words("logbook"), ["logbook"]);
        assert_eq!(name_words("list-deployments"), ["list", "deployments"]);
    }

    #[test]
    fn sql_keywords_and_relative_sets() {
        assert_eq!(first_keyword("  -- c\n insert into t").unwrap().0, "INSERT");
        assert!(relative_set(" stock SET qty = qty + $1 WHERE id = $2"));
        assert!(relative_set(" t SET n = COALESCE(n, 0) + 1"));
        assert!(!relative_set(" stock SET qty = $1 WHERE id = $2"));
        assert!(!relative_set(" t SET a = b + 1"));
    }
}
