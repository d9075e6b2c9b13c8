//! Terraform mode: in each tenant root, `terraform apply -auto-approve -input=false`, preceded
//! by `terraform init -input=false` only when the root needs it (never initialised, or the apply
//! says a module, provider or backend must be installed first, as after a module source or
//! provider version change).

use std::collections::BTreeMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::process::Stdio;
use std::sync::Arc;

use tokio::process::Command;

use crate::error::{Error, Result};
use crate::redact::Redactor;
use crate::rollout::{Executor, TenantResult};

/// When `terraform init` runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum InitPolicy {
    /// When the root has no `.terraform` folder, or the apply asks for it.
    Auto,
    /// Before every apply (`-upgrade` is not passed: the lock file decides versions).
    Always,
    /// Never (roots prepared beforehand).
    Never,
}

/// Applies tenant roots with the Terraform CLI.
#[derive(Debug)]
pub struct TerraformExecutor {
    /// The Terraform (or OpenTofu) executable.
    pub binary: PathBuf,
    /// Each tenant's root folder.
    pub roots: BTreeMap<String, PathBuf>,
    /// When init runs.
    pub init: InitPolicy,
    /// Extra arguments for `apply` (e.g. `-parallelism=2`).
    pub apply_args: Vec<String>,
    /// Runs instead of `terraform init` (through `sh -c`, from the current folder), with
    /// `{subdomain}` replaced and `FLEET_SUBDOMAIN` set: e.g. the infra repository's
    /// `scripts/tenant-root.sh {subdomain}`, which copies the shared settings in and selects
    /// the tenant's own state.
    pub init_command: Option<String>,
    /// Cleans error text.
    pub redactor: Redactor,
}

/// The tenant roots under `tenants_dir`: each folder holding a `main.tf`, named for its
/// subdomain (folders starting with `_` or `.` hold shared files and are not tenants).
pub fn discover(tenants_dir: &Path) -> Result<BTreeMap<String, PathBuf>> {
    let entries = std::fs::read_dir(tenants_dir).map_err(|source| Error::Io {
        path: tenants_dir.to_path_buf(),
        source,
    })?;
    let mut roots = BTreeMap::new();
    for entry in entries {
        let entry = entry.map_err(|source| Error::Io {
            path: tenants_dir.to_path_buf(),
            source,
        })?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        if name.starts_with(['_', '.']) || !path.join("main.tf").is_file() {
            continue;
        }
        stagesub_tenant::validate_subdomain(&name).map_err(|e| {
            Error::Usage(format!(
                "{}: a tenant root is named for its subdomain, and {name:?} is not one: {e}",
                path.display()
            ))
        })?;
        roots.insert(name, path);
    }
    Ok(roots)
}

/// Terraform's messages that mean "run init first".
const NEEDS_INIT: [&str; 7] = [
    "terraform init",
    "Module not installed",
    "Module source has changed",
    "Inconsistent dependency lock file",
    "Backend initialization required",
    "Required plugins are not installed",
    "missing or corrupted provider plugins",
];

struct Run {
    ok: bool,
    output: String,
}

impl TerraformExecutor {
    async fn terraform(&self, root: &Path, args: &[&str]) -> std::io::Result<Run> {
        let mut command = Command::new(&self.binary);
        command
            .arg(format!("-chdir={}", root.display()))
            .args(args)
            .env("TF_IN_AUTOMATION", "1")
            .env("TF_INPUT", "0")
            .stdin(Stdio::null())
            .kill_on_drop(true);
        let out = command.output().await?;
        let mut output = String::from_utf8_lossy(&out.stdout).into_owned();
        output.push_str(&String::from_utf8_lossy(&out.stderr));
        Ok(Run {
            ok: out.status.success(),
            output,
        })
    }

    async fn init(&self, subdomain: &str, root: &Path) -> std::result::Result<(), String> {
        let run = match &self.init_command {
            // The subdomain is a checked DNS label (discover): nothing in it a shell reads.
            Some(command) => {
                let out = Command::new("sh")
                    .arg("-c")
                    .arg(command.replace("{subdomain}", subdomain))
                    .env("FLEET_SUBDOMAIN", subdomain)
                    .env("TF_IN_AUTOMATION", "1")
                    .env("TF_INPUT", "0")
                    .stdin(Stdio::null())
                    .kill_on_drop(true)
                    .output()
                    .await
                    .map_err(|e| format!("could not run the init command: {e}"))?;
                let mut output = String::from_utf8_lossy(&out.stdout).into_owned();
                output.push_str(&String::from_utf8_lossy(&out.stderr));
                Run {
                    ok: out.status.success(),
                    output,
                }
            }
            None => self
                .terraform(root, &["init", "-input=false", "-no-color"])
                .await
                .map_err(|e| self.spawn_error(&e))?,
        };
        if run.ok {
            Ok(())
        } else {
            Err(format!("terraform init: {}", self.summary(&run.output)))
        }
    }

    fn spawn_error(&self, e: &std::io::Error) -> String {
        format!(
            "could not run {} ({e}); install Terraform or pass --terraform",
            self.binary.display()
        )
    }

    async fn apply_root(self: Arc<Self>, subdomain: String) -> TenantResult {
        let Some(root) = self.roots.get(&subdomain).cloned() else {
            return Err(format!("no tenant root for {subdomain}"));
        };
        let mut initialised = false;
        if self.init == InitPolicy::Always
            || (self.init == InitPolicy::Auto && !root.join(".terraform").is_dir())
        {
            self.init(&subdomain, &root).await?;
            initialised = true;
        }
        let mut args = vec!["apply", "-auto-approve", "-input=false", "-no-color"];
        args.extend(self.apply_args.iter().map(String::as_str));
        let mut run = self
            .terraform(&root, &args)
            .await
            .map_err(|e| self.spawn_error(&e))?;
        if !run.ok
            && !initialised
            && self.init == InitPolicy::Auto
            && NEEDS_INIT.iter().any(|m| run.output.contains(m))
        {
            self.init(&subdomain, &root).await?;
            initialised = true;
            run = self
                .terraform(&root, &args)
                .await
                .map_err(|e| self.spawn_error(&e))?;
        }
        if !run.ok {
            return Err(format!("terraform apply: {}", self.summary(&run.output)));
        }
        let changes = run
            .output
            .lines()
            .find(|l| l.starts_with("Apply complete!"))
            .unwrap_or("applied")
            .trim()
            .to_owned();
        Ok(Some(if initialised {
            format!("init, {changes}")
        } else {
            changes
        }))
    }

    /// The `Error:` blocks of Terraform's output (else its last lines), redacted and short.
    fn summary(&self, output: &str) -> String {
        let mut blocks: Vec<String> = Vec::new();
        let mut lines = output.lines().peekable();
        while let Some(line) = lines.next() {
            let trimmed = line.trim_start_matches(['│', ' ', '╷', '╵']);
            if let Some(rest) = trimmed.strip_prefix("Error: ") {
                let mut block = rest.trim().to_owned();
                while let Some(next) = lines.peek() {
                    let t = next.trim_start_matches(['│', ' ', '╷', '╵']).trim();
                    if t.starts_with("Error: ") || next.starts_with('╵') {
                        break;
                    }
                    if !t.is_empty() && !t.starts_with("with ") && !t.starts_with("on ") {
                        block.push(' ');
                        block.push_str(t);
                    }
                    lines.next();
                }
                blocks.push(block);
            }
        }
        let text = if blocks.is_empty() {
            let all: Vec<&str> = output.lines().filter(|l| !l.trim().is_empty()).collect();
            all[all.len().saturating_sub(5)..].join(" / ")
        } else {
            blocks.join(" / ")
        };
        let clean = self.redactor.clean(&text);
        if clean.chars().count() > 2000 {
            clean.chars().take(2000).collect::<String>() + "…"
        } else {
            clean
        }
    }
}

impl Executor for TerraformExecutor {
    fn apply(
        self: Arc<Self>,
        subdomain: String,
    ) -> Pin<Box<dyn Future<Output = TenantResult> + Send>> {
        Box::pin(self.apply_root(subdomain))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_keeps_error_blocks_and_hides_secrets() {
        let mut redactor = Redactor::default();
        redactor.add("topsecret-value");
        let executor = TerraformExecutor {
            binary: "terraform".into(),
            roots: BTreeMap::new(),
            init: InitPolicy::Auto,
            apply_args: vec![],
            init_command: None,
            redactor,
        };
        let output = "Plan: 1 to add\n╷\n│ Error: creating the database\n│ \n│   with module.x,\n│ could not connect to postgres://a:pw1234@h/db topsecret-value\n╵\n";
        let s = executor.summary(output);
        assert!(s.starts_with("creating the database"), "{s}");
        assert!(!s.contains("pw1234") && !s.contains("topsecret"), "{s}");
        assert!(s.contains("could not connect"), "{s}");
    }
}
