//! Health, pooler, password, SSL enforcement and network restrictions bodies.

mod support;

use serde_json::json;
use stagesub_supabase::{
    Error, NetworkRestrictionsConfig, PoolMode, PoolerConfig, Secret, ServiceStatus,
};
use support::Fake;

#[tokio::test]
async fn health_sends_each_service_as_its_own_parameter() {
    let fake = Fake::start().await;
    let r = fake
        .state()
        .add_project("org", "orchestra-a", "ACTIVE_HEALTHY");
    let client = fake.client();
    let health = client
        .project_health(&r, &["db", "pooler", "auth"])
        .await
        .unwrap();
    assert_eq!(health.len(), 3);
    assert!(
        health
            .iter()
            .all(|h| h.status == ServiceStatus::ActiveHealthy)
    );
    assert_eq!(fake.requests()[0].query.len(), 3);
    assert!(matches!(
        client.project_health(&r, &[]).await,
        Err(Error::InvalidInput(_))
    ));
}

#[tokio::test]
async fn pooler_config_parses() {
    let fake = Fake::start().await;
    let r = fake
        .state()
        .add_project("org", "orchestra-a", "ACTIVE_HEALTHY");
    let configs = fake.client().pooler_config(&r).await.unwrap();
    let primary = PoolerConfig::primary(&configs).unwrap();
    assert_eq!(primary.db_user, format!("postgres.{r}"));
    assert_eq!(primary.db_port, 6543);
    assert_eq!(primary.pool_mode, PoolMode::Transaction);
    assert!(primary.connection_string.contains("[YOUR-PASSWORD]"));
}

#[tokio::test]
async fn password_ssl_and_network_bodies_follow_the_spec() {
    let fake = Fake::start().await;
    let r = fake
        .state()
        .add_project("org", "orchestra-a", "ACTIVE_HEALTHY");
    let client = fake.client();
    client
        .update_database_password(&r, &Secret::new("n3w-pass"))
        .await
        .unwrap();
    assert!(matches!(
        client
            .update_database_password(&r, &Secret::new("abc"))
            .await,
        Err(Error::InvalidInput(_))
    ));
    assert!(
        !client
            .get_ssl_enforcement(&r)
            .await
            .unwrap()
            .current_config
            .database
    );
    let ssl = client.put_ssl_enforcement(&r, true).await.unwrap();
    assert!(ssl.current_config.database && ssl.applied_successfully);
    assert!(
        client
            .get_ssl_enforcement(&r)
            .await
            .unwrap()
            .current_config
            .database
    );

    let wanted =
        NetworkRestrictionsConfig::from_cidrs(&["203.0.113.0/24", "2001:db8::/32", " 10.0.0.0/8 "]);
    let applied = client
        .apply_network_restrictions(&r, &wanted)
        .await
        .unwrap();
    assert_eq!(applied.config, wanted);
    let read = client.get_network_restrictions(&r).await.unwrap();
    assert_eq!(
        read.config.db_allowed_cidrs,
        ["203.0.113.0/24", "10.0.0.0/8"]
    );
    assert_eq!(read.config.db_allowed_cidrs_v6, ["2001:db8::/32"]);

    let bodies: Vec<_> = fake.requests().into_iter().filter_map(|q| q.body).collect();
    assert_eq!(bodies[0], json!({"password": "n3w-pass"}));
    assert_eq!(bodies[1], json!({"requestedConfig": {"database": true}}));
    assert_eq!(
        bodies[2],
        json!({"dbAllowedCidrs": ["203.0.113.0/24", "10.0.0.0/8"], "dbAllowedCidrsV6": ["2001:db8::/32"]})
    );
}

#[tokio::test]
async fn settings_of_a_missing_project_name_the_ref() {
    let fake = Fake::start().await;
    let err = fake
        .client()
        .pooler_config("abcdefghijklmnopqrst")
        .await
        .unwrap_err();
    assert!(err.is_not_found());
    let text = err.to_string();
    assert!(
        text.contains("GET /v1/projects/abcdefghijklmnopqrst/config/database/pooler"),
        "{text}"
    );
    assert!(
        text.contains("404") && text.contains("Project not found"),
        "{text}"
    );
    assert!(
        fake.client()
            .get_project("abcdefghijklmnopqrst")
            .await
            .unwrap()
            .is_none()
    );
    assert!(matches!(
        fake.client().get_project("../x").await,
        Err(Error::InvalidInput(_))
    ));
}
