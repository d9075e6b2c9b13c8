import assert from "node:assert/strict";
import { test } from "node:test";

import { RESERVED_SUBDOMAINS, subdomainError, subdomainFromHost } from "../src/subdomain";
import { json, rustReservedList } from "./env";

test("the reserved list equals the Rust crate's", () => {
  const rust = rustReservedList();
  assert.ok(rust.length > 20, `parsed only ${rust.length} names`);
  assert.deepEqual([...RESERVED_SUBDOMAINS], rust);
});

test("the validator agrees with stagesub_tenant::validate_subdomain on every case", () => {
  const cases = json<[string, boolean][]>("SUBDOMAIN_CASES");
  assert.ok(cases.length > 20);
  for (const [subdomain, valid] of cases) {
    assert.equal(subdomainError(subdomain) === null, valid, JSON.stringify(subdomain));
  }
});

test("hosts give their subdomain under the app domain only", () => {
  const ok: [string, string][] = [
    ["mozart-phil.orchestra.app", "mozart-phil"],
    ["Mozart-Phil.Orchestra.App:8443", "mozart-phil"],
    ["mozart-phil.orchestra.app.", "mozart-phil"],
    ["  abc.orchestra.app  ", "abc"],
  ];
  for (const [host, subdomain] of ok) {
    assert.deepEqual(subdomainFromHost(host, "orchestra.app"), { subdomain }, host);
  }
  for (const host of [
    "orchestra.app",
    ".orchestra.app",
    "a.b.orchestra.app",
    "mozart-phil.other.app",
    "mozart-philorchestra.app",
    "www.orchestra.app",
    "xn--mozart.orchestra.app",
    "mozart_phil.orchestra.app",
    "-mozart.orchestra.app",
    "ab.orchestra.app",
    `${"a".repeat(64)}.orchestra.app`,
    "[::1]:443",
    "",
    "mozart-phil.orchestra.app:443:1",
    "mozart phil.orchestra.app",
  ]) {
    assert.ok("error" in subdomainFromHost(host, "orchestra.app"), JSON.stringify(host));
  }
});
