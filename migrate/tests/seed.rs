//! Seed SQL reads tenant values as settings; hostile values are just data.

mod common;

use common::TestDb;
use stagesub_migrate::{Error, seed};
use stagesub_tenant::Tenant;

const SEED: &str = "create table if not exists tenant (k text primary key, v text not null);\n\
insert into tenant values\n  ('subdomain', current_setting('stagesub.subdomain')),\n  \
('orchestra_name', current_setting('stagesub.orchestra_name')),\n  \
('contact_email', current_setting('stagesub.contact_email')),\n  \
('plan', current_setting('stagesub.plan'))\n\
on conflict (k) do update set v = excluded.v;";

async fn read(client: &stagesub_migrate::Client, key: &str) -> String {
    client
        .query_one("SELECT v FROM tenant WHERE k = $1", &[&key])
        .await
        .unwrap()
        .get(0)
}

#[tokio::test]
async fn hostile_values_read_back_exactly() {
    let db = TestDb::create("seed").await;
    let client = db.client().await;
    let long: String = "é'".repeat(128);
    assert_eq!(long.chars().count(), 256);
    let cases = [
        "'); DROP TABLE tenant; --",
        "back\\slash \\' \\\\ and $$ dollar $tag$ ; semicolon",
        "Orchestre de l'Opéra — 東京フィル 🎻 \"quoted\"",
        long.as_str(),
    ];
    for name in cases {
        let values = Tenant {
            contact_email: Some("o'brien+test@example.com".into()),
            ..Tenant::new("berlin-phil", name)
        };
        seed(&client, SEED, &values).await.unwrap();
        assert_eq!(read(&client, "orchestra_name").await, name);
        assert_eq!(read(&client, "subdomain").await, "berlin-phil");
        assert_eq!(
            read(&client, "contact_email").await,
            "o'brien+test@example.com"
        );
        assert_eq!(read(&client, "plan").await, "");
    }
    // The settings were transaction-local: nothing leaks into the session.
    let leaked: Option<String> = client
        .query_one(
            "SELECT current_setting('stagesub.orchestra_name', true)",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(
        leaked.as_deref().unwrap_or_default().is_empty(),
        "{leaked:?}"
    );
}

#[tokio::test]
async fn a_failing_seed_rolls_back_entirely_and_names_the_line() {
    let db = TestDb::create("seed_fail").await;
    let client = db.client().await;
    let values = Tenant::new("x", "y");
    let error = seed(
        &client,
        "create table s (id int);\ninsert into s values (1);\ninsert into s values ('nope');",
        &values,
    )
    .await
    .unwrap_err();
    let Error::Seed(failure) = &error else {
        panic!("{error:?}")
    };
    assert_eq!(
        (
            failure.file.as_str(),
            failure.line,
            failure.sqlstate.as_str()
        ),
        ("seed_sql", 3, "22P02")
    );
    assert!(error.to_string().contains("seed_sql:3:"), "{error}");
    let exists: bool = client
        .query_one("SELECT to_regclass('s') IS NOT NULL", &[])
        .await
        .unwrap()
        .get(0);
    assert!(!exists, "the seed's table must be rolled back");
}
