/**
 * Chaos (issue 7): Redis stopped while rate limiting and token quotas use it, on two real servers
 * sharing one real redis-server. The process never crashes, liveness never fails, every refused
 * call carries a catalogue code (E602 / E608, never INTERNAL), limits go on locally with a metric
 * and one warning, and once Redis is back the limits are shared again (with one info line).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { RunningApp } from "../../src/app.js";
import {
  EngineService,
  GenerateRequestSchema,
  GetStateRequestSchema,
} from "../../src/gen/mlsdm/v1/engine_pb.js";
import { ServingStatus } from "../../src/rpc/health/health-registry.js";
import { Health } from "../../src/rpc/health/health-service.js";
import { logger } from "../../src/telemetry/logger.js";
import {
  connectClient,
  connectErrorInfo,
  grpcClient,
  grpcErrorInfo,
  grpcUnary,
} from "../integration/support/clients.js";
import { startTestServer } from "../integration/support/server.js";
import { TestRedis } from "../support/redis-server.js";

const KEYS = [
  "chaos-write-key-0123456789abcdef",
  "chaos-read-key-0123456789abcdefg",
  "chaos-admin-key-0123456789abcdef",
];
const [WRITE = "", READ = "", ADMIN = ""] = KEYS;
const ALLOWED = new Set(["OK", "E602", "E608"]);
/** Keys used only by the bursts, so their buckets start full. */
const FRESH = ["chaos-fresh-key-one-0123456789ab", "chaos-fresh-key-two-0123456789ab"];
const [FRESH_1 = "", FRESH_2 = ""] = FRESH;
let keysDir = "";

function meta(key: string): grpc.Metadata {
  const metadata = new grpc.Metadata();
  metadata.set("authorization", `Bearer ${key}`);
  return metadata;
}

async function connectOutcome(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return "OK";
  } catch (error) {
    expect(ConnectError.from(error).code, String(error)).not.toBe(Code.Internal);
    return connectErrorInfo(error)?.metadata.code ?? "missing";
  }
}

async function grpcOutcome(call: Promise<{ error?: grpc.ServiceError }>): Promise<string> {
  const { error } = await call;
  if (!error) return "OK";
  expect(error.code, error.message).not.toBe(grpc.status.INTERNAL);
  return grpcErrorInfo(error)?.metadata.code ?? "missing";
}

async function metric(app: RunningApp, pattern: RegExp): Promise<number | undefined> {
  const text = await (await fetch(`http://127.0.0.1:${app.httpPort}/metrics`)).text();
  const match = pattern.exec(text);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not reached in time");
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Liveness and health on both listeners: the process is up and SERVING. */
async function expectLive(app: RunningApp): Promise<void> {
  expect((await fetch(`http://127.0.0.1:${app.httpPort}/healthz`)).status).toBe(200);
  const health = await connectClient(Health, app.httpPort, "connect").check({ service: "" });
  expect(health.status).toBe(ServingStatus.SERVING);
}

let redis: TestRedis;
let a: RunningApp;
let b: RunningApp;
const warnings: unknown[][] = [];
const infos: unknown[][] = [];

beforeAll(async () => {
  redis = await TestRedis.start();
  keysDir = mkdtempSync(path.join(tmpdir(), "mlsdm-chaos-keys-"));
  const keysFile = path.join(keysDir, "keys.json");
  writeFileSync(
    keysFile,
    JSON.stringify({
      keys: FRESH.map((secret, i) => ({ id: `fresh-${i}`, owner: "chaos", roles: ["read"], secret })),
    }),
  );
  vi.spyOn(logger, "warn").mockImplementation((...args: unknown[]) => {
    warnings.push(args);
    return logger;
  });
  vi.spyOn(logger, "info").mockImplementation((...args: unknown[]) => {
    infos.push(args);
    return logger;
  });
  const env = {
    MLSDM_API_KEY: WRITE,
    MLSDM_READ_API_KEY: READ,
    MLSDM_ADMIN_API_KEY: ADMIN,
    MLSDM_API_KEYS_FILE: keysFile,
    MLSDM_RATE_LIMIT_BACKEND: "redis",
    MLSDM_REDIS_URL: redis.url,
    MLSDM_REDIS_KEY_PREFIX: "chaos:",
    MLSDM_REDIS_COMMAND_TIMEOUT_MS: "200",
    MLSDM_TOKEN_QUOTA_PER_DAY: "100000000",
    MLSDM_MAX_EVENT_LOOP_LAG_MS: "0", // shared 2-core machine: the lag guard is not under test
  };
  a = await startTestServer(env);
  b = await startTestServer(env);
});
afterAll(async () => {
  vi.restoreAllMocks();
  await Promise.all([a.shutdown("test done"), b.shutdown("test done")]);
  await redis.close();
  rmSync(keysDir, { recursive: true, force: true });
});

/** One round of mixed traffic on both servers and both listeners: the outcomes. */
async function round(i: number): Promise<string[]> {
  const ga = grpcClient(EngineService, a.grpcPort);
  const gb = grpcClient(EngineService, b.grpcPort);
  try {
    return await Promise.all(
      KEYS.flatMap((key, k) => [
        connectOutcome(
          connectClient(EngineService, a.httpPort, "connect").getState(
            {},
            { headers: { authorization: `Bearer ${key}` } },
          ),
        ),
        grpcOutcome(grpcUnary(gb, "getState", create(GetStateRequestSchema), { metadata: meta(key) })),
        ...(key === READ
          ? []
          : [
              grpcOutcome(
                grpcUnary(
                  ga,
                  "generate",
                  create(GenerateRequestSchema, { prompt: `Name a colour, round ${i}.${k}` }),
                  {
                    metadata: meta(key),
                  },
                ),
              ),
              connectOutcome(
                connectClient(EngineService, b.httpPort, "grpc-web").generate(
                  { prompt: `Name a fruit, round ${i}.${k}` },
                  { headers: { authorization: `Bearer ${key}` } },
                ),
              ),
            ]),
      ]),
    );
  } finally {
    ga.close();
    gb.close();
  }
}

/** 30 concurrent GetState calls from one key, half on each server: how many were accepted. */
async function burst(key: string): Promise<number> {
  const gb = grpcClient(EngineService, b.grpcPort);
  const ca = connectClient(EngineService, a.httpPort, "connect");
  const outcomes = await Promise.all(
    Array.from({ length: 30 }, (_, i) =>
      i % 2 === 0
        ? connectOutcome(ca.getState({}, { headers: { authorization: `Bearer ${key}` } }))
        : grpcOutcome(grpcUnary(gb, "getState", create(GetStateRequestSchema), { metadata: meta(key) })),
    ),
  );
  gb.close();
  expect(outcomes.filter((o) => o !== "OK" && o !== "E602")).toEqual([]);
  return outcomes.filter((o) => o === "OK").length;
}

describe("chaos: Redis stopped under rate limiting", () => {
  it("answers every call (locally limited) while Redis is down, and shares limits again when it is back", async () => {
    const bothUp = async () =>
      (await metric(a, /^mlsdm_redis_up (\d)$/m)) === 1 && (await metric(b, /^mlsdm_redis_up (\d)$/m)) === 1;
    await until(bothUp, 10_000);
    const before = await round(0);
    expect(before.filter((o) => !ALLOWED.has(o))).toEqual([]);

    await until(bothUp, 10_000);
    const warningsBefore = warnings.length;
    // Redis goes away in the middle of traffic.
    const traffic = Promise.all([round(1), redis.stop().then(() => round(2)), round(3)]);
    const during = (await traffic).flat();
    expect(during.filter((o) => !ALLOWED.has(o))).toEqual([]);
    expect(during).toContain("OK");
    const outage = (await Promise.all([round(4), round(5)])).flat();
    expect(outage.filter((o) => !ALLOWED.has(o))).toEqual([]);
    expect(outage.filter((o) => o === "OK").length).toBeGreaterThan(0);
    await expectLive(a);
    await expectLive(b);

    for (const app of [a, b]) {
      expect(await metric(app, /^mlsdm_redis_up (\d)$/m)).toBe(0);
      expect(await metric(app, /^mlsdm_rate_limit_fallback_total\{limiter="rate"\} (\d+)$/m)).toBeGreaterThan(
        0,
      );
      expect(
        await metric(app, /^mlsdm_rate_limit_fallback_total\{limiter="quota"\} (\d+)$/m),
      ).toBeGreaterThan(0);
    }
    const fallbackWarnings = warnings
      .slice(warningsBefore)
      .filter(([, fields]) => (fields as { event?: string }).event === "rate_limit_fallback");
    expect(
      fallbackWarnings,
      JSON.stringify([warnings, infos.filter(([m]) => String(m).includes("Redis"))]),
    ).toHaveLength(2); // one per server, not one per call

    // Still limited while Redis is down, per replica: one shared bucket would give ~10, two give ~20.
    const local = await burst(FRESH_1);
    expect(local).toBeGreaterThanOrEqual(18);
    expect(local).toBeLessThanOrEqual(30 - 2);

    // Redis comes back (empty): both servers reconnect and share one bucket again.
    await redis.start();
    await until(bothUp, 10_000);
    const shared = infos.filter(([, fields]) => (fields as { event?: string }).event === "rate_limit_shared");
    expect(shared.map(([message]) => message)).toContain("Redis reachable again: limits are shared");
    const again = await burst(FRESH_2);
    expect(again).toBeGreaterThanOrEqual(10);
    expect(again).toBeLessThanOrEqual(15);
    await expectLive(a);
    await expectLive(b);
  });
});
