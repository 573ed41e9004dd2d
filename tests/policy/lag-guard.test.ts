/**
 * The event-loop-lag guard (REL-002, src/policy/lag-guard.ts) with a real histogram: a blocked
 * loop makes it shed until a quiet window brings the p99 back under the limit; 0 disables it;
 * and admission (src/policy/admission.ts) refuses engine calls with E702 `event_loop_lag` while
 * it sheds, and the listener cap before it, releasing slots when calls end.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { EngineService } from "../../src/gen/mlsdm/v1/engine_pb.js";
import { createAdmission } from "../../src/policy/admission.js";
import { LISTENER } from "../../src/policy/call-context.js";
import { startLagGuard, type LagGuard } from "../../src/policy/lag-guard.js";
import { MlsdmError } from "../../src/telemetry/errors/index.js";
import { policyContext } from "./support/handler-context.js";

/** Keeps the event loop busy for `ms`. */
function block(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // busy
  }
}
const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("the event-loop-lag guard", () => {
  const guards: LagGuard[] = [];
  afterEach(() => {
    for (const guard of guards.splice(0)) guard.stop();
  });

  it("is off with a limit of 0: never sheds, reports no lag", () => {
    const guard = startLagGuard(0);
    guards.push(guard);
    block(50);
    expect(guard.shedding()).toBe(false);
    expect(guard.lagMs()).toBe(0);
  });

  it("sheds after a window whose p99 delay exceeds the limit, and stops after a quiet one", async () => {
    const guard = startLagGuard(40, 100);
    guards.push(guard);
    expect(guard.shedding()).toBe(false);
    await tick(20);
    // One long blocked turn: the window that ends after it has a p99 of about its length, and
    // the guard keeps that verdict for the window's duration.
    block(150);
    for (let i = 0; i < 50 && !guard.shedding(); i++) {
      await tick(5);
    }
    expect(guard.shedding()).toBe(true);
    expect(guard.lagMs()).toBeGreaterThan(100);
    await vi.waitFor(
      () => {
        expect(guard.shedding()).toBe(false);
      },
      { timeout: 5_000, interval: 50 },
    );
    expect(guard.lagMs()).toBeLessThanOrEqual(40);
  });
});

describe("admission with the lag guard and the listener cap", () => {
  const method = EngineService.method.generate;
  const context = (listener: "grpc" | "http") =>
    policyContext({
      method,
      values: (values) => {
        values.set(LISTENER, listener);
      },
    });
  const compartments = [{ name: "generate", limit: 4, queueSize: 0, queueTimeoutMs: 100, agingMs: 1000 }];

  it("refuses with E702 event_loop_lag while the guard sheds, and admits again after", async () => {
    let shedding = true;
    const rejected: string[] = [];
    const { admit } = createAdmission({
      compartments,
      compartmentOf: (m) => (m === method ? "generate" : undefined),
      maxInFlightPerListener: 10,
      lagGuard: { shedding: () => shedding, lagMs: () => 123.4, stop: () => undefined },
      observer: { rejected: (name, why) => rejected.push(`${name}:${why}`) },
    });
    let caught: unknown;
    try {
      await admit(method, context("grpc"));
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(MlsdmError);
    expect(caught).toMatchObject({
      reason: "RESOURCE_EXHAUSTED",
      entry: { code: "E702" },
      metadata: { compartment: "generate", reason: "event_loop_lag" },
      retryDelayMs: 1_000,
    });
    expect((caught as MlsdmError).message).toMatch(/event-loop lag 123 ms/);
    expect(rejected).toEqual(["generate:event_loop_lag"]);
    shedding = false;
    const release = await admit(method, context("grpc"));
    expect(typeof release).toBe("function");
    release?.();
    // Methods outside every compartment are never held back.
    expect(admit(EngineService.method.getState, context("grpc"))).toBeUndefined();
  });

  it("caps the calls in flight per listener; a released call frees its place", async () => {
    const admitted: string[] = [];
    const { admit } = createAdmission({
      compartments,
      compartmentOf: () => "generate",
      maxInFlightPerListener: 2,
      lagGuard: startLagGuard(0),
      observer: { admitted: (name, priority) => admitted.push(`${name}:${priority}`) },
    });
    const first = await admit(method, context("http"));
    const second = await admit(method, context("http"));
    expect(() => admit(method, context("http"))).toThrow(/the http listener has 2 calls in flight/);
    // The other listener has its own count.
    const other = await admit(method, context("grpc"));
    first?.();
    const third = await admit(method, context("http"));
    expect(admitted).toHaveLength(4);
    for (const release of [second, other, third]) release?.();
  });

  it("a full compartment is E702 with the bulkhead's reason; the listener count is given back", async () => {
    const { admit, bulkheads } = createAdmission({
      compartments: [{ name: "generate", limit: 1, queueSize: 0, queueTimeoutMs: 50, agingMs: 1000 }],
      compartmentOf: () => "generate",
      maxInFlightPerListener: 2,
      lagGuard: startLagGuard(0),
    });
    const held = await admit(method, context("grpc"));
    await expect(admit(method, context("grpc"))).rejects.toMatchObject({
      entry: { code: "E702" },
      metadata: { reason: "queue_full" },
    });
    expect(bulkheads.get("generate")?.stats().active).toBe(1);
    // The refused call left the listener count as it was: one more call fits after a release.
    held?.();
    const next = await admit(method, context("grpc"));
    next?.();
    expect(bulkheads.get("generate")?.stats().active).toBe(0);
  });
});
