/**
 * grpc.health.v1.Health on both listeners, with every kind of client: Check on every name,
 * List, unknown names, Watch pushes, and the plain HTTP probes.
 */
import { Code } from "@connectrpc/connect";
import { status as Status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningApp } from "../../src/app.js";
import {
  Health,
  HealthCheckResponse_ServingStatus as ServingStatus,
} from "../../src/gen/grpc/health/v1/health_pb.js";
import {
  connectClient,
  connectErrorInfo,
  grpcClient,
  grpcErrorInfo,
  grpcUnary,
  type ConnectProtocol,
} from "./support/clients.js";
import { startTestServer } from "./support/server.js";

const NAMES = ["", "mlsdm.v1.EngineService", "mlsdm.v1.AdminService"];
const PROTOCOLS: ConnectProtocol[] = ["connect", "grpc-web", "grpc"];

describe("health", () => {
  let app: RunningApp;
  beforeAll(async () => {
    app = await startTestServer();
  });
  afterAll(async () => {
    await app.shutdown("test done");
  });

  it.each(NAMES)("grpc-js listener: Check(%j) is SERVING", async (service) => {
    const client = grpcClient(Health, app.grpcPort);
    const { response, error } = await grpcUnary(client, "check", { service });
    client.close();
    expect(error).toBeUndefined();
    expect(response).toMatchObject({ status: ServingStatus.SERVING });
  });

  for (const protocol of PROTOCOLS) {
    it.each(NAMES)(`HTTP listener over ${protocol}: Check(%j) is SERVING`, async (service) => {
      const client = connectClient(Health, app.httpPort, protocol);
      const response = await client.check({ service });
      expect(response.status).toBe(ServingStatus.SERVING);
    });

    it(`HTTP listener over ${protocol}: unknown name is NOT_FOUND with ErrorInfo`, async () => {
      const client = connectClient(Health, app.httpPort, protocol);
      const error = await client.check({ service: "no.such.Service" }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toMatchObject({ code: Code.NotFound });
      expect(connectErrorInfo(error)).toMatchObject({ reason: "SERVICE_UNKNOWN", domain: "mlsdm.dev" });
    });
  }

  it("grpc-js listener: unknown name is NOT_FOUND with ErrorInfo in grpc-status-details-bin", async () => {
    const client = grpcClient(Health, app.grpcPort);
    const { error } = await grpcUnary(client, "check", { service: "no.such.Service" });
    client.close();
    expect(error?.code).toBe(Status.NOT_FOUND);
    expect(grpcErrorInfo(error!)).toMatchObject({ reason: "SERVICE_UNKNOWN", domain: "mlsdm.dev" });
  });

  it("List reports every known name on both listeners", async () => {
    const client = grpcClient(Health, app.grpcPort);
    const { response } = await grpcUnary(client, "list", {});
    client.close();
    const fromGrpc = (response as { statuses: Record<string, { status: number }> }).statuses;
    const fromConnect = (await connectClient(Health, app.httpPort, "connect").list({})).statuses;
    for (const statuses of [fromGrpc, fromConnect]) {
      expect(Object.keys(statuses).sort()).toEqual([...NAMES].sort());
      for (const name of NAMES) expect(statuses[name]?.status).toBe(ServingStatus.SERVING);
    }
  });

  it("Watch of an unknown name sends SERVICE_UNKNOWN and keeps the stream open", async () => {
    const abort = new AbortController();
    const stream = connectClient(Health, app.httpPort, "connect").watch(
      { service: "later.Service" },
      { signal: abort.signal },
    );
    const iterator: AsyncIterator<{ status: ServingStatus }> = stream[Symbol.asyncIterator]();
    const next = async (): Promise<ServingStatus> => {
      const result = await iterator.next();
      if (result.done) throw new Error("the Watch stream ended");
      return result.value.status;
    };
    expect(await next()).toBe(ServingStatus.SERVICE_UNKNOWN);
    app.health.set("later.Service", ServingStatus.SERVING);
    expect(await next()).toBe(ServingStatus.SERVING);
    abort.abort();
  });

  it("GET /healthz and /readyz answer 200 SERVING", async () => {
    for (const path of ["/healthz", "/readyz"]) {
      const response = await fetch(`http://127.0.0.1:${app.httpPort}${path}`);
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ status: "SERVING" });
    }
  });
});

describe("health during drain", () => {
  it("Watch receives a NOT_SERVING push on both listeners when drain starts, and /readyz turns 503", async () => {
    const app = await startTestServer({ MLSDM_SHUTDOWN_DELAY_MS: "300" });
    const seenConnect: ServingStatus[] = [];
    const connectDone = (async () => {
      for await (const message of connectClient(Health, app.httpPort, "grpc").watch({ service: "" })) {
        seenConnect.push(message.status);
      }
    })();
    const client = grpcClient(Health, app.grpcPort);
    const seenGrpc: ServingStatus[] = [];
    const call = (client.watch as (req: unknown) => NodeJS.ReadableStream)({
      service: "mlsdm.v1.EngineService",
    });
    call.on("data", (message: { status: ServingStatus }) => seenGrpc.push(message.status));
    const grpcDone = new Promise((resolve) => call.on("status", resolve));
    await expect.poll(() => seenConnect.length + seenGrpc.length).toBe(2);
    const stopping = app.shutdown("test drain");
    await expect.poll(() => seenConnect.at(-1)).toBe(ServingStatus.NOT_SERVING);
    await expect.poll(() => seenGrpc.at(-1)).toBe(ServingStatus.NOT_SERVING);
    const ready = await fetch(`http://127.0.0.1:${app.httpPort}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ status: "NOT_SERVING" });
    await stopping;
    await Promise.all([connectDone.catch(() => undefined), grpcDone]);
    client.close();
    expect(seenConnect).toEqual([ServingStatus.SERVING, ServingStatus.NOT_SERVING]);
    expect(seenGrpc).toEqual([ServingStatus.SERVING, ServingStatus.NOT_SERVING]);
  });
});
