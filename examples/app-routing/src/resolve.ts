// resolveTenant(host): Host header -> subdomain -> stagesub_directory.lookup -> opened secret,
// cached per tenant (TTL, bounded LRU; concurrent misses for one tenant share one query).

import { LruCache } from "./lru";
import { type DirectoryKey, openSecret, parseKeys } from "./secret";
import { subdomainFromHost } from "./subdomain";

/** A tenant the app can serve. Holds secrets: never log it. */
export interface ReadyTenant {
  status: "ready";
  subdomain: string;
  databaseUrl: string;
  poolerUrl: string | null;
  apiUrl: string | null;
  anonKey: string | null;
  backend: string;
  region: string | null;
  plan: string | null;
  /** The directory row's generation: grows with every write (a changed password, a move). */
  generation: bigint;
}

/** A tenant that exists but cannot be served now: render a page saying so. */
export interface PendingTenant {
  status: "provisioning" | "archived" | "restoring";
  subdomain: string;
}

/** No tenant to serve: render a 404 (and alert on `undecryptable`, which an apply repairs). */
export interface UnknownTenant {
  status: "unknown";
  reason: "invalid-host" | "not-found" | "deleted" | "undecryptable";
  subdomain: string | null;
  detail: string;
}

export type TenantResolution = ReadyTenant | PendingTenant | UnknownTenant;

/** What the resolver needs of a `pg.Pool` (or `pg.Client`). */
export interface Queryable {
  query(config: { name?: string; text: string; values: unknown[] }): Promise<{ rows: any[] }>;
}

export interface ResolverOptions {
  /** A pool connected to the directory (as the reader role: it may only call `lookup`). */
  pool: Queryable;
  /** `STAGESUB_DIRECTORY_KEYS`: comma-separated base64 keys, or keys parsed already. */
  keys: string | readonly DirectoryKey[];
  /** The app's domain: tenants live at `<subdomain>.<appDomain>`. */
  appDomain: string;
  /** How long a ready tenant is served from the cache (default 60 s). */
  ttlMs?: number;
  /** How long any other answer is cached (default 5 s: a tenant becoming ready shows soon). */
  negativeTtlMs?: number;
  /** At most this many tenants are cached (default 10,000). */
  maxEntries?: number;
  /** Clock, for tests. */
  now?: () => number;
}

/** Thrown when the directory cannot be asked; the message never contains its URL. */
export class DirectoryUnavailableError extends Error {
  constructor(subdomain: string, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(`tenant directory: lookup of ${subdomain} failed: ${reason}`);
    this.name = "DirectoryUnavailableError";
  }
}

const LOOKUP = {
  name: "stagesub_directory_lookup",
  text:
    "SELECT status, backend, region, plan, api_url, key_id, secret, generation " +
    "FROM stagesub_directory.lookup($1)",
};

export interface TenantResolver {
  resolveTenant(host: string): Promise<TenantResolution>;
  /** Forgets a cached tenant (e.g. after its database refused the cached password). */
  invalidate(subdomain: string): void;
}

export function createTenantResolver(options: ResolverOptions): TenantResolver {
  const keys = typeof options.keys === "string" ? parseKeys(options.keys) : [...options.keys];
  if (keys.length === 0) throw new Error("directory keys: no key given");
  const ttlMs = options.ttlMs ?? 60_000;
  const negativeTtlMs = options.negativeTtlMs ?? 5_000;
  const cache = new LruCache<TenantResolution>(options.maxEntries ?? 10_000, options.now);
  const inflight = new Map<string, Promise<TenantResolution>>();

  async function lookup(subdomain: string): Promise<TenantResolution> {
    let rows: any[];
    try {
      ({ rows } = await options.pool.query({ ...LOOKUP, values: [subdomain] }));
    } catch (error) {
      throw new DirectoryUnavailableError(subdomain, error);
    }
    const row = rows[0];
    if (row === undefined) {
      return { status: "unknown", reason: "not-found", subdomain, detail: "no such tenant" };
    }
    switch (row.status) {
      case "provisioning":
      case "archived":
      case "restoring":
        return { status: row.status, subdomain };
      case "ready":
        break;
      case "deleted":
        return { status: "unknown", reason: "deleted", subdomain, detail: "the tenant was deleted" };
      default: // a status this module does not know: serve nothing
        return { status: "unknown", reason: "not-found", subdomain, detail: `status ${row.status}` };
    }
    const secret = row.secret === null ? null : openSecret(keys, subdomain, row.key_id, row.secret);
    if (secret === null) {
      return {
        status: "unknown",
        reason: "undecryptable",
        subdomain,
        detail: `no configured key opens the secret (sealed with key ${row.key_id})`,
      };
    }
    return {
      status: "ready",
      subdomain,
      ...secret,
      apiUrl: row.api_url,
      backend: row.backend,
      region: row.region,
      plan: row.plan,
      generation: BigInt(row.generation),
    };
  }

  return {
    async resolveTenant(host: string): Promise<TenantResolution> {
      const parsed = subdomainFromHost(host, options.appDomain);
      if ("error" in parsed) {
        return { status: "unknown", reason: "invalid-host", subdomain: null, detail: parsed.error };
      }
      const { subdomain } = parsed;
      const cached = cache.get(subdomain);
      if (cached !== undefined) return cached;
      let pending = inflight.get(subdomain);
      if (pending === undefined) {
        pending = lookup(subdomain).finally(() => inflight.delete(subdomain));
        inflight.set(subdomain, pending);
        pending.then(
          (result) => cache.set(subdomain, result, result.status === "ready" ? ttlMs : negativeTtlMs),
          () => {},
        );
      }
      return pending;
    },
    invalidate(subdomain: string): void {
      cache.delete(subdomain);
    },
  };
}
