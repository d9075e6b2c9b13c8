//! Customer text is data: a hostile corpus of orchestra names reads back exactly through a strict HCL
//! parser and passes `terraform fmt -check`; invalid or reserved subdomains never reach Git.

mod support;

use serde_json::json;
use stagesub_bridge::render::{quote, render_tenant};
use stagesub_bridge::signature::unix_now;
use stagesub_bridge::tenant::{Tenant, TenantRecord};
use support::*;

fn corpus() -> Vec<String> {
    let mut names: Vec<String> = [
        "${var.secret}",
        "%{ if true }x%{ endif }",
        "$${already escaped}",
        "%%{already escaped}",
        "$$${triple}",
        "$",
        "%",
        "ends with $",
        "ends with %",
        "{${}}",
        "\"quoted\" name",
        "back\\slash \\n not a newline",
        "trailing backslash \\",
        "\\\"",
        "Orchestre de l'Opéra — Ñandú 管弦楽団 🎻",
        "#not a comment",
        "// nor this",
        "/* nor this */",
        "<<EOF",
        "}\nmodule \"x\" {",
        "  leading and trailing spaces  ",
        "\u{200B}zero width\u{FEFF}",
        "\u{2028}line separator\u{2029}",
        "emoji 👩‍👩‍👧‍👦 family",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    names.push("é".repeat(256));
    names.push(format!("{}${{", "x".repeat(254)));
    names
}

fn record(name: &str, i: usize) -> TenantRecord {
    TenantRecord {
        values: Tenant {
            subdomain: format!("hostile-{i}"),
            orchestra_name: name.to_owned(),
            contact_email: Some("o'brien+${x}@example.com".into()),
            plan: Some("enterprise".into()),
            region: Some("apac".into()),
        },
        archived: false,
        stripe_customer_id: Some("cus_\"x\n".into()),
        stripe_subscription_id: None,
        source_event_id: Some("evt_1\n}\nmodule \"evil\" {".into()),
        checkout_session_id: Some("cs_\r\n# x".into()),
    }
}

#[test]
fn renderer_round_trips_the_corpus() {
    for (i, name) in corpus().iter().enumerate() {
        // Names with control characters are refused by validation, but the writer must still be exact.
        let r = record(name, i);
        let text = render_tenant(&r, "../modules/orchestra \"${x}\"");
        let (label, attrs) = read_tenant_file(&text);
        assert_eq!(label, format!("orchestra-hostile-{i}"));
        assert_eq!(
            hcl_str(&attrs, "orchestra_name").as_deref(),
            Some(name.as_str()),
            "{text}"
        );
        assert_eq!(
            hcl_str(&attrs, "contact_email").as_deref(),
            Some("o'brien+${x}@example.com")
        );
        assert_eq!(
            hcl_str(&attrs, "stripe_customer_id").as_deref(),
            Some("cus_\"x\n")
        );
        assert_eq!(
            hcl_str(&attrs, "source").as_deref(),
            Some("../modules/orchestra \"${x}\"")
        );
        assert_eq!(hcl_str(&attrs, "stripe_subscription_id"), None);
        assert_eq!(
            text.lines().filter(|l| l.starts_with("module ")).count(),
            1,
            "comment injection:\n{text}"
        );
    }
    for c in ['\0', '\u{1b}', '\u{7f}', '\u{85}', '\t', '\r', '\n'] {
        let s = format!("a{c}b");
        let (_, attrs) = read_tenant_file(&format!("module \"m\" {{\n  v = {}\n}}\n", quote(&s)));
        assert_eq!(hcl_str(&attrs, "v"), Some(s));
    }
}

#[test]
fn rendered_corpus_passes_terraform_fmt() {
    // One terraform run for the whole corpus: a file per name in one folder.
    let dir = tempfile::tempdir().unwrap();
    let names = corpus();
    for (i, name) in names.iter().enumerate() {
        std::fs::write(
            dir.path().join(format!("t{i}.tf")),
            render_tenant(&record(name, i), "../modules/orchestra"),
        )
        .unwrap();
    }
    let out = std::process::Command::new(terraform())
        .args(["fmt", "-check", "-diff", "-recursive", "."])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn hostile_names_survive_the_whole_path_to_git() {
    let b = Bridge::new().await;
    let now = unix_now();
    // Every name the shared rules accept (stagesub-tenant refuses controls, bidi and other format
    // characters, separators, …) must reach Git unchanged.
    let names: Vec<String> = corpus()
        .into_iter()
        .filter(|n| {
            stagesub_bridge::tenant::Field::OrchestraName
                .validate(n)
                .is_ok()
        })
        .collect();
    assert!(names.len() > 20, "the corpus still exercises the renderer");
    let events: Vec<String> = names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            checkout_event(
                &format!("evt_h{i}"),
                now,
                &format!("cus_h{i}"),
                None,
                json!({"subdomain": format!("hostile-{i}"), "orchestra_name": n}),
            )
            .to_string()
        })
        .collect();
    for (p, s) in events.iter().zip(stripe_sign(&events, SECRET, None)) {
        assert_eq!(b.deliver(p, &s).await.0, 200);
    }
    b.drain().await;
    for (i, name) in names.iter().enumerate() {
        let text = b
            .remote
            .file("main", &format!("tenants/hostile-{i}/main.tf"))
            .unwrap();
        let (_, attrs) = read_tenant_file(&text);
        assert_eq!(
            hcl_str(&attrs, "orchestra_name").as_deref(),
            Some(name.as_str())
        );
    }
}

#[tokio::test]
async fn reserved_and_invalid_subdomains_never_reach_git() {
    let b = Bridge::new().await;
    let now = unix_now();
    let bad = [
        "www",
        "api",
        "admin",
        "app",
        "mail",
        "static",
        "status",
        "supabase",
        "localhost",
        "ab",
        "-lead",
        "trail-",
        "UPPER",
        "under_score",
        "xn--punycode",
        "ab--cd",
        "dot.ted",
        "a b",
        "../../etc",
        "ünï",
        "",
    ];
    let long = "a".repeat(64);
    let events: Vec<String> = bad
        .iter()
        .copied()
        .chain([long.as_str()])
        .enumerate()
        .map(|(i, s)| {
            checkout_event(
                &format!("evt_r{i}"),
                now,
                "cus_r",
                None,
                json!({"subdomain": s, "orchestra_name": "X"}),
            )
            .to_string()
        })
        .collect();
    for (p, s) in events.iter().zip(stripe_sign(&events, SECRET, None)) {
        assert_eq!(b.deliver(p, &s).await.0, 200);
    }
    b.drain().await;
    assert_eq!(b.remote.commit_count("main"), 1, "nothing may be committed");
    assert_eq!(b.count("SELECT count(*) FROM tenants").await, 0);
    assert_eq!(
        b.count("SELECT count(*) FROM events WHERE outcome LIKE 'invalid: %'")
            .await,
        events.len() as i64
    );
}
