//! [`Terraform`]: runs a real Terraform CLI in a private temporary working folder.
//!
//! ```no_run
//! use stagesub_acceptance::{InstallMode, LocalProvider, Terraform};
//!
//! let tf = Terraform::latest()
//!     .with_provider(LocalProvider::stagesub(
//!         stagesub_acceptance::provider_binary(),
//!         InstallMode::DevOverride,
//!     ))
//!     .with_env("STAGESUB_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres");
//! tf.write_file("main.tf", r#"resource "stagesub_orchestra_database" "x" { ... }"#);
//! tf.apply_ok();
//! assert!(tf.plan_is_empty());
//! tf.destroy_ok();
//! ```
//!
//! Each instance owns a temporary folder holding `work/` (the root module: `.tf` files, state,
//! `.terraform/`), `cli.tfrc` (the CLI configuration) and the provider folders; it is deleted on
//! drop (set `STAGESUB_KEEP_TF_DIRS=1` to keep it for debugging; its path is printed then).
//! The environment is the test's, plus `TF_CLI_CONFIG_FILE`, `CHECKPOINT_DISABLE=1`,
//! `TF_IN_AUTOMATION=1`, `TF_INPUT=0`, minus variables that would change behaviour
//! (`TF_CLI_ARGS*`, `TF_DATA_DIR`, `TF_PLUGIN_CACHE_DIR`, `TF_WORKSPACE`, `TF_REATTACH_PROVIDERS`).

mod commands;
mod install;
mod output;

pub use commands::{Version, parse_version};
pub use install::{
    InstallMode, LocalProvider, STAGESUB_SOURCE, STAGESUB_VERSION, hcl_string, platform,
};
pub use output::{TfOutput, normalize};

use std::ffi::OsString;
use std::fs;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::paths;

/// Default limit for one Terraform command; override with [`Terraform::with_timeout`].
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);

const REMOVED_ENV: &[&str] = &[
    "TF_CLI_ARGS",
    "TF_DATA_DIR",
    "TF_PLUGIN_CACHE_DIR",
    "TF_WORKSPACE",
    "TF_REATTACH_PROVIDERS",
    "TF_CLI_CONFIG_FILE",
];

/// A Terraform CLI bound to one temporary working folder.
#[derive(Debug)]
pub struct Terraform {
    binary: PathBuf,
    root: tempfile::TempDir,
    providers: Vec<LocalProvider>,
    env: Vec<(OsString, Option<OsString>)>,
    timeout: Duration,
}

impl Terraform {
    /// Terraform 1.15.5 from `scripts/setup-tools.sh` (`$STAGESUB_TERRAFORM`).
    pub fn latest() -> Self {
        Self::new(paths::terraform_latest_path())
    }

    /// Terraform 1.0.3 from `scripts/setup-tools.sh` (`$STAGESUB_TERRAFORM_1_0`).
    pub fn v1_0() -> Self {
        Self::new(paths::terraform_1_0_path())
    }

    /// Both versions the provider must support, newest first: for tests that loop over them.
    pub fn all_versions() -> Vec<Self> {
        vec![Self::latest(), Self::v1_0()]
    }

    /// A Terraform (or OpenTofu) binary at `binary` with a fresh temporary folder.
    pub fn new(binary: impl Into<PathBuf>) -> Self {
        let root = tempfile::Builder::new()
            .prefix("stagesub-tf-")
            .tempdir()
            .expect("create a temporary folder");
        fs::create_dir(root.path().join("work")).expect("create work folder");
        let tf = Self {
            binary: binary.into(),
            root,
            providers: Vec::new(),
            env: Vec::new(),
            timeout: DEFAULT_TIMEOUT,
        };
        tf.write_cli_config();
        tf
    }

    /// Makes a local provider binary available (see [`InstallMode`]).
    pub fn with_provider(mut self, provider: LocalProvider) -> Self {
        self.providers.retain(|p| p.source != provider.source);
        self.providers.push(provider);
        self.write_cli_config();
        self
    }

    /// The Go null provider 2.1.2 from `scripts/setup-tools.sh`, as `hashicorp/null` 2.1.2.
    pub fn with_null_provider(self, mode: InstallMode) -> Self {
        self.with_provider(LocalProvider {
            source: "hashicorp/null".to_owned(),
            version: "2.1.2".to_owned(),
            binary: paths::null_provider_path(),
            mode,
        })
    }

    /// Sets an environment variable for every command.
    pub fn with_env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> Self {
        self.env.push((key.into(), Some(value.into())));
        self
    }

    /// Removes an inherited environment variable for every command.
    pub fn without_env(mut self, key: impl Into<OsString>) -> Self {
        self.env.push((key.into(), None));
        self
    }

    /// Sets the limit for each command (default [`DEFAULT_TIMEOUT`]).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The Terraform binary.
    pub fn binary(&self) -> &Path {
        &self.binary
    }

    /// The root module folder commands run in.
    pub fn workdir(&self) -> PathBuf {
        self.root.path().join("work")
    }

    /// The CLI configuration file (`TF_CLI_CONFIG_FILE`).
    pub fn cli_config_path(&self) -> PathBuf {
        self.root.path().join("cli.tfrc")
    }

    /// Writes (or replaces) a file relative to the working folder, creating parent folders.
    pub fn write_file(&self, relative: impl AsRef<Path>, contents: impl AsRef<[u8]>) {
        let path = self.workdir().join(relative);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).expect("create parent folder");
        }
        fs::write(&path, contents).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    }

    /// Deletes a file relative to the working folder.
    pub fn remove_file(&self, relative: impl AsRef<Path>) {
        let path = self.workdir().join(relative);
        fs::remove_file(&path).unwrap_or_else(|e| panic!("remove {}: {e}", path.display()));
    }

    fn write_cli_config(&self) {
        let text = install::write_layout(self.root.path(), &self.providers)
            .unwrap_or_else(|e| panic!("lay out provider folders: {e}"));
        fs::write(self.cli_config_path(), text).expect("write CLI configuration");
    }

    /// Runs `terraform <args>` in the working folder and returns its output; never panics on a
    /// non-zero exit (see [`TfOutput::assert_success`]).
    pub fn run(&self, args: &[&str]) -> TfOutput {
        self.run_with_stdin(args, None)
    }

    /// Like [`run`](Self::run), writing `stdin` to the command's standard input (else it reads
    /// an empty input).
    pub fn run_with_stdin(&self, args: &[&str], stdin: Option<&str>) -> TfOutput {
        let mut command = Command::new(&self.binary);
        command
            .args(args)
            .current_dir(self.workdir())
            // Own process group: a timeout kills Terraform and the providers it started.
            .process_group(0)
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for key in REMOVED_ENV {
            command.env_remove(key);
        }
        command
            .env("TF_CLI_CONFIG_FILE", self.cli_config_path())
            .env("CHECKPOINT_DISABLE", "1")
            .env("TF_IN_AUTOMATION", "1")
            .env("TF_INPUT", "0");
        for (key, value) in &self.env {
            match value {
                Some(value) => command.env(key, value),
                None => command.env_remove(key),
            };
        }
        let shown = format!("{} {}", self.binary.display(), args.join(" "));
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {shown}: {e}; run scripts/setup-tools.sh"));
        if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
            let text = text.to_owned();
            thread::spawn(move || std::io::Write::write_all(&mut pipe, text.as_bytes()));
        }
        let stdout = read_in_background(child.stdout.take());
        let stderr = read_in_background(child.stderr.take());
        let deadline = Instant::now() + self.timeout;
        let mut timed_out = false;
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait for terraform") {
                break status;
            }
            if Instant::now() >= deadline {
                timed_out = true;
                let _ = Command::new("kill")
                    .args(["-KILL", "--", &format!("-{}", child.id())])
                    .status();
                let _ = child.kill();
                break child.wait().expect("wait for killed terraform");
            }
            thread::sleep(Duration::from_millis(10));
        };
        let mut stderr = stderr.join().unwrap_or_default();
        if timed_out {
            stderr.push_str(&format!("\n[harness] killed after {:?}\n", self.timeout));
        }
        TfOutput {
            command: shown,
            code: if timed_out { None } else { status.code() },
            stdout: stdout.join().unwrap_or_default(),
            stderr,
        }
    }
}

impl Drop for Terraform {
    fn drop(&mut self) {
        if std::env::var_os("STAGESUB_KEEP_TF_DIRS").is_some_and(|v| v == "1") {
            let path = std::mem::replace(
                &mut self.root,
                tempfile::tempdir().expect("placeholder temp dir"),
            )
            .keep();
            eprintln!("[harness] kept Terraform folder {}", path.display());
        }
    }
}

fn read_in_background<R: Read + Send + 'static>(pipe: Option<R>) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut bytes);
        }
        String::from_utf8_lossy(&bytes).into_owned()
    })
}
