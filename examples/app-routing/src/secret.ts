// The directory's sealed secret, as the Rust crate `stagesub-directory` writes it:
// 12-byte nonce ‖ AES-256-GCM ciphertext ‖ 16-byte tag, associated data = the subdomain's UTF-8
// bytes, plaintext = JSON {"database_url", "pooler_url"?, "anon_key"?}.

import { createDecipheriv, createHash } from "node:crypto";

export const NONCE_LEN = 12;
export const TAG_LEN = 16;
export const KEY_LEN = 32;

/** One directory key and its id (first 8 hex digits of the SHA-256 of the key). */
export interface DirectoryKey {
  readonly id: string;
  readonly bytes: Buffer;
}

/** What the app needs to reach a tenant. */
export interface TenantSecret {
  databaseUrl: string;
  poolerUrl: string | null;
  anonKey: string | null;
}

/** The first 8 hex digits of the SHA-256 of `key`. */
export function keyId(key: Buffer): string {
  return createHash("sha256").update(key).digest("hex").slice(0, 8);
}

/**
 * Parses `STAGESUB_DIRECTORY_KEYS`: comma-separated base64 keys of 32 bytes; every one opens
 * secrets (the first is the one the provider seals with). Errors never contain key material.
 */
export function parseKeys(list: string): DirectoryKey[] {
  const parts = list.split(",").map((p) => p.trim());
  if (list.trim() === "") throw new Error("directory keys: no key given");
  return parts.map((part, i) => {
    const position = `key ${i + 1} of ${parts.length}`;
    if (part === "") throw new Error(`directory keys: ${position} is empty`);
    if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(part)) {
      throw new Error(`directory keys: ${position} is not base64`);
    }
    const bytes = Buffer.from(part.replace(/-/g, "+").replace(/_/g, "/"), "base64");
    if (bytes.length !== KEY_LEN) {
      throw new Error(
        `directory keys: ${position} decodes to ${bytes.length} bytes; a key must be ${KEY_LEN} bytes`,
      );
    }
    return { id: keyId(bytes), bytes };
  });
}

/**
 * Opens `sealed` for `subdomain`, trying the key named `keyIdHint` first. Returns `null` when no
 * key opens it (a key no longer given, tampering, or a secret copied from another subdomain).
 */
export function openSecret(
  keys: readonly DirectoryKey[],
  subdomain: string,
  keyIdHint: string | null,
  sealed: Buffer,
): TenantSecret | null {
  if (sealed.length < NONCE_LEN + TAG_LEN) return null;
  const nonce = sealed.subarray(0, NONCE_LEN);
  const ciphertext = sealed.subarray(NONCE_LEN, sealed.length - TAG_LEN);
  const tag = sealed.subarray(sealed.length - TAG_LEN);
  const ordered = [...keys].sort((a, b) => Number(b.id === keyIdHint) - Number(a.id === keyIdHint));
  for (const key of ordered) {
    let plain: Buffer;
    try {
      const decipher = createDecipheriv("aes-256-gcm", key.bytes, nonce, { authTagLength: TAG_LEN });
      decipher.setAAD(Buffer.from(subdomain, "utf8"));
      decipher.setAuthTag(tag);
      plain = Buffer.concat([decipher.update(ciphertext), decipher.final()]);
    } catch {
      continue; // not this key (or tampered): the tag did not verify
    }
    const secret = parseSecret(plain);
    plain.fill(0);
    if (secret) return secret;
  }
  return null;
}

function parseSecret(plain: Buffer): TenantSecret | null {
  let value: unknown;
  try {
    value = JSON.parse(plain.toString("utf8"));
  } catch {
    return null;
  }
  if (typeof value !== "object" || value === null) return null;
  const { database_url, pooler_url, anon_key } = value as Record<string, unknown>;
  const optional = (v: unknown) => (typeof v === "string" ? v : null);
  if (typeof database_url !== "string" || database_url === "") return null;
  return { databaseUrl: database_url, poolerUrl: optional(pooler_url), anonKey: optional(anon_key) };
}
