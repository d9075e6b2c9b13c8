// Example: one Prisma client per tenant, at most `max` open at once (least recently used closed).
//
// In the app (with `@prisma/client` installed and a `schema.prisma` whose datasource reads
// `env("DATABASE_URL")`):
//
//   import { PrismaClient } from "@prisma/client";
//   import pg from "pg";
//   import { createTenantResolver, createPrismaClients } from "./app-routing";
//
//   const resolver = createTenantResolver({
//     pool: new pg.Pool({ connectionString: process.env.DIRECTORY_URL, max: 4 }),
//     keys: process.env.STAGESUB_DIRECTORY_KEYS!,
//     appDomain: "orchestra.app",
//   });
//   const prisma = createPrismaClients({
//     resolver,
//     // Supabase: the pooler (transaction mode) wants `?pgbouncer=true`; a plain Postgres does not.
//     createClient: (tenant) =>
//       new PrismaClient({ datasourceUrl: tenant.poolerUrl ?? tenant.databaseUrl }),
//     max: 50,
//   });
//
//   // In a request handler:
//   const found = await prisma.forHost(req.headers.host ?? "");
//   if (found.status !== "ready") return renderTenantPage(found); // provisioning, archived, ...
//   const musicians = await found.client.musician.findMany();
//
// The types below describe only what this file uses of a Prisma client, so it compiles (and is
// tested) without Prisma installed.

import { LruCache } from "./lru";
import type { PendingTenant, ReadyTenant, TenantResolver, UnknownTenant } from "./resolve";

/** What this example needs of a client: Prisma's `$disconnect`. */
export interface Disconnectable {
  $disconnect(): Promise<void>;
}

export interface PrismaClientsOptions<C extends Disconnectable> {
  resolver: TenantResolver;
  /** Makes the client for a ready tenant (e.g. `new PrismaClient({ datasourceUrl })`). */
  createClient: (tenant: ReadyTenant) => C;
  /** At most this many clients open at once (each holds a connection pool). */
  max: number;
}

export type TenantClient<C> =
  | { status: "ready"; tenant: ReadyTenant; client: C }
  | PendingTenant
  | UnknownTenant;

export function createPrismaClients<C extends Disconnectable>(options: PrismaClientsOptions<C>) {
  // A client is reused while its tenant's directory row keeps the same generation; a new
  // generation (rotated password, moved database) gets a new client and the old one is closed.
  const clients = new LruCache<{ generation: bigint; client: C }>(
    options.max,
    () => 0, // no expiry: only size and generation changes retire a client
    (_subdomain, entry) => void entry.client.$disconnect().catch(() => {}),
  );
  return {
    async forHost(host: string): Promise<TenantClient<C>> {
      const tenant = await options.resolver.resolveTenant(host);
      if (tenant.status !== "ready") {
        clients.delete(tenant.subdomain ?? "");
        return tenant;
      }
      const cached = clients.get(tenant.subdomain);
      if (cached !== undefined && cached.generation === tenant.generation) {
        return { status: "ready", tenant, client: cached.client };
      }
      const client = options.createClient(tenant);
      clients.set(tenant.subdomain, { generation: tenant.generation, client }, Infinity);
      return { status: "ready", tenant, client };
    },
    /** Closes every client (at shutdown). */
    close(): void {
      clients.clear();
    },
  };
}
