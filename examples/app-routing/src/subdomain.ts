// The tenant rules of the Rust crate `stagesub-tenant` (tenant/src/lists.rs), repeated for the app.
// test/subdomain.test.ts keeps the reserved list equal to the Rust one and checks both validators
// agree on a table of cases the Rust side judged.

/** Subdomains that belong to the product itself and are never given to a tenant. */
export const RESERVED_SUBDOMAINS: readonly string[] = [
  "www", "api", "admin", "app", "mail", "static", "status", "supabase", "ftp", "smtp", "imap",
  "pop", "root", "dashboard", "auth", "login", "billing", "docs", "help", "support", "blog", "dev",
  "test", "staging", "ns1", "ns2", "localhost", "cdn", "assets", "webhooks", "bridge", "stagesub",
];

const RESERVED = new Set(RESERVED_SUBDOMAINS);
/** A DNS label of 3-63 characters `[a-z0-9-]` that starts and ends with a letter or digit. */
const LABEL = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;

/** `null` when `subdomain` is a valid tenant subdomain, else the reason (as the Rust crate says). */
export function subdomainError(subdomain: string): string | null {
  if (subdomain.length < 3 || subdomain.length > 63) {
    return `subdomain ${JSON.stringify(subdomain)} must be 3 to 63 characters long`;
  }
  if (!LABEL.test(subdomain)) {
    return /^[a-z0-9-]*$/.test(subdomain)
      ? `subdomain ${JSON.stringify(subdomain)} must start and end with a letter or digit`
      : `subdomain ${JSON.stringify(subdomain)} may only contain lowercase letters, digits and '-'`;
  }
  // Reserved for IDNA (`xn--`) and other ACE prefixes.
  if (subdomain.slice(2, 4) === "--") {
    return `subdomain ${JSON.stringify(subdomain)} must not have '--' at positions 3-4`;
  }
  if (RESERVED.has(subdomain)) {
    return `subdomain ${JSON.stringify(subdomain)} is reserved`;
  }
  return null;
}

/**
 * The tenant subdomain of a `Host` header value under `appDomain`: `Mozart-Phil.example.app:443`
 * gives `mozart-phil` (host names are case-insensitive; the port and a trailing dot are dropped).
 * Returns `{ error }` for a host outside `appDomain`, a nested name, or an invalid subdomain.
 */
export function subdomainFromHost(
  host: string,
  appDomain: string,
): { subdomain: string } | { error: string } {
  const domain = appDomain.toLowerCase().replace(/^\.+|\.+$/g, "");
  let name = host.trim().toLowerCase();
  const port = /:(\d{1,5})$/.exec(name);
  if (port) name = name.slice(0, port.index);
  name = name.replace(/\.$/, "");
  const suffix = `.${domain}`;
  if (!name.endsWith(suffix)) {
    return { error: `host is not under ${domain}` };
  }
  const label = name.slice(0, -suffix.length);
  if (label.includes(".")) {
    return { error: `host has more than one label before ${domain}` };
  }
  const error = subdomainError(label);
  return error === null ? { subdomain: label } : { error };
}
