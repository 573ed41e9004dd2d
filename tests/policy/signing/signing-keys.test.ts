/**
 * Signing keys (SEC-007): the `MLSDM_SIGNING_KEYS` string, the keys file, their validation at
 * start-up (E801 naming the key, never the secret), and `requireSignature` in the API keys file.
 */
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../../src/config/index.js";
import { ApiKeyRing } from "../../../src/policy/api-key-ring.js";
import { parseKeysFile } from "../../../src/policy/keys-file.js";
import { parseSigningKeysEnv, parseSigningKeysFile } from "../../../src/policy/signing/signing-keys.js";

describe("MLSDM_SIGNING_KEYS", () => {
  it("parses id=secret pairs; secrets may contain '=' (base64)", () => {
    const keys = parseSigningKeysEnv(" k1=abcdefghijklmnop==, k2=0123456789abcdef ,");
    expect(keys).toBeInstanceOf(Map);
    const map = keys as Map<string, Buffer>;
    expect([...map.keys()]).toEqual(["k1", "k2"]);
    expect(map.get("k1")?.toString()).toBe("abcdefghijklmnop==");
    expect(parseSigningKeysEnv("")).toEqual(new Map());
  });

  it.each([
    ["no '='", "k1", /not id=secret/],
    ["empty id", "=0123456789abcdef", /not id=secret/],
    ["bad id", "k 1=0123456789abcdef", /key id "k 1"/],
    ["short secret", "k1=short", /secret of key "k1" is shorter than 16/],
    ["duplicate id", "k1=0123456789abcdef,k1=0123456789abcdeg", /given twice/],
  ])("refuses %s", (_, text, message) => {
    expect(parseSigningKeysEnv(text)).toMatch(message);
  });

  it("stops start-up with E801 on a bad value, without echoing the secret", () => {
    let message = "";
    try {
      loadConfig({ env: { MLSDM_SIGNING_KEYS: "k1=tiny-secret" } });
    } catch (error) {
      message = String(error);
    }
    expect(message).toMatch(/E801.*signing\.keys/);
    expect(message).not.toContain("tiny-secret");
  });

  it("refuses signing.required without any signing key", () => {
    expect(() => loadConfig({ env: { MLSDM_SIGNING_REQUIRED: "true" } })).toThrow(/E801.*signing\.required/);
    const { config } = loadConfig({
      env: { MLSDM_SIGNING_REQUIRED: "true", MLSDM_SIGNING_KEYS: "k1=0123456789abcdef" },
    });
    expect(config.signing).toMatchObject({ required: true, maxAgeSeconds: 300, clockSkewSeconds: 30 });
  });
});

describe("signing keys file", () => {
  it("parses YAML and JSON documents", () => {
    const yaml = parseSigningKeysFile("keys:\n  - id: a\n    secret: 0123456789abcdef\n");
    expect(yaml.get("a")?.toString()).toBe("0123456789abcdef");
    expect(parseSigningKeysFile('{"keys":[{"id":"b","secret":"0123456789abcdefg"}]}').size).toBe(1);
  });
  it.each([
    ["unknown field", "keys:\n  - id: a\n    secret: 0123456789abcdef\n    role: x\n"],
    ["short secret", "keys:\n  - id: a\n    secret: short\n"],
    ["duplicate id", "keys:\n  - {id: a, secret: 0123456789abcdef}\n  - {id: a, secret: 0123456789abcdef}\n"],
    ["not a mapping", "- a\n"],
  ])("refuses %s, never quoting the secret", (_, text) => {
    expect(() => parseSigningKeysFile(text)).toThrow(/signing keys file/);
    try {
      parseSigningKeysFile(text);
    } catch (error) {
      expect(String(error)).not.toContain("0123456789abcdef");
    }
  });
});

describe("requireSignature in the API keys file", () => {
  it("is carried from the file entry to the identity", () => {
    const entries = parseKeysFile(
      "keys:\n  - {id: strict, roles: [write], secret: strict-key-0123456789, requireSignature: true}\n" +
        "  - {id: lax, roles: [write], secret: lax-key-0123456789ab}\n",
    );
    const ring = new ApiKeyRing(entries);
    const strict = ring.check("strict-key-0123456789");
    const lax = ring.check("lax-key-0123456789ab");
    expect(strict.ok && strict.identity.requireSignature).toBe(true);
    expect(lax.ok && lax.identity.requireSignature).toBeUndefined();
  });
});
