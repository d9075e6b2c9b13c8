//! [`ChildProcess`]: a spawned server that is killed and reaped when the guard is dropped, even
//! when the test panics, so no test leaves servers behind.
//!
//! The child runs in its own process group, and the whole group is signalled: a server started
//! through a shell, or one that forks workers (lighttpd's CGI, git), goes away with everything it
//! started.

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::process::CommandExt;
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// A running child process (and its process group), killed (SIGKILL) and waited for on drop.
#[derive(Debug)]
pub struct ChildProcess {
    name: String,
    child: Child,
}

impl ChildProcess {
    /// Spawns `command` in a new process group (its stdio settings are kept).
    ///
    /// # Panics
    /// When the program cannot be started.
    pub fn spawn(command: &mut Command) -> Self {
        let name = command.get_program().to_string_lossy().into_owned();
        let child = command
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("could not start {name}: {e}"));
        Self { name, child }
    }

    /// Spawns `command` with stdout piped and waits until it prints a line for which `matches`
    /// returns `Some`; returns the guard and that value. Lines after it go on to the test's
    /// stdout (so a server's log shows with `--nocapture`); stderr is inherited.
    ///
    /// Typical use: a server that prints `listening 127.0.0.1:PORT` after binding port 0.
    ///
    /// # Panics
    /// When the process exits or `timeout` passes before such a line.
    pub fn spawn_until_line<T: Send + 'static>(
        command: &mut Command,
        timeout: Duration,
        matches: impl Fn(&str) -> Option<T> + Send + 'static,
    ) -> (Self, T) {
        command.stdout(Stdio::piped());
        let mut process = Self::spawn(command);
        let stdout = process.child.stdout.take().expect("stdout is piped");
        let (sender, receiver) = mpsc::channel();
        thread::spawn(move || forward_lines(stdout, matches, sender));
        match receiver.recv_timeout(timeout) {
            Ok(value) => (process, value),
            Err(_) => {
                let status = process.child.try_wait().ok().flatten();
                panic!(
                    "{} did not print the expected start-up line within {timeout:?} (exit status: {status:?})",
                    process.name
                )
            }
        }
    }

    /// The process id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// The exit status if the process has ended, without waiting.
    pub fn try_status(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Sends SIGTERM to the process only and waits up to `grace` for it to exit, then SIGKILLs
    /// its group. Returns the exit status (for testing graceful shutdown).
    pub fn terminate(&mut self, grace: Duration) -> ExitStatus {
        self.signal("-TERM", &self.child.id().to_string());
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            if let Some(status) = self.try_status() {
                self.kill_group();
                return status;
            }
            thread::sleep(Duration::from_millis(20));
        }
        self.kill_group();
        let _ = self.child.kill();
        self.child.wait().expect("wait for killed child")
    }

    /// SIGKILLs every process left in the child's process group.
    fn kill_group(&self) {
        self.signal("-KILL", &format!("-{}", self.child.id()));
    }

    fn signal(&self, signal: &str, target: &str) {
        // The `kill` command avoids a libc dependency for two signals.
        let _ = Command::new("kill")
            .args([signal, "--", target])
            .stderr(std::process::Stdio::null())
            .status();
    }

    /// Gives access to the underlying [`Child`] (e.g. to take its stdin).
    pub fn child_mut(&mut self) -> &mut Child {
        &mut self.child
    }
}

impl Drop for ChildProcess {
    fn drop(&mut self) {
        let running = self.try_status().is_none();
        // The group may outlive its leader (a shell's children): signal it either way.
        self.kill_group();
        if running {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn forward_lines<T>(
    stdout: ChildStdout,
    matches: impl Fn(&str) -> Option<T>,
    sender: mpsc::Sender<T>,
) {
    let mut found = false;
    for line in BufReader::new(stdout).lines() {
        let Ok(line) = line else { break };
        if !found && let Some(value) = matches(&line) {
            found = true;
            let _ = sender.send(value);
            continue;
        }
        println!("{line}");
    }
}

/// Waits until something accepts TCP connections on `addr`.
///
/// # Panics
/// When nothing does within `timeout`.
pub fn wait_for_port(addr: SocketAddr, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return;
        }
        thread::sleep(Duration::from_millis(25));
    }
    panic!("nothing listens on {addr} after {timeout:?}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dropping_the_guard_kills_the_process() {
        let process = ChildProcess::spawn(Command::new("sleep").arg("600"));
        let pid = process.id();
        drop(process);
        // The process was reaped, so its /proc entry is gone.
        assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists());
    }

    #[test]
    fn dropping_the_guard_kills_grandchildren() {
        let (process, grandchild) = ChildProcess::spawn_until_line(
            Command::new("sh").args(["-c", "sleep 600 & echo $!; wait"]),
            Duration::from_secs(10),
            |line| line.trim().parse::<u32>().ok(),
        );
        drop(process);
        let proc_dir = format!("/proc/{grandchild}");
        let deadline = Instant::now() + Duration::from_secs(5);
        // The grandchild is reparented to init, which reaps it shortly after the kill.
        while std::path::Path::new(&proc_dir).exists() && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(20));
        }
        let state = std::fs::read_to_string(format!("{proc_dir}/stat")).unwrap_or_default();
        assert!(
            state.is_empty() || state.contains(") Z "),
            "grandchild alive: {state}"
        );
    }

    #[test]
    fn spawn_until_line_returns_the_matching_value() {
        let (_process, port) = ChildProcess::spawn_until_line(
            Command::new("sh").args([
                "-c",
                "echo starting; echo 'listening 127.0.0.1:4242'; sleep 600",
            ]),
            Duration::from_secs(10),
            |line| line.strip_prefix("listening 127.0.0.1:").map(str::to_owned),
        );
        assert_eq!(port, "4242");
    }
}
