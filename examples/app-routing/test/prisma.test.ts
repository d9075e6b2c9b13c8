// The Prisma example with a stand-in client factory: clients are reused per tenant and
// generation, bounded in number, and closed when evicted or replaced.

import assert from "node:assert/strict";
import { test } from "node:test";

import { createPrismaClients } from "../src/prisma-example";
import type { ReadyTenant, TenantResolution, TenantResolver } from "../src/resolve";

function ready(subdomain: string, generation: bigint): ReadyTenant {
  return {
    status: "ready",
    subdomain,
    databaseUrl: `postgres://db/${subdomain}`,
    poolerUrl: null,
    apiUrl: null,
    anonKey: null,
    backend: "postgres",
    region: null,
    plan: "pro",
    generation,
  };
}

test("one client per tenant and generation, at most max open", async () => {
  const rows = new Map<string, TenantResolution>([
    ["a", ready("aaa", 1n)],
    ["b", ready("bbb", 2n)],
    ["c", ready("ccc", 3n)],
    ["p", { status: "provisioning", subdomain: "ppp" }],
  ]);
  const resolver: TenantResolver = {
    resolveTenant: async (host) => rows.get(host)!,
    invalidate: () => {},
  };
  const made: { url: string; closed: boolean }[] = [];
  const clients = createPrismaClients({
    resolver,
    max: 2,
    createClient: (tenant) => {
      const client = {
        url: tenant.databaseUrl,
        closed: false,
        $disconnect: async () => {
          client.closed = true;
        },
      };
      made.push(client);
      return client;
    },
  });
  const first = await clients.forHost("a");
  assert.equal(first.status === "ready" && first.client.url, "postgres://db/aaa");
  assert.equal((await clients.forHost("a")).status === "ready" && made.length, 1);
  await clients.forHost("b");
  await clients.forHost("c"); // evicts aaa's client
  assert.deepEqual(made.map((c) => [c.url, c.closed]), [
    ["postgres://db/aaa", true],
    ["postgres://db/bbb", false],
    ["postgres://db/ccc", false],
  ]);
  rows.set("b", ready("bbb", 5n)); // a rotated password: new client, old one closed
  await clients.forHost("b");
  assert.equal(made.length, 4);
  assert.ok(made[1].closed && !made[3].closed);
  assert.equal((await clients.forHost("p")).status, "provisioning");
  clients.close();
  assert.ok(made.every((c) => c.closed));
});
