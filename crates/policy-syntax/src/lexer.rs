//! The lexer: every byte of the text in exactly one token, white space and comments included, so that
//! the tokens joined give the text back. It never fails: a character the language has no use for is an
//! `Unknown` token, a string never closed runs to the end of the file, and the parser reports both.
//!
//! One rule depends on context, as in the grammar: the `{` after an example's `order` or `expect` opens
//! a JSON object, taken whole as one token (brackets balanced, strings skipped), since JSON is read by
//! serde_json and not by the policy grammar.

use crate::kind::SyntaxKind;

/// A token: its kind and its byte range in the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    /// What it is.
    pub kind: SyntaxKind,
    /// Its first byte.
    pub start: usize,
    /// One past its last byte.
    pub end: usize,
}

/// The tokens of `text`, in order, covering it byte for byte.
pub fn lex(text: &str) -> Vec<Token> {
    let bytes = text.as_bytes();
    let mut tokens: Vec<Token> = Vec::new();
    let mut at = 0;
    // The last two significant words or tokens, for the JSON rule.
    let mut last: [Option<(SyntaxKind, usize, usize)>; 2] = [None, None];
    if text.starts_with('\u{FEFF}') {
        tokens.push(Token {
            kind: SyntaxKind::Bom,
            start: 0,
            end: 3,
        });
        at = 3;
    }
    while at < bytes.len() {
        let start = at;
        let byte = bytes[at];
        let kind = match byte {
            b' ' | b'\t' | b'\r' | b'\n' => {
                while at < bytes.len() && matches!(bytes[at], b' ' | b'\t' | b'\r' | b'\n') {
                    at += 1;
                }
                SyntaxKind::Whitespace
            }
            b'#' => {
                while at < bytes.len() && bytes[at] != b'\n' {
                    at += 1;
                }
                SyntaxKind::Comment
            }
            b'"' => {
                at += 1;
                let mut closed = false;
                while at < bytes.len() {
                    match bytes[at] {
                        b'"' => {
                            at += 1;
                            closed = true;
                            break;
                        }
                        b'\\' => at += 2,
                        _ => at += 1,
                    }
                }
                at = at.min(bytes.len());
                if closed {
                    SyntaxKind::String
                } else {
                    SyntaxKind::UnterminatedString
                }
            }
            b'{' if opens_json(text, &last) => {
                let (end, closed) = json_end(bytes, at);
                at = end.min(bytes.len());
                if closed {
                    SyntaxKind::Json
                } else {
                    SyntaxKind::UnterminatedJson
                }
            }
            // The policy's name, after the file's first word: a letter, then letters, digits, `-`
            // and `_` (`alibaba-ssl-revoke`), as the grammar's atomic `policy_name`.
            b'a'..=b'z' | b'A'..=b'Z' if names_policy(text, &last) => {
                at += 1;
                while at < bytes.len()
                    && (bytes[at].is_ascii_alphanumeric() || matches!(bytes[at], b'-' | b'_'))
                {
                    at += 1;
                }
                SyntaxKind::Word
            }
            b'a'..=b'z' | b'A'..=b'Z' | b'_' => {
                at = word_end(bytes, at);
                SyntaxKind::Word
            }
            b'0'..=b'9' => {
                let (end, kind) = number(bytes, at);
                at = end;
                kind
            }
            _ => {
                let next = bytes.get(at + 1).copied();
                let (len, kind) = match (byte, next) {
                    (b'=', Some(b'=')) => (2, SyntaxKind::EqEq),
                    (b'!', Some(b'=')) => (2, SyntaxKind::NotEq),
                    (b'<', Some(b'=')) => (2, SyntaxKind::LtEq),
                    (b'>', Some(b'=')) => (2, SyntaxKind::GtEq),
                    (b'{', _) => (1, SyntaxKind::LBrace),
                    (b'}', _) => (1, SyntaxKind::RBrace),
                    (b'(', _) => (1, SyntaxKind::LParen),
                    (b')', _) => (1, SyntaxKind::RParen),
                    (b'[', _) => (1, SyntaxKind::LBracket),
                    (b']', _) => (1, SyntaxKind::RBracket),
                    (b',', _) => (1, SyntaxKind::Comma),
                    (b':', _) => (1, SyntaxKind::Colon),
                    (b'?', _) => (1, SyntaxKind::Question),
                    (b'=', _) => (1, SyntaxKind::Eq),
                    (b'<', _) => (1, SyntaxKind::Lt),
                    (b'>', _) => (1, SyntaxKind::Gt),
                    (b'+', _) => (1, SyntaxKind::Plus),
                    (b'-', _) => (1, SyntaxKind::Minus),
                    (b'*', _) => (1, SyntaxKind::Star),
                    (b'/', _) => (1, SyntaxKind::Slash),
                    // One whole character, however many bytes it takes.
                    _ => (
                        text[at..].chars().next().map_or(1, char::len_utf8),
                        SyntaxKind::Unknown,
                    ),
                };
                at += len;
                kind
            }
        };
        if !kind.is_trivia() {
            last = [last[1], Some((kind, start, at))];
        }
        tokens.push(Token {
            kind,
            start,
            end: at,
        });
    }
    tokens
}

/// Whether the file's first significant token is `policy` or `library` and nothing has followed it.
fn names_policy(text: &str, last: &[Option<(SyntaxKind, usize, usize)>; 2]) -> bool {
    match last {
        [None, Some((SyntaxKind::Word, start, end))] => {
            matches!(&text[*start..*end], "policy" | "library")
        }
        _ => false,
    }
}

/// Whether a `{` here opens an example's JSON: it follows the word `order` or `expect`, and that word
/// is not the name of an `enum` or an `action` (`action order {`).
fn opens_json(text: &str, last: &[Option<(SyntaxKind, usize, usize)>; 2]) -> bool {
    let Some((SyntaxKind::Word, start, end)) = last[1] else {
        return false;
    };
    if !matches!(&text[start..end], "order" | "expect") {
        return false;
    }
    match last[0] {
        Some((SyntaxKind::Word, s, e)) => !matches!(&text[s..e], "enum" | "action"),
        _ => true,
    }
}

/// One past the `}` closing the JSON object opened at `at` (brackets balanced, strings skipped), and
/// whether it is closed: an unclosed object runs to the end of the text, or to the first bracket that
/// closes what is not open (`{ ]`).
fn json_end(bytes: &[u8], mut at: usize) -> (usize, bool) {
    let mut open: Vec<u8> = Vec::new();
    while at < bytes.len() {
        match bytes[at] {
            b'"' => {
                at += 1;
                while at < bytes.len() && bytes[at] != b'"' {
                    at += if bytes[at] == b'\\' { 2 } else { 1 };
                }
            }
            b'{' => open.push(b'}'),
            b'[' => open.push(b']'),
            closer @ (b'}' | b']') => {
                if open.last() != Some(&closer) {
                    return (at, false);
                }
                open.pop();
                if open.is_empty() {
                    return (at + 1, true);
                }
            }
            _ => {}
        }
        at += 1;
    }
    (bytes.len(), false)
}

fn word_end(bytes: &[u8], mut at: usize) -> usize {
    while at < bytes.len() && (bytes[at].is_ascii_alphanumeric() || bytes[at] == b'_') {
        at += 1;
    }
    at
}

fn is_word_byte(byte: Option<&u8>) -> bool {
    byte.is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_')
}

fn digits(bytes: &[u8], mut at: usize) -> usize {
    while at < bytes.len() && bytes[at].is_ascii_digit() {
        at += 1;
    }
    at
}

/// Exactly `n` digits at `at`: the position after them.
fn exact_digits(bytes: &[u8], at: usize, n: usize) -> Option<usize> {
    let end = at + n;
    (end <= bytes.len() && bytes[at..end].iter().all(u8::is_ascii_digit)).then_some(end)
}

fn byte_is(bytes: &[u8], at: usize, byte: u8) -> Option<usize> {
    (bytes.get(at) == Some(&byte)).then_some(at + 1)
}

/// A number, a date or a timestamp at `at` (a digit), as the grammar tries them: a timestamp, a date,
/// then a decimal or an integer.
fn number(bytes: &[u8], at: usize) -> (usize, SyntaxKind) {
    let int_end = digits(bytes, at);
    if int_end - at >= 4 {
        if let Some(date_end) = date(bytes, int_end) {
            if let Some(ts_end) = time(bytes, date_end) {
                if !is_word_byte(bytes.get(ts_end)) {
                    return (ts_end, SyntaxKind::Timestamp);
                }
            }
            if !is_word_byte(bytes.get(date_end)) {
                return (date_end, SyntaxKind::Date);
            }
        }
    }
    if bytes.get(int_end) == Some(&b'.') && bytes.get(int_end + 1).is_some_and(u8::is_ascii_digit) {
        return (digits(bytes, int_end + 1), SyntaxKind::Decimal);
    }
    (int_end, SyntaxKind::Integer)
}

/// `-MM-DD` after the year.
fn date(bytes: &[u8], at: usize) -> Option<usize> {
    let at = byte_is(bytes, at, b'-')?;
    let at = exact_digits(bytes, at, 2)?;
    let at = byte_is(bytes, at, b'-')?;
    exact_digits(bytes, at, 2)
}

/// `THH:MM:SS(.F)?(Z|±HH:MM)?` after the date.
fn time(bytes: &[u8], at: usize) -> Option<usize> {
    let at = byte_is(bytes, at, b'T')?;
    let at = exact_digits(bytes, at, 2)?;
    let at = byte_is(bytes, at, b':')?;
    let at = exact_digits(bytes, at, 2)?;
    let at = byte_is(bytes, at, b':')?;
    let mut at = exact_digits(bytes, at, 2)?;
    if bytes.get(at) == Some(&b'.') && bytes.get(at + 1).is_some_and(u8::is_ascii_digit) {
        at = digits(bytes, at + 1);
    }
    if let Some(z) = byte_is(bytes, at, b'Z') {
        return Some(z);
    }
    let offset = byte_is(bytes, at, b'+')
        .or_else(|| byte_is(bytes, at, b'-'))
        .and_then(|a| exact_digits(bytes, a, 2))
        .and_then(|a| byte_is(bytes, a, b':'))
        .and_then(|a| exact_digits(bytes, a, 2));
    Some(offset.unwrap_or(at))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<(SyntaxKind, &str)> {
        lex(text)
            .into_iter()
            .filter(|t| t.kind != SyntaxKind::Whitespace)
            .map(|t| (t.kind, &text[t.start..t.end]))
            .collect()
    }

    #[test]
    fn every_byte_is_in_one_token() {
        for text in [
            "",
            "a",
            "é \u{FEFF}x",
            "\"open",
            "order { \"a\": [1, {\"b\": \"}\"}] } x",
            "#c\r\n1.5",
        ] {
            let tokens = lex(text);
            let mut at = 0;
            for token in &tokens {
                assert_eq!(token.start, at);
                assert!(token.end > token.start);
                at = token.end;
            }
            assert_eq!(at, text.len());
        }
    }

    #[test]
    fn numbers_dates_and_timestamps() {
        use SyntaxKind::*;
        assert_eq!(
            kinds("2026-03-18 2026-03-18T00:00:00+08:00 2026-03-18T00:00:00Z 0.01 12 12.x 2026-03-18x"),
            vec![
                (Date, "2026-03-18"),
                (Timestamp, "2026-03-18T00:00:00+08:00"),
                (Timestamp, "2026-03-18T00:00:00Z"),
                (Decimal, "0.01"),
                (Integer, "12"),
                (Integer, "12"),
                (Unknown, "."),
                (Word, "x"),
                (Integer, "2026"),
                (Minus, "-"),
                (Integer, "03"),
                (Minus, "-"),
                (Integer, "18"),
                (Word, "x"),
            ]
        );
    }

    #[test]
    fn json_after_order_and_expect_only() {
        use SyntaxKind::*;
        assert_eq!(
            kinds("order { \"a\": \"}\" } action order { enum expect {"),
            vec![
                (Word, "order"),
                (Json, "{ \"a\": \"}\" }"),
                (Word, "action"),
                (Word, "order"),
                (LBrace, "{"),
                (Word, "enum"),
                (Word, "expect"),
                (LBrace, "{"),
            ]
        );
    }
}
