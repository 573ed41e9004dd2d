/**
 * The runtime key table in the state database: rows survive reopening, a rotation is written in
 * one step, revocation is kept, and the memory store behaves the same without a file.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { digestOf } from "../../src/policy/api-key-ring.js";
import {
  MemoryApiKeyStore,
  SqliteApiKeyStore,
  type ApiKeyStore,
  type StoredApiKey,
} from "../../src/store/api-key-store.js";
import { SqliteStore } from "../../src/store/sqlite-store.js";

const dir = mkdtempSync(path.join(tmpdir(), "mlsdm-key-store-"));
const key = (id: string, createdAtMs: number): StoredApiKey => ({
  id,
  owner: "svc",
  roles: ["read", "write"],
  description: "d",
  sha256: digestOf(`secret-${id}`),
  createdAtMs,
  expiresAtMs: createdAtMs + 1000,
  lifetimeMs: 1000,
  revokedAtMs: undefined,
  revokeReason: "",
  supersededBy: "",
  createdBy: "env-admin",
});

function exercise(store: ApiKeyStore): void {
  store.insert(key("key_a", 10));
  store.insert(key("key_b", 20));
  store.rotate(key("key_c", 30), "key_a", 15);
  store.revoke("key_b", 40, "lost");
  store.revoke("key_b", 50, "again");
}

describe("API key store", () => {
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("keeps keys in the state database across reopening, beside the memory state", () => {
    const state = new SqliteStore(dir);
    const first = new SqliteApiKeyStore(dir);
    exercise(first);
    expect(() => {
      first.insert(key("key_a", 60));
    }).toThrow();
    first.close();
    state.close();
    const reopened = new SqliteApiKeyStore(dir);
    const rows = reopened.all();
    reopened.close();
    expect(rows.map((r) => r.id)).toEqual(["key_a", "key_b", "key_c"]);
    expect(rows[0]).toMatchObject({
      supersededBy: "key_c",
      expiresAtMs: 15,
      roles: ["read", "write"],
      lifetimeMs: 1000,
    });
    expect(rows[1]).toMatchObject({ revokedAtMs: 40, revokeReason: "lost" });
    expect(rows[2]).toMatchObject({ createdBy: "env-admin", revokedAtMs: undefined });
  });

  it("behaves the same in memory", () => {
    const store = new MemoryApiKeyStore();
    exercise(store);
    expect(store.persistent).toBe(false);
    expect(store.all().map((r) => [r.id, r.supersededBy, r.revokeReason])).toEqual([
      ["key_a", "key_c", ""],
      ["key_b", "", "lost"],
      ["key_c", "", ""],
    ]);
  });
});
