//! Runs the TypeScript app-routing example's tests (examples/app-routing, `node --test`) against
//! rows this crate writes to a fresh directory, read as a reader role that may only call
//! `lookup`: rotation, tampered and copied secrets, every status, unknown and invalid hosts.
//! Node, tsc and the `pg` driver are required: a missing one fails the test with what to install.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{TestDb, key_b64, keys, ready, with_user};
use stagesub_directory::{
    Entry, Sensitive, Status, TenantSecret, ensure_schema, grant_reader, tombstone, upsert,
};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn tools_dir() -> PathBuf {
    std::env::var_os("STAGESUB_TOOLS_DIR").map_or_else(|| repo().join(".tools"), PathBuf::from)
}

/// Subdomains with the Rust validator's verdict, for the TypeScript validator to match.
fn subdomain_cases() -> String {
    let mut cases: Vec<String> = [
        "abc",
        "ab",
        "mozart-phil",
        "a-b",
        "a--b",
        "ab--c",
        "xn--abc",
        "abc-",
        "-abc",
        "ABC",
        "ab_c",
        "ab.c",
        "a b",
        "ab\u{e9}c",
        "123",
        "1-2",
        "www",
        "stagesub",
        "wwww",
        "api1",
        "ns1",
        "ns3",
        "localhost",
        "",
        "abc--",
        "ab-",
        "a1-",
        "é",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    cases.push("a".repeat(63));
    cases.push("a".repeat(64));
    cases.push(format!("a{}b", "-".repeat(61)));
    for reserved in stagesub_tenant::RESERVED_SUBDOMAINS {
        cases.push(format!("{reserved}x"));
    }
    let pairs: Vec<String> = cases
        .iter()
        .map(|s| {
            let valid = stagesub_tenant::validate_subdomain(s).is_ok();
            format!("[{},{valid}]", serde_json::to_string(s).unwrap())
        })
        .collect();
    format!("[{}]", pairs.join(","))
}

fn expected(subdomain: &str, entry: &Entry) -> String {
    let secret = entry.secret.as_ref().unwrap();
    let show = |v: &Option<Sensitive>| serde_json::to_value(v.as_ref().map(Sensitive::expose));
    format!(
        "{:?}:{}",
        subdomain,
        serde_json::json!({
            "databaseUrl": secret.database_url.expose(),
            "poolerUrl": show(&secret.pooler_url).unwrap(),
            "anonKey": show(&secret.anon_key).unwrap(),
            "apiUrl": entry.api_url,
        })
    )
}

#[tokio::test]
async fn node_tests_of_the_app_routing_example_pass() {
    let node_modules = tools_dir().join("node/node_modules");
    let node = Command::new("node").arg("--version").output();
    assert!(
        node.as_ref().is_ok_and(|o| o.status.success()),
        "node not found on PATH: install Node.js 20 or newer (Debian: apt-get install nodejs npm); \
         the app-routing example's tests need it ({node:?})"
    );

    let db = TestDb::create("app_routing").await;
    let mut client = db.client().await;
    ensure_schema(&mut client).await.unwrap();
    let reader = db.role("stagesub_dir_app").await;
    grant_reader(&mut client, &reader).await.unwrap();

    let (old, new) = (keys(&[11]), keys(&[22]));
    let mozart = ready("mozart-phil");
    upsert(&client, &old, &mozart).await.unwrap();
    let bach = Entry {
        backend: "postgres".into(),
        region: None,
        api_url: None,
        resource_id: Some("tenant_bach_choir".into()),
        secret: Some(TenantSecret {
            database_url: Sensitive::new("postgres://bach:p%40ss@127.0.0.1:5432/tenant_bach_choir"),
            pooler_url: None,
            anon_key: None,
        }),
        ..ready("bach-choir")
    };
    upsert(&client, &new, &bach).await.unwrap();
    for (subdomain, status) in [
        ("haydn-trio", Status::Provisioning),
        ("brahms-band", Status::Archived),
        ("verdi-opera", Status::Restoring),
    ] {
        let secret = (status != Status::Provisioning).then(|| common::secret(subdomain));
        let entry = Entry {
            status,
            secret,
            ..ready(subdomain)
        };
        upsert(&client, &new, &entry).await.unwrap();
    }
    upsert(&client, &new, &ready("liszt-gone")).await.unwrap();
    tombstone(&client, "liszt-gone").await.unwrap();
    for subdomain in ["tampered-row", "copied-row", "truncated-row"] {
        upsert(&client, &new, &ready(subdomain)).await.unwrap();
    }
    client
        .batch_execute(
            "UPDATE stagesub_directory.tenants
                 SET secret = set_byte(secret, 30, get_byte(secret, 30) # 128)
                 WHERE subdomain = 'tampered-row';
             UPDATE stagesub_directory.tenants AS t SET secret = o.secret, key_id = o.key_id
                 FROM stagesub_directory.tenants AS o
                 WHERE t.subdomain = 'copied-row' AND o.subdomain = 'bach-choir';
             UPDATE stagesub_directory.tenants SET secret = '\\x0102'::bytea
                 WHERE subdomain = 'truncated-row';",
        )
        .await
        .unwrap();

    let out = tempdir();
    let build = Command::new("bash")
        .arg(repo().join("examples/app-routing/build.sh"))
        .arg(&out)
        .output()
        .expect("run bash examples/app-routing/build.sh");
    assert!(
        build.status.success(),
        "examples/app-routing/build.sh failed (run scripts/setup-tools.sh for typescript and pg):\n{}{}",
        String::from_utf8_lossy(&build.stdout),
        String::from_utf8_lossy(&build.stderr)
    );

    let fixtures = format!(
        "{{{},{}}}",
        expected("mozart-phil", &mozart),
        expected("bach-choir", &bach)
    );
    let run = Command::new("node")
        .arg("--test")
        .arg("--test-reporter=spec")
        .args(test_files(&out))
        .env("NODE_PATH", &node_modules)
        .env("STAGESUB_REPO", repo())
        .env("DIRECTORY_URL", with_user(&db.url, &reader))
        .env("DIRECTORY_KEY_OLD", key_b64(11))
        .env("DIRECTORY_KEY_NEW", key_b64(22))
        .env("DIRECTORY_FIXTURES", fixtures)
        .env("SUBDOMAIN_CASES", subdomain_cases())
        .output()
        .expect("run node --test");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    let _ = std::fs::remove_dir_all(&out);
    println!("{report}");
    assert!(run.status.success(), "node --test failed:\n{report}");
    let passed: usize = report
        .lines()
        .find_map(|l| l.trim().strip_prefix("ℹ pass "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0);
    // All 14 tests of the four files ran (a file that loads no test would pass silently).
    assert!(
        passed >= 14,
        "expected at least 14 node tests to pass:\n{report}"
    );
}

/// The compiled `*.test.js` files (each must exist: a missing one fails here, not silently).
fn test_files(out: &Path) -> Vec<PathBuf> {
    ["subdomain", "secret", "resolve", "prisma"]
        .iter()
        .map(|name| {
            let file = out.join(format!("test/{name}.test.js"));
            assert!(file.exists(), "build.sh did not produce {}", file.display());
            file
        })
        .collect()
}

fn tempdir() -> PathBuf {
    let dir = std::env::temp_dir().join(common::unique("stagesub-app-routing"));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
