// Benchmark of resolveTenant over a directory of COUNT ready tenants (tenant-0001, ...), written
// by `cargo run -p stagesub-directory --example write_rows`: p50/p99 of a cache miss (lookup over
// the network + AES-GCM open + JSON) and of a cache hit. Run by scripts/bench-directory.sh.

import pg from "pg";

import { createTenantResolver } from "../src/resolve";
import { openSecret, parseKeys } from "../src/secret";

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
    // The decrypt alone (AES-256-GCM + JSON), to tell the code's cost from the round trip's.
    const parsed = parseKeys(keys);
    const rows = [];
    for (const host of hosts) {
      const subdomain = host.split(".")[0];
      const { rows: found } = await pool.query({
        text: "SELECT key_id, secret FROM stagesub_directory.lookup($1)",
        values: [subdomain],
      });
      rows.push({ subdomain, ...found[0] });
    }
    const opens: bigint[] = [];
    for (const row of rows) {
      const start = process.hrtime.bigint();
      const secret = openSecret(parsed, row.subdomain, row.key_id, row.secret);
      opens.push(process.hrtime.bigint() - start);
      if (secret === null) throw new Error(`${row.subdomain}: undecryptable`);
    }
    // Baseline: the plainest round trip on the same connection, to tell the machine's latency
    // (loopback, scheduling on a loaded host) from the lookup's.
    const pings: bigint[] = [];
    for (let i = 0; i < count; i++) {
      const start = process.hrtime.bigint();
      await pool.query({ name: "bench_ping", text: "SELECT 1", values: [] });
      pings.push(process.hrtime.bigint() - start);
    }
    const lookups: bigint[] = [];
    for (const row of rows) {
      const start = process.hrtime.bigint();
      await pool.query({
        name: "bench_lookup",
        text: "SELECT status, backend, region, plan, api_url, key_id, secret, generation FROM stagesub_directory.lookup($1)",
        values: [row.subdomain],
      });
      lookups.push(process.hrtime.bigint() - start);
    }
    console.log(summary("miss (lookup + decrypt)", misses));
    console.log(summary("lookup query alone (part of a miss)", lookups));
    console.log(summary("baseline round trip (SELECT 1)", pings));
    console.log(summary("hit (cache)", hits));
    console.log(summary("decrypt alone (part of a miss)", opens));
  } finally {
    await pool.end();
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
