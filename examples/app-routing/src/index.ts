// The app's side of the stagesub tenant directory: see README.md.
export { RESERVED_SUBDOMAINS, subdomainError, subdomainFromHost } from "./subdomain";
export { KEY_LEN, NONCE_LEN, TAG_LEN, keyId, openSecret, parseKeys } from "./secret";
export type { DirectoryKey, TenantSecret } from "./secret";
export { LruCache } from "./lru";
export { DirectoryUnavailableError, createTenantResolver } from "./resolve";
export type {
  PendingTenant,
  Queryable,
  ReadyTenant,
  ResolverOptions,
  TenantResolution,
  TenantResolver,
  UnknownTenant,
} from "./resolve";
export { createPrismaClients } from "./prisma-example";
