/**
 * The HTTP listener with plain HTTP clients (what curl sends): JSON calls, and bad input
 * answered with the right Connect error, never a crash.
 */
import http2 from "node:http2";
import { fromBinary } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningApp } from "../../src/app.js";
import { ErrorInfoSchema } from "../../src/gen/google/rpc/error_details_pb.js";
import { startTestServer } from "./support/server.js";

describe("HTTP listener with plain HTTP", () => {
  let app: RunningApp;
  let base: string;
  beforeAll(async () => {
    app = await startTestServer();
    base = `http://127.0.0.1:${app.httpPort}`;
  });
  afterAll(async () => {
    await app.shutdown("test done");
  });

  async function post(path: string, body: string, contentType = "application/json") {
    const response = await fetch(`${base}${path}`, {
      method: "POST",
      headers: { "content-type": contentType },
      body,
    });
    const text = await response.text();
    return { status: response.status, text, json: () => JSON.parse(text) as Record<string, unknown> };
  }

  async function stillServing(): Promise<void> {
    const { status, text } = await post("/grpc.health.v1.Health/Check", "{}");
    expect(status).toBe(200);
    expect(text).toBe('{"status":"SERVING"}');
  }

  it('POST /grpc.health.v1.Health/Check with {} prints {"status":"SERVING"} (the README curl)', async () => {
    await stillServing();
  });

  it("answers over HTTP/2 cleartext (h2c) on the same port", async () => {
    const session = http2.connect(base);
    const request = session.request({
      ":method": "POST",
      ":path": "/grpc.health.v1.Health/Check",
      "content-type": "application/json",
    });
    request.end("{}");
    let body = "";
    request.setEncoding("utf8");
    request.on("data", (chunk: string) => (body += chunk));
    await new Promise((resolve) => request.on("end", resolve));
    session.close();
    expect(body).toBe('{"status":"SERVING"}');
  });

  it("bad JSON → 400 invalid_argument, server keeps serving", async () => {
    const { status, json } = await post("/grpc.health.v1.Health/Check", "{not json");
    expect(status).toBe(400);
    expect(json()).toMatchObject({ code: "invalid_argument" });
    await stillServing();
  });

  it("a JSON field of the wrong type → 400 invalid_argument", async () => {
    const { status, json } = await post("/grpc.health.v1.Health/Check", '{"service": 42}');
    expect(status).toBe(400);
    expect(json()).toMatchObject({ code: "invalid_argument" });
    await stillServing();
  });

  it("wrong content-type → 415 Unsupported Media Type, server keeps serving", async () => {
    const { status } = await post("/grpc.health.v1.Health/Check", "{}", "text/plain");
    expect(status).toBe(415);
    await stillServing();
  });

  it("unknown method → Connect error unimplemented with ErrorInfo METHOD_NOT_FOUND", async () => {
    const { status, json } = await post("/mlsdm.v1.EngineService/NoSuchMethod", "{}");
    expect(status).toBe(501);
    const body = json() as { code: string; details?: { type: string; value: string }[] };
    expect(body.code).toBe("unimplemented");
    const detail = body.details?.find((d) => d.type === "google.rpc.ErrorInfo");
    expect(detail).toBeDefined();
    const info = fromBinary(ErrorInfoSchema, Buffer.from(detail!.value, "base64"));
    expect(info).toMatchObject({ reason: "METHOD_NOT_FOUND", domain: "mlsdm.dev" });
    await stillServing();
  });

  it("unknown method over gRPC-Web → grpc-status 12 in headers", async () => {
    const response = await fetch(`${base}/mlsdm.v1.EngineService/NoSuchMethod`, {
      method: "POST",
      headers: { "content-type": "application/grpc-web+proto" },
      body: new Uint8Array([0, 0, 0, 0, 0]),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("grpc-status")).toBe("12");
    expect(response.headers.get("grpc-status-details-bin")).toBeTruthy();
  });

  it("an oversized body → 400 invalid_argument E107 REQUEST_TOO_LARGE, server keeps serving", async () => {
    const big = JSON.stringify({ service: "x".repeat(2 * 1024 * 1024) });
    const { status, json } = await post("/grpc.health.v1.Health/Check", big);
    expect(status).toBe(400);
    const body = json() as { code: string; details: { type: string; value: string }[] };
    expect(body.code).toBe("invalid_argument");
    const detail = body.details.find((d) => d.type === "google.rpc.ErrorInfo");
    expect(fromBinary(ErrorInfoSchema, Buffer.from(detail?.value ?? "", "base64")).reason).toBe(
      "REQUEST_TOO_LARGE",
    );
    await stillServing();
  });

  it("GET of an unknown path → 501 JSON error, never a crash", async () => {
    const response = await fetch(`${base}/nothing/here`);
    expect(response.status).toBe(501);
    expect(await response.json()).toMatchObject({ code: "unimplemented" });
  });
});
