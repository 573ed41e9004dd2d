/**
 * Keys created at run time survive a restart (SEC-002): a real server with MLSDM_STATE=sqlite in
 * a temporary MLSDM_DATA_DIR is shut down and started again in-process; the created key still
 * works, the revoked one still fails with E204, a rotation's overlap is kept, and the database
 * holds digests only, never a secret.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Code } from "@connectrpc/connect";
import { afterAll, describe, expect, it } from "vitest";
import {
  AdminService,
  ApiKeySource,
  ApiKeyState,
  type CreateApiKeyResponse,
  type ListApiKeysResponse,
  type RotateApiKeyResponse,
} from "../../src/gen/mlsdm/v1/admin_pb.js";
import { EngineService } from "../../src/gen/mlsdm/v1/engine_pb.js";
import { Role } from "../../src/gen/mlsdm/v1/options_pb.js";
import { digestOf } from "../../src/policy/api-key-ring.js";
import { DATABASE_FILE } from "../../src/store/sqlite-store.js";
import { Caller, LISTENERS } from "./support/calls.js";
import { startTestServer } from "./support/server.js";

const ADMIN = "admin-key-0123456789abcdef";
const dataDir = mkdtempSync(path.join(tmpdir(), "mlsdm-keys-restart-"));
const env = {
  MLSDM_STATE: "sqlite",
  MLSDM_DATA_DIR: dataDir,
  MLSDM_ADMIN_API_KEY: ADMIN,
  MLSDM_RATE_LIMIT_RPS: "0",
  MLSDM_MAX_EVENT_LOOP_LAG_MS: "0",
};

describe("runtime keys across a restart", () => {
  afterAll(() => {
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("keeps created, revoked and rotated keys, hashed, in the state database", async () => {
    const first = await startTestServer(env);
    const calls = new Caller(first);
    const create = async (owner: string) =>
      (
        await calls.call<CreateApiKeyResponse>(
          "grpc-js",
          AdminService,
          "createApiKey",
          { owner, roles: [Role.WRITE] },
          ADMIN,
        )
      ).response!;
    const kept = await create("kept");
    const revoked = await create("revoked");
    const rotating = await create("rotating");
    expect(
      (
        await calls.call(
          "connect",
          AdminService,
          "revokeApiKey",
          { keyId: revoked.key!.keyId, reason: "gone" },
          ADMIN,
        )
      ).code,
    ).toBeUndefined();
    const rotated = (
      await calls.call<RotateApiKeyResponse>(
        "connect",
        AdminService,
        "rotateApiKey",
        { keyId: rotating.key!.keyId, overlap: { seconds: 3600n } },
        ADMIN,
      )
    ).response!;
    calls.close();
    await first.shutdown("restart");

    // The database holds digests, never a secret.
    const files = [DATABASE_FILE, `${DATABASE_FILE}-wal`]
      .map((f) => path.join(dataDir, f))
      .filter((f) => existsSync(f));
    const bytes = Buffer.concat(files.map((f) => readFileSync(f)));
    for (const secret of [kept.secret, revoked.secret, rotating.secret, rotated.secret]) {
      expect(bytes.includes(Buffer.from(secret))).toBe(false);
      expect(bytes.includes(Buffer.from(digestOf(secret)))).toBe(true);
    }

    const second = await startTestServer(env);
    const again = new Caller(second);
    try {
      for (const on of LISTENERS) {
        expect((await again.call(on, EngineService, "getState", {}, kept.secret)).code).toBeUndefined();
        expect((await again.call(on, EngineService, "getState", {}, rotating.secret)).code).toBeUndefined();
        expect((await again.call(on, EngineService, "getState", {}, rotated.secret)).code).toBeUndefined();
        const refused = await again.call(on, EngineService, "getState", {}, revoked.secret);
        expect([refused.status, refused.code]).toEqual([Code.Unauthenticated, "E204"]);
      }
      const listed = (
        await again.call<ListApiKeysResponse>(
          "connect",
          AdminService,
          "listApiKeys",
          { includeInactive: true },
          ADMIN,
        )
      ).response!;
      const state = (id: string) => listed.keys.find((k) => k.keyId === id);
      expect(state(kept.key!.keyId)).toMatchObject({
        state: ApiKeyState.ACTIVE,
        source: ApiKeySource.ADMIN_API,
        owner: "kept",
      });
      expect(state(revoked.key!.keyId)).toMatchObject({ state: ApiKeyState.REVOKED, revokeReason: "gone" });
      expect(state(rotating.key!.keyId)).toMatchObject({
        state: ApiKeyState.SUPERSEDED,
        supersededBy: rotated.key!.keyId,
      });
    } finally {
      again.close();
      await second.shutdown("test done");
    }
  });
});
