//! Benchmark driver for `scripts/bench-backup.sh`: archives one database into a store, restores
//! the backup into another (empty) database, and prints the seconds of each and the process's
//! peak RSS as `key=value` lines.
//!
//! Usage: `stagesub-backup-bench <store-url> <source-db-url> <target-db-url> <jobs> [endpoint]`

use std::time::Instant;

use stagesub_backup::{
    ArchiveRequest, BackupStore, RestoreRequest, SourceDb, TlsOptions, archive, restore,
};

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 4 {
        eprintln!(
            "usage: stagesub-backup-bench <store-url> <source-db-url> <target-db-url> <jobs> [endpoint]"
        );
        std::process::exit(2);
    }
    let fail = |e: stagesub_backup::BackupError| -> ! {
        eprintln!("stagesub-backup-bench: {e}");
        std::process::exit(1);
    };
    let store = BackupStore::from_url(&args[0], args.get(4).map(String::as_str))
        .unwrap_or_else(|e| fail(e));
    let source = SourceDb::new(args[1].clone(), TlsOptions::default()).unwrap_or_else(|e| fail(e));
    let target = SourceDb::new(args[2].clone(), TlsOptions::default()).unwrap_or_else(|e| fail(e));
    let jobs: u32 = args[3].parse().unwrap_or(4);

    let started = Instant::now();
    let record = archive(
        &store,
        &source,
        &ArchiveRequest::new("bench", serde_json::json!({})),
        |step| eprintln!("archive: {step} at {:.1}s", started.elapsed().as_secs_f64()),
    )
    .await
    .unwrap_or_else(|e| fail(e));
    let archive_secs = started.elapsed().as_secs_f64();
    let archive_rss = peak_rss_kib();

    let started = Instant::now();
    let report = restore(
        &store,
        &RestoreRequest::new(record.uri.clone(), jobs),
        &target,
        |step| eprintln!("restore: {step} at {:.1}s", started.elapsed().as_secs_f64()),
    )
    .await
    .unwrap_or_else(|e| fail(e));
    let restore_secs = started.elapsed().as_secs_f64();

    println!("uri={}", record.uri);
    println!("dump_bytes={}", record.size);
    println!("tables={}", report.tables.len());
    println!("archive_seconds={archive_secs:.2}");
    println!("restore_seconds={restore_secs:.2}");
    println!("archive_peak_rss_kib={archive_rss}");
    println!("peak_rss_kib={}", peak_rss_kib());
}
