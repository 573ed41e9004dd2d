/**
 * Chaos (REL-003) against real servers on 127.0.0.1, each scenario stopping by itself: a burst
 * of ten times the generation capacity over both listeners, a model provider that resets, fails
 * and stalls at random, and a full state database. The process never crashes, liveness never
 * fails, and every refused call carries a catalogue code (never INTERNAL).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { status } from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { EngineService, GenerateRequestSchema } from "../../src/gen/mlsdm/v1/engine_pb.js";
import { Health } from "../../src/rpc/health/health-service.js";
import { ServingStatus } from "../../src/rpc/health/health-registry.js";
import {
  connectClient,
  connectErrorInfo,
  grpcClient,
  grpcErrorInfo,
  grpcUnary,
} from "../integration/support/clients.js";
import { startTestServer } from "../integration/support/server.js";
import { FakeModelServer, type Behaviour } from "../providers/support/fake-model-server.js";

const vector = (i: number): number[] => Array.from({ length: 384 }, (_, j) => Math.sin(i * 3 + j) + 0.01);

/** The catalogue code of a failed connect call; fails the test on a failure without one. */
function codeOf(error: unknown): string {
  const info = connectErrorInfo(error);
  expect(info?.metadata.code, String(error)).toMatch(/^E\d{3}$/);
  expect(ConnectError.from(error).code).not.toBe(Code.Internal);
  return info?.metadata.code ?? "";
}

describe("chaos", () => {
  it("a burst of 10× the generation capacity on both listeners: answers or E702, liveness stays up", async () => {
    const app = await startTestServer({ MLSDM_BULKHEAD_LLM_GENERATION: "2", MLSDM_BULKHEAD_QUEUE_SIZE: "4" });
    try {
      const connect = connectClient(EngineService, app.httpPort, "connect");
      const grpc = grpcClient(EngineService, app.grpcPort);
      const outcomes = await Promise.all([
        ...Array.from({ length: 10 }, (_, i) =>
          connect.generate({ prompt: `burst ${i}` }).then(
            () => "OK",
            (e: unknown) => codeOf(e),
          ),
        ),
        ...Array.from({ length: 10 }, (_, i) =>
          grpcUnary(grpc, "generate", create(GenerateRequestSchema, { prompt: `burst ${i}` })).then(
            ({ error }) => {
              if (!error) return "OK";
              expect(error.code).not.toBe(status.INTERNAL);
              return grpcErrorInfo(error)?.metadata.code ?? "missing";
            },
          ),
        ),
      ]);
      grpc.close();
      expect(outcomes.every((o) => o === "OK" || o === "E702")).toBe(true);
      expect(outcomes.filter((o) => o === "OK").length).toBeGreaterThan(0);
      const health = await connectClient(Health, app.httpPort, "connect").check({ service: "" });
      expect(health.status).toBe(ServingStatus.SERVING);
    } finally {
      await app.shutdown("test done");
    }
  });

  it("a provider that resets, fails and stalls at random: every call ends in OK or a provider code", async () => {
    const fake = await FakeModelServer.start();
    const app = await startTestServer({
      MLSDM_LLM_PRIMARY_BACKEND: "openai",
      MLSDM_LLM_PRIMARY_BASE_URL: fake.openAiBaseUrl,
      MLSDM_LLM_PRIMARY_API_KEY: "sk-test",
      MLSDM_LLM_MAX_RETRIES: "0",
      MLSDM_LLM_BREAKER_FAILURES: "1000",
      MLSDM_ENGINE_GENERATE_DEADLINE_MS: "400",
      MLSDM_ENGINE_APHASIA_DETECT: "false",
    });
    try {
      const behaviours: Behaviour[] = [
        { kind: "reset" },
        { kind: "status", status: 500 },
        { kind: "status", status: 429, headers: { "retry-after": "1" } },
        { kind: "malformed" },
        { kind: "slow", delayMs: 2_000 },
        { kind: "ok", deltas: ["The tides follow ", "the moon."] },
      ];
      // Every fault, four times, in an order that mixes them (a permutation of 24 by a stride of 7).
      const next = (i: number): Behaviour => behaviours[((i * 7) % 24) % behaviours.length] ?? { kind: "ok" };
      const connect = connectClient(EngineService, app.httpPort, "connect");
      const codes = new Set<string>();
      for (let i = 0; i < 24; i++) {
        fake.enqueue(next(i));
        const code = await connect.generate({ prompt: `chaos ${i}`, contextTopK: 0 }).then(
          () => "OK",
          (e: unknown) => codeOf(e),
        );
        codes.add(code);
      }
      expect([...codes].sort()).toEqual(["E601", "E603", "E604", "E606", "OK"]);
      const health = await connectClient(Health, app.httpPort, "connect").check({ service: "" });
      expect(health.status).toBe(ServingStatus.SERVING);
    } finally {
      await app.shutdown("test done");
      await fake.close();
    }
  });

  it("a full state database: memory writes answer UNAVAILABLE E406, reads and liveness keep working", async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), "mlsdm-full-"));
    const app = await startTestServer({
      MLSDM_STATE: "sqlite",
      MLSDM_DATA_DIR: dataDir,
      MLSDM_STATE_MAX_DATABASE_MB: "1",
      MLSDM_PELM_CAPACITY: "100",
    });
    try {
      const connect = connectClient(EngineService, app.httpPort, "connect");
      let refusal: unknown;
      for (let i = 0; i < 2_000 && refusal === undefined; i++) {
        await connect.processEvent({ vector: vector(i), moralValue: 0.95 }).catch((e: unknown) => {
          refusal = e;
        });
      }
      expect(ConnectError.from(refusal).code).toBe(Code.Unavailable);
      expect(codeOf(refusal)).toBe("E406");
      expect((await connect.getState({})).state?.pelmUsed).toBeGreaterThan(0);
      const health = await connectClient(Health, app.httpPort, "connect").check({ service: "" });
      expect(health.status).toBe(ServingStatus.SERVING);
    } finally {
      await app.shutdown("test done");
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
