/**
 * Undecodable requests get INVALID_ARGUMENT with ErrorInfo MALFORMED_REQUEST on both
 * listeners and every protocol — never INTERNAL, never a crash.
 */
import { fromBinary } from "@bufbuild/protobuf";
import { anyUnpack } from "@bufbuild/protobuf/wkt";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningApp } from "../../src/app.js";
import { ErrorInfoSchema } from "../../src/gen/google/rpc/error_details_pb.js";
import { StatusSchema } from "../../src/gen/google/rpc/status_pb.js";
import { grpcErrorInfo } from "./support/clients.js";
import { startTestServer } from "./support/server.js";

/** Bytes that are not a protobuf message: field 1, length-delimited, length 100, no payload. */
const GARBAGE = Buffer.from([0x0a, 0x64, 0x01]);
const CHECK = "/grpc.health.v1.Health/Check";

/** A raw gRPC unary call (bytes in, bytes out) with grpc-js, to either listener. */
function rawGrpcCall(port: number, body: Buffer): Promise<grpc.ServiceError | null> {
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      CHECK,
      (bytes: Buffer) => bytes,
      (bytes: Buffer) => bytes,
      body,
      (error) => {
        client.close();
        resolve(error);
      },
    );
  });
}

describe("malformed protobuf bodies", () => {
  let app: RunningApp;
  beforeAll(async () => {
    app = await startTestServer();
  });
  afterAll(async () => {
    await app.shutdown("test done");
  });

  it.each([
    ["grpc-js listener", () => app.grpcPort],
    ["HTTP listener (gRPC over h2c)", () => app.httpPort],
  ])("%s: INVALID_ARGUMENT with MALFORMED_REQUEST, then keeps serving", async (_name, port) => {
    const error = await rawGrpcCall(port(), GARBAGE);
    expect(error?.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(grpcErrorInfo(error!)).toMatchObject({ reason: "MALFORMED_REQUEST", domain: "mlsdm.dev" });
    expect(await rawGrpcCall(port(), Buffer.alloc(0))).toBeNull();
  });

  it.each([
    ["grpc-js listener", () => app.grpcPort],
    ["HTTP listener (gRPC over h2c)", () => app.httpPort],
  ])(
    "%s: a request over server.maxMessageBytes → INVALID_ARGUMENT REQUEST_TOO_LARGE",
    async (_name, port) => {
      // HealthCheckRequest{service: 1.1 MiB string}: field 1, length-delimited.
      const text = Buffer.alloc(1_100_000, 0x61);
      const length: number[] = [];
      for (let n = text.length; ; n >>>= 7) {
        if (n < 0x80) {
          length.push(n);
          break;
        }
        length.push((n & 0x7f) | 0x80);
      }
      const error = await rawGrpcCall(port(), Buffer.concat([Buffer.from([0x0a, ...length]), text]));
      expect(error?.code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(grpcErrorInfo(error!)).toMatchObject({
        reason: "REQUEST_TOO_LARGE",
        metadata: { code: "E107" },
      });
      expect(await rawGrpcCall(port(), Buffer.alloc(0))).toBeNull();
    },
  );

  it("HTTP listener, Connect binary: 400 invalid_argument with MALFORMED_REQUEST, then keeps serving", async () => {
    const url = `http://127.0.0.1:${app.httpPort}${CHECK}`;
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/proto" },
      body: GARBAGE,
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { code: string; details: { type: string; value: string }[] };
    expect(body.code).toBe("invalid_argument");
    const detail = body.details.find((d) => d.type === "google.rpc.ErrorInfo");
    expect(fromBinary(ErrorInfoSchema, Buffer.from(detail?.value ?? "", "base64")).reason).toBe(
      "MALFORMED_REQUEST",
    );
    const ok = await fetch(url, { method: "POST", headers: { "content-type": "application/proto" } });
    expect(ok.status).toBe(200);
  });

  it("HTTP listener, gRPC-Web: trailer grpc-status 3 with MALFORMED_REQUEST", async () => {
    const frame = Buffer.concat([Buffer.from([0, 0, 0, 0, GARBAGE.length]), GARBAGE]);
    const response = await fetch(`http://127.0.0.1:${app.httpPort}${CHECK}`, {
      method: "POST",
      headers: { "content-type": "application/grpc-web+proto" },
      body: frame,
    });
    const text = Buffer.from(await response.arrayBuffer()).toString("latin1");
    expect(/grpc-status:\s*(\d+)/.exec(text)?.[1]).toBe(String(grpc.status.INVALID_ARGUMENT));
    const bin = /grpc-status-details-bin:\s*(\S+)/.exec(text)?.[1] ?? "";
    const status = fromBinary(StatusSchema, Buffer.from(bin, "base64"));
    const info = status.details.map((d) => anyUnpack(d, ErrorInfoSchema)).find(Boolean);
    expect(info?.reason).toBe("MALFORMED_REQUEST");
  });
});
