//! Renders a [`Report`](crate::Report) for people and machines.

pub mod github;
pub mod json;
pub mod sarif;
pub mod terminal;

use crate::facts::Span;

/// 1-based line and column of `span`'s start in `source`, the column counted
/// in Unicode scalar values (what editors show). Falls back to the byte
/// column when the source is not at hand.
pub fn char_position(source: Option<&str>, span: &Span) -> (u32, u32) {
    (
        span.start_line,
        char_col(source, span.start_line, span.start_col),
    )
}

pub fn char_end(source: Option<&str>, span: &Span) -> (u32, u32) {
    (span.end_line, char_col(source, span.end_line, span.end_col))
}

fn char_col(source: Option<&str>, line: u32, byte_col: u32) -> u32 {
    match line_prefix(source, line, byte_col) {
        Some(p) => p.chars().count() as u32 + 1,
        None => byte_col + 1,
    }
}

/// The same, in UTF-16 code units (SARIF's `utf16CodeUnits`).
pub fn utf16_col(source: Option<&str>, line: u32, byte_col: u32) -> u32 {
    match line_prefix(source, line, byte_col) {
        Some(p) => p.encode_utf16().count() as u32 + 1,
        None => byte_col + 1,
    }
}

/// The text of 1-based `line` before byte column `byte_col` (clamped to a
/// character boundary), when the source is at hand.
fn line_prefix(source: Option<&str>, line: u32, byte_col: u32) -> Option<&str> {
    let text = source?.split('\n').nth(line.saturating_sub(1) as usize)?;
    let b = (byte_col as usize).min(text.len());
    let b = (0..=b)
        .rev()
        .find(|i| text.is_char_boundary(*i))
        .unwrap_or(0);
    Some(&text[..b])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_count_characters_not_bytes() {
        let src = "x = 1\né = requests.get(u)\n";
        // `requests` starts at byte 5 of line 2: "é = " is 5 bytes, 4 chars.
        assert_eq!(char_col(Some(src), 2, 5), 5);
        assert_eq!(utf16_col(Some(src), 2, 5), 5);
        let emoji = "s = '😀'; requests.get(u)";
        // 😀 is 4 bytes, 1 char, 2 UTF-16 units; `requests` starts at byte
        // 12, after 9 chars (10 UTF-16 units).
        assert_eq!(emoji.find("requests"), Some(12));
        assert_eq!(char_col(Some(emoji), 1, 12), 10);
        assert_eq!(utf16_col(Some(emoji), 1, 12), 11);
        // A byte column inside a character counts from its start.
        assert_eq!(utf16_col(Some(emoji), 1, 7), 6);
        // No source: the byte column, 1-based.
        assert_eq!(utf16_col(None, 1, 12), 13);
    }
}
