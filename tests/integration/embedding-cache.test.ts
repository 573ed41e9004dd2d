/**
 * The embedding cache in the running server: a repeated Generate prompt is answered from the
 * cache on both listeners and the mlsdm_embedding_cache_* metrics count it; backend `off`
 * registers no cache.
 */
import { create } from "@bufbuild/protobuf";
import { afterEach, describe, expect, it } from "vitest";
import type { RunningApp } from "../../src/app.js";
import { EngineService, GenerateRequestSchema } from "../../src/gen/mlsdm/v1/engine_pb.js";
import { connectClient, grpcClient, grpcUnary } from "./support/clients.js";
import { startTestServer } from "./support/server.js";

const ENV = { MLSDM_RATE_LIMIT_RPS: "0", MLSDM_RHYTHM_WAKE_DURATION: "1000" };
let app: RunningApp | undefined;

afterEach(async () => {
  await app?.shutdown("test done");
  app = undefined;
});

async function metric(name: string): Promise<number | undefined> {
  const text = await (await fetch(`http://127.0.0.1:${app?.httpPort ?? 0}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.split(" ")[1]);
}

describe("embedding cache in the server", () => {
  it("answers a repeated prompt from the cache on both listeners", async () => {
    app = await startTestServer(ENV);
    const request = create(GenerateRequestSchema, { prompt: "Summarise the water cycle.", contextTopK: 3 });
    const grpc = grpcClient(EngineService, app.grpcPort);
    const first = await grpcUnary(grpc, "generate", request);
    expect(first.error).toBeUndefined();
    grpc.close();
    const connect = connectClient(EngineService, app.httpPort, "connect");
    await connect.generate({ prompt: "  Summarise the   water cycle. ", contextTopK: 3 });
    expect(await metric("mlsdm_embedding_cache_misses_total")).toBeGreaterThanOrEqual(1);
    expect(await metric("mlsdm_embedding_cache_hits_total")).toBeGreaterThanOrEqual(1);
    expect(await metric("mlsdm_embedding_cache_size")).toBeGreaterThanOrEqual(1);
  });

  it("registers no cache with the backend off", async () => {
    app = await startTestServer({ ...ENV, MLSDM_EMBEDDING_CACHE_BACKEND: "off" });
    const connect = connectClient(EngineService, app.httpPort, "connect");
    await connect.generate({ prompt: "Summarise the water cycle." });
    expect(await metric("mlsdm_embedding_cache_hits_total")).toBeUndefined();
  });
});
