/**
 * Emergency and recovery through health (REL-001), on a real server whose controller reads an
 * injected memory probe and clock: memory pressure engages the brake and Watch pushes
 * NOT_SERVING, engine calls fail fast with E701 and RetryInfo while liveness stays SERVING;
 * after the cool-down (injected clock) and with memory back under the safety margin, the
 * supervisor recovers and Watch pushes SERVING; once the attempts are used up, calls get E704
 * and only AdminService.ResetEmergency brings the engine back.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningApp } from "../../src/app.js";
import { CognitiveController } from "../../src/core/controller.js";
import { AdminService } from "../../src/gen/mlsdm/v1/admin_pb.js";
import { EngineService } from "../../src/gen/mlsdm/v1/engine_pb.js";
import { Health } from "../../src/rpc/health/health-service.js";
import { ServingStatus } from "../../src/rpc/health/health-registry.js";
import { connectClient, connectErrorInfo } from "./support/clients.js";
import { startTestServer } from "./support/server.js";

const MB = 2 ** 20;
let rss = 100 * MB;
let now = 0;
const controller = new CognitiveController({
  dimension: 384,
  pelmCapacity: 100,
  phaseTolerance: 0.15,
  rhythm: { wakeDuration: 10_000, sleepDuration: 1 },
  limits: { rssLimitBytes: 1000 * MB },
  recovery: { cooldownMs: 30_000, cooldownSteps: 0, maxAttempts: 2, memorySafetyRatio: 0.8 },
  clock: () => now,
  memory: () => ({ rssBytes: rss, heapUsedBytes: 10 * MB }),
});
const vector = Array.from({ length: 384 }, (_, i) => Math.sin(i) + 0.01);

describe("emergency shutdown and recovery through health", () => {
  let app: RunningApp;
  const seen: number[] = [];
  const abort = new AbortController();
  beforeAll(async () => {
    app = await startTestServer({}, { controller });
    void (async () => {
      for await (const m of connectClient(Health, app.httpPort, "connect").watch(
        { service: "mlsdm.v1.EngineService" },
        { signal: abort.signal },
      ))
        seen.push(m.status);
    })().catch(() => undefined);
  });
  afterAll(async () => {
    abort.abort();
    await app.shutdown("test done");
  });

  const engine = () => connectClient(EngineService, app.httpPort, "connect");
  const refusal = async (): Promise<ConnectError | undefined> =>
    engine()
      .processEvent({ vector, moralValue: 0.95 })
      .then(
        () => undefined,
        (e: unknown) => ConnectError.from(e),
      );

  async function pressure(code = "E701"): Promise<void> {
    rss = 1200 * MB;
    const error = await refusal();
    expect(error?.code).toBe(Code.Unavailable);
    expect(connectErrorInfo(error)?.metadata).toMatchObject({
      code,
      reason: "process_memory_exceeded",
    });
    await expect.poll(() => seen.at(-1), { timeout: 1_500 }).toBe(ServingStatus.NOT_SERVING);
    const liveness = await connectClient(Health, app.httpPort, "connect").check({ service: "" });
    expect(liveness.status).toBe(ServingStatus.SERVING);
  }

  it("goes NOT_SERVING under memory pressure and recovers by itself after the cool-down", async () => {
    await expect.poll(() => seen.at(-1)).toBe(ServingStatus.SERVING);
    await pressure();
    rss = 500 * MB; // under 0.8 × the limit
    now += 31_000; // past the cool-down; the supervisor ticks about once a second
    await expect.poll(() => seen.at(-1), { timeout: 2_500 }).toBe(ServingStatus.SERVING);
    expect((await engine().processEvent({ vector, moralValue: 0.95 })).accepted).toBe(true);
  });

  it("after the last automatic attempt only an operator reset brings it back", async () => {
    await pressure();
    rss = 500 * MB;
    now += 31_000;
    await expect.poll(() => seen.at(-1), { timeout: 2_500 }).toBe(ServingStatus.SERVING); // attempt 2 of 2
    // The attempts are used up: the next emergency is final at once (E704, no RetryInfo).
    await pressure("E704");
    rss = 500 * MB;
    now += 31_000;
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(seen.at(-1)).toBe(ServingStatus.NOT_SERVING);
    const error = await refusal();
    expect(connectErrorInfo(error)?.metadata.code).toBe("E704");
    await connectClient(AdminService, app.httpPort, "connect").resetEmergency({ reason: "memory fixed" });
    await expect.poll(() => seen.at(-1), { timeout: 1_500 }).toBe(ServingStatus.SERVING);
    expect((await engine().processEvent({ vector, moralValue: 0.95 })).accepted).toBe(true);
  });
});
