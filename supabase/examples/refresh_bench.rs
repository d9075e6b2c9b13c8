//! Benchmark: what refreshing many tenants costs, with the project cache and without.
//!
//! Runs against the in-process fake of the tests (loopback only), with Terraform's default
//! parallelism of 10 concurrent reads:
//! `cargo run -p stagesub-supabase --example refresh_bench -- [projects]` (default 1000).

#[path = "../tests/support/mod.rs"]
mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use stagesub_supabase::{Client, RateLimit};
use support::Fake;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

/// Terraform's default `-parallelism`.
const PARALLELISM: usize = 10;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1000);
    let fake = Fake::start().await;
    let slots = Arc::new(Semaphore::new(PARALLELISM));
    let refs: Vec<String> = {
        let mut st = fake.state();
        (0..n)
            .map(|i| st.add_project("org", &format!("orchestra-{i:05}"), "ACTIVE_HEALTHY"))
            .collect()
    };

    // 1. The cache, with the production rate limit (120/min, burst 10).
    let mut config = fake.config();
    config.rate_limit = RateLimit::default();
    let client = Client::new(config.clone()).unwrap();
    let cache = Arc::new(client.project_cache("org"));
    let started = Instant::now();
    let mut tasks = JoinSet::new();
    for r in refs.clone() {
        let (cache, slots) = (cache.clone(), slots.clone());
        tasks.spawn(async move {
            let _slot = slots.acquire().await.unwrap();
            cache.get(&r).await.unwrap().unwrap()
        });
    }
    while tasks.join_next().await.is_some() {}
    let cached = started.elapsed();
    let calls = fake.requests().len();
    println!("cache, default rate limit: {n} refreshes, {calls} API calls, {cached:?}");

    // 2. One GET per project, no client-side limit (raw client + fake speed).
    fake.state().requests.clear();
    let mut unlimited = config.clone();
    unlimited.rate_limit = RateLimit {
        per_minute: 0,
        burst: 1,
    };
    let client = Arc::new(Client::new(unlimited).unwrap());
    let started = Instant::now();
    let mut tasks = JoinSet::new();
    for r in refs.clone() {
        let (client, slots) = (client.clone(), slots.clone());
        tasks.spawn(async move {
            let _slot = slots.acquire().await.unwrap();
            client.get_project(&r).await.unwrap().unwrap()
        });
    }
    while tasks.join_next().await.is_some() {}
    let raw = started.elapsed();
    println!(
        "per-project GET, unlimited: {n} refreshes, {} API calls, {raw:?} ({:.0} calls/s)",
        fake.requests().len(),
        n as f64 / raw.as_secs_f64()
    );

    // 3. One GET per project under the production limit: measure 30 calls, project to n.
    fake.state().requests.clear();
    let client = Arc::new(Client::new(config).unwrap());
    let sample = 30.min(n);
    let started = Instant::now();
    let mut tasks = JoinSet::new();
    for r in refs.into_iter().take(sample) {
        let (client, slots) = (client.clone(), slots.clone());
        tasks.spawn(async move {
            let _slot = slots.acquire().await.unwrap();
            client.get_project(&r).await.unwrap().unwrap()
        });
    }
    while tasks.join_next().await.is_some() {}
    let limited = started.elapsed();
    let projected = Duration::from_secs_f64((n.saturating_sub(10)) as f64 * 0.5);
    println!(
        "per-project GET, default rate limit: {sample} calls took {limited:?}; {n} would take about {projected:?}"
    );
}
