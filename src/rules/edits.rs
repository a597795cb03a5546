//! Building the edits of mechanical fixes (`--fix`, SARIF `fixes`) from
//! facts: where an argument list, an argument or a value is written. Never
//! from the text: rules do not read files, and a fix is only offered where
//! the facts say exactly where it goes.

use crate::facts::{Expr, ListSpan, Span};
use crate::finding::{Edit, Fix};

/// The empty span at the end of `s`: where text is inserted after it.
pub fn after(s: Span) -> Span {
    Span {
        start_byte: s.end_byte,
        end_byte: s.end_byte,
        start_line: s.end_line,
        start_col: s.end_col,
        end_line: s.end_line,
        end_col: s.end_col,
    }
}

/// The empty span at the start of `s`.
pub fn before(s: Span) -> Span {
    Span {
        start_byte: s.start_byte,
        end_byte: s.start_byte,
        start_line: s.start_line,
        start_col: s.start_col,
        end_line: s.start_line,
        end_col: s.start_col,
    }
}

/// From the start of `a` to the start of `b` (on a later or the same place).
pub fn between(a: Span, b: Span) -> Span {
    Span {
        start_byte: a.start_byte,
        end_byte: b.start_byte,
        start_line: a.start_line,
        start_col: a.start_col,
        end_line: b.start_line,
        end_col: b.start_col,
    }
}

pub fn replace(span: Span, text: impl Into<String>) -> Edit {
    Edit {
        span,
        replacement: text.into(),
    }
}

pub fn insert(at: Span, text: impl Into<String>) -> Edit {
    replace(at, text)
}

/// Adds `item` at the end of a bracketed list: `, item` after its last
/// item; on a line of its own when the list is written one item a line
/// with a trailing comma; alone between the brackets of an empty list
/// (`padded`: `{ item }`, else `(item)`).
pub fn append(list: &ListSpan, item: &str, padded: bool) -> Edit {
    match (list.last, list.trailing_comma, &list.indent) {
        (Some(_), Some(comma), Some(indent)) => insert(after(comma), format!("\n{indent}{item},")),
        (Some(last), ..) => insert(after(last), format!(", {item}")),
        // Empty (perhaps with blanks or comments inside): right after the
        // opening bracket, which leaves whatever is inside in place.
        (None, ..) => {
            let s = list.span;
            let at = Span {
                start_byte: s.start_byte + 1,
                end_byte: s.start_byte + 1,
                start_line: s.start_line,
                start_col: s.start_col + 1,
                end_line: s.start_line,
                end_col: s.start_col + 1,
            };
            insert(
                at,
                if padded {
                    format!(" {item} ")
                } else {
                    item.to_string()
                },
            )
        }
    }
}

/// One fix.
pub fn fix(description: impl Into<String>, edits: Vec<Edit>) -> Option<Fix> {
    (!edits.is_empty()).then(|| Fix {
        description: description.into(),
        edits,
    })
}

/// A value written as a literal we may overwrite: `None`/`null`, a
/// number, a boolean, a tuple or list of those, or a call whose arguments
/// are all those (`httpx.Timeout(None)`). A name or an attribute may be
/// read elsewhere: never overwritten.
pub fn literal(e: &Expr, calls: &dyn Fn(u32) -> Option<Vec<Expr>>) -> bool {
    match e {
        Expr::Null | Expr::Num(_) | Expr::Bool(_) => true,
        Expr::Unary { operand, .. } => matches!(**operand, Expr::Num(_)),
        Expr::Array(items) => items.iter().all(|i| literal(i, calls)),
        Expr::Call(id) => calls(*id).is_some_and(|args| args.iter().all(|a| literal(a, calls))),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sp(start: u32, end: u32, line: u32, col: u32) -> Span {
        Span {
            start_byte: start,
            end_byte: end,
            start_line: line,
            start_col: col,
            end_line: line,
            end_col: col + (end - start),
        }
    }

    #[test]
    fn append_goes_after_the_last_item_or_on_its_own_line() {
        // f(a)
        let one = ListSpan {
            span: sp(1, 4, 1, 1),
            last: Some(sp(2, 3, 1, 2)),
            trailing_comma: None,
            indent: None,
        };
        let e = append(&one, "t=1", false);
        assert_eq!((e.span.start_byte, e.replacement.as_str()), (3, ", t=1"));
        // f(\n    a,\n)
        let multi = ListSpan {
            span: Span {
                start_byte: 1,
                end_byte: 11,
                start_line: 1,
                start_col: 1,
                end_line: 3,
                end_col: 1,
            },
            last: Some(sp(7, 8, 2, 4)),
            trailing_comma: Some(sp(8, 9, 2, 5)),
            indent: Some("    ".into()),
        };
        let e = append(&multi, "t=1", false);
        assert_eq!(
            (e.span.start_byte, e.replacement.as_str()),
            (9, "\n    t=1,")
        );
        // {}
        let empty = ListSpan {
            span: sp(0, 2, 1, 0),
            ..ListSpan::default()
        };
        let e = append(&empty, "a: 1", true);
        assert_eq!((e.span.start_byte, e.replacement.as_str()), (1, " a: 1 "));
    }
}
