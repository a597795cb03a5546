//! Access decisions: which functions decide whether a request gets in
//! (authorization and authentication checks, rate-limit and quota gates,
//! bool guards a tool handler consults), and which way their answer points.
//! The names are knowledge (`[auth]` in the packs); this file only reads them.

use super::{FuncRef, Project};
use crate::facts::{Ctx, ExitKind, Expr, FuncId, FuncKind, Module};
use crate::knowledge::{name_words, words_match, AuthChecks};

/// Which boolean grants access.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Polarity {
    /// `is_authorized`: `true` lets the request in.
    AllowWhenTrue,
    /// `is_rate_limited`: `false` lets the request in.
    DenyWhenTrue,
    /// `checkRateLimits(..): Response | null`: a rejection to send, or
    /// nothing when the request may go on.
    NoneAdmits,
}

impl Polarity {
    /// Is `e` the literal that lets a request in?
    pub fn admits(self, e: &Expr) -> bool {
        match (self, e) {
            (Polarity::AllowWhenTrue, Expr::Bool(b)) => *b,
            (Polarity::DenyWhenTrue, Expr::Bool(b)) => !*b,
            (Polarity::NoneAdmits, Expr::Null | Expr::Bool(true)) => true,
            _ => false,
        }
    }

    /// The boolean that keeps the request out, for a gate that answers
    /// with one (`None` for a gate that answers with a rejection or nothing).
    pub fn denies(self) -> Option<bool> {
        match self {
            Polarity::AllowWhenTrue => Some(false),
            Polarity::DenyWhenTrue => Some(true),
            Polarity::NoneAdmits => None,
        }
    }

    /// That literal, as a message spells it.
    /// `null` is the language's own word for "no value".
    pub fn word(self, null: &'static str) -> &'static str {
        match self {
            Polarity::AllowWhenTrue => "true",
            Polarity::DenyWhenTrue => "false",
            Polarity::NoneAdmits => null,
        }
    }
}

/// Why a function counts as an access decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckKind {
    /// Its name says it is a check or a gate.
    Named,
    /// A bool-returning function named with a guard word that a tool
    /// handler calls.
    Guard,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AccessCheck {
    pub polarity: Polarity,
    pub kind: CheckKind,
}

/// The polarity a function or method name gives, from the name patterns
/// alone (deny patterns first: `is_rate_limited` is not an allow check).
pub fn named_polarity(auth: &AuthChecks, name: &str) -> Option<Polarity> {
    if name.is_empty() {
        return None;
    }
    let words = name_words(name);
    if auth.deny_when_true.iter().any(|p| words_match(&words, p)) {
        return Some(Polarity::DenyWhenTrue);
    }
    if auth.allow_when_true.iter().any(|p| words_match(&words, p)) {
        return Some(Polarity::AllowWhenTrue);
    }
    None
}

/// Does a declared return type say "a boolean" (`bool`, `boolean`,
/// `Promise<boolean>`, `Result<bool, E>`, `Optional[bool]`)?
pub fn is_bool_type(t: &str) -> bool {
    name_words(t).iter().any(|w| w == "bool" || w == "boolean")
}

/// Is this expression sitting in an error path (an `except`/`catch`
/// body, an `Err` arm, a let-else block)?
pub fn in_error_path(ctx: &[Ctx]) -> bool {
    ctx.iter().any(|c| matches!(c, Ctx::Catch { .. }))
}

/// Does `func` return a boolean literal on a path that is not an error
/// path: the evidence that it answers yes/no.
fn returns_bool(m: &Module, func: FuncId) -> bool {
    let f = m.func(func);
    if f.returns.as_deref().is_some_and(is_bool_type) || matches!(f.expr_body, Some(Expr::Bool(_)))
    {
        return true;
    }
    m.exits.iter().any(|e| {
        e.func == Some(func)
            && matches!(e.kind, ExitKind::Return | ExitKind::Tail)
            && !in_error_path(&e.ctx)
            && matches!(e.value, Some(Expr::Bool(_)))
    }) || m.tries.iter().any(|t| {
        t.func == Some(func)
            && t.clauses
                .iter()
                .any(|c| matches!(c.value, Some(Expr::Bool(_))))
    })
}

impl Project<'_> {
    /// `f` as an access decision, if it is one.
    pub fn access_check(&self, f: FuncRef) -> Option<AccessCheck> {
        let m = self.module(f.module);
        let func = m.func(f.func);
        // An anonymous function is judged as part of the check it sits in.
        if func.name.is_empty() {
            return None;
        }
        let auth = &self.lk(f.module).auth;
        let words = name_words(&func.name);
        // A gate that answers with a rejection, not a yes/no.
        if auth.rejection_gates.iter().any(|p| words_match(&words, p))
            && !auth.deny_when_true.iter().any(|p| words_match(&words, p))
            && !returns_bool(m, f.func)
        {
            return Some(AccessCheck {
                polarity: Polarity::NoneAdmits,
                kind: CheckKind::Named,
            });
        }
        if let Some(polarity) = named_polarity(auth, &func.name) {
            return Some(AccessCheck {
                polarity,
                kind: CheckKind::Named,
            });
        }
        if func.kind == FuncKind::Lambda && func.parent.is_some() {
            return None;
        }
        if !auth
            .guard_words
            .iter()
            .any(|g| words.iter().any(|w| w == g))
        {
            return None;
        }
        let from_tool = self.callers(f).iter().any(|c| {
            let caller = self.module(c.module).call(c.call).func;
            caller.is_some_and(|g| {
                self.tool(FuncRef {
                    module: c.module,
                    func: g,
                })
                .is_some()
            })
        });
        (from_tool && returns_bool(m, f.func)).then_some(AccessCheck {
            polarity: Polarity::AllowWhenTrue,
            kind: CheckKind::Guard,
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::knowledge::{name_words, words_match};

    #[test]
    fn names_split_into_words_in_every_case() {
        assert_eq!(name_words("isAuthorized"), ["is", "authorized"]);
        assert_eq!(
            name_words("_is_authorized_for"),
            ["is", "authorized", "for"]
        );
        assert_eq!(name_words("verifyJWTToken"), ["verify", "jwt", "token"]);
        assert_eq!(name_words("CheckRateLimits"), ["check", "rate", "limits"]);
        let w = name_words("user_has_permission_for");
        assert!(words_match(&w, "has_permission"));
        assert!(!words_match(&w, "check_permission"));
        assert!(!words_match(&name_words("authorize_url"), "is_authorized"));
    }
}
