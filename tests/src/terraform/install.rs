//! How Terraform finds provider binaries: the CLI configuration file (`TF_CLI_CONFIG_FILE`) with a
//! `provider_installation` block, and the folders it points to.

use std::fmt::Write as _;
use std::fs;
use std::io;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

/// The `registry.terraform.io/<namespace>/<type>` source of our provider.
pub const STAGESUB_SOURCE: &str = "stagesub/stagesub";
/// The version our provider is installed as in filesystem mirrors.
pub const STAGESUB_VERSION: &str = "0.1.0";

/// One provider made available to Terraform from a local binary.
#[derive(Debug, Clone)]
pub struct LocalProvider {
    /// `<namespace>/<type>`, e.g. `stagesub/stagesub` or `hashicorp/null`.
    pub source: String,
    /// Version it is installed as (mirror mode; `required_providers` may pin it).
    pub version: String,
    /// The provider executable.
    pub binary: PathBuf,
    /// How Terraform gets it.
    pub mode: InstallMode,
}

/// The two ways a local provider binary reaches Terraform.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstallMode {
    /// `dev_overrides`: Terraform runs the binary directly; `terraform init` is not needed for this
    /// provider (it warns that overrides are in effect) and there is no lock-file entry.
    /// Terraform 1.0's `init` still asks the registry for overridden providers and fails offline:
    /// install modules with `terraform get` ([`Terraform::get_ok`](crate::Terraform::get_ok)),
    /// or use [`InstallMode::FilesystemMirror`] when `init` must run.
    DevOverride,
    /// `filesystem_mirror` (unpacked layout): `terraform init` installs it like a registry
    /// provider, writes `.terraform.lock.hcl`, and version constraints apply.
    FilesystemMirror,
}

impl LocalProvider {
    /// Our provider binary with the given mode, as `stagesub/stagesub` [`STAGESUB_VERSION`].
    pub fn stagesub(binary: impl Into<PathBuf>, mode: InstallMode) -> Self {
        Self {
            source: STAGESUB_SOURCE.to_owned(),
            version: STAGESUB_VERSION.to_owned(),
            binary: binary.into(),
            mode,
        }
    }

    /// The provider's type name (`null` for `hashicorp/null`).
    pub fn type_name(&self) -> &str {
        self.source.rsplit('/').next().unwrap_or(&self.source)
    }

    fn registry_address(&self) -> String {
        format!("registry.terraform.io/{}", self.source)
    }
}

/// Lays out the folders for `providers` under `root` and returns the CLI configuration text.
///
/// Mirror providers go to `<root>/mirror/registry.terraform.io/<ns>/<type>/<version>/linux_amd64/
/// terraform-provider-<type>_v<version>` (a symlink to the binary); dev overrides get a folder
/// `<root>/dev/<ns>/<type>/` holding `terraform-provider-<type>`. Any other provider goes to
/// `direct` (the registry), which tests cannot reach: use only local providers.
pub(crate) fn write_layout(root: &Path, providers: &[LocalProvider]) -> io::Result<String> {
    let mut overrides = String::new();
    let mut mirrored = Vec::new();
    for provider in providers {
        let binary = fs::canonicalize(&provider.binary)?;
        let (dir, file) = match provider.mode {
            InstallMode::DevOverride => (
                root.join("dev").join(&provider.source),
                format!("terraform-provider-{}", provider.type_name()),
            ),
            InstallMode::FilesystemMirror => (
                root.join("mirror")
                    .join(provider.registry_address())
                    .join(&provider.version)
                    .join(platform()),
                format!(
                    "terraform-provider-{}_v{}",
                    provider.type_name(),
                    provider.version
                ),
            ),
        };
        fs::create_dir_all(&dir)?;
        let link = dir.join(file);
        if link.symlink_metadata().is_ok() {
            fs::remove_file(&link)?;
        }
        symlink(&binary, &link)?;
        match provider.mode {
            InstallMode::DevOverride => {
                let _ = writeln!(
                    overrides,
                    "    {} = {}",
                    hcl_string(&provider.registry_address()),
                    hcl_string(&dir.to_string_lossy())
                );
            }
            InstallMode::FilesystemMirror => mirrored.push(provider.registry_address()),
        }
    }

    let mut text = String::from("provider_installation {\n");
    if !overrides.is_empty() {
        let _ = write!(text, "  dev_overrides {{\n{overrides}  }}\n");
    }
    if !mirrored.is_empty() {
        let list = mirrored
            .iter()
            .map(|s| hcl_string(s))
            .collect::<Vec<_>>()
            .join(", ");
        let mirror = root.join("mirror");
        let _ = write!(
            text,
            "  filesystem_mirror {{\n    path    = {}\n    include = [{list}]\n  }}\n  direct {{\n    exclude = [{list}]\n  }}\n",
            hcl_string(&mirror.to_string_lossy())
        );
    } else {
        text.push_str("  direct {}\n");
    }
    text.push_str("}\n");
    Ok(text)
}

/// Terraform's platform name for this machine, e.g. `linux_amd64`.
pub fn platform() -> String {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        other => other,
    };
    format!("{}_{arch}", std::env::consts::OS)
}

/// A double-quoted HCL string literal for `value` (escapes `\`, `"`, control characters, and the
/// template sequences `${` / `%{`).
pub fn hcl_string(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '$' | '%' if chars.peek() == Some(&'{') => {
                out.push(c);
                out.push(c);
            }
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hcl_string_escapes_quotes_and_templates() {
        assert_eq!(hcl_string(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(hcl_string("${x} %{y} $z"), r#""$${x} %%{y} $z""#);
        assert_eq!(hcl_string("l1\nl2\u{1}"), r#""l1\nl2\u0001""#);
    }

    #[test]
    fn layout_has_overrides_and_a_mirror_that_excludes_direct() {
        let root = tempfile::tempdir().unwrap();
        let binary = root.path().join("bin");
        fs::write(&binary, "").unwrap();
        let text = write_layout(
            root.path(),
            &[
                LocalProvider::stagesub(&binary, InstallMode::DevOverride),
                LocalProvider {
                    source: "hashicorp/null".into(),
                    version: "2.1.2".into(),
                    binary: binary.clone(),
                    mode: InstallMode::FilesystemMirror,
                },
            ],
        )
        .unwrap();
        assert!(
            text.contains("\"registry.terraform.io/stagesub/stagesub\" = "),
            "{text}"
        );
        assert!(
            text.contains("exclude = [\"registry.terraform.io/hashicorp/null\"]"),
            "{text}"
        );
        let mirrored = root.path().join(format!(
            "mirror/registry.terraform.io/hashicorp/null/2.1.2/{}/terraform-provider-null_v2.1.2",
            platform()
        ));
        assert!(mirrored.symlink_metadata().is_ok());
        assert!(
            root.path()
                .join("dev/stagesub/stagesub/terraform-provider-stagesub")
                .exists()
        );
    }
}
