//! Mail as a reader sees it. Included with `#[path = "support/mail_text.rs"] mod mail_text;`.
#![allow(dead_code, unreachable_pub, missing_docs)]

/// A message as a reader sees it: folded headers unfolded, quoted-printable decoded.
pub fn readable(message: &str) -> String {
    let unfolded = message.replace("\r\n", "\n").replace("\n ", " ");
    let bytes = unfolded.replace("=\n", "").into_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok());
        match (bytes[i], hex) {
            (b'=', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (other, _) => {
                out.push(other);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
