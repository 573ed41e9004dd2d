/**
 * The client's MlsdmError (src/client/errors.ts) read from ConnectErrors built here, as the
 * wire would deliver them: the catalogue code and reason only from ErrorInfo of the mlsdm.dev
 * domain, RetryInfo's delay, BadRequest fields, the request id (RequestInfo first, else the one
 * the client sent), "connection" from UNAVAILABLE or a Node/TLS cause code anywhere in the
 * cause chain (cycles included), and the one-line and JSON forms. client.test.ts sees the
 * same class from real servers.
 */
import { create } from "@bufbuild/protobuf";
import { DurationSchema } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { ERROR_DOMAIN, MlsdmError, statusName } from "../../src/client/errors.js";
import {
  BadRequestSchema,
  ErrorInfoSchema,
  RequestInfoSchema,
  RetryInfoSchema,
} from "../../src/gen/google/rpc/error_details_pb.js";

const errorInfo = (domain: string, metadata: Record<string, string>) => ({
  desc: ErrorInfoSchema,
  value: create(ErrorInfoSchema, { reason: "RATE_LIMITED", domain, metadata }),
});

describe("MlsdmError.from", () => {
  it("reads code, reason, retry delay, fields, metadata and request id from the details", () => {
    const wire = new ConnectError("slow down", Code.ResourceExhausted, undefined, [
      errorInfo(ERROR_DOMAIN, { code: "E602", bucket: "ip" }),
      {
        desc: RetryInfoSchema,
        value: create(RetryInfoSchema, {
          retryDelay: create(DurationSchema, { seconds: 1n, nanos: 250_000_000 }),
        }),
      },
      {
        desc: BadRequestSchema,
        value: create(BadRequestSchema, { fieldViolations: [{ field: "prompt", description: "too long" }] }),
      },
      { desc: RequestInfoSchema, value: create(RequestInfoSchema, { requestId: "from-server" }) },
    ]);
    const error = MlsdmError.from(wire, { requestId: "from-client", attempts: 3 });
    expect(error).toMatchObject({
      code: "E602",
      reason: "RATE_LIMITED",
      status: Code.ResourceExhausted,
      statusName: "RESOURCE_EXHAUSTED",
      retryable: true,
      retryDelayMs: 1250,
      connection: false,
      requestId: "from-server",
      metadata: { bucket: "ip" },
      fieldViolations: [{ field: "prompt", description: "too long" }],
      attempts: 3,
    });
    expect(error.describe()).toBe("E602 RATE_LIMITED: slow down (retry after 1.3 s)");
    expect(error.toJSON()).toMatchObject({ code: "E602", status: "RESOURCE_EXHAUSTED", retryDelayMs: 1250 });
    expect(MlsdmError.from(error)).toBe(error);
  });

  it("ignores ErrorInfo of another domain; a RetryInfo without delay is retryable at once", () => {
    const wire = new ConnectError("theirs", Code.FailedPrecondition, undefined, [
      errorInfo("example.com", { code: "X1" }),
      { desc: RetryInfoSchema, value: create(RetryInfoSchema, {}) },
    ]);
    const error = MlsdmError.from(wire, { requestId: "client-id" });
    expect(error.code).toBeUndefined();
    expect(error.reason).toBeUndefined();
    expect(error.retryable).toBe(true);
    expect(error.retryDelayMs).toBeUndefined();
    expect(error.requestId).toBe("client-id");
    expect(error.describe()).toBe("FAILED_PRECONDITION: theirs");
    expect(error.toJSON()).toMatchObject({
      code: null,
      reason: null,
      retryDelayMs: null,
      requestId: "client-id",
    });
  });

  it("is a connection error on UNAVAILABLE, or a Node/TLS code anywhere in the cause chain", () => {
    expect(MlsdmError.from(new ConnectError("down", Code.Unavailable)).connection).toBe(true);
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" });
    const wrapped = new Error("fetch failed", { cause: new Error("socket", { cause: refused }) });
    const error = MlsdmError.from(wrapped);
    expect(error.connection).toBe(true);
    expect(error.code).toBeUndefined();
    const tls = Object.assign(new Error("self-signed"), { code: "DEPTH_ZERO_SELF_SIGNED_CERT" });
    expect(MlsdmError.from(new ConnectError("tls", Code.Unknown, undefined, undefined, tls)).connection).toBe(
      true,
    );
    // A cycle in the cause chain ends the walk; an unrelated code is not a connection error.
    const a = Object.assign(new Error("a"), { code: "ERR_SOMETHING_ELSE" });
    const b = new Error("b", { cause: a });
    (a as { cause?: unknown }).cause = b;
    expect(MlsdmError.from(a).connection).toBe(false);
    // A server answer (ErrorInfo present) is never a connection error, whatever the status.
    const answered = new ConnectError("draining", Code.Unavailable, undefined, [
      errorInfo(ERROR_DOMAIN, { code: "E701" }),
    ]);
    expect(MlsdmError.from(answered).connection).toBe(false);
  });

  it("wraps anything thrown, keeping it as the cause", () => {
    const error = MlsdmError.from("a string");
    expect(error.status).toBe(Code.Unknown);
    expect(error.cause).toBe("a string");
    expect(error.attempts).toBe(1);
  });
});

describe("statusName", () => {
  it("spells gRPC status names, CANCELLED included, and numbers it does not know", () => {
    expect(statusName(0)).toBe("OK");
    expect(statusName(Code.Canceled)).toBe("CANCELLED");
    expect(statusName(Code.DeadlineExceeded)).toBe("DEADLINE_EXCEEDED");
    expect(statusName(Code.Unauthenticated)).toBe("UNAUTHENTICATED");
    expect(statusName(Number("99") as unknown as Code)).toBe("CODE_99");
  });
});
