//! JSON escapes that Postgres or Rust cannot hold, rewritten in the event's text.
//!
//! A genuine Stripe body may hold `\u0000` (valid JSON, but jsonb and text refuse it) or an unpaired
//! UTF-16 surrogate escape such as `\ud800` (allowed by JSON's grammar, refused by jsonb, and no Rust
//! `String` can hold it). The raw body is always kept byte-exact; these functions make the two other
//! forms the bridge needs:
//!
//! - [`readable`]: for reading the event in Rust. An unpaired surrogate becomes `\u0000`, so a value
//!   that held one fails validation exactly like one that held a NUL (tenant values never contain
//!   control characters), and the event still parses.
//! - [`storable`]: for the `jsonb` copy. `\u0000` and unpaired surrogates become `\ufffd`.
//!
//! Escapes are rewritten one for one (six bytes for six), scanning left to right so that an escaped
//! backslash (`\\u0000` is a backslash and the text `u0000`) is never mistaken for an escape.

use std::borrow::Cow;

/// `body` with every unpaired surrogate escape replaced by `\u0000`; borrowed when there is none.
pub fn readable(body: &[u8]) -> Cow<'_, [u8]> {
    rewrite(body, false)
}

/// `body` with every `\u0000` and unpaired surrogate escape replaced by `\ufffd`; borrowed when there
/// is none.
pub fn storable(body: &[u8]) -> Cow<'_, [u8]> {
    rewrite(body, true)
}

fn hex4(bytes: &[u8]) -> Option<u16> {
    let text = std::str::from_utf8(bytes.get(..4)?).ok()?;
    u16::from_str_radix(text, 16).ok()
}

/// The code unit of a `\uXXXX` escape starting at `at`, if there is one.
fn escape_at(body: &[u8], at: usize) -> Option<u16> {
    if body.get(at) == Some(&b'\\') && body.get(at + 1) == Some(&b'u') {
        hex4(&body[at + 2..])
    } else {
        None
    }
}

fn rewrite(body: &[u8], nul_too: bool) -> Cow<'_, [u8]> {
    let replacement: &[u8; 6] = if nul_too { b"\\ufffd" } else { b"\\u0000" };
    let mut out: Option<Vec<u8>> = None;
    let mut i = 0;
    // Every backslash of valid JSON starts an escape inside a string; skipping whole escapes keeps
    // the scan aligned.
    while let Some(offset) = body
        .get(i..)
        .and_then(|rest| rest.iter().position(|&b| b == b'\\'))
    {
        let at = i + offset;
        let Some(unit) = escape_at(body, at) else {
            i = at + 2;
            continue;
        };
        let (bad, len) = match unit {
            0 => (nul_too, 6),
            0xD800..=0xDBFF => match escape_at(body, at + 6) {
                Some(0xDC00..=0xDFFF) => (false, 12),
                _ => (true, 6),
            },
            0xDC00..=0xDFFF => (true, 6),
            _ => (false, 6),
        };
        if bad {
            let buf = out.get_or_insert_with(|| body.to_vec());
            buf[at..at + 6].copy_from_slice(replacement);
        }
        i = at + len;
    }
    match out {
        Some(buf) => Cow::Owned(buf),
        None => Cow::Borrowed(body),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(s: &str) -> String {
        String::from_utf8(readable(s.as_bytes()).into_owned()).unwrap()
    }

    fn s(s: &str) -> String {
        String::from_utf8(storable(s.as_bytes()).into_owned()).unwrap()
    }

    #[test]
    fn rewrites_only_what_cannot_be_held() {
        assert!(matches!(
            readable(br#"{"a":"\u0041\ud83c\udfb5"}"#),
            Cow::Borrowed(_)
        ));
        assert!(matches!(storable(br#"{"a":"plain"}"#), Cow::Borrowed(_)));
        assert_eq!(r(r#""\ud800""#), r#""\u0000""#);
        assert_eq!(r(r#""\uDFFF\u0000""#), r#""\u0000\u0000""#);
        assert_eq!(r(r#""\ud800\u0041""#), r#""\u0000\u0041""#);
        assert_eq!(r(r#""\ud800\ud800\udc00""#), r#""\u0000\ud800\udc00""#);
        assert_eq!(s(r#""a\u0000b\ud800""#), r#""a\ufffdb\ufffd""#);
        // An escaped backslash followed by the text u0000 is not an escape.
        assert_eq!(s(r#""\\u0000\\\u0000""#), r#""\\u0000\\\ufffd""#);
        assert_eq!(s(r#""\ud83c\udfb5""#), r#""\ud83c\udfb5""#);
        // Truncated or odd input is left alone (the JSON parser judges it).
        for odd in [r#""\"#, r#""\u00"#, r#""\uzzzz""#] {
            assert_eq!(s(odd), odd);
        }
    }

    #[test]
    fn rewritten_text_parses_and_jsonb_safe_text_has_no_nul() {
        let body = r#"{"k\ud800":"v\u0000\udc00","n":[1,"\ud83c\udfb5"]}"#;
        assert!(serde_json::from_str::<serde_json::Value>(body).is_err());
        let value: serde_json::Value = serde_json::from_slice(&readable(body.as_bytes())).unwrap();
        assert_eq!(value["k\0"], "v\0\0");
        let stored: serde_json::Value = serde_json::from_slice(&storable(body.as_bytes())).unwrap();
        assert_eq!(stored["k\u{fffd}"], "v\u{fffd}\u{fffd}");
        assert_eq!(stored["n"][1], "\u{1f3b5}");
    }
}
