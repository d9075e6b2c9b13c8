//! [`TfOutput`]: what one Terraform command printed and how it exited.

use std::fmt;

/// The result of one Terraform command.
#[derive(Debug, Clone)]
pub struct TfOutput {
    /// The command line, e.g. `terraform apply -auto-approve -input=false -no-color`.
    pub command: String,
    /// Exit code (`None` when killed by a signal or the harness's timeout).
    pub code: Option<i32>,
    /// Standard output, lossily decoded.
    pub stdout: String,
    /// Standard error, lossily decoded.
    pub stderr: String,
}

impl TfOutput {
    /// Whether the command exited 0.
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }

    /// Panics, showing the full output, unless the command exited 0.
    #[track_caller]
    pub fn assert_success(&self) -> &Self {
        assert!(self.success(), "expected success\n{self}");
        self
    }

    /// Panics, showing the full output, unless the command failed and its output contains
    /// `needle` (compared with [`normalize`] applied to both, so line wrapping and diagnostic box
    /// characters do not matter).
    #[track_caller]
    pub fn assert_failure_contains(&self, needle: &str) -> &Self {
        assert!(!self.success(), "expected failure\n{self}");
        assert!(self.contains(needle), "output lacks {needle:?}\n{self}");
        self
    }

    /// Whether stdout or stderr contains `needle`, ignoring line wrapping and the `│` box
    /// drawing of diagnostics (see [`normalize`]).
    pub fn contains(&self, needle: &str) -> bool {
        let needle = normalize(needle);
        normalize(&self.stdout).contains(&needle) || normalize(&self.stderr).contains(&needle)
    }

    /// stdout followed by stderr, for assertions that do not care which stream.
    pub fn combined(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

impl fmt::Display for TfOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "$ {}  (exit code {:?})", self.command, self.code)?;
        writeln!(f, "--- stdout ---\n{}", self.stdout.trim_end())?;
        write!(f, "--- stderr ---\n{}", self.stderr.trim_end())
    }
}

/// Collapses whitespace runs to one space and drops the box-drawing characters (`│ ╷ ╵ ─`) that
/// Terraform puts around diagnostics, so text can be matched whatever the wrapping.
pub fn normalize(text: &str) -> String {
    text.split(|c: char| c.is_whitespace() || matches!(c, '│' | '╷' | '╵' | '─'))
        .filter(|word| !word.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contains_ignores_wrapping_and_boxes() {
        let out = TfOutput {
            command: "terraform plan".into(),
            code: Some(1),
            stdout: String::new(),
            stderr:
                "╷\n│ Error: Invalid subdomain\n│\n│ The subdomain must be a\n│ DNS label.\n╵\n"
                    .into(),
        };
        assert!(out.contains("The subdomain must be a DNS label."));
        assert!(!out.contains("something else"));
        out.assert_failure_contains("Invalid subdomain");
    }
}
