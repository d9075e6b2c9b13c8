//! Logs on stderr, one line per event: `LOG_FORMAT=text` (default; colour only on a terminal) or
//! `LOG_FORMAT=json` (one JSON object per line, for log shippers).
//!
//! Messages may hold text with line breaks (a Postgres error's `Display` adds `\nDETAIL: …` and
//! `\nHINT: …`; a panic message spans lines; customer data may contain anything). Each event is
//! buffered whole and written with its line breaks and other control characters escaped (`\n`,
//! `\u{1b}`), so a log line is always one event and a value cannot forge another line or colours.

use std::io::{IsTerminal, Write};

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

/// The log line format (`LOG_FORMAT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable text; ANSI colour only when stderr is a terminal and `NO_COLOR` is unset.
    Text,
    /// One JSON object per line.
    Json,
}

impl LogFormat {
    /// Reads `LOG_FORMAT` (`text` when unset); the error names the variable.
    pub fn from_env() -> Result<Self, crate::config::ConfigError> {
        match std::env::var("LOG_FORMAT").ok().as_deref().map(str::trim) {
            None | Some("" | "text") => Ok(Self::Text),
            Some("json") => Ok(Self::Json),
            Some(other) => Err(crate::config::ConfigError {
                variable: "LOG_FORMAT",
                message: format!("{other:?} is not one of: text, json"),
            }),
        }
    }
}

/// Installs the global subscriber (filter from `RUST_LOG`, default `info`) and a panic hook that
/// logs panics as one event.
pub fn init(format: LogFormat) {
    let filter = std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into());
    let filter = EnvFilter::try_new(&filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let colour = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    let installed = match format {
        LogFormat::Text => builder
            .with_ansi(colour)
            .with_writer(OneLinePerEvent { colour })
            .try_init(),
        LogFormat::Json => builder
            .json()
            .with_current_span(false)
            .with_span_list(false)
            .with_writer(OneLinePerEvent { colour: false })
            .try_init(),
    };
    if installed.is_ok() {
        std::panic::set_hook(Box::new(|info| {
            tracing::error!(panic = %info, "the bridge panicked");
        }));
    }
}

/// Hands out one buffer per event; the buffer is written to stderr as one line when dropped.
#[derive(Debug, Clone, Copy)]
struct OneLinePerEvent {
    colour: bool,
}

impl<'a> MakeWriter<'a> for OneLinePerEvent {
    type Writer = EventBuffer;

    fn make_writer(&'a self) -> EventBuffer {
        EventBuffer {
            text: Vec::with_capacity(256),
            colour: self.colour,
        }
    }
}

/// One event's formatted text.
#[derive(Debug)]
struct EventBuffer {
    text: Vec<u8>,
    colour: bool,
}

impl Write for EventBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.text.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for EventBuffer {
    fn drop(&mut self) {
        if self.text.is_empty() {
            return;
        }
        let line = one_line(&String::from_utf8_lossy(&self.text), self.colour);
        // A full disk or closed stderr must not take the bridge down.
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
    }
}

/// `text` as exactly one line ending in `\n`: inner line breaks and control characters escaped
/// (`ESC` kept only when `keep_escapes`, i.e. our own colours on a terminal).
pub fn one_line(text: &str, keep_escapes: bool) -> String {
    let body = text.trim_end_matches(['\n', '\r']);
    let mut out = String::with_capacity(body.len() + 1);
    for c in body.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push('\t'),
            '\u{1b}' if keep_escapes => out.push(c),
            c if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{85}') => {
                out.extend(c.escape_unicode());
            }
            c => out.push(c),
        }
    }
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::one_line;

    #[test]
    fn every_event_is_one_line_without_forged_escapes() {
        let postgres = "db error: ERROR: new row violates check constraint \"x\"\nDETAIL: Failing row contains (1).\n";
        assert_eq!(
            one_line(postgres, false),
            "db error: ERROR: new row violates check constraint \"x\"\\nDETAIL: Failing row contains (1).\n"
        );
        let hostile = "name\r\n2026-01-01 INFO forged\u{1b}[31m red\u{2028}x\u{0}";
        let line = one_line(hostile, false);
        assert_eq!(line.matches('\n').count(), 1);
        assert!(line.ends_with('\n'));
        assert!(!line.contains('\u{1b}') && !line.contains('\u{2028}') && !line.contains('\0'));
        assert!(line.contains("\\u{1b}[31m"), "{line}");
        assert!(one_line("\u{1b}[2mINFO\u{1b}[0m ok", true).contains('\u{1b}'));
    }
}
