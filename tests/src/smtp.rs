//! [`SmtpSink`]: a real SMTP server (`.tools/bin/smtp-sink`, aiosmtpd) on `127.0.0.1:<free port>`
//! that stores every message it accepts, for tests of code that sends mail.

use std::fs;
use std::path::PathBuf;
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::paths;
use crate::process::ChildProcess;

/// A running SMTP server; stopped on drop.
#[derive(Debug)]
pub struct SmtpSink {
    port: u16,
    folder: tempfile::TempDir,
    _process: ChildProcess,
}

/// One message the sink accepted.
#[derive(Debug, Clone)]
pub struct ReceivedMail {
    /// Envelope sender (`MAIL FROM`).
    pub mail_from: String,
    /// Envelope recipients (`RCPT TO`).
    pub rcpt_tos: Vec<String>,
    /// The user name of a successful AUTH, if any.
    pub auth_user: Option<String>,
    /// The message as received (headers and body), lossily decoded.
    pub raw: String,
}

impl SmtpSink {
    /// Starts a sink without authentication.
    pub fn start() -> Self {
        Self::start_with_args(&[])
    }

    /// Starts a sink that offers AUTH PLAIN/LOGIN (without TLS) and accepts only `user`/`password`.
    pub fn start_with_auth(user: &str, password: &str) -> Self {
        Self::start_with_args(&["--auth", &format!("{user}:{password}")])
    }

    /// Starts `smtp-sink --port 0 --dir <temp> <args>` (see `scripts/smtp-sink.py` for options).
    ///
    /// # Panics
    /// When the tool is missing (run `scripts/setup-tools.sh`) or does not start within 20 s.
    pub fn start_with_args(args: &[&str]) -> Self {
        let binary = paths::tool_path(None, "bin/smtp-sink");
        let folder = tempfile::Builder::new()
            .prefix("stagesub-mail-")
            .tempdir()
            .expect("create mail folder");
        let (process, port) = ChildProcess::spawn_until_line(
            Command::new(binary)
                .args(["--host", "127.0.0.1", "--port", "0", "--dir"])
                .arg(folder.path())
                .args(args),
            Duration::from_secs(20),
            |line| {
                line.strip_prefix("listening 127.0.0.1:")
                    .and_then(|port| port.trim().parse::<u16>().ok())
            },
        );
        Self {
            port,
            folder,
            _process: process,
        }
    }

    /// The port it listens on (host `127.0.0.1`).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `smtp://127.0.0.1:<port>` (add credentials for an AUTH sink).
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Messages received so far, in arrival order.
    pub fn messages(&self) -> Vec<ReceivedMail> {
        let mut metas: Vec<PathBuf> = fs::read_dir(self.folder.path())
            .expect("read mail folder")
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
            .collect();
        metas.sort();
        metas.iter().map(|meta| read_mail(meta)).collect()
    }

    /// Waits until at least `count` messages arrived and returns them.
    ///
    /// # Panics
    /// When fewer arrived within `timeout`.
    pub fn wait_for_messages(&self, count: usize, timeout: Duration) -> Vec<ReceivedMail> {
        let deadline = Instant::now() + timeout;
        loop {
            let messages = self.messages();
            if messages.len() >= count {
                return messages;
            }
            assert!(
                Instant::now() < deadline,
                "expected {count} mail(s) within {timeout:?}, got {}",
                messages.len()
            );
            thread::sleep(Duration::from_millis(50));
        }
    }
}

fn read_mail(meta_path: &std::path::Path) -> ReceivedMail {
    let meta: Value = serde_json::from_slice(&fs::read(meta_path).expect("read mail metadata"))
        .expect("mail metadata is JSON");
    let raw = fs::read(meta_path.with_extension("eml")).expect("read mail");
    ReceivedMail {
        mail_from: meta["mail_from"].as_str().unwrap_or_default().to_owned(),
        rcpt_tos: meta["rcpt_tos"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        auth_user: meta["auth_user"].as_str().map(str::to_owned),
        raw: String::from_utf8_lossy(&raw).into_owned(),
    }
}
