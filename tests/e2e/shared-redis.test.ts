/**
 * End to end through a shared Redis: two replicas behind one Redis share an identity's rate-limit
 * bucket, whichever listener the calls arrive on. In GitHub CI the Redis is the service container
 * of ci.yml's test job (MLSDM_TEST_REDIS_URL); elsewhere this starts a local redis-server. A random
 * key prefix keeps runs that share a Redis apart.
 */
import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EngineService, GetStateRequestSchema } from "../../src/gen/mlsdm/v1/engine_pb.js";
import { TestRedis } from "../support/redis-server.js";
import {
  connectClient,
  connectErrorInfo,
  grpcClient,
  grpcErrorInfo,
  grpcUnary,
} from "../integration/support/clients.js";
import { startTestServer } from "../integration/support/server.js";

const KEY = "write-key-for-the-shared-redis-e2e-0123456";
const bearer = { headers: { authorization: `Bearer ${KEY}` } };

describe("replicas sharing one Redis", () => {
  let local: TestRedis | undefined;
  let url: string;
  beforeAll(async () => {
    const external = process.env.MLSDM_TEST_REDIS_URL;
    if (external) url = external;
    else {
      local = await TestRedis.start();
      url = local.url;
    }
  });
  afterAll(async () => {
    await local?.close();
  });

  it("share one bucket per identity across replicas and listeners", async () => {
    const env = {
      MLSDM_MAX_EVENT_LOOP_LAG_MS: "0",
      MLSDM_API_KEY: KEY,
      MLSDM_RATE_LIMIT_BACKEND: "redis",
      MLSDM_REDIS_URL: url,
      MLSDM_REDIS_KEY_PREFIX: `e2e-${randomUUID()}:`,
    };
    const a = await startTestServer(env);
    const b = await startTestServer(env);
    try {
      const metrics = await (await fetch(`http://127.0.0.1:${a.httpPort}/metrics`)).text();
      expect(metrics).toMatch(/^mlsdm_redis_up 1$/m);
      const ca = connectClient(EngineService, a.httpPort, "connect");
      const gb = grpcClient(EngineService, b.grpcPort);
      const metadata = new grpc.Metadata();
      metadata.set("authorization", `Bearer ${KEY}`);
      const outcomes = await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          i % 2 === 0
            ? ca.getState({}, bearer).then(
                () => "OK",
                (error: unknown) => connectErrorInfo(error)?.metadata.code ?? "missing",
              )
            : grpcUnary(gb, "getState", create(GetStateRequestSchema), { metadata }).then(({ error }) =>
                error ? (grpcErrorInfo(error)?.metadata.code ?? "missing") : "OK",
              ),
        ),
      );
      gb.close();
      // One shared bucket (burst 10) lets about 10 through; two per-replica buckets would pass 20.
      const accepted = outcomes.filter((o) => o === "OK").length;
      expect(accepted, outcomes.join(",")).toBeGreaterThanOrEqual(10);
      expect(accepted, outcomes.join(",")).toBeLessThanOrEqual(15);
      expect(
        outcomes.filter((o) => o !== "OK").every((o) => o === "E602"),
        outcomes.join(","),
      ).toBe(true);
    } finally {
      await a.shutdown("test done");
      await b.shutdown("test done");
    }
  });
});
