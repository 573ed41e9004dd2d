/**
 * The NOT_IMPLEMENTED placeholder (src/rpc/not-implemented.ts): an RPC without an implementation
 * answers UNIMPLEMENTED with the catalogue's ErrorInfo, identically on both listeners and over
 * every protocol. Every RPC of the contract is implemented now, so the placeholder is mounted
 * as an override here and probed with the API key RPCs; the default server must not answer
 * UNIMPLEMENTED for any of them.
 */
import type { DescMethod } from "@bufbuild/protobuf";
import { Code, type Client } from "@connectrpc/connect";
import { status as Status, type ServiceError } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningApp } from "../../src/app.js";
import { AdminService } from "../../src/gen/mlsdm/v1/admin_pb.js";
import { EngineService } from "../../src/gen/mlsdm/v1/engine_pb.js";
import { Role } from "../../src/gen/mlsdm/v1/options_pb.js";
import { notImplementedService } from "../../src/rpc/not-implemented.js";
import {
  connectClient,
  connectErrorInfo,
  grpcClient,
  grpcErrorInfo,
  grpcUnary,
  type ConnectProtocol,
} from "./support/clients.js";
import { startTestServer } from "./support/server.js";

/** RPCs probed through the placeholder, each with a request that passes validation. */
const PENDING: Record<string, object> = {
  CreateApiKey: { owner: "ops", roles: [Role.READ] },
  ListApiKeys: {},
  RotateApiKey: { keyId: "key-1" },
  RevokeApiKey: { keyId: "key-1", reason: "test" },
};
const METHODS: DescMethod[] = [...EngineService.methods, ...AdminService.methods].filter(
  (m) => m.name in PENDING,
);
const requestFor = (method: DescMethod): object => PENDING[method.name] ?? {};

async function callConnect(method: DescMethod, port: number, protocol: ConnectProtocol): Promise<unknown> {
  const client = connectClient(method.parent, port, protocol) as unknown as Client<typeof EngineService> &
    Record<string, (req: object) => unknown>;
  const call = client[method.localName];
  if (!call) throw new Error(`no client method ${method.localName}`);
  try {
    if (method.methodKind === "server_streaming") {
      for await (const _ of call.call(client, requestFor(method)) as AsyncIterable<unknown>) {
        // a message would be fake data: fail below
        return "received a message";
      }
      return "stream ended without error";
    }
    await call.call(client, requestFor(method));
    return "call succeeded";
  } catch (error) {
    return error;
  }
}

describe("the NOT_IMPLEMENTED placeholder", () => {
  it("probes RPCs of the contract", () => {
    expect(METHODS.map((m) => m.name).sort()).toEqual(Object.keys(PENDING).sort());
  });

  it("is no longer what the default server answers for them", async () => {
    const server = await startTestServer();
    try {
      for (const method of METHODS) {
        const outcome = await callConnect(method, server.httpPort, "connect");
        expect([method.name, (outcome as { code?: Code }).code]).not.toEqual([
          method.name,
          Code.Unimplemented,
        ]);
      }
    } finally {
      await server.shutdown("test done");
    }
  });

  let app: RunningApp;
  beforeAll(async () => {
    app = await startTestServer({}, { admin: notImplementedService(AdminService) });
  });
  afterAll(async () => {
    await app.shutdown("test done");
  });

  it("the contract has the RPCs the foundation promises", () => {
    expect(EngineService.methods.map((m) => m.name)).toEqual(
      expect.arrayContaining(["Generate", "GenerateStream", "ProcessEvent", "RetrieveContext", "GetState"]),
    );
    expect(AdminService.methods.map((m) => m.name)).toEqual(
      expect.arrayContaining([
        "GetStatus",
        "TriggerEmergencyShutdown",
        "ResetEmergency",
        "SetMoralThreshold",
        "CreateSnapshot",
        "RestoreSnapshot",
        "CreateApiKey",
        "ListApiKeys",
        "RotateApiKey",
        "RevokeApiKey",
      ]),
    );
  });

  it.each(METHODS.map((m) => [`${m.parent.name}.${m.name}`, m] as const))(
    "grpc-js listener: %s → UNIMPLEMENTED with ErrorInfo NOT_IMPLEMENTED",
    async (_name, method) => {
      const client = grpcClient(method.parent, app.grpcPort);
      let error: ServiceError | undefined;
      if (method.methodKind === "server_streaming") {
        const stream = (client[method.localName] as (req: unknown) => NodeJS.ReadableStream)(
          requestFor(method),
        );
        error = await new Promise<ServiceError>((resolve) => {
          stream.on("data", () => undefined);
          stream.on("error", resolve);
        });
      } else {
        ({ error } = await grpcUnary(client, method.localName, requestFor(method)));
      }
      client.close();
      expect(error?.code).toBe(Status.UNIMPLEMENTED);
      expect(grpcErrorInfo(error!)).toMatchObject({
        reason: "NOT_IMPLEMENTED",
        domain: "mlsdm.dev",
        metadata: { method: `${method.parent.typeName}/${method.name}` },
      });
    },
  );

  for (const protocol of ["connect", "grpc-web", "grpc"] as const) {
    it.each(METHODS.map((m) => [`${m.parent.name}.${m.name}`, m] as const))(
      `HTTP listener over ${protocol}: %s → UNIMPLEMENTED with ErrorInfo`,
      async (_name, method) => {
        const error = await callConnect(method, app.httpPort, protocol);
        expect(error).toMatchObject({ code: Code.Unimplemented });
        const info = connectErrorInfo(error);
        expect(info?.reason).toBe("NOT_IMPLEMENTED");
        expect(info?.metadata.code).toMatch(/^E\d{3}$/);
      },
    );
  }
});
