/**
 * Every invalid input class through both listeners with real clients (and curl-style JSON,
 * where "NaN" and "Infinity" are legal protobuf JSON): INVALID_ARGUMENT with the catalogue
 * reason and a BadRequest field violation, never INTERNAL, and the server keeps serving.
 */
import { fromBinary } from "@bufbuild/protobuf";
import { anyUnpack } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { status as Status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningApp } from "../../src/app.js";
import { BadRequestSchema, ErrorInfoSchema } from "../../src/gen/google/rpc/error_details_pb.js";
import { StatusSchema } from "../../src/gen/google/rpc/status_pb.js";
import { EngineService } from "../../src/gen/mlsdm/v1/engine_pb.js";
import { connectClient, connectErrorInfo, grpcClient, grpcErrorInfo, grpcUnary } from "./support/clients.js";
import { startTestServer } from "./support/server.js";

const ok = (): number[] => Array.from({ length: 384 }, (_, i) => Math.sin(i + 1));
const CASES: [string, object, string, string][] = [
  ["wrong dimension", { vector: ok().slice(1), moralValue: 0.5 }, "INVALID_VECTOR_DIMENSION", "vector"],
  ["empty vector", { vector: [], moralValue: 0.5 }, "INVALID_VECTOR_DIMENSION", "vector"],
  [
    "NaN",
    { vector: ok().map((x, i) => (i === 7 ? Number.NaN : x)), moralValue: 0.5 },
    "NON_FINITE_VALUE",
    "vector[7]",
  ],
  [
    "Infinity",
    { vector: ok().map((x, i) => (i === 0 ? Infinity : x)), moralValue: 0.5 },
    "NON_FINITE_VALUE",
    "vector[0]",
  ],
  [
    "all-zero vector",
    { vector: new Array<number>(384).fill(0), moralValue: 0.5 },
    "VALIDATION_FAILED",
    "vector",
  ],
  ["moral above 1", { vector: ok(), moralValue: 1.5 }, "VALUE_OUT_OF_RANGE", "moral_value"],
  ["moral below 0", { vector: ok(), moralValue: -0.5 }, "VALUE_OUT_OF_RANGE", "moral_value"],
];

describe("invalid ProcessEvent input on both listeners", () => {
  let app: RunningApp;
  beforeAll(async () => {
    app = await startTestServer();
  });
  afterAll(async () => {
    await app.shutdown("test done");
  });

  async function stillServes(): Promise<void> {
    const client = connectClient(EngineService, app.httpPort, "connect");
    const result = await client.processEvent({ vector: ok(), moralValue: 0.95 });
    expect(result.state?.step).toBeGreaterThan(0n);
  }

  it.each(CASES)("grpc-js listener: %s → INVALID_ARGUMENT %s", async (_name, request, reason, field) => {
    const client = grpcClient(EngineService, app.grpcPort);
    const { error } = await grpcUnary(client, "processEvent", request);
    client.close();
    expect(error?.code).toBe(Status.INVALID_ARGUMENT);
    expect(grpcErrorInfo(error!)?.reason).toBe(reason);
    const [bin] = error!.metadata.get("grpc-status-details-bin");
    const details = fromBinary(StatusSchema, bin as Buffer).details;
    const badRequest = details.map((d) => anyUnpack(d, BadRequestSchema)).find(Boolean);
    expect(badRequest?.fieldViolations.map((v) => v.field)).toContain(field);
    await stillServes();
  });

  for (const protocol of ["connect", "grpc-web", "grpc"] as const) {
    it.each(CASES)(
      `HTTP listener over ${protocol}: %s → INVALID_ARGUMENT %s`,
      async (_name, request, reason, field) => {
        const error = await connectClient(EngineService, app.httpPort, protocol)
          .processEvent(request)
          .catch((e: unknown) => ConnectError.from(e));
        expect(error).toBeInstanceOf(ConnectError);
        expect((error as ConnectError).code).toBe(Code.InvalidArgument);
        expect(connectErrorInfo(error)?.reason).toBe(reason);
        const badRequest = (error as ConnectError).findDetails(BadRequestSchema)[0];
        expect(badRequest?.fieldViolations.map((v) => v.field)).toContain(field);
        await stillServes();
      },
    );
  }

  it.each([
    ['"NaN"', "NON_FINITE_VALUE"],
    ['"Infinity"', "NON_FINITE_VALUE"],
    ['"-Infinity"', "NON_FINITE_VALUE"],
  ])("curl JSON with %s in the vector → 400 invalid_argument %s", async (literal, reason) => {
    const vector = ok().map(String);
    vector[3] = literal;
    const response = await fetch(`http://127.0.0.1:${app.httpPort}/mlsdm.v1.EngineService/ProcessEvent`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: `{"vector":[${vector.join(",")}],"moralValue":0.5}`,
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { code: string; details: { type: string; value: string }[] };
    expect(body.code).toBe("invalid_argument");
    const info = body.details.find((d) => d.type === "google.rpc.ErrorInfo");
    expect(fromBinary(ErrorInfoSchema, Buffer.from(info?.value ?? "", "base64")).reason).toBe(reason);
    await stillServes();
  });
});
