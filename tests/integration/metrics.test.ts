/**
 * GET /metrics after a workload through both listeners: RPC counters move by exactly the
 * calls made, per method, code and listener; histograms hold the calls; engine gauges match
 * GetState.
 */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningApp } from "../../src/app.js";
import { AdminService } from "../../src/gen/mlsdm/v1/admin_pb.js";
import { EngineService } from "../../src/gen/mlsdm/v1/engine_pb.js";
import { connectClient, grpcClient, grpcUnary } from "./support/clients.js";
import { startTestServer } from "./support/server.js";

const vector = (seed: number): number[] => Array.from({ length: 384 }, (_, i) => Math.sin(seed + i));

/** Parses the exposition text into `name{labels}` → value. */
function parse(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line.startsWith("#") || line.trim() === "") continue;
    const space = line.lastIndexOf(" ");
    out.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return out;
}

describe("Prometheus metrics", () => {
  let app: RunningApp;
  const scrape = async (): Promise<Map<string, number>> => {
    const response = await fetch(`http://127.0.0.1:${app.httpPort}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/plain");
    return parse(await response.text());
  };
  beforeAll(async () => {
    app = await startTestServer({ MLSDM_RHYTHM_WAKE_DURATION: "10000" });
  });
  afterAll(async () => {
    await app.shutdown("test done");
  });

  it("counts every call by method, code and listener, on both listeners", async () => {
    const grpc = grpcClient(EngineService, app.grpcPort);
    for (let i = 0; i < 3; i++)
      await grpcUnary(grpc, "processEvent", { vector: vector(i), moralValue: 0.95 });
    await grpcUnary(grpc, "processEvent", { vector: [1, 2], moralValue: 0.95 });
    grpc.close();
    const connect = connectClient(EngineService, app.httpPort, "connect");
    for (let i = 0; i < 2; i++) await connect.getState({});
    await connect.processEvent({ vector: vector(9), moralValue: 2 }).catch(() => undefined);

    const m = await scrape();
    const key = (method: string, code: string, listener: string): number =>
      m.get(
        `mlsdm_rpc_requests_total{method="/mlsdm.v1.EngineService/${method}",code="${code}",listener="${listener}"}`,
      ) ?? 0;
    expect(key("ProcessEvent", "OK", "grpc")).toBe(3);
    expect(key("ProcessEvent", "INVALID_ARGUMENT", "grpc")).toBe(1);
    expect(key("GetState", "OK", "connect")).toBe(2);
    expect(key("ProcessEvent", "INVALID_ARGUMENT", "connect")).toBe(1);
    expect(
      m.get(
        `mlsdm_rpc_duration_seconds_count{method="/mlsdm.v1.EngineService/ProcessEvent",listener="grpc"}`,
      ),
    ).toBe(4);
    expect(m.get(`mlsdm_rpc_in_flight{listener="grpc"}`)).toBe(0);
    // Business counters: 3 accepted events; 2 validation errors (E101 dimension, E102 range).
    expect(m.get(`mlsdm_events_processed_total{outcome="accepted"}`)).toBe(3);
    expect(m.get(`mlsdm_moral_filter_decisions_total{decision="accept"}`)).toBe(3);
    expect(m.get(`mlsdm_errors_total{code="E101"}`)).toBe(1);
    expect(m.get(`mlsdm_errors_total{code="E102"}`)).toBe(1);
  });

  it("engine gauges match GetState; default Node metrics are there", async () => {
    const state = (await connectClient(EngineService, app.httpPort, "grpc-web").getState({})).state!;
    const m = await scrape();
    expect(m.get("mlsdm_memory_items")).toBe(state.pelmUsed);
    expect(m.get("mlsdm_cognitive_steps")).toBe(Number(state.step));
    expect(m.get("mlsdm_moral_threshold")).toBeCloseTo(state.moralThreshold, 10);
    expect(m.get("mlsdm_emergency_shutdown_active")).toBe(0);
    expect(m.get("mlsdm_rhythm_phase")).toBe(0);
    expect([...m.keys()].some((k) => k.startsWith("mlsdm_nodejs_eventloop_lag"))).toBe(true);
  });

  it("counts emergency shutdowns", async () => {
    const admin = connectClient(AdminService, app.httpPort, "connect");
    expect((await scrape()).get("mlsdm_emergency_shutdowns_total")).toBe(0);
    await admin.triggerEmergencyShutdown({ reason: "metrics test" });
    const during = await scrape();
    expect(during.get("mlsdm_emergency_shutdowns_total")).toBe(1);
    expect(during.get("mlsdm_emergency_shutdown_active")).toBe(1);
    await admin.resetEmergency({ reason: "metrics test over" });
    const after = await scrape();
    expect(after.get("mlsdm_emergency_shutdowns_total")).toBe(1);
    expect(after.get("mlsdm_emergency_shutdown_active")).toBe(0);
    expect(after.get("mlsdm_auto_recovery_total")).toBe(0);
  });

  it("counts Generate decisions by stage, stage latency, provider attempts, tokens and breaker state", async () => {
    const before = await scrape();
    const engine = connectClient(EngineService, app.httpPort, "connect");
    await engine.generate({ prompt: "Explain the tides." });
    await engine.generate({ prompt: "Explain the tides.", moralValue: 0.05 });
    const after = await scrape();
    const delta = (key: string): number => (after.get(key) ?? 0) - (before.get(key) ?? 0);
    expect(delta('mlsdm_generation_decisions_total{decision="accepted",stage="none"}')).toBe(1);
    expect(delta('mlsdm_generation_decisions_total{decision="rejected",stage="pre_moral"}')).toBe(1);
    expect(delta('mlsdm_generation_stage_duration_seconds_count{stage="generation"}')).toBe(1);
    expect(delta('mlsdm_generation_stage_duration_seconds_count{stage="pre_moral"}')).toBe(2);
    expect(delta('mlsdm_llm_request_duration_seconds_count{provider="local_stub",outcome="ok"}')).toBe(1);
    expect(delta('mlsdm_generation_tokens_total{provider="local_stub",direction="output"}')).toBeGreaterThan(
      0,
    );
  });

  it("docs/observability.md lists every MLSDM metric the server exports", async () => {
    const doc = readFileSync(new URL("../../docs/observability.md", import.meta.url), "utf8");
    const families = new Set(
      [...(await scrape()).keys()]
        .map((k) => k.split("{")[0]!.replace(/_(bucket|sum|count)$/, ""))
        .filter((name) => !name.startsWith("mlsdm_process_") && !name.startsWith("mlsdm_nodejs_")),
    );
    const missing = [...families].filter((name) => !doc.includes(name.replace(/_l[23]$/, "")));
    expect(missing).toEqual([]);
  });
});
