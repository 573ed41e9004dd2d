/**
 * The Connect listener's response transform (src/transport/connect/malformed-request.ts) on
 * responses built here, for each protocol: connect-node's "parse binary" INTERNAL and readMaxBytes
 * RESOURCE_EXHAUSTED become E106/E107 INVALID_ARGUMENT (status, body, content-length, trailers),
 * and everything else passes unchanged: other errors, unparseable error bodies, data frames,
 * partial frames, bodiless responses. bad-input.test.ts drives the same code with real requests.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import type { UniversalServerResponse } from "@connectrpc/connect/protocol";
import { endStreamFlag, endStreamToJson, errorToJsonBytes } from "@connectrpc/connect/protocol-connect";
import { findTrailerError, setTrailerStatus } from "@connectrpc/connect/protocol-grpc";
import { trailerFlag, trailerParse, trailerSerialize } from "@connectrpc/connect/protocol-grpc-web";
import { describe, expect, it } from "vitest";
import { fixMalformedRequestStatus } from "../../src/transport/connect/malformed-request.js";

const parseError = () => new ConnectError("parse binary: premature EOF", Code.Internal);
const tooLarge = () =>
  new ConnectError("message size 9000 is larger than configured readMaxBytes 4096", Code.ResourceExhausted);

async function* chunks(...parts: Uint8Array[]): AsyncIterable<Uint8Array> {
  await Promise.resolve();
  for (const part of parts) yield part;
}
async function bodyOf(response: UniversalServerResponse): Promise<Buffer> {
  const out: Uint8Array[] = [];
  if (response.body) for await (const chunk of response.body) out.push(chunk);
  return Buffer.concat(out);
}
function frame(flag: number, data: Uint8Array): Uint8Array {
  const out = Buffer.alloc(5 + data.length);
  out[0] = flag;
  out.writeUInt32BE(data.length, 1);
  out.set(data, 5);
  return out;
}
const json = (bytes: Uint8Array) =>
  JSON.parse(Buffer.from(bytes).toString("utf8")) as Record<string, unknown>;

describe("fixMalformedRequestStatus", () => {
  describe("Connect unary (JSON error body)", () => {
    const unary = (error: ConnectError | string, status = 500, extra: Record<string, string> = {}) => {
      const bytes = typeof error === "string" ? new TextEncoder().encode(error) : errorToJsonBytes(error, {});
      return {
        status,
        header: new Headers({ "content-type": "application/json", ...extra }),
        body: chunks(bytes),
      } satisfies UniversalServerResponse;
    };

    it("a parse error becomes 400 invalid_argument E106, with the content-length fixed", async () => {
      const fixed = await fixMalformedRequestStatus(unary(parseError(), 500, { "content-length": "999" }));
      expect(fixed.status).toBe(400);
      const body = await bodyOf(fixed);
      expect(json(body)).toMatchObject({
        code: "invalid_argument",
        message: expect.stringMatching(/protobuf/),
      });
      expect(fixed.header?.get("content-length")).toBe(String(body.byteLength));
    });

    it("a readMaxBytes refusal (429) becomes E107 naming the limit", async () => {
      const fixed = await fixMalformedRequestStatus(unary(tooLarge(), 429));
      expect(fixed.status).toBe(400);
      expect(JSON.stringify(json(await bodyOf(fixed)))).toContain("4096 bytes");
    });

    it("other errors and unparseable bodies pass unchanged", async () => {
      const other = await fixMalformedRequestStatus(unary(new ConnectError("boom", Code.Internal)));
      expect(other.status).toBe(500);
      expect(json(await bodyOf(other))).toMatchObject({ code: "internal", message: "boom" });
      const garbage = await fixMalformedRequestStatus(unary("<html>not json</html>"));
      expect(garbage.status).toBe(500);
      expect((await bodyOf(garbage)).toString("utf8")).toBe("<html>not json</html>");
      // Not an error status: not even read.
      const ok = unary("{}", 200);
      expect(await fixMalformedRequestStatus(ok)).toBe(ok);
    });
  });

  describe("Connect streaming (end-stream frame)", () => {
    const header = () => new Headers({ "content-type": "application/connect+proto" });
    const end = (error: ConnectError) =>
      frame(
        endStreamFlag,
        new TextEncoder().encode(JSON.stringify(endStreamToJson(new Headers(), error, {}))),
      );

    it("rewrites our error in the end-stream frame and leaves data frames alone", async () => {
      const data = frame(0, new Uint8Array([1, 2, 3]));
      const fixed = await fixMalformedRequestStatus({
        status: 200,
        header: header(),
        body: chunks(data, end(parseError())),
      });
      const body = await bodyOf(fixed);
      expect(body.subarray(0, data.length)).toEqual(Buffer.from(data));
      const last = body.subarray(data.length);
      expect(last[0]).toBe(endStreamFlag);
      expect(json(last.subarray(5))).toMatchObject({ error: { code: "invalid_argument" } });
    });

    it("keeps other errors, bad JSON, partial frames and bodiless responses as they are", async () => {
      const other = end(new ConnectError("nope", Code.Unavailable));
      const badJson = frame(endStreamFlag, new TextEncoder().encode("{not json"));
      const partial = end(parseError()).subarray(0, 8);
      const fixed = await fixMalformedRequestStatus({
        status: 200,
        header: header(),
        body: chunks(other, badJson, partial, new Uint8Array([endStreamFlag])),
      });
      expect(await bodyOf(fixed)).toEqual(
        Buffer.concat([other, badJson, partial, new Uint8Array([endStreamFlag])]),
      );
      const bodiless = { status: 200, header: header() };
      expect(await fixMalformedRequestStatus(bodiless)).toBe(bodiless);
    });
  });

  describe("gRPC (status in trailers or headers)", () => {
    const grpc = (trailer: Headers, body?: AsyncIterable<Uint8Array>) =>
      ({
        status: 200,
        header: new Headers({ "content-type": "application/grpc+proto" }),
        trailer,
        ...(body ? { body } : {}),
      }) satisfies UniversalServerResponse;

    it("rewrites the trailer once the body has been sent, and a trailers-only response at once", async () => {
      const streamed = grpc(
        setTrailerStatus(new Headers(), parseError()),
        chunks(new Uint8Array([0, 0, 0, 0, 0])),
      );
      const fixed = await fixMalformedRequestStatus(streamed);
      expect((await bodyOf(fixed)).length).toBe(5);
      expect(findTrailerError(streamed.trailer)?.code).toBe(Code.InvalidArgument);

      const trailersOnly = grpc(setTrailerStatus(new Headers(), tooLarge()));
      await fixMalformedRequestStatus(trailersOnly);
      expect(findTrailerError(trailersOnly.trailer)?.code).toBe(Code.InvalidArgument);
      expect(findTrailerError(trailersOnly.trailer)?.rawMessage).toMatch(/4096 bytes/);

      const inHeader: UniversalServerResponse = {
        status: 200,
        header: setTrailerStatus(new Headers({ "content-type": "application/grpc" }), parseError()),
      };
      await fixMalformedRequestStatus(inHeader);
      expect(findTrailerError(inHeader.header!)?.code).toBe(Code.InvalidArgument);
    });

    it("leaves other statuses alone", async () => {
      const response = grpc(setTrailerStatus(new Headers(), new ConnectError("x", Code.PermissionDenied)));
      await fixMalformedRequestStatus(response);
      expect(findTrailerError(response.trailer)?.code).toBe(Code.PermissionDenied);
    });
  });

  describe("gRPC-Web (trailer frame)", () => {
    const header = () => new Headers({ "content-type": "application/grpc-web+proto" });
    const trailerFrame = (error: ConnectError) =>
      frame(trailerFlag, trailerSerialize(setTrailerStatus(new Headers(), error)));

    it("rewrites our trailer frame; data frames, other errors and partial frames pass", async () => {
      const data = frame(0, new Uint8Array([9, 9]));
      const other = trailerFrame(new ConnectError("x", Code.NotFound));
      const partial = trailerFrame(parseError()).subarray(0, 7);
      const fixed = await fixMalformedRequestStatus({
        status: 200,
        header: header(),
        body: chunks(data, other, partial, trailerFrame(parseError())),
      });
      const body = await bodyOf(fixed);
      const tail = body.subarray(data.length + other.length + partial.length);
      expect(body.subarray(0, data.length + other.length + partial.length)).toEqual(
        Buffer.concat([data, other, partial]),
      );
      expect(tail[0]).toBe(trailerFlag);
      expect(findTrailerError(trailerParse(tail.subarray(5)))?.code).toBe(Code.InvalidArgument);
    });
  });

  it("passes responses of other content types untouched", async () => {
    const response = { status: 500, header: new Headers({ "content-type": "text/plain" }) };
    expect(await fixMalformedRequestStatus(response)).toBe(response);
    const headerless = { status: 500 };
    expect(await fixMalformedRequestStatus(headerless)).toBe(headerless);
  });
});
