//! Where things are: the repository, the Cargo target folder, built binaries and installed tools.
//!
//! Lookups that fail panic with a message that says which command fixes it: these helpers serve
//! tests, where a missing tool must fail the test loudly rather than skip it.

use std::env;
use std::path::{Path, PathBuf};

/// The repository root (the folder holding the workspace `Cargo.toml`).
pub fn repo_root() -> PathBuf {
    // This crate lives in `<repo>/tests`.
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent folder")
        .to_path_buf()
}

/// The Cargo target folder the running test was built into.
///
/// Derived from the test executable (`<target>/<profile>/deps/<test>`), so it is right whatever
/// `CARGO_TARGET_DIR` was at build time; falls back to `$CARGO_TARGET_DIR`, then `<repo>/target`.
pub fn target_dir() -> PathBuf {
    if let Some(profile_dir) = profile_dir_from_exe()
        && let Some(target) = profile_dir.parent()
    {
        return target.to_path_buf();
    }
    match env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => repo_root().join(dir), // an absolute path replaces the root in `join`
        None => repo_root().join("target"),
    }
}

/// `<target>/<profile>` of the running test executable (`debug` for `cargo test`/`nextest run`).
fn profile_dir_from_exe() -> Option<PathBuf> {
    let exe = env::current_exe().ok()?;
    let deps = exe.parent()?;
    if deps.file_name()? != "deps" {
        return None;
    }
    Some(deps.parent()?.to_path_buf())
}

/// Path of a binary built from this workspace, e.g. `binary_path("terraform-provider-stagesub")`.
///
/// Looks in the profile folder the running test was built for (`<target>/debug`).
///
/// # Panics
/// When the binary does not exist, with a message to run `cargo build --workspace --bins`.
pub fn binary_path(name: &str) -> PathBuf {
    let profile_dir = profile_dir_from_exe().unwrap_or_else(|| target_dir().join("debug"));
    let path = profile_dir.join(name);
    assert!(
        path.is_file(),
        "binary {name} not found at {}: run `cargo build --workspace --bins` first \
         (scripts/test.sh does)",
        path.display()
    );
    path
}

/// The built `terraform-provider-stagesub` binary (see [`binary_path`]).
pub fn provider_binary() -> PathBuf {
    binary_path("terraform-provider-stagesub")
}

/// The tools folder made by `scripts/setup-tools.sh`: `$STAGESUB_TOOLS_DIR`, default `<repo>/.tools`.
pub fn tools_dir() -> PathBuf {
    env::var_os("STAGESUB_TOOLS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".tools"))
}

/// A file installed by `scripts/setup-tools.sh`, from an environment variable or a default path
/// relative to [`tools_dir`].
///
/// # Panics
/// When the file is missing, naming `scripts/setup-tools.sh`.
pub fn tool_path(env_var: Option<&str>, relative: &str) -> PathBuf {
    let path = env_var
        .and_then(env::var_os)
        .map(PathBuf::from)
        .unwrap_or_else(|| tools_dir().join(relative));
    assert!(
        path.is_file(),
        "test tool {} is missing: run scripts/setup-tools.sh{}",
        path.display(),
        env_var
            .map(|v| format!(" (or set {v})"))
            .unwrap_or_default()
    );
    path
}

/// Terraform 1.15.5: `$STAGESUB_TERRAFORM`, default `<tools>/bin/terraform`.
pub fn terraform_latest_path() -> PathBuf {
    tool_path(Some("STAGESUB_TERRAFORM"), "bin/terraform")
}

/// Terraform 1.0.3: `$STAGESUB_TERRAFORM_1_0`, default `<tools>/bin/terraform-1.0.3`.
pub fn terraform_1_0_path() -> PathBuf {
    tool_path(Some("STAGESUB_TERRAFORM_1_0"), "bin/terraform-1.0.3")
}

/// The Go null provider 2.1.2 binary: `$STAGESUB_NULL_PROVIDER`, default
/// `<tools>/providers/terraform-provider-null_v2.1.2_x4`.
pub fn null_provider_path() -> PathBuf {
    tool_path(
        Some("STAGESUB_NULL_PROVIDER"),
        "providers/terraform-provider-null_v2.1.2_x4",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repo_root_holds_the_workspace_manifest() {
        let manifest = std::fs::read_to_string(repo_root().join("Cargo.toml")).unwrap();
        assert!(manifest.contains("[workspace]"));
    }

    #[test]
    fn target_dir_contains_the_running_test() {
        let exe = env::current_exe().unwrap();
        assert!(
            exe.starts_with(target_dir()),
            "{exe:?} not under {:?}",
            target_dir()
        );
    }
}
