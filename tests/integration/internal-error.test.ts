/**
 * An unexpected exception inside a handler becomes INTERNAL with code E700 on both listeners,
 * and nothing of the exception (message, stack, file paths) reaches the client.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { status as Status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningApp } from "../../src/app.js";
import { EngineService } from "../../src/gen/mlsdm/v1/engine_pb.js";
import { notImplementedService } from "../../src/rpc/not-implemented.js";
import { connectClient, connectErrorInfo, grpcClient, grpcErrorInfo, grpcUnary } from "./support/clients.js";
import { startTestServer } from "./support/server.js";

const SECRET = "password=hunter2 at /home/app/src/secret-module.ts:12";

describe("unexpected exceptions", () => {
  let app: RunningApp;
  beforeAll(async () => {
    const engine = {
      ...notImplementedService(EngineService),
      getState(): never {
        throw new Error(SECRET);
      },
    };
    app = await startTestServer({}, { engine });
  });
  afterAll(async () => {
    await app.shutdown("test done");
  });

  it("grpc-js listener: INTERNAL, ErrorInfo INTERNAL/E700, no trace of the exception", async () => {
    const client = grpcClient(EngineService, app.grpcPort);
    const { error } = await grpcUnary(client, "getState", {});
    client.close();
    expect(error?.code).toBe(Status.INTERNAL);
    expect(grpcErrorInfo(error!)).toMatchObject({ reason: "INTERNAL", metadata: { code: "E700" } });
    const wire = JSON.stringify({ details: error?.details, metadata: error?.metadata.toJSON() });
    expect(wire).not.toContain("hunter2");
    expect(wire).not.toContain("secret-module");
  });

  it.each(["connect", "grpc-web", "grpc"] as const)(
    "HTTP listener over %s: INTERNAL with E700, no trace of the exception",
    async (protocol) => {
      const error = await connectClient(EngineService, app.httpPort, protocol)
        .getState({})
        .catch((e: unknown) => ConnectError.from(e));
      expect(error).toBeInstanceOf(ConnectError);
      const connectError = error as ConnectError;
      expect(connectError.code).toBe(Code.Internal);
      expect(connectErrorInfo(connectError)?.metadata.code).toBe("E700");
      expect(connectError.rawMessage).not.toContain("hunter2");
      expect(JSON.stringify(connectError.details)).not.toContain("secret-module");
    },
  );
});
