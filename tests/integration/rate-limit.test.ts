/**
 * Rate limits and token quotas end to end (BASE-SEC-b, issue 6) on real servers: HTTP 429 with
 * Retry-After on the Connect listener and RetryInfo on grpc-js, limits shared by two servers
 * through a real redis-server, and per-identity token quotas over memory and Redis.
 */
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it, vi, type MockInstance } from "vitest";
import { logger } from "../../src/telemetry/logger.js";
import { RetryInfoSchema, QuotaFailureSchema } from "../../src/gen/google/rpc/error_details_pb.js";
import { EngineService, GetStateRequestSchema } from "../../src/gen/mlsdm/v1/engine_pb.js";
import type { RunningApp } from "../../src/app.js";
import { TestRedis } from "../support/redis-server.js";
import {
  connectClient,
  connectErrorInfo,
  grpcClient,
  grpcErrorInfo,
  grpcHasRetryInfo,
  grpcUnary,
} from "./support/clients.js";
import { startTestServer } from "./support/server.js";

const WRITE = "write-key-for-rate-limit-tests-0123456789";
const READ = "read-key-for-rate-limit-tests-0123456789";
const ADMIN = "admin-key-for-rate-limit-tests-012345678";
/** The event-loop lag guard (E702) is off: this shared 2-core machine lags under other work. */
const NO_LAG_GUARD = { MLSDM_MAX_EVENT_LOOP_LAG_MS: "0" };
const bearer = (key: string) => ({ headers: { authorization: `Bearer ${key}` } });

function grpcMeta(key: string): grpc.Metadata {
  const metadata = new grpc.Metadata();
  metadata.set("authorization", `Bearer ${key}`);
  return metadata;
}

/** A Connect-protocol unary call made with fetch, to see the raw HTTP status and headers. */
function rawGetState(port: number, key: string): Promise<Response> {
  return fetch(`http://127.0.0.1:${port}/mlsdm.v1.EngineService/GetState`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    body: "{}",
  });
}

/** The catalogue code of a connect call's outcome, "OK" on success. */
async function outcome(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return "OK";
  } catch (error) {
    expect(ConnectError.from(error).code).not.toBe(Code.Internal);
    return connectErrorInfo(error)?.metadata.code ?? "missing";
  }
}

async function metricsOf(app: RunningApp): Promise<string> {
  return (await fetch(`http://127.0.0.1:${app.httpPort}/metrics`)).text();
}

describe("what a refused client sees", () => {
  let app: RunningApp;
  beforeAll(async () => {
    app = await startTestServer({
      ...NO_LAG_GUARD,
      MLSDM_API_KEY: WRITE,
      MLSDM_READ_API_KEY: READ,
      MLSDM_ADMIN_API_KEY: ADMIN,
    });
  });
  afterAll(async () => {
    await app.shutdown("test done");
  });

  it("Connect listener: HTTP 429 with Retry-After in whole seconds and E602 in the body", async () => {
    const warn = vi.spyOn(logger, "warn") as unknown as MockInstance<(message: string, meta: object) => void>;
    // 10 calls pass at once; the next is refused (a slow machine may refill a token on the way).
    let refused = await rawGetState(app.httpPort, WRITE);
    let passed = 0;
    for (; refused.status === 200 && passed < 30; passed += 1)
      refused = await rawGetState(app.httpPort, WRITE);
    expect(passed).toBeGreaterThanOrEqual(10);
    expect(refused.status).toBe(429);
    const retryAfter = Number(refused.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(1);
    const body = (await refused.json()) as { code: string; details: { type: string }[] };
    expect(body.code).toBe("resource_exhausted");
    expect(body.details.map((d) => d.type)).toEqual(
      expect.arrayContaining(["google.rpc.ErrorInfo", "google.rpc.RetryInfo", "google.rpc.QuotaFailure"]),
    );
    // The connect client reads the same error: E602, RetryInfo up to one second, QuotaFailure.
    const client = connectClient(EngineService, app.httpPort, "connect");
    let error: ConnectError | undefined;
    for (let i = 0; i < 20 && !error; i += 1) {
      error = await client.getState({}, bearer(WRITE)).then(
        () => undefined,
        (e: unknown) => ConnectError.from(e),
      );
    }
    expect(error?.code).toBe(Code.ResourceExhausted);
    expect(connectErrorInfo(error)?.metadata.code).toBe("E602");
    const delay = error?.findDetails(RetryInfoSchema)[0]?.retryDelay;
    const ms = Number(delay?.seconds ?? 0n) * 1000 + (delay?.nanos ?? 0) / 1e6;
    expect(ms).toBeGreaterThan(0);
    expect(ms).toBeLessThanOrEqual(1_000);
    expect(error?.findDetails(QuotaFailureSchema)[0]?.violations[0]?.subject).toMatch(/^client:/);
    // Another identity is unaffected, and the server keeps serving.
    expect(await outcome(client.getState({}, bearer(READ)))).toBe("OK");
    expect(await metricsOf(app)).toMatch(/mlsdm_rate_limit_exceeded_total\{method="GetState"\} [1-9]/);
    // Every trip is a security event naming the identity and the code, never the key.
    const events = warn.mock.calls.filter(
      ([, meta]) => (meta as { event?: string } | undefined)?.event === "rate_limited",
    );
    expect(events.length).toBeGreaterThanOrEqual(2);
    expect(events[0]?.[1]).toMatchObject({
      method: "GetState",
      identity_id: "env-write",
      error_code: "E602",
    });
    expect(JSON.stringify(warn.mock.calls)).not.toContain(WRITE);
    warn.mockRestore();
  });

  it("grpc-js listener: RESOURCE_EXHAUSTED with RetryInfo and E602, until the next token", async () => {
    const g = grpcClient(EngineService, app.grpcPort);
    const results: { error?: grpc.ServiceError }[] = [];
    while (results.length < 30 && results.filter((r) => r.error).length < 2) {
      results.push(
        await grpcUnary(g, "getState", create(GetStateRequestSchema), { metadata: grpcMeta(ADMIN) }),
      );
    }
    const refused = results.flatMap((r) => (r.error ? [r.error] : []));
    expect(results.slice(0, 10).every((r) => r.error === undefined)).toBe(true);
    expect(refused).toHaveLength(2);
    for (const error of refused) {
      expect(error.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
      expect(grpcErrorInfo(error)?.metadata.code).toBe("E602");
      expect(grpcHasRetryInfo(error)).toBe(true);
    }
    await new Promise((r) => setTimeout(r, 1_050));
    const later = await grpcUnary(g, "getState", create(GetStateRequestSchema), {
      metadata: grpcMeta(ADMIN),
    });
    g.close();
    expect(later.error).toBeUndefined();
  });
});

describe("MLSDM_RATE_LIMIT_RPS=0", () => {
  it("turns request-rate limiting off (benchmarks)", async () => {
    const app = await startTestServer({
      ...NO_LAG_GUARD,
      MLSDM_API_KEY: WRITE,
      MLSDM_RATE_LIMIT_RPS: "0",
    });
    try {
      const client = connectClient(EngineService, app.httpPort, "connect");
      const outcomes = await Promise.all(
        Array.from({ length: 40 }, () => outcome(client.getState({}, bearer(WRITE)))),
      );
      expect(outcomes.filter((o) => o !== "OK")).toEqual([]);
    } finally {
      await app.shutdown("test done");
    }
  });
});

describe("limits shared through Redis", () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await TestRedis.start();
  });
  afterAll(async () => {
    await redis.close();
  });

  const sharedEnv = (prefix: string) => ({
    ...NO_LAG_GUARD,
    MLSDM_API_KEY: WRITE,
    MLSDM_READ_API_KEY: READ,
    MLSDM_RATE_LIMIT_BACKEND: "redis",
    MLSDM_REDIS_URL: redis.url,
    MLSDM_REDIS_KEY_PREFIX: prefix,
  });

  it("two servers on one Redis share one bucket per identity; other identities are unaffected", async () => {
    const a = await startTestServer(sharedEnv("shared1:"));
    const b = await startTestServer(sharedEnv("shared1:"));
    try {
      expect(await metricsOf(a)).toMatch(/^mlsdm_redis_up 1$/m);
      const ca = connectClient(EngineService, a.httpPort, "connect");
      const gb = grpcClient(EngineService, b.grpcPort);
      // 30 concurrent calls, half through each server: one shared bucket (capacity 10) lets about
      // 10 through; two per-replica buckets would let 20 through.
      const outcomes = await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          i % 2 === 0
            ? outcome(ca.getState({}, bearer(WRITE)))
            : grpcUnary(gb, "getState", create(GetStateRequestSchema), { metadata: grpcMeta(WRITE) }).then(
                ({ error }) => (error ? (grpcErrorInfo(error)?.metadata.code ?? "missing") : "OK"),
              ),
        ),
      );
      gb.close();
      const accepted = outcomes.filter((o) => o === "OK").length;
      expect(accepted, outcomes.join(",")).toBeGreaterThanOrEqual(10);
      expect(accepted, outcomes.join(",")).toBeLessThanOrEqual(15);
      expect(outcomes.filter((o) => o !== "OK").every((o) => o === "E602")).toBe(true);
      expect(
        await outcome(connectClient(EngineService, b.httpPort, "connect").getState({}, bearer(READ))),
      ).toBe("OK");
      expect(await metricsOf(a)).toMatch(
        /^mlsdm_rate_limit_fallback_total\{limiter="rate"\} 0$|^(?![\s\S]*fallback_total\{)/m,
      );
    } finally {
      await Promise.all([a.shutdown("test done"), b.shutdown("test done")]);
    }
  });

  it("token quota per day is shared: usage on one server refuses the next call on the other with E608", async () => {
    const env = { ...sharedEnv("quota1:"), MLSDM_TOKEN_QUOTA_PER_DAY: "5" };
    const a = await startTestServer(env);
    const b = await startTestServer(env);
    try {
      const ca = connectClient(EngineService, a.httpPort, "connect");
      expect(await outcome(ca.generate({ prompt: "Name three primary colours." }, bearer(WRITE)))).toBe("OK");
      await expectQuotaRefusal(b, WRITE);
      // The read key has its own quota (it may not call Generate, but its reads are not metered).
      expect(await outcome(ca.getState({}, bearer(READ)))).toBe("OK");
    } finally {
      await Promise.all([a.shutdown("test done"), b.shutdown("test done")]);
    }
  });
});

/** Polls until a Generate from `key` is refused with E608 on both listeners (the charge is async). */
async function expectQuotaRefusal(app: RunningApp, key: string): Promise<void> {
  const client = connectClient(EngineService, app.httpPort, "connect");
  let code = "";
  for (let i = 0; i < 20 && code !== "E608"; i += 1) {
    code = await outcome(client.generate({ prompt: "Name three primary colours." }, bearer(key)));
    if (code !== "E608") await new Promise((r) => setTimeout(r, 50));
  }
  expect(code).toBe("E608");
  const error = await client.generate({ prompt: "again" }, bearer(key)).then(
    () => undefined,
    (e: unknown) => ConnectError.from(e),
  );
  expect(error?.code).toBe(Code.ResourceExhausted);
  expect(error?.findDetails(QuotaFailureSchema)[0]?.violations[0]?.description).toMatch(
    /model tokens per UTC day/,
  );
  expect(error?.findDetails(RetryInfoSchema)).toHaveLength(1);
  const stream = client.generateStream({ prompt: "stream" }, bearer(key));
  expect(
    await outcome(
      (async () => {
        const received: unknown[] = [];
        for await (const message of stream) received.push(message);
      })(),
    ),
  ).toBe("E608");
  const g = grpcClient(EngineService, app.grpcPort);
  const { GenerateRequestSchema } = await import("../../src/gen/mlsdm/v1/engine_pb.js");
  const viaGrpc = await grpcUnary(g, "generate", create(GenerateRequestSchema, { prompt: "grpc" }), {
    metadata: grpcMeta(key),
  });
  g.close();
  expect(viaGrpc.error?.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
  expect(viaGrpc.error ? grpcErrorInfo(viaGrpc.error)?.metadata.code : undefined).toBe("E608");
  expect(await metricsOf(app)).toMatch(/mlsdm_token_quota_exceeded_total\{window="day"\} [1-9]/);
}

describe("token quota over memory", () => {
  it("refuses Generate with E608 once the identity's tokens are used up; other identities go on", async () => {
    const OTHER = "other-write-key-for-rate-limit-tests-01";
    const app = await startTestServer({
      ...NO_LAG_GUARD,
      MLSDM_API_KEY: WRITE,
      MLSDM_ADMIN_API_KEY: OTHER,
      MLSDM_TOKEN_QUOTA_PER_DAY: "5",
    });
    try {
      const client = connectClient(EngineService, app.httpPort, "connect");
      expect(await outcome(client.generate({ prompt: "Name three primary colours." }, bearer(WRITE)))).toBe(
        "OK",
      );
      await expectQuotaRefusal(app, WRITE);
      expect(await outcome(client.generate({ prompt: "Name three primary colours." }, bearer(OTHER)))).toBe(
        "OK",
      );
    } finally {
      await app.shutdown("test done");
    }
  });
});
