//! Secrets out of error text, in one place: URL passwords, Supabase access tokens, and the
//! values of the secret environment variables the tools run with.

/// Environment variables whose values never appear in a report.
pub const SECRET_ENV: [&str; 7] = [
    "SUPABASE_ACCESS_TOKEN",
    "STAGESUB_POSTGRES_URL",
    "STAGESUB_DIRECTORY_URL",
    "STAGESUB_DIRECTORY_KEYS",
    "TF_VAR_access_token",
    "PGPASSWORD",
    "BRIDGE_API_TOKEN",
];

/// A redactor: known secret strings, plus patterns.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    secrets: Vec<String>,
}

impl Redactor {
    /// One that knows the values of [`SECRET_ENV`] present in this process's environment (and
    /// each comma-separated part of them, for key lists).
    pub fn from_env() -> Self {
        let mut r = Self::default();
        for name in SECRET_ENV {
            if let Ok(value) = std::env::var(name) {
                r.add(&value);
                for part in value.split(',') {
                    r.add(part.trim());
                }
            }
        }
        r
    }

    /// Adds one secret (ignored when shorter than 4 characters: too likely to be ordinary text).
    pub fn add(&mut self, secret: &str) {
        if secret.len() >= 4 && !self.secrets.iter().any(|s| s == secret) {
            self.secrets.push(secret.to_owned());
            // Longest first, so a secret containing another is replaced whole.
            self.secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        }
    }

    /// Adds a connection URL's password (and the URL itself).
    pub fn add_url(&mut self, url: &str) {
        if let Some(password) = url_password(url) {
            self.add(&password);
        }
        self.add(url);
    }

    /// `text` with every known secret, URL password and `sbp_` token replaced by `***`.
    pub fn clean(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for secret in &self.secrets {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), "***");
            }
        }
        let words: Vec<String> = out
            .split_inclusive(char::is_whitespace)
            .map(|word| {
                let mut w = if word.contains("://") && word.contains('@') {
                    redact_word_url(word)
                } else {
                    word.to_owned()
                };
                if let Some(at) = w.find("sbp_") {
                    let end = w[at..]
                        .find(|c: char| !c.is_ascii_alphanumeric() && c != '_')
                        .map_or(w.len(), |e| at + e);
                    w.replace_range(at..end, "sbp_***");
                }
                w
            })
            .collect();
        words.concat()
    }
}

/// The password of `scheme://user:password@host...`, percent-decoding not applied.
fn url_password(url: &str) -> Option<String> {
    let rest = &url[url.find("://")? + 3..];
    let authority = &rest[..rest.find(['/', '?']).unwrap_or(rest.len())];
    let userinfo = &authority[..authority.rfind('@')?];
    let (_, password) = userinfo.split_once(':')?;
    (!password.is_empty()).then(|| password.to_owned())
}

fn redact_word_url(word: &str) -> String {
    match url_password(word) {
        Some(password) => word.replacen(&format!(":{password}@"), ":***@", 1),
        None => word.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_tokens_and_known_secrets_go() {
        let mut r = Redactor::default();
        r.add("hunter2-secret");
        let text = "connect postgres://u:pa55word@db:5432/x failed; token sbp_0123456789abcdef \
                    and hunter2-secret in (postgresql://a:b%40c@h/d)";
        let clean = r.clean(text);
        assert!(!clean.contains("pa55word"), "{clean}");
        assert!(!clean.contains("0123456789abcdef"), "{clean}");
        assert!(!clean.contains("hunter2"), "{clean}");
        assert!(!clean.contains("b%40c"), "{clean}");
        assert!(clean.contains("postgres://u:***@db:5432/x"), "{clean}");
    }

    #[test]
    fn a_known_url_hides_its_password_anywhere() {
        let mut r = Redactor::default();
        r.add_url("postgres://app:Zz9-long-pass@10.0.0.1/t1");
        assert_eq!(
            r.clean("password Zz9-long-pass leaked"),
            "password *** leaked"
        );
    }
}
