//! Benchmark driver for scripts/bench-backup.sh: archives a database into a store, then restores
//! it into another database, printing the time of each.

fn main() {
    eprintln!("stagesub-backup-bench: not implemented yet");
    std::process::exit(2);
}
