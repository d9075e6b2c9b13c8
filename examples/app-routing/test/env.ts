// The settings the Rust harness (directory/tests/app_routing.rs) passes to these tests.

import { readFileSync } from "node:fs";
import { join } from "node:path";

export function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === "") {
    throw new Error(
      `${name} is not set: run these tests through \`cargo nextest run -p stagesub-directory --test app_routing\`, which writes the directory rows they read`,
    );
  }
  return value;
}

export function json<T>(name: string): T {
  return JSON.parse(required(name)) as T;
}

/** The Rust crate's reserved list, read from tenant/src/lists.rs. */
export function rustReservedList(): string[] {
  const source = readFileSync(join(required("STAGESUB_REPO"), "tenant/src/lists.rs"), "utf8");
  const block = /RESERVED_SUBDOMAINS: &\[&str\] = &\[([\s\S]*?)\];/.exec(source);
  if (block === null) throw new Error("RESERVED_SUBDOMAINS not found in tenant/src/lists.rs");
  return [...block[1].matchAll(/"([^"]*)"/g)].map((m) => m[1]);
}
