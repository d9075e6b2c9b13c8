//! The real `stagesub-bridge serve` as a child process, its stderr collected line by line.
//! Included with `#[path = "support/process.rs"] mod process;` next to `mod support;`.
#![allow(dead_code, unreachable_pub, missing_docs)]

use std::io::BufRead;
use std::net::SocketAddr;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub struct Served {
    pub child: Child,
    pub lines: Arc<Mutex<Vec<String>>>,
}

/// `stagesub-bridge` with a clean environment plus `vars`; stderr is a pipe (not a terminal).
pub fn bridge_command(vars: &[(&str, String)]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_stagesub-bridge"));
    c.env_clear().env("PATH", std::env::var("PATH").unwrap());
    for (k, v) in vars {
        c.env(k, v);
    }
    c
}

/// The settings `serve` needs, for database `url` and a file:// remote.
pub fn serve_vars(url: &str, remote: &str) -> Vec<(&'static str, String)> {
    vec![
        ("STRIPE_WEBHOOK_SECRET", super::support::SECRET.to_owned()),
        ("DATABASE_URL", url.to_owned()),
        ("GIT_BACKEND", "git".into()),
        ("GIT_REMOTE_URL", remote.to_owned()),
        ("BIND_ADDR", "127.0.0.1:0".into()),
    ]
}

impl Served {
    pub fn start(vars: &[(&str, String)], work_dir: &std::path::Path) -> Served {
        let mut cmd = bridge_command(vars);
        cmd.arg("serve")
            .env("GIT_WORK_DIR", work_dir)
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = lines.clone();
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                sink.lock().unwrap().push(line);
            }
        });
        Served { child, lines }
    }

    /// The address from the "listening" log line.
    pub fn addr(&self) -> SocketAddr {
        let start = Instant::now();
        loop {
            // Text: `addr=127.0.0.1:1234`; JSON: `"addr":"127.0.0.1:1234"`.
            if let Some(addr) = self.lines.lock().unwrap().iter().find_map(|l| {
                let (at, skip) = l
                    .find("addr=")
                    .map(|at| (at, 5))
                    .or_else(|| l.find("\"addr\":\"").map(|at| (at, 8)))?;
                l[at + skip..]
                    .split(|c: char| c.is_whitespace() || c == '"')
                    .next()?
                    .parse()
                    .ok()
            }) {
                return addr;
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "no listening line: {:?}",
                self.lines.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn terminate(&self) {
        // SAFETY: kill(2) on our own child's pid.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
    }

    /// The exit status, if the process ends within `limit`.
    pub fn wait_for_exit(&mut self, limit: Duration) -> Option<ExitStatus> {
        let start = Instant::now();
        while start.elapsed() < limit {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        None
    }

    pub fn log(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
