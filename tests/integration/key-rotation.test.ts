/**
 * Rotation without downtime (SEC-002 AC): a client calls at a steady 20 calls per second,
 * alternating the grpc-js and the Connect listener, while its key is rotated twice — through the
 * mounted keys file (add the new key, switch the client, remove the old key) and through the
 * Admin RPCs (rotate, switch, revoke the old key once the client has switched). Not one call may
 * fail, and the file reload must pick the new key up well within 30 s.
 */
import { mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  AdminService,
  type CreateApiKeyResponse,
  type RotateApiKeyResponse,
} from "../../src/gen/mlsdm/v1/admin_pb.js";
import { EngineService } from "../../src/gen/mlsdm/v1/engine_pb.js";
import { Role } from "../../src/gen/mlsdm/v1/options_pb.js";
import { digestOf } from "../../src/policy/api-key-ring.js";
import { Caller, LISTENERS } from "./support/calls.js";
import { startTestServer } from "./support/server.js";

const ADMIN = "admin-key-0123456789abcdef";
const FILE_A = "file-key-a-0123456789abcdef";
const FILE_B = "file-key-b-0123456789abcdef";
const RATE_PER_SECOND = 20;
const dir = mkdtempSync(path.join(tmpdir(), "mlsdm-rotation-"));
const keysFile = path.join(dir, "keys.yaml");
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Replaces the keys file in one step, as a Kubernetes Secret update does. */
function writeKeys(keys: [id: string, secret: string][]): void {
  const body = keys
    .map(
      ([id, secret]) =>
        `  - id: ${id}\n    owner: partner\n    roles: [write]\n    sha256: ${digestOf(secret)}\n`,
    )
    .join("");
  const temporary = `${keysFile}.tmp`;
  writeFileSync(temporary, `keys:\n${body}`);
  renameSync(temporary, keysFile);
}

describe("key rotation under steady traffic", () => {
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("loses no call while keys rotate through the file and through the Admin RPCs", async () => {
    writeKeys([["partner-a", FILE_A]]);
    const app = await startTestServer({
      MLSDM_ADMIN_API_KEY: ADMIN,
      MLSDM_API_KEYS_FILE: keysFile,
      MLSDM_RATE_LIMIT_RPS: "1000",
      MLSDM_RATE_LIMIT_BURST: "1000",
      // Neither the rate limit nor load shedding is under test: only the keys may refuse a call.
      MLSDM_MAX_EVENT_LOOP_LAG_MS: "0",
    });
    const calls = new Caller(app);
    const started = Date.now();
    let current = FILE_A;
    const outcomes: { at: number; secret: string; code: string }[] = [];
    const inFlight = new Map<string, Set<Promise<void>>>();
    const control = { running: true };
    let issued = 0;

    const client = (async () => {
      for (let i = 0; control.running; i++) {
        const secret = current;
        const call = calls
          .call(LISTENERS[i % 2]!, EngineService, "getState", {}, secret)
          .then((outcome) => {
            outcomes.push({ at: Date.now() - started, secret, code: outcome.code ?? "OK" });
          })
          .finally(() => inFlight.get(secret)?.delete(call));
        const pending = inFlight.get(secret) ?? new Set<Promise<void>>();
        pending.add(call);
        inFlight.set(secret, pending);
        issued = i + 1;
        // Paced on absolute time, so a busy machine does not lower the rate.
        await sleep(Math.max(0, started + ((i + 1) * 1000) / RATE_PER_SECOND - Date.now()));
      }
    })();
    /** Switches the client to `next` and waits until no call with the old key is in flight. */
    const switchTo = async (next: string): Promise<void> => {
      const old = current;
      current = next;
      await Promise.all([...(inFlight.get(old) ?? [])]);
    };
    /** Probes (outside the client's traffic) until `secret` answers `code`; returns the wait. */
    const waitFor = async (secret: string, code: string): Promise<number> => {
      const from = Date.now();
      await expect
        .poll(async () => (await calls.call("connect", EngineService, "getState", {}, secret)).code ?? "OK", {
          timeout: 30_000,
          interval: 100,
        })
        .toBe(code);
      return Date.now() - from;
    };

    try {
      await sleep(500);
      // 1. Through the file: add the new key, switch the client, remove the old key.
      writeKeys([
        ["partner-a", FILE_A],
        ["partner-b", FILE_B],
      ]);
      const pickedUp = await waitFor(FILE_B, "OK");
      await switchTo(FILE_B);
      writeKeys([["partner-b", FILE_B]]);
      const removed = await waitFor(FILE_A, "E204");
      expect(pickedUp).toBeLessThan(30_000);
      expect(removed).toBeLessThan(30_000);

      // 2. Through the Admin RPCs: create, switch, rotate (default overlap), switch, revoke the old one.
      const created = (
        await calls.call<CreateApiKeyResponse>(
          "connect",
          AdminService,
          "createApiKey",
          { owner: "partner", roles: [Role.WRITE] },
          ADMIN,
        )
      ).response!;
      await switchTo(created.secret);
      const rotated = await calls.call<RotateApiKeyResponse>(
        "grpc-js",
        AdminService,
        "rotateApiKey",
        { keyId: created.key!.keyId, reason: "rotation test" },
        ADMIN,
      );
      expect(rotated.code).toBeUndefined();
      await sleep(300);
      await switchTo(rotated.response!.secret);
      const revoked = await calls.call(
        "connect",
        AdminService,
        "revokeApiKey",
        { keyId: created.key!.keyId, reason: "clients switched" },
        ADMIN,
      );
      expect(revoked.code).toBeUndefined();
      expect((await calls.call("grpc-js", EngineService, "getState", {}, created.secret)).code).toBe("E204");

      // Keep the traffic going for at least ~4 s and 80 calls in all.
      while (Date.now() - started < 4_500 || issued < 4 * RATE_PER_SECOND) await sleep(50);
    } finally {
      control.running = false;
      await client;
      await Promise.all([...inFlight.values()].flatMap((set) => [...set]));
      calls.close();
      await app.shutdown("test done");
    }

    const failed = outcomes.filter((o) => o.code !== "OK");
    expect(failed).toEqual([]);
    expect(outcomes.length).toBe(issued);
    expect(outcomes.length).toBeGreaterThanOrEqual(4 * RATE_PER_SECOND);
    // Every key of the rotation carried traffic.
    expect(new Set(outcomes.map((o) => o.secret)).size).toBe(4);
  }, 60_000);
});
