//! Walks one project through its whole life against a Management API (the local stand-in, or the
//! real one with care): create, wait healthy, pooler, SSL, network restrictions, password, pause,
//! restore, delete. Prints each step and what it cost.
//!
//! `SUPABASE_API_URL=http://127.0.0.1:PORT SUPABASE_ACCESS_TOKEN=sbp_… SUPABASE_ORGANIZATION_SLUG=org \
//!  cargo run -p stagesub-supabase --example lifecycle -- [name] [region]`

use std::time::{Duration, Instant};

use stagesub_supabase::{
    BackoffPolicy, Client, ClientConfig, CreateProjectBody, NetworkRestrictionsConfig,
    PoolerConfig, ProjectStatus, Region, Secret,
};

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        eprintln!("set {name}");
        std::process::exit(2)
    })
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let name = args.next().unwrap_or_else(|| "orchestra-lifecycle".into());
    let region = Region::parse(&args.next().unwrap_or_else(|| "eu-central-1".into()))?;
    let org = env("SUPABASE_ORGANIZATION_SLUG");
    let client = Client::new(
        ClientConfig::new(Secret::new(env("SUPABASE_ACCESS_TOKEN")))
            .with_api_url(env("SUPABASE_API_URL")),
    )?;
    let deadline = Instant::now() + Duration::from_secs(600);
    let poll = BackoffPolicy::constant(Duration::from_millis(500));
    let step = Instant::now();

    let created = client
        .create_project(&CreateProjectBody {
            name: name.clone(),
            organization_slug: org.clone(),
            db_pass: Secret::new("lifecycle-Pass-1"),
            region,
            desired_instance_size: None,
        })
        .await?;
    let r = created.project_ref.clone();
    println!("created {r} ({}) in {:?}", created.status, step.elapsed());
    let step = Instant::now();
    let healthy = client.wait_until_healthy(&r, deadline, poll).await?;
    println!(
        "healthy in {:?}: database host {:?}",
        step.elapsed(),
        healthy.database.map(|d| d.host)
    );

    let poolers = client.pooler_config(&r).await?;
    let p = PoolerConfig::primary(&poolers).ok_or("no pooler entry")?;
    println!(
        "pooler: {}@{}:{}/{} ({:?})",
        p.db_user, p.db_host, p.db_port, p.db_name, p.pool_mode
    );
    println!(
        "ssl: {:?}",
        client.put_ssl_enforcement(&r, true).await?.current_config
    );
    let nr = NetworkRestrictionsConfig::from_cidrs(&["127.0.0.1/32", "::1/128"]);
    println!(
        "network: {:?}",
        client.apply_network_restrictions(&r, &nr).await?.config
    );
    client
        .update_database_password(&r, &Secret::new("lifecycle-Pass-2"))
        .await?;
    println!("password changed");

    let found = client.find_project_by_name(&org, &name).await?;
    println!("found by name: {:?}", found.map(|p| p.project_ref));
    let cache = client.project_cache(org.clone());
    println!("cache: {:?}", cache.get(&r).await?.map(|p| p.status));

    let step = Instant::now();
    client.pause_project(&r).await?;
    client
        .wait_until_status(&r, ProjectStatus::Inactive, deadline)
        .await?;
    println!("paused in {:?}", step.elapsed());
    let step = Instant::now();
    client.restore_project(&r).await?;
    client
        .wait_until_healthy(
            &r,
            deadline,
            BackoffPolicy::constant(Duration::from_millis(500)),
        )
        .await?;
    println!("restored in {:?}", step.elapsed());

    let step = Instant::now();
    println!("deleted: {}", client.delete_project(&r).await?);
    client.wait_until_gone(&r, deadline).await?;
    println!(
        "gone in {:?}; deleting again says {}",
        step.elapsed(),
        client.delete_project(&r).await?
    );
    Ok(())
}
