//! `stagesub-bridge console hash-password`, and `serve` with a console setting it must refuse.

use std::io::Write;
use std::process::{Command, Stdio};

use stagesub_bridge::console::auth::verify_password;

fn hash_password(stdin: &[u8]) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_stagesub-bridge"))
        .args(["console", "hash-password"])
        .env_clear()
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn hash_password_prints_an_argon2id_hash_of_stdin() {
    let out = hash_password(b"s3cret with spaces\n");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let hash = String::from_utf8(out.stdout).unwrap();
    assert!(hash.starts_with("$argon2id$v=19$"), "{hash}");
    assert!(verify_password(hash.trim_end(), "s3cret with spaces"));
    assert!(!verify_password(hash.trim_end(), "s3cret with spaces\n"));
    // Two runs, two salts.
    let again = String::from_utf8(hash_password(b"s3cret with spaces\n").stdout).unwrap();
    assert_ne!(hash, again);
    let empty = hash_password(b"\n");
    assert_eq!(empty.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&empty.stderr).contains("empty"));
}

#[test]
fn serve_refuses_a_proxy_header_without_trusted_proxies() {
    let out = Command::new(env!("CARGO_BIN_EXE_stagesub-bridge"))
        .arg("serve")
        .env_clear()
        .env("STRIPE_WEBHOOK_SECRET", "whsec_x")
        .env("DATABASE_URL", "postgres://u@127.0.0.1:1/db")
        .env("GIT_BACKEND", "git")
        .env("GIT_REMOTE_URL", "file:///nonexistent")
        .env("CONSOLE_TRUST_PROXY_HEADER", "X-Forwarded-User")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("CONSOLE_TRUSTED_PROXIES"), "{err}");
}
