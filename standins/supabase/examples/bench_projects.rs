//! Measures the stand-in against the real PostgreSQL: N projects created concurrently, time until all are
//! `ACTIVE_HEALTHY`, then N deletes. Run:
//! `cargo run --release -p supabase-standin --example bench_projects -- [N]` (DATABASE_URL as for tests).

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use supabase_standin::{Config, FaultsPatch};

const TOKEN: &str = "sbp_0123456789abcdef0123456789abcdef01234567";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let count: usize = std::env::args().nth(1).map_or(Ok(10), |n| n.parse())?;
    let url = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let standin = supabase_standin::start(Config::new(url)).await?;
    standin.set_faults(FaultsPatch {
        healthy_after_ms: Some(0),
        pooler_lag_ms: Some(0),
        rate_limit_per_minute: Some(0),
        ..Default::default()
    })?;
    let client = reqwest::Client::new();
    let base = standin.base_url().to_string();

    let started = Instant::now();
    let creates = (0..count).map(|n| {
        let (client, base) = (client.clone(), base.clone());
        async move {
            let at = Instant::now();
            let body = json!({"name": format!("bench-{n}"), "organization_slug": "bench-org", "db_pass": "bench-pass"});
            let answer: Value = client
                .post(format!("{base}/v1/projects"))
                .bearer_auth(TOKEN)
                .json(&body)
                .send()
                .await?
                .error_for_status()?
                .json()
                .await?;
            Ok::<_, reqwest::Error>((answer["ref"].as_str().unwrap_or_default().to_string(), at.elapsed()))
        }
    });
    let created = futures_join_all(creates).await?;
    let create_wall = started.elapsed();
    let mut latencies: Vec<Duration> = created.iter().map(|(_, latency)| *latency).collect();
    latencies.sort();
    loop {
        let list: Value = client
            .get(format!("{base}/v1/projects"))
            .bearer_auth(TOKEN)
            .send()
            .await?
            .json()
            .await?;
        let healthy = list.as_array().map_or(0, |all| {
            all.iter()
                .filter(|p| p["status"] == "ACTIVE_HEALTHY")
                .count()
        });
        if healthy == count {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let healthy_wall = started.elapsed();

    let deleting = Instant::now();
    for (project_ref, _) in &created {
        client
            .delete(format!("{base}/v1/projects/{project_ref}"))
            .bearer_auth(TOKEN)
            .send()
            .await?
            .error_for_status()?;
    }
    let delete_wall = deleting.elapsed();
    println!(
        "{count} concurrent creates: wall {create_wall:?}, per-create p50 {:?} max {:?}; all ACTIVE_HEALTHY after {healthy_wall:?}; \
         {count} sequential deletes {delete_wall:?} ({:?} each)",
        latencies[latencies.len() / 2],
        latencies[latencies.len() - 1],
        delete_wall / count as u32,
    );
    standin.shutdown().await?;
    Ok(())
}

/// Runs the futures concurrently on the runtime and collects their results in order.
async fn futures_join_all<F, T, E>(futures: impl Iterator<Item = F>) -> Result<Vec<T>, E>
where
    F: std::future::Future<Output = Result<T, E>> + Send + 'static,
    T: Send + 'static,
    E: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut results = Vec::with_capacity(handles.len());
    for handle in handles {
        results.push(handle.await.expect("task")?);
    }
    Ok(results)
}
