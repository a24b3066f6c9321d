//! Text helpers: folding for accent- and case-insensitive search, and making untrusted
//! text (names, status messages) safe to show on one line.

/// Folds text for matching: transliterated to ASCII (José -> jose, Łukasz -> lukasz,
/// Øyvind -> oyvind), lower-cased. Characters with no transliteration are dropped.
pub fn fold(text: &str) -> String {
    if text.is_ascii() {
        // Most names and addresses: no transliteration to look up.
        return text.to_ascii_lowercase();
    }
    let mut out = String::with_capacity(text.len());
    out.extend(folded_chars(text));
    out
}

/// Appends [`fold`]`(text)` to `out` (a buffer kept between calls).
pub fn fold_into(out: &mut String, text: &str) {
    if text.is_ascii() {
        let start = out.len();
        out.push_str(text);
        // ASCII in, ASCII out: lower-casing in place keeps the string valid.
        if let Some(added) = out.get_mut(start..) {
            added.make_ascii_lowercase();
        }
    } else {
        out.extend(folded_chars(text));
    }
}

/// The characters of [`fold`]`(text)`, without building the string.
pub fn folded_chars(text: &str) -> impl Iterator<Item = char> + '_ {
    text.chars().flat_map(|c| {
        let (ascii, transliterated) = if c.is_ascii() {
            (Some(c.to_ascii_lowercase()), "")
        } else {
            (None, deunicode::deunicode_char(c).unwrap_or_default())
        };
        ascii
            .into_iter()
            .chain(transliterated.chars().map(|a| a.to_ascii_lowercase()))
    })
}

/// Whether [`fold`]`(text)` starts with `folded_prefix`, without building it.
pub fn folded_starts_with(text: &str, folded_prefix: &str) -> bool {
    let mut folded = folded_chars(text);
    folded_prefix.chars().all(|p| folded.next() == Some(p))
}

/// Splits folded text into words: runs of ASCII letters and digits.
pub fn words(folded: &str) -> impl Iterator<Item = &str> {
    folded
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
}

/// Longest text shown for one field on one line, in characters.
pub const MAX_LINE_CHARS: usize = 300;

/// Makes untrusted text safe for a single line: control characters (newlines, tabs, NUL)
/// become spaces, bidirectional overrides and isolates are removed so right-to-left text
/// cannot reorder what follows it, runs of whitespace collapse, and the result is cut to
/// `max_chars` with an ellipsis.
pub fn single_line(text: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max_chars * 4));
    let mut count = 0;
    let mut last_was_space = true;
    for c in text.chars() {
        if is_bidi_control(c) {
            continue;
        }
        let c = if c.is_control() || c.is_whitespace() {
            ' '
        } else {
            c
        };
        if c == ' ' {
            if last_was_space {
                continue;
            }
            last_was_space = true;
        } else {
            last_was_space = false;
        }
        if count == max_chars {
            out.truncate(out.trim_end().len());
            out.push('…');
            return out;
        }
        out.push(c);
        count += 1;
    }
    out.truncate(out.trim_end().len());
    out
}

/// Whether `text` is already what [`single_line`] makes of it, so it need not be copied
/// (most names, departments and titles are).
pub fn is_single_line(text: &str, max_chars: usize) -> bool {
    // A space may not lead, follow another, or end the text.
    let mut last_was_space = true;
    let mut count = 0;
    for c in text.chars() {
        if is_bidi_control(c) || c.is_control() || (c.is_whitespace() && c != ' ') {
            return false;
        }
        if c == ' ' && last_was_space {
            return false;
        }
        last_was_space = c == ' ';
        count += 1;
        if count > max_chars {
            return false;
        }
    }
    !(last_was_space && count > 0)
}

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_accents_and_case() {
        assert_eq!(fold("José Łukasz ØYVIND Zoë"), "jose lukasz oyvind zoe");
        assert_eq!(
            words("anna.rossi@contoso.com").collect::<Vec<_>>(),
            ["anna", "rossi", "contoso", "com"]
        );
        assert!(folded_starts_with(
            "José.García@Contoso.com",
            "jose.garcia@c"
        ));
        assert!(folded_starts_with("Łukasz", ""));
        assert!(!folded_starts_with("Jo", "jose"));
        assert!(!folded_starts_with("Maria", "mario"));
    }

    #[test]
    fn single_line_is_safe() {
        assert_eq!(single_line("a\nb\t\tc\u{0}", 50), "a b c");
        assert_eq!(single_line("\u{202E}evil", 50), "evil");
        let long = "x".repeat(5000);
        let cut = single_line(&long, 10);
        assert_eq!(cut.chars().count(), 11);
        assert!(cut.ends_with('…'));
        assert_eq!(single_line("שלום 😀", 50), "שלום 😀");
    }
}
