//! A real SMTP server for tests (aiosmtpd's smtp-sink from TOOLS.md) and a mailer pointed at it.
//! Included with `#[path = "support/smtp.rs"] mod smtp;` next to `mod support;`.
#![allow(dead_code, unreachable_pub, missing_docs)]

use std::io::BufRead;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use stagesub_bridge::config::{MailConfig, Secret};
use stagesub_bridge::mail::Mailer;

pub struct Sink {
    child: Child,
    dir: PathBuf,
    pub port: u16,
}

impl Sink {
    pub fn start(dir: PathBuf) -> Sink {
        std::fs::create_dir_all(&dir).unwrap();
        let mut child = Command::new(super::support::smtp_sink())
            .args(["--dir", dir.to_str().unwrap(), "--port", "0"])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .rsplit(':')
            .next()
            .unwrap()
            .parse()
            .unwrap_or_else(|_| panic!("smtp-sink said {line:?}"));
        Sink { child, dir, port }
    }

    /// Every accepted message (headers and body), in arrival order.
    pub fn messages(&self) -> Vec<String> {
        let mut names: Vec<_> = std::fs::read_dir(&self.dir)
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| n.ends_with(".eml"))
            .collect();
        names.sort();
        names
            .iter()
            .map(|n| std::fs::read_to_string(self.dir.join(n)).unwrap())
            .collect()
    }

    /// Messages whose text contains `needle`.
    pub fn count(&self, needle: &str) -> usize {
        self.messages()
            .iter()
            .filter(|m| m.contains(needle))
            .count()
    }

    pub fn mailer(&self) -> Mailer {
        Mailer::new(&MailConfig {
            smtp_url: Secret(format!("smtp://127.0.0.1:{}", self.port)),
            from: "stagesub <hello@stagesub.test>".into(),
            admin: "admin@stagesub.test".into(),
        })
        .unwrap()
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
