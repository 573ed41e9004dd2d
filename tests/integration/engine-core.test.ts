/**
 * ProcessEvent, RetrieveContext, GetState and the emergency Admin RPCs over one controller,
 * through both listeners with real clients.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningApp } from "../../src/app.js";
import { AdminService, ServingStatus as AdminServingStatus } from "../../src/gen/mlsdm/v1/admin_pb.js";
import { EngineService } from "../../src/gen/mlsdm/v1/engine_pb.js";
import {
  Health,
  HealthCheckResponse_ServingStatus as ServingStatus,
} from "../../src/gen/grpc/health/v1/health_pb.js";
import { EmergencyReason, Phase, RejectionReason } from "../../src/gen/mlsdm/v1/state_pb.js";
import { status as grpcStatus } from "@grpc/grpc-js";
import { connectClient, grpcClient, grpcErrorInfo, grpcUnary } from "./support/clients.js";
import { startTestServer } from "./support/server.js";

const DIM = 384;

function vector(seed: number): number[] {
  const out: number[] = [];
  let x = seed + 1;
  for (let i = 0; i < DIM; i++) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    out.push(x / 2 ** 31 - 0.5);
  }
  return out;
}

describe("the cognitive core served on both listeners", () => {
  let app: RunningApp;
  let base: string;
  beforeAll(async () => {
    // Limits above the 1,000-call burst below: this suite is about lost updates, not admission.
    app = await startTestServer({
      MLSDM_RHYTHM_WAKE_DURATION: "10000",
      MLSDM_BULKHEAD_COGNITIVE: "1000",
      MLSDM_MAX_CONCURRENT: "2000",
      MLSDM_MAX_EVENT_LOOP_LAG_MS: "0",
    });
    base = `http://127.0.0.1:${app.httpPort}`;
  });
  afterAll(async () => {
    await app.shutdown("test done");
  });

  it("curl-style JSON ProcessEvent with a 384-float vector returns the new state", async () => {
    const response = await fetch(`${base}/mlsdm.v1.EngineService/ProcessEvent`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ vector: vector(1), moralValue: 0.95 }),
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ accepted: true, note: "processed", memoryUpdated: true });
    expect(body.state).toMatchObject({ step: "1", phase: "PHASE_WAKE", pelmUsed: 1, pelmCapacity: 20000 });
  });

  it("grpc-js and Connect clients see one controller", async () => {
    const grpc = grpcClient(EngineService, app.grpcPort);
    const { response } = await grpcUnary(grpc, "processEvent", { vector: vector(2), moralValue: 0.95 });
    grpc.close();
    expect(response).toMatchObject({ accepted: true, state: { step: 2n, pelmUsed: 2 } });
    const state = await connectClient(EngineService, app.httpPort, "grpc-web").getState({});
    expect(state.state).toMatchObject({ step: 2n, pelmUsed: 2, phase: Phase.WAKE });
  });

  it("RetrieveContext returns a stored vector first with resonance ≈ 1", async () => {
    const client = connectClient(EngineService, app.httpPort, "connect");
    const result = await client.retrieveContext({ queryVector: vector(2), topK: 2, includeVectors: true });
    expect(result.items.length).toBe(2);
    expect(result.items[0]?.resonance).toBeCloseTo(1, 5);
    expect(result.items[0]?.phaseValue).toBeCloseTo(0.1, 6);
    expect(result.items[0]?.vector.length).toBe(DIM);
    expect(result.items[0]!.resonance).toBeGreaterThanOrEqual(result.items[1]!.resonance);
  });

  it("a moral rejection is a normal outcome with a machine-readable reason", async () => {
    const client = connectClient(EngineService, app.httpPort, "connect");
    const result = await client.processEvent({ vector: vector(3), moralValue: 0.05 });
    expect(result).toMatchObject({
      accepted: false,
      rejectionReason: RejectionReason.MORAL,
      memoryUpdated: false,
    });
  });

  it("SetMoralThreshold and GetStatus", async () => {
    const admin = connectClient(AdminService, app.httpPort, "connect");
    const set = await admin.setMoralThreshold({ threshold: 0.7, reason: "test" });
    expect(set.threshold).toBeCloseTo(0.7, 10);
    const status = await admin.getStatus({});
    expect(status.servingStatus).toBe(AdminServingStatus.SERVING);
    expect(status.state?.moralThreshold).toBeCloseTo(0.7, 10);
    expect(status.config["core.dimension"]).toBe("384");
    expect(status.version).toMatch(/^\d+\.\d+\.\d+/);
  });

  it("emergency: trigger → engine NOT_SERVING (Watch push) and events refused; reset → SERVING", async () => {
    const admin = connectClient(AdminService, app.httpPort, "connect");
    const seen: ServingStatus[] = [];
    const abort = new AbortController();
    const watching = (async () => {
      for await (const m of connectClient(Health, app.httpPort, "connect").watch(
        { service: "mlsdm.v1.EngineService" },
        { signal: abort.signal },
      ))
        seen.push(m.status);
    })().catch(() => undefined);
    await expect.poll(() => seen.length).toBe(1);

    const triggered = await admin.triggerEmergencyShutdown({ reason: "test drill" });
    expect(triggered.emergency).toMatchObject({ active: true, reason: EmergencyReason.MANUAL });
    await expect.poll(() => seen.at(-1), { timeout: 1500 }).toBe(ServingStatus.NOT_SERVING);
    const grpc = grpcClient(EngineService, app.grpcPort);
    const { error: refused } = await grpcUnary(grpc, "processEvent", { vector: vector(4), moralValue: 0.95 });
    expect(refused?.code).toBe(grpcStatus.UNAVAILABLE);
    expect(refused && grpcErrorInfo(refused)?.metadata).toMatchObject({ code: "E701", reason: "manual" });
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(503);

    const reset = await admin.resetEmergency({ reason: "drill over" });
    expect(reset.wasActive).toBe(true);
    await expect.poll(() => seen.at(-1), { timeout: 1500 }).toBe(ServingStatus.SERVING);
    const after = await grpcUnary(grpc, "processEvent", { vector: vector(5), moralValue: 0.95 });
    grpc.close();
    expect(after.response).toMatchObject({ accepted: true });
    abort.abort();
    await watching;
  });

  it("1,000 concurrent ProcessEvent calls over both listeners lose no update", async () => {
    const before = (await connectClient(EngineService, app.httpPort, "connect").getState({})).state!;
    const grpc = grpcClient(EngineService, app.grpcPort);
    const connect = connectClient(EngineService, app.httpPort, "connect");
    const calls = Array.from({ length: 1000 }, (_, i) =>
      i % 2 === 0
        ? grpcUnary(grpc, "processEvent", { vector: vector(100 + i), moralValue: 0.95 }).then(
            (r) => (r.response as { accepted: boolean }).accepted,
          )
        : connect.processEvent({ vector: vector(100 + i), moralValue: 0.95 }).then((r) => r.accepted),
    );
    const accepted = (await Promise.all(calls)).filter(Boolean).length;
    grpc.close();
    const after = (await connect.getState({})).state!;
    expect(after.step - before.step).toBe(1000n);
    expect(after.pelmUsed - before.pelmUsed).toBe(accepted);
  });
});
