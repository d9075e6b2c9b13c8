// resolveTenant against the real Postgres, over rows the Rust crate wrote (see the harness,
// directory/tests/app_routing.rs), connected as the reader role that may only call lookup.

import assert from "node:assert/strict";
import { after, test } from "node:test";

import pg from "pg";

import {
  DirectoryUnavailableError,
  type Queryable,
  type TenantResolution,
  createTenantResolver,
} from "../src/resolve";
import { json, required } from "./env";

interface Expected {
  databaseUrl: string;
  poolerUrl: string | null;
  anonKey: string | null;
  apiUrl: string | null;
}

const pool = new pg.Pool({ connectionString: required("DIRECTORY_URL"), max: 4 });
after(() => pool.end());
const OLD = required("DIRECTORY_KEY_OLD");
const NEW = required("DIRECTORY_KEY_NEW");
const expected = json<Record<string, Expected>>("DIRECTORY_FIXTURES");

/** The pool, counting the queries that reach the directory. */
function counting(): Queryable & { count: number } {
  const counter = {
    count: 0,
    query(config: { name?: string; text: string; values: unknown[] }) {
      counter.count += 1;
      return pool.query(config);
    },
  };
  return counter;
}

function resolver(keys: string, extra: Partial<Parameters<typeof createTenantResolver>[0]> = {}) {
  return createTenantResolver({ pool, keys, appDomain: "orchestra.app", ...extra });
}

function assertReady(result: TenantResolution, subdomain: string) {
  const reason = result.status === "unknown" ? `${result.reason}: ${result.detail}` : "";
  assert.equal(result.status, "ready", `${subdomain}: ${result.status} ${reason}`);
  if (result.status !== "ready") return;
  const want = expected[subdomain];
  assert.equal(result.subdomain, subdomain);
  assert.equal(result.databaseUrl, want.databaseUrl);
  assert.equal(result.poolerUrl, want.poolerUrl);
  assert.equal(result.anonKey, want.anonKey);
  assert.equal(result.apiUrl, want.apiUrl);
  assert.equal(typeof result.generation, "bigint");
}

test("ready tenants open with the rotated key list (new key first, old key kept)", async () => {
  const r = resolver(`${NEW},${OLD}`);
  assertReady(await r.resolveTenant("mozart-phil.orchestra.app"), "mozart-phil"); // sealed with OLD
  assertReady(await r.resolveTenant("Bach-Choir.orchestra.app:443"), "bach-choir"); // sealed with NEW
});

test("after the rotation drops the old key, rows sealed with it are refused, not crashed", async () => {
  const newOnly = resolver(NEW);
  assertReady(await newOnly.resolveTenant("bach-choir.orchestra.app"), "bach-choir");
  const refused = await newOnly.resolveTenant("mozart-phil.orchestra.app");
  assert.equal(refused.status, "unknown");
  assert.equal(refused.status === "unknown" && refused.reason, "undecryptable");
  const oldOnly = resolver(OLD);
  assertReady(await oldOnly.resolveTenant("mozart-phil.orchestra.app"), "mozart-phil");
  const other = await oldOnly.resolveTenant("bach-choir.orchestra.app");
  assert.equal(other.status === "unknown" && other.reason, "undecryptable");
});

test("tampered, truncated and copied secrets are refused, not crashed", async () => {
  const r = resolver(`${NEW},${OLD}`);
  for (const subdomain of ["tampered-row", "copied-row", "truncated-row"]) {
    const result = await r.resolveTenant(`${subdomain}.orchestra.app`);
    assert.deepEqual(
      result.status === "unknown" ? [result.reason, result.subdomain] : result.status,
      ["undecryptable", subdomain],
      subdomain,
    );
  }
});

test("tenants that are not ready get typed answers", async () => {
  const r = resolver(`${NEW},${OLD}`);
  const statuses: Record<string, unknown> = {};
  for (const subdomain of ["haydn-trio", "brahms-band", "verdi-opera", "liszt-gone", "nobody-here"]) {
    const result = await r.resolveTenant(`${subdomain}.orchestra.app`);
    assert.equal(result.subdomain, subdomain);
    assert.ok(!("databaseUrl" in result), subdomain);
    statuses[subdomain] = result.status === "unknown" ? result.reason : result.status;
  }
  assert.deepEqual(statuses, {
    "haydn-trio": "provisioning",
    "brahms-band": "archived",
    "verdi-opera": "restoring",
    "liszt-gone": "deleted",
    "nobody-here": "not-found",
  });
});

test("invalid hosts are answered without asking the directory", async () => {
  const counter = counting();
  const r = resolver(NEW, { pool: counter });
  for (const host of ["www.orchestra.app", "evil.com", "a.b.orchestra.app", "x'; DROP TABLE--.orchestra.app", ""]) {
    const result = await r.resolveTenant(host);
    assert.equal(result.status === "unknown" && result.reason, "invalid-host", host);
  }
  assert.equal(counter.count, 0);
});

test("the cache answers hits, expires by TTL, stays bounded, and shares concurrent misses", async () => {
  let now = 1_000;
  const counter = counting();
  const r = resolver(`${NEW},${OLD}`, {
    pool: counter,
    ttlMs: 60_000,
    negativeTtlMs: 5_000,
    maxEntries: 2,
    now: () => now,
  });
  const [a, b] = await Promise.all([
    r.resolveTenant("mozart-phil.orchestra.app"),
    r.resolveTenant("MOZART-PHIL.orchestra.app"),
  ]);
  assert.equal(counter.count, 1, "concurrent misses share one query");
  assert.equal(a, b);
  assert.equal(await r.resolveTenant("mozart-phil.orchestra.app"), a);
  assert.equal(counter.count, 1, "a hit does not query");
  await r.resolveTenant("nobody-here.orchestra.app");
  now += 5_001; // the negative answer expired, the ready one did not
  await r.resolveTenant("nobody-here.orchestra.app");
  await r.resolveTenant("mozart-phil.orchestra.app");
  assert.equal(counter.count, 3);
  now += 60_000;
  await r.resolveTenant("mozart-phil.orchestra.app");
  assert.equal(counter.count, 4, "the ready answer expired");
  // Bounded: a third tenant evicts the least recently used one (nobody-here).
  await r.resolveTenant("bach-choir.orchestra.app");
  await r.resolveTenant("mozart-phil.orchestra.app");
  assert.equal(counter.count, 5);
  await r.resolveTenant("nobody-here.orchestra.app");
  assert.equal(counter.count, 6);
  r.invalidate("nobody-here");
  await r.resolveTenant("nobody-here.orchestra.app");
  assert.equal(counter.count, 7);
});

test("an unreachable directory throws an error without its URL's password", async () => {
  const dead = new pg.Pool({
    connectionString: "postgres://reader:hunter2-secret@127.0.0.1:1/directory",
    connectionTimeoutMillis: 2_000,
  });
  try {
    const r = createTenantResolver({ pool: dead, keys: NEW, appDomain: "orchestra.app" });
    await assert.rejects(r.resolveTenant("mozart-phil.orchestra.app"), (error: Error) => {
      assert.ok(error instanceof DirectoryUnavailableError);
      assert.match(error.message, /tenant directory: lookup of mozart-phil failed/);
      assert.ok(!error.message.includes("hunter2"), error.message);
      return true;
    });
    // A failure is not cached: the next request asks again (and fails again).
    await assert.rejects(r.resolveTenant("mozart-phil.orchestra.app"), DirectoryUnavailableError);
  } finally {
    await dead.end();
  }
});
