//! Fills a directory with `COUNT` ready tenants (`tenant-0001`, ...) for the benchmark
//! (scripts/bench-directory.sh), after creating the schema and granting the reader role; prints
//! how long each `upsert` took (p50/p99), the time a create spends writing its row.
//!
//! `DIRECTORY_URL=... STAGESUB_DIRECTORY_KEYS=... cargo run -p stagesub-directory --example
//! write_rows -- COUNT [READER_ROLE]`

use std::time::Instant;

use stagesub_directory::{
    DirectoryKeys, Entry, Sensitive, Status, TenantSecret, connect, ensure_schema, grant_reader,
    upsert,
};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let count: usize = args
        .next()
        .ok_or("usage: write_rows COUNT [READER_ROLE]")?
        .parse()?;
    let reader = args.next();
    let url = std::env::var("DIRECTORY_URL").map_err(|_| "set DIRECTORY_URL")?;
    let keys = DirectoryKeys::parse(
        &std::env::var("STAGESUB_DIRECTORY_KEYS").map_err(|_| "set STAGESUB_DIRECTORY_KEYS")?,
    )?;
    let mut client = connect(&url).await?;
    ensure_schema(&mut client).await?;
    if let Some(role) = &reader {
        grant_reader(&mut client, role).await?;
    }
    let mut took = Vec::with_capacity(count);
    for i in 1..=count {
        let subdomain = format!("tenant-{i:04}");
        let entry = Entry {
            subdomain: subdomain.clone(),
            status: Status::Ready,
            backend: "supabase".into(),
            region: Some("eu-central-1".into()),
            plan: Some("pro".into()),
            resource_id: Some(format!("ref{i:016}")),
            api_url: Some(format!("https://ref{i:016}.supabase.co")),
            secret: Some(TenantSecret {
                database_url: Sensitive::new(format!(
                    "postgresql://postgres:password-{i}@db.ref{i:016}.supabase.co:5432/postgres"
                )),
                pooler_url: Some(Sensitive::new(format!(
                    "postgresql://postgres.ref{i:016}:password-{i}@aws-0-eu-central-1.pooler.supabase.com:6543/postgres"
                ))),
                anon_key: Some(Sensitive::new(format!(
                    "eyJhbGciOiJIUzI1NiJ9.anon-{i}.signature"
                ))),
            }),
        };
        let start = Instant::now();
        upsert(&client, &keys, &entry).await?;
        took.push(start.elapsed().as_secs_f64() * 1e3);
    }
    took.sort_by(f64::total_cmp);
    let at = |q: f64| took[((took.len() as f64 * q).ceil() as usize).clamp(1, took.len()) - 1];
    println!(
        "upsert (seal + INSERT ... ON CONFLICT) over {count} rows: p50 {:.3} ms, p99 {:.3} ms",
        at(0.50),
        at(0.99)
    );
    Ok(())
}
