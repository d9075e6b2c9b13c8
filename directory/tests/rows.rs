//! Writing and reading rows against a real Postgres: round trip, generations, tombstones, key
//! rotation, tampering, secrets copied between subdomains, and errors that keep secrets out.

mod common;

use common::{TestDb, key_b64, keys, ready, secret};
use stagesub_directory::{
    Entry, Error, NONCE_LEN, ReadOutcome, Reencrypted, Status, TAG_LEN, connect, ensure_schema,
    key_id, mark, read, reencrypt, reencrypt_all, tombstone, upsert,
};

#[test]
fn test_keys_are_base64_of_32_bytes() {
    assert_eq!(key_b64(7), "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=");
}

#[tokio::test]
async fn round_trip_through_the_table_and_lookup() {
    let db = TestDb::create("round_trip").await;
    let mut client = db.client().await;
    assert_eq!(ensure_schema(&mut client).await.unwrap(), 0);
    let keys = keys(&[1]);
    let generation = upsert(&client, &keys, &ready("mozart-phil")).await.unwrap();

    let ReadOutcome::Current(record, Some(opened)) =
        read(&client, &keys, "mozart-phil").await.unwrap()
    else {
        panic!("expected a current row");
    };
    assert_eq!(opened, secret("mozart-phil"));
    assert_eq!(record.status, Status::Ready);
    assert_eq!(record.generation, generation);
    assert_eq!(record.key_id.as_deref(), Some(key_id(&[1; 32]).as_str()));
    assert_eq!(record.resource_id.as_deref(), Some("refmozart-phil"));

    let row = client
        .query_one(
            "SELECT status, backend, region, plan, api_url, key_id, secret, generation
             FROM stagesub_directory.lookup($1)",
            &[&"mozart-phil"],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>("status"), "ready");
    assert_eq!(row.get::<_, String>("backend"), "supabase");
    assert_eq!(row.get::<_, i64>("generation"), generation);
    let sealed: Vec<u8> = row.get("secret");
    let json = r#"{"database_url":"postgresql://postgres:pw-mozart-phil@db.mozart-phil.example:5432/postgres","pooler_url":"postgresql://postgres.mozart-phil:pw@pooler.example:5432/postgres","anon_key":"anon-mozart-phil"}"#;
    assert_eq!(sealed.len(), NONCE_LEN + json.len() + TAG_LEN);
    // The plaintext never reaches the table.
    assert!(!String::from_utf8_lossy(&sealed).contains("pw-mozart"));
    assert!(read(&client, &keys, "bach-choir").await.unwrap() == ReadOutcome::Missing);
    assert_eq!(
        client
            .query("SELECT * FROM stagesub_directory.lookup('bach-choir')", &[])
            .await
            .unwrap()
            .len(),
        0
    );
}

#[tokio::test]
async fn generation_grows_with_every_write_and_tombstones_keep_the_row() {
    let db = TestDb::create("generation").await;
    let mut client = db.client().await;
    ensure_schema(&mut client).await.unwrap();
    let keys = keys(&[1]);
    let provisioning = Entry {
        status: Status::Provisioning,
        secret: None,
        ..ready("mozart-phil")
    };
    let mut seen = vec![upsert(&client, &keys, &provisioning).await.unwrap()];
    seen.push(upsert(&client, &keys, &ready("bach-choir")).await.unwrap());
    seen.push(upsert(&client, &keys, &ready("mozart-phil")).await.unwrap());
    seen.push(upsert(&client, &keys, &ready("mozart-phil")).await.unwrap());
    seen.push(
        mark(&client, "mozart-phil", Status::Archived)
            .await
            .unwrap()
            .unwrap(),
    );
    seen.push(
        mark(&client, "mozart-phil", Status::Restoring)
            .await
            .unwrap()
            .unwrap(),
    );
    seen.push(tombstone(&client, "mozart-phil").await.unwrap().unwrap());
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "{seen:?}");

    let ReadOutcome::Current(record, None) = read(&client, &keys, "mozart-phil").await.unwrap()
    else {
        panic!("a tombstone has no secret");
    };
    assert_eq!((record.status, record.key_id), (Status::Deleted, None));
    let row = client
        .query_one(
            "SELECT status, secret FROM stagesub_directory.lookup('mozart-phil')",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "deleted");
    assert_eq!(row.get::<_, Option<Vec<u8>>>(1), None);
    assert_eq!(mark(&client, "no-such", Status::Ready).await.unwrap(), None);
    assert_eq!(tombstone(&client, "no-such").await.unwrap(), None);
}

#[tokio::test]
async fn rotation_reads_old_rows_as_stale_and_reencrypts_them() {
    let db = TestDb::create("rotation").await;
    let mut client = db.client().await;
    ensure_schema(&mut client).await.unwrap();
    let old = keys(&[1]);
    for subdomain in ["mozart-phil", "bach-choir"] {
        upsert(&client, &old, &ready(subdomain)).await.unwrap();
    }
    let rotated = keys(&[2, 1]);
    let ReadOutcome::StaleKey(record, opened) =
        read(&client, &rotated, "mozart-phil").await.unwrap()
    else {
        panic!("a row sealed with the second key is stale");
    };
    assert_eq!(opened, secret("mozart-phil"));

    let report = reencrypt_all(&client, &rotated).await.unwrap();
    assert_eq!(report.reencrypted, ["bach-choir", "mozart-phil"]);
    assert!(report.undecryptable.is_empty() && report.raced.is_empty());
    for subdomain in ["mozart-phil", "bach-choir"] {
        let new_only = keys(&[2]);
        let ReadOutcome::Current(now, Some(opened)) =
            read(&client, &new_only, subdomain).await.unwrap()
        else {
            panic!("re-encrypted with the new key");
        };
        assert_eq!(opened, secret(subdomain));
        assert_eq!(now.key_id.as_deref(), Some(new_only.current_id()));
        assert!(matches!(
            read(&client, &old, subdomain).await.unwrap(),
            ReadOutcome::Undecryptable(_)
        ));
        if subdomain == "mozart-phil" {
            assert!(now.generation > record.generation);
        }
    }
    assert_eq!(
        reencrypt(&client, &rotated, "mozart-phil").await.unwrap(),
        Reencrypted::Current
    );
    assert!(
        reencrypt_all(&client, &rotated)
            .await
            .unwrap()
            .reencrypted
            .is_empty()
    );
}

#[tokio::test]
async fn tampered_and_copied_secrets_are_refused() {
    let db = TestDb::create("tamper").await;
    let mut client = db.client().await;
    ensure_schema(&mut client).await.unwrap();
    let keys = keys(&[1]);
    for subdomain in ["mozart-phil", "bach-choir", "haydn-trio"] {
        upsert(&client, &keys, &ready(subdomain)).await.unwrap();
    }
    // One flipped bit in the ciphertext.
    client
        .execute(
            "UPDATE stagesub_directory.tenants
             SET secret = set_byte(secret, 20, get_byte(secret, 20) # 1)
             WHERE subdomain = 'mozart-phil'",
            &[],
        )
        .await
        .unwrap();
    // Another tenant's whole secret (valid for that subdomain) copied onto this row.
    client
        .execute(
            "UPDATE stagesub_directory.tenants AS t SET secret = o.secret, key_id = o.key_id
             FROM stagesub_directory.tenants AS o
             WHERE t.subdomain = 'bach-choir' AND o.subdomain = 'haydn-trio'",
            &[],
        )
        .await
        .unwrap();
    for subdomain in ["mozart-phil", "bach-choir"] {
        assert!(
            matches!(read(&client, &keys, subdomain).await.unwrap(), ReadOutcome::Undecryptable(r) if r.subdomain == subdomain),
            "{subdomain}"
        );
        assert_eq!(
            reencrypt(&client, &common::keys(&[2, 1]), subdomain)
                .await
                .unwrap(),
            Reencrypted::Undecryptable
        );
    }
    assert!(matches!(
        read(&client, &keys, "haydn-trio").await.unwrap(),
        ReadOutcome::Current(_, Some(_))
    ));
    // A write of the secret repairs the row.
    upsert(&client, &keys, &ready("mozart-phil")).await.unwrap();
    assert!(matches!(
        read(&client, &keys, "mozart-phil").await.unwrap(),
        ReadOutcome::Current(_, Some(_))
    ));
}

#[tokio::test]
async fn bad_writes_are_refused_with_reasons() {
    let db = TestDb::create("refused").await;
    let mut client = db.client().await;
    ensure_schema(&mut client).await.unwrap();
    let keys = keys(&[1]);
    let bad = upsert(&client, &keys, &ready("Not_Valid"))
        .await
        .unwrap_err();
    assert!(matches!(bad, Error::Invalid(_)), "{bad}");
    let no_secret = Entry {
        secret: None,
        ..ready("mozart-phil")
    };
    let message = upsert(&client, &keys, &no_secret)
        .await
        .unwrap_err()
        .to_string();
    assert!(message.contains("needs its connection secret"), "{message}");
    let deleted = Entry {
        status: Status::Deleted,
        ..ready("mozart-phil")
    };
    assert!(upsert(&client, &keys, &deleted).await.is_err());
    let provisioning = Entry {
        status: Status::Provisioning,
        ..no_secret
    };
    upsert(&client, &keys, &provisioning).await.unwrap();
    let message = mark(&client, "mozart-phil", Status::Ready)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("mozart-phil") && message.contains("tenants_ready_has_secret"),
        "{message}"
    );
}

#[tokio::test]
async fn errors_name_the_directory_without_its_password() {
    let url = "postgres://postgres:hunter2-secret@127.0.0.1:1/directory";
    let message = connect(url).await.unwrap_err().to_string();
    assert!(message.contains("tenant directory"), "{message}");
    assert!(
        message.contains("127.0.0.1:1") && message.contains("***"),
        "{message}"
    );
    assert!(!message.contains("hunter2"), "{message}");
    let debug = format!("{:?}", ready("mozart-phil"));
    assert!(
        !debug.contains("pw-mozart") && !debug.contains("anon-mozart"),
        "{debug}"
    );
}
