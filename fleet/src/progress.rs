//! The live progress line on stderr: done / failed / remaining, rate and ETA. On a terminal it
//! is redrawn in place; elsewhere (CI logs) a line is printed at most every `interval`.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// Counters of one invocation and the printing policy.
#[derive(Debug)]
pub struct Progress {
    total: usize,
    done: usize,
    failed: usize,
    started: Instant,
    last_print: Option<Instant>,
    tty: bool,
    interval: Duration,
    quiet: bool,
}

impl Progress {
    /// Progress over `total` tenants to run.
    pub fn new(total: usize, quiet: bool) -> Self {
        let tty = std::io::stderr().is_terminal();
        Self {
            total,
            done: 0,
            failed: 0,
            started: Instant::now(),
            last_print: None,
            tty,
            interval: if tty {
                Duration::from_millis(100)
            } else {
                Duration::from_secs(5)
            },
            quiet,
        }
    }

    /// Counts one finished tenant and prints when due.
    pub fn finished(&mut self, ok: bool) {
        if ok {
            self.done += 1;
        } else {
            self.failed += 1;
        }
        let due = self
            .last_print
            .is_none_or(|at| at.elapsed() >= self.interval);
        if due {
            self.print(false);
        }
    }

    /// The line as it stands.
    pub fn line(&self) -> String {
        let finished = self.done + self.failed;
        let remaining = self.total.saturating_sub(finished);
        let elapsed = self.started.elapsed().as_secs_f64();
        let rate = if elapsed > 0.0 {
            finished as f64 / elapsed
        } else {
            0.0
        };
        let eta = if rate > 0.0 {
            format_duration(remaining as f64 / rate)
        } else {
            "?".into()
        };
        format!(
            "fleet: {} done, {} failed, {remaining} remaining of {} | {rate:.1}/s | elapsed {} | ETA {eta}",
            self.done,
            self.failed,
            self.total,
            format_duration(elapsed)
        )
    }

    /// Prints the line (`last` ends it with a newline on a terminal).
    pub fn print(&mut self, last: bool) {
        self.last_print = Some(Instant::now());
        if self.quiet {
            return;
        }
        let line = self.line();
        let mut err = std::io::stderr().lock();
        if self.tty {
            let _ = write!(err, "\r\x1b[2K{line}");
            if last {
                let _ = writeln!(err);
            }
        } else {
            let _ = writeln!(err, "{line}");
        }
    }

    /// Prints a message on its own line (clearing the progress line first on a terminal).
    pub fn note(&self, message: &str) {
        if self.quiet {
            return;
        }
        let mut err = std::io::stderr().lock();
        if self.tty {
            let _ = write!(err, "\r\x1b[2K");
        }
        let _ = writeln!(err, "{message}");
    }
}

fn format_duration(secs: f64) -> String {
    let secs = secs.max(0.0).round() as u64;
    if secs >= 3600 {
        format!("{}h{:02}m", secs / 3600, secs % 3600 / 60)
    } else if secs >= 60 {
        format!("{}m{:02}s", secs / 60, secs % 60)
    } else {
        format!("{secs}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_says_counts_rate_and_eta() {
        let mut p = Progress::new(10, true);
        p.finished(true);
        p.finished(false);
        let line = p.line();
        assert!(
            line.contains("1 done, 1 failed, 8 remaining of 10"),
            "{line}"
        );
        assert!(line.contains("/s") && line.contains("ETA"), "{line}");
        assert_eq!(format_duration(3725.0), "1h02m");
        assert_eq!(format_duration(75.0), "1m15s");
    }
}
