//! Keeping credentials out of errors and logs.

/// Replaces the user-info part of every `scheme://user:password@host` URL in `text` with `***`.
///
/// Git prints remote URLs (with any embedded token) in its messages; every message that leaves
/// this crate passes through here.
pub fn redact_credentials(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find("://") {
        let (head, tail) = rest.split_at(pos + 3);
        out.push_str(head);
        // The authority ends at the first '/', whitespace, quote or end of text.
        let end = tail
            .find(|c: char| c == '/' || c.is_whitespace() || c == '\'' || c == '"' || c == '>')
            .unwrap_or(tail.len());
        let authority = &tail[..end];
        match authority.rfind('@') {
            Some(at) => {
                out.push_str("***");
                out.push_str(&authority[at..]);
            }
            None => out.push_str(authority),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

/// Removes every occurrence of each non-empty secret from `text`.
pub(crate) fn scrub(text: &str, secrets: &[&str]) -> String {
    let mut out = redact_credentials(text);
    for secret in secrets.iter().filter(|s| s.len() >= 4) {
        out = out.replace(secret, "***");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hides_user_info_in_urls() {
        assert_eq!(
            redact_credentials(
                "fatal: unable to access 'https://x-access-token:ghp_abc@github.com/o/r.git/': 403"
            ),
            "fatal: unable to access 'https://***@github.com/o/r.git/': 403"
        );
        assert_eq!(
            redact_credentials("ssh://git@host:22/r"),
            "ssh://***@host:22/r"
        );
        assert_eq!(
            redact_credentials("https://host/r and file:///tmp/x"),
            "https://host/r and file:///tmp/x"
        );
        assert_eq!(redact_credentials("no url"), "no url");
    }

    #[test]
    fn scrub_removes_secrets() {
        assert_eq!(
            scrub("token ghs_secret123 refused", &["ghs_secret123", ""]),
            "token *** refused"
        );
    }
}
