import assert from "node:assert/strict";
import { createCipheriv, randomBytes } from "node:crypto";
import { test } from "node:test";

import { keyId, openSecret, parseKeys } from "../src/secret";

function seal(key: Buffer, subdomain: string, plain: string): Buffer {
  const nonce = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, nonce);
  cipher.setAAD(Buffer.from(subdomain, "utf8"));
  const body = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
  return Buffer.concat([nonce, body, cipher.getAuthTag()]);
}

test("key ids are the first 8 hex digits of SHA-256", () => {
  const bytes = Buffer.from(Array.from({ length: 32 }, (_, i) => i));
  assert.equal(keyId(bytes), "630dcd29");
  const [key] = parseKeys(bytes.toString("base64"));
  assert.equal(key.id, "630dcd29");
  // URL-safe alphabet and missing padding are accepted, like the Rust parser.
  assert.equal(parseKeys(bytes.toString("base64url"))[0].id, "630dcd29");
});

test("bad key lists are refused without echoing the keys", () => {
  const short = Buffer.from("sixteen-byte-key").toString("base64");
  const good = randomBytes(32).toString("base64");
  for (const [list, expected] of [
    ["", /no key given/],
    [`${good},,${good}`, /key 2 of 3 is empty/],
    [`${good},${short}`, /key 2 of 2 decodes to 16 bytes/],
    ["not*base64", /key 1 of 1 is not base64/],
  ] as const) {
    assert.throws(
      () => parseKeys(list),
      (error: Error) => expected.test(error.message) && !error.message.includes(short) && !error.message.includes(good),
    );
  }
});

test("secrets open with the right key and subdomain only, and malformed plaintext is refused", () => {
  const [a, b] = parseKeys(`${randomBytes(32).toString("base64")},${randomBytes(32).toString("base64")}`);
  const sealed = seal(b.bytes, "mozart-phil", JSON.stringify({ database_url: "postgres://x" }));
  assert.deepEqual(openSecret([a, b], "mozart-phil", null, sealed), {
    databaseUrl: "postgres://x",
    poolerUrl: null,
    anonKey: null,
  });
  assert.equal(openSecret([a], "mozart-phil", b.id, sealed), null);
  assert.equal(openSecret([a, b], "bach-choir", b.id, sealed), null);
  assert.equal(openSecret([b], "mozart-phil", b.id, sealed.subarray(0, 27)), null);
  for (const plain of ["not json", "[]", "null", '{"database_url": 5}', "{}"]) {
    assert.equal(openSecret([b], "mozart-phil", b.id, seal(b.bytes, "mozart-phil", plain)), null, plain);
  }
});
