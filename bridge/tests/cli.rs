//! The command line: `render` prints a valid tenant file; `serve` refuses a bad configuration with a
//! message that names the variable, and never prints secrets.

mod support;

use std::process::Command;

use support::*;

fn bridge() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_stagesub-bridge"));
    c.env_clear().env("PATH", std::env::var("PATH").unwrap());
    c
}

#[test]
fn render_command_prints_a_valid_file() {
    let out = bridge()
        .args([
            "render",
            "--subdomain",
            "cli-test",
            "--orchestra-name",
            "CLI \"${x}\"",
            "--plan",
            "free",
            "--archived",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert_terraform_fmt_clean(&text);
    let (_, attrs) = read_tenant_file(&text);
    assert_eq!(
        hcl_str(&attrs, "orchestra_name").as_deref(),
        Some("CLI \"${x}\"")
    );
    assert_eq!(attrs["archived"], hcl::Value::Bool(true));
    let bad = bridge()
        .args(["render", "--subdomain", "www", "--orchestra-name", "X"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("reserved"));
}

#[test]
fn serve_names_the_missing_or_bad_variable() {
    let out = bridge().arg("serve").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("STRIPE_WEBHOOK_SECRET"));
    let out = bridge()
        .arg("serve")
        .env("STRIPE_WEBHOOK_SECRET", "whsec_do_not_print")
        .env("DATABASE_URL", "postgres://u:pw_do_not_print@127.0.0.1/db")
        .env("GIT_BACKEND", "svn")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr.contains("GIT_BACKEND") && stderr.contains("svn"),
        "{stderr}"
    );
    assert!(!stderr.contains("do_not_print"), "{stderr}");
    let out = bridge().arg("bogus").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("usage"));
}
