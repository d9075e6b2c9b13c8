// Benchmark of resolveTenant over a directory of COUNT ready tenants (tenant-0001, ...), written
// by `cargo run -p stagesub-directory --example write_rows`: p50/p99 of a cache miss (lookup over
// the network + AES-GCM open + JSON) and of a cache hit. Run by scripts/bench-directory.sh.

import pg from "pg";

import { createTenantResolver } from "../src/resolve";

function percentile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil(sorted.length * q))) - 1];
}

function summary(name: string, samplesNs: bigint[]): string {
  const us = samplesNs.map((ns) => Number(ns) / 1_000).sort((a, b) => a - b);
  return `${name}: n=${us.length} p50=${percentile(us, 0.5).toFixed(1)} µs p99=${percentile(us, 0.99).toFixed(1)} µs max=${us[us.length - 1].toFixed(1)} µs`;
}

async function main(): Promise<void> {
  const count = Number(process.env.COUNT ?? "1000");
  const hitRounds = Number(process.env.HIT_ROUNDS ?? "10");
  const pool = new pg.Pool({ connectionString: process.env.DIRECTORY_URL, max: 1 });
  const keys = process.env.STAGESUB_DIRECTORY_KEYS ?? "";
  const hosts = Array.from({ length: count }, (_, i) => `tenant-${String(i + 1).padStart(4, "0")}.orchestra.app`);
  try {
    // Warm-up: the connection, the prepared statement, the JIT.
    const warm = createTenantResolver({ pool, keys, appDomain: "orchestra.app" });
    for (const host of hosts.slice(0, 200)) await warm.resolveTenant(host);

    const resolver = createTenantResolver({ pool, keys, appDomain: "orchestra.app", maxEntries: count * 2 });
    const misses: bigint[] = [];
    for (const host of hosts) {
      const start = process.hrtime.bigint();
      const result = await resolver.resolveTenant(host);
      misses.push(process.hrtime.bigint() - start);
      if (result.status !== "ready") throw new Error(`${host}: ${result.status}`);
    }
    const hits: bigint[] = [];
    for (let round = 0; round < hitRounds; round++) {
      for (const host of hosts) {
        const start = process.hrtime.bigint();
        const result = await resolver.resolveTenant(host);
        hits.push(process.hrtime.bigint() - start);
        if (result.status !== "ready") throw new Error(`${host}: ${result.status}`);
      }
    }
    console.log(summary("miss (lookup + decrypt)", misses));
    console.log(summary("hit (cache)", hits));
  } finally {
    await pool.end();
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
