/**
 * The key manager without a network (SEC-002): the ring composed of environment, file and
 * runtime keys; clashes rejected, never merged; rotation overlap and expiry on an injected clock;
 * revocation effective at once; listing never exposing a digest beyond its prefix.
 */
import { describe, expect, it } from "vitest";
import { ApiKeyManager, composeRing } from "../../src/policy/api-key-manager.js";
import { digestOf, type ApiKeyEntry } from "../../src/policy/api-key-ring.js";
import { MemoryApiKeyStore } from "../../src/store/api-key-store.js";
import { MlsdmError } from "../../src/telemetry/errors/index.js";

const HOUR = 3_600_000;
const entry = (id: string, secret: string, expiresAtMs?: number): ApiKeyEntry => ({
  id,
  owner: "o",
  roles: ["read"],
  sha256: digestOf(secret),
  expiresAtMs,
});

function manager(env: ApiKeyEntry[] = [entry("env-admin", "admin-secret-0123456789")]) {
  const clock = { now: Date.UTC(2026, 0, 1) };
  const keys = new ApiKeyManager(env, new MemoryApiKeyStore(), {
    defaultOverlapMs: 24 * HOUR,
    now: () => clock.now,
  });
  return { keys, clock };
}

function reason(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return error instanceof MlsdmError ? error.entry.code : String(error);
  }
  return undefined;
}

describe("API key manager", () => {
  it("accepts keys of all three sources at once", () => {
    const { keys } = manager();
    keys.setFileEntries([entry("partner", "partner-secret-0123456789")]);
    const { secret } = keys.create({
      owner: "svc",
      roles: ["write"],
      description: "",
      expiresAtMs: undefined,
      actor: "t",
    });
    for (const s of ["admin-secret-0123456789", "partner-secret-0123456789", secret]) {
      expect(keys.ring().check(s).ok).toBe(true);
    }
    expect(
      keys.list({ pageSize: 0, pageToken: "", includeInactive: false }).keys.map((k) => k.source),
    ).toEqual(["env", "file", "admin_api"]);
  });

  it("rejects a keys file that reuses an id or a secret of another source, keeping the previous keys", () => {
    const { keys } = manager();
    keys.setFileEntries([entry("partner", "partner-secret-0123456789")]);
    const { key } = keys.create({
      owner: "svc",
      roles: ["read"],
      description: "",
      expiresAtMs: undefined,
      actor: "t",
    });
    expect(() => {
      keys.setFileEntries([entry("env-admin", "other-secret-0123456789")]);
    }).toThrow(/"env-admin" of the file keys is already used by the env keys/);
    expect(() => {
      keys.setFileEntries([entry(key.id, "other-secret-0123456789")]);
    }).toThrow(/admin_api/);
    expect(() => {
      keys.setFileEntries([entry("copy", "admin-secret-0123456789")]);
    }).toThrow(/same secret/);
    expect(keys.ring().check("partner-secret-0123456789").ok).toBe(true);
    expect(() =>
      composeRing([{ source: "env", entries: [entry("a", "x".repeat(20)), entry("a", "y".repeat(20))] }]),
    ).toThrow(/already used/);
  });

  it("keeps a rotated key valid for the overlap, then refuses it as expired", () => {
    const { keys, clock } = manager();
    const old = keys.create({
      owner: "svc",
      roles: ["write"],
      description: "d",
      expiresAtMs: clock.now + 90 * 24 * HOUR,
      actor: "t",
    });
    const rotated = keys.rotate(old.key.id, { overlapMs: 2 * HOUR, ttlMs: undefined, actor: "t" });
    expect(rotated.previous).toMatchObject({
      state: "superseded",
      supersededBy: rotated.key.id,
      expiresAtMs: clock.now + 2 * HOUR,
    });
    // The successor inherits the lifetime (90 days from now) and the owner, roles and description.
    expect(rotated.key).toMatchObject({
      owner: "svc",
      roles: ["write"],
      description: "d",
      expiresAtMs: clock.now + 90 * 24 * HOUR,
    });
    expect(keys.ring().check(old.secret, clock.now + HOUR).ok).toBe(true);
    expect(keys.ring().check(old.secret, clock.now + 2 * HOUR)).toMatchObject({ ok: false, why: "expired" });
    expect(keys.ring().check(rotated.secret, clock.now + 2 * HOUR).ok).toBe(true);
    clock.now += 3 * HOUR;
    expect(keys.get(old.key.id)?.state).toBe("expired");
    // Only an active key can be rotated.
    expect(
      reason(() => keys.rotate(old.key.id, { overlapMs: undefined, ttlMs: undefined, actor: "t" })),
    ).toBe("E409");
  });

  it("uses the configured default overlap and never lengthens an earlier expiry", () => {
    const { keys, clock } = manager();
    const a = keys.create({
      owner: "a",
      roles: ["read"],
      description: "",
      expiresAtMs: undefined,
      actor: "t",
    });
    expect(
      keys.rotate(a.key.id, { overlapMs: undefined, ttlMs: undefined, actor: "t" }).previous.expiresAtMs,
    ).toBe(clock.now + 24 * HOUR);
    const b = keys.create({
      owner: "b",
      roles: ["read"],
      description: "",
      expiresAtMs: clock.now + HOUR,
      actor: "t",
    });
    expect(
      keys.rotate(b.key.id, { overlapMs: 48 * HOUR, ttlMs: undefined, actor: "t" }).previous.expiresAtMs,
    ).toBe(clock.now + HOUR);
  });

  it("revokes runtime and environment keys at once; environment and file keys cannot be rotated", () => {
    const { keys } = manager();
    const made = keys.create({
      owner: "svc",
      roles: ["read"],
      description: "",
      expiresAtMs: undefined,
      actor: "t",
    });
    expect(keys.revoke(made.key.id, "lost")).toMatchObject({
      changed: true,
      key: { state: "revoked", revokeReason: "lost" },
    });
    expect(keys.ring().check(made.secret)).toMatchObject({ ok: false, why: "unknown" });
    expect(keys.revoke(made.key.id, "again")).toMatchObject({
      changed: false,
      key: { revokeReason: "lost" },
    });
    expect(
      reason(() => keys.rotate("env-admin", { overlapMs: undefined, ttlMs: undefined, actor: "t" })),
    ).toBe("E409");
    keys.revoke("env-admin", "leaked");
    expect(keys.ring().check("admin-secret-0123456789").ok).toBe(false);
    expect(reason(() => keys.revoke("nope", "x"))).toBe("E404");
    expect(reason(() => keys.rotate("nope", { overlapMs: undefined, ttlMs: undefined, actor: "t" }))).toBe(
      "E404",
    );
  });

  it("keeps a file key's revocation across reloads of the same secret, not for a new secret under the same id", () => {
    const { keys } = manager([]);
    keys.setFileEntries([entry("partner", "partner-secret-0123456789")]);
    keys.revoke("partner", "leaked");
    keys.setFileEntries([entry("partner", "partner-secret-0123456789")]);
    expect(keys.ring().check("partner-secret-0123456789").ok).toBe(false);
    keys.setFileEntries([entry("partner", "partner-new-secret-0123456789")]);
    expect(keys.ring().check("partner-new-secret-0123456789").ok).toBe(true);
  });

  it("pages oldest first and lists only a digest prefix", () => {
    const { keys, clock } = manager();
    const made = [];
    for (let i = 0; i < 5; i++) {
      clock.now += 1000;
      made.push(
        keys.create({ owner: `o${i}`, roles: ["read"], description: "", expiresAtMs: undefined, actor: "t" }),
      );
    }
    const first = keys.list({ pageSize: 4, pageToken: "", includeInactive: false });
    const second = keys.list({ pageSize: 4, pageToken: first.nextPageToken, includeInactive: false });
    expect([...first.keys, ...second.keys].map((k) => k.owner)).toEqual(["o", "o0", "o1", "o2", "o3", "o4"]);
    expect(second.nextPageToken).toBe("");
    const text = JSON.stringify([first, second]);
    for (const { secret } of made) {
      expect(text).not.toContain(secret);
      expect(text).not.toContain(digestOf(secret));
    }
    expect(reason(() => keys.list({ pageSize: 1, pageToken: "garbage", includeInactive: false }))).toBe(
      "E100",
    );
  });
});
