/**
 * `buf curl` against the grpc-js listener, by server reflection alone (no .proto files).
 */
import { fromBinary } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningApp } from "../../src/app.js";
import { ErrorInfoSchema } from "../../src/gen/google/rpc/error_details_pb.js";
import { bufCurl } from "./support/clients.js";
import { startTestServer } from "./support/server.js";

describe("server reflection and buf curl", () => {
  let app: RunningApp;
  beforeAll(async () => {
    app = await startTestServer();
  });
  afterAll(async () => {
    await app.shutdown("test done");
  });

  it("lists the three services", async () => {
    const { stdout, code, stderr } = await bufCurl([
      "--protocol",
      "grpc",
      "--http2-prior-knowledge",
      "--list-services",
      `http://127.0.0.1:${app.grpcPort}`,
    ]);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const services = stdout.trim().split("\n").sort();
    expect(services).toEqual(
      expect.arrayContaining(["grpc.health.v1.Health", "mlsdm.v1.AdminService", "mlsdm.v1.EngineService"]),
    );
  });

  it("lists the methods of EngineService", async () => {
    const { stdout, code } = await bufCurl([
      "--protocol",
      "grpc",
      "--http2-prior-knowledge",
      "--list-methods",
      `http://127.0.0.1:${app.grpcPort}`,
    ]);
    expect(code).toBe(0);
    expect(stdout).toContain("mlsdm.v1.EngineService/ProcessEvent");
    expect(stdout).toContain("mlsdm.v1.EngineService/GenerateStream");
  });

  it("calls Health/Check by reflection and prints SERVING", async () => {
    const { stdout, code } = await bufCurl([
      "--protocol",
      "grpc",
      "--http2-prior-knowledge",
      "-d",
      '{"service":"mlsdm.v1.EngineService"}',
      `http://127.0.0.1:${app.grpcPort}/grpc.health.v1.Health/Check`,
    ]);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({ status: "SERVING" });
  });

  it("reports a failed RPC with its ErrorInfo", async () => {
    const { stderr, code } = await bufCurl([
      "--protocol",
      "grpc",
      "--http2-prior-knowledge",
      "-d",
      '{"keyId": "key_000000000000", "reason": "probe"}',
      `http://127.0.0.1:${app.grpcPort}/mlsdm.v1.AdminService/RevokeApiKey`,
    ]);
    expect(code).not.toBe(0);
    const body = JSON.parse(stderr) as { code: string; details: { type: string; value: string }[] };
    expect(body.code).toBe("not_found");
    const detail = body.details.find((d) => d.type === "google.rpc.ErrorInfo");
    const info = fromBinary(ErrorInfoSchema, Buffer.from(detail?.value ?? "", "base64"));
    expect(info).toMatchObject({ reason: "KEY_NOT_FOUND", domain: "mlsdm.dev", metadata: { code: "E404" } });
  });

  it("calls the HTTP listener with the Connect protocol using the schema from reflection", async () => {
    const { stdout, code } = await bufCurl([
      "--schema",
      "proto",
      "-d",
      "{}",
      `http://127.0.0.1:${app.httpPort}/grpc.health.v1.Health/Check`,
    ]);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({ status: "SERVING" });
  });
});
