import { describe, expect, it } from "vitest";
import { ApiKeyRing, digestOf } from "../../src/policy/api-key-ring.js";
import { EXPIRY_WARNING_MS, warnExpiring } from "../../src/policy/auth-from-config.js";

describe("API key expiry", () => {
  const now = Date.UTC(2026, 10, 24);
  const ring = new ApiKeyRing([
    {
      id: "soon",
      owner: "",
      roles: ["read"],
      sha256: digestOf("a".repeat(20)),
      expiresAtMs: now + 3_600_000,
    },
    {
      id: "later",
      owner: "",
      roles: ["read"],
      sha256: digestOf("b".repeat(20)),
      expiresAtMs: now + 2 * EXPIRY_WARNING_MS,
    },
    { id: "never", owner: "", roles: ["read"], sha256: digestOf("c".repeat(20)), expiresAtMs: undefined },
    { id: "gone", owner: "", roles: ["read"], sha256: digestOf("d".repeat(20)), expiresAtMs: now - 1 },
  ]);

  it("warns about keys that expire within a week, and only those", () => {
    expect(warnExpiring(ring, now)).toEqual(["soon"]);
  });

  it("refuses an expired key and accepts one that is still valid", () => {
    expect(ring.check("d".repeat(20), now)).toMatchObject({ ok: false, why: "expired", keyId: "gone" });
    expect(ring.check("a".repeat(20), now)).toMatchObject({ ok: true, identity: { id: "soon" } });
    expect(ring.check("a".repeat(20), now + 3_600_000)).toMatchObject({ ok: false, why: "expired" });
    expect(() => new ApiKeyRing([...ring.entries, ...ring.entries])).toThrow(/twice/);
  });
});
