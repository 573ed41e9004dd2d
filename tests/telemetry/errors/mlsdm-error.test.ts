/**
 * MlsdmError: the wire form (status, message, google.rpc details) on both protocols, the
 * round trip back from the wire, the `from()` normaliser (which must never leak internals)
 * and the log fields.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { errorFromJsonBytes, errorToJsonBytes } from "@connectrpc/connect/protocol-connect";
import { findTrailerError, setTrailerStatus } from "@connectrpc/connect/protocol-grpc";
import { describe, expect, it } from "vitest";
import {
  BadRequestSchema,
  ErrorInfoSchema,
  QuotaFailureSchema,
  RequestInfoSchema,
  RetryInfoSchema,
} from "../../../src/gen/google/rpc/error_details_pb.js";
import {
  ERROR_CATALOGUE,
  MlsdmError,
  causeChain,
  errorLogFields,
  type ErrorReason,
} from "../../../src/telemetry/errors/index.js";

/** Sends `error` through the gRPC trailer encoding and decodes it as a client would. */
function viaGrpc(error: ConnectError): { trailers: Headers; decoded: ConnectError } {
  const trailers = setTrailerStatus(new Headers(), error);
  const decoded = findTrailerError(trailers);
  if (!decoded) throw new Error("no error in trailers");
  return { trailers, decoded };
}

/** Sends `error` through the Connect JSON error body and decodes it as a client would. */
function viaConnect(error: ConnectError): { body: string; decoded: ConnectError } {
  const bytes = errorToJsonBytes(error, {});
  const decoded = errorFromJsonBytes(bytes, undefined, new ConnectError("unparseable", Code.Internal));
  return { body: new TextDecoder().decode(bytes), decoded };
}

function wireText(error: ConnectError): string {
  const { trailers } = viaGrpc(error);
  const grpc = [...trailers.entries()].map(([key, value]) => `${key}: ${value}`).join("\n");
  const details = Buffer.from(trailers.get("grpc-status-details-bin") ?? "", "base64").toString("latin1");
  return `${grpc}\n${details}\n${viaConnect(error).body}`;
}

describe("MlsdmError", () => {
  it("takes its message from the catalogue and appends the detail", () => {
    const plain = new MlsdmError("SHUTTING_DOWN");
    expect(plain).toBeInstanceOf(Error);
    expect(plain.name).toBe("MlsdmError");
    expect(plain.message).toBe(ERROR_CATALOGUE.SHUTTING_DOWN.message);
    expect(plain.entry).toBe(ERROR_CATALOGUE.SHUTTING_DOWN);
    expect(plain.detail).toBeUndefined();

    const detailed = new MlsdmError("METHOD_NOT_FOUND", { detail: "no RPC at /x.Y/Z" });
    expect(detailed.message).toBe(`${ERROR_CATALOGUE.METHOD_NOT_FOUND.message} (no RPC at /x.Y/Z)`);
    expect(detailed.detail).toBe("no RPC at /x.Y/Z");
  });

  it("keeps the cause as the ES2022 cause, and has none when not given", () => {
    const cause = new TypeError("boom");
    expect(new MlsdmError("INTERNAL", { cause }).cause).toBe(cause);
    expect("cause" in new MlsdmError("INTERNAL")).toBe(false);
  });

  it("uses the entry's retry hint, lets the caller override it, and never retries a non-retryable entry", () => {
    expect(new MlsdmError("EMERGENCY_SHUTDOWN").retryDelayMs).toBe(
      ERROR_CATALOGUE.EMERGENCY_SHUTDOWN.retryAfterMs,
    );
    expect(new MlsdmError("EMERGENCY_SHUTDOWN", { retryDelayMs: 12_345.4 }).retryDelayMs).toBe(12_345);
    expect(new MlsdmError("EMERGENCY_SHUTDOWN", { retryDelayMs: -5 }).retryDelayMs).toBe(0);
    expect(new MlsdmError("EMERGENCY_SHUTDOWN", { retryDelayMs: Number.NaN }).retryDelayMs).toBe(60_000);
    expect(new MlsdmError("PERMISSION_DENIED", { retryDelayMs: 1000 }).retryDelayMs).toBeUndefined();
  });
});

describe("toConnectError", () => {
  it("sends the entry's status and message with ErrorInfo{reason, domain, metadata.code}", () => {
    const error = new MlsdmError("NOT_IMPLEMENTED", {
      detail: "mlsdm.v1.EngineService/Generate is not available in this version",
      metadata: { method: "mlsdm.v1.EngineService/Generate" },
    }).toConnectError();
    expect(error.code).toBe(Code.Unimplemented);
    expect(error.rawMessage).toBe(
      `${ERROR_CATALOGUE.NOT_IMPLEMENTED.message} (mlsdm.v1.EngineService/Generate is not available in this version)`,
    );
    const [info, ...more] = error.findDetails(ErrorInfoSchema);
    expect(more).toEqual([]);
    expect(info).toMatchObject({
      reason: "NOT_IMPLEMENTED",
      domain: "mlsdm.dev",
      metadata: { code: "E708", method: "mlsdm.v1.EngineService/Generate" },
    });
    expect(error.findDetails(RetryInfoSchema)).toEqual([]);
    expect(error.findDetails(BadRequestSchema)).toEqual([]);
    expect(error.findDetails(QuotaFailureSchema)).toEqual([]);
    expect(error.findDetails(RequestInfoSchema)).toEqual([]);
    expect(error.metadata.get("retry-after")).toBeNull();
  });

  it("never lets metadata override the catalogue code", () => {
    const error = new MlsdmError("INTERNAL", { metadata: { code: "E999", other: "x" } });
    expect(error.metadata).toEqual({ other: "x" });
    expect(error.toConnectError().findDetails(ErrorInfoSchema)[0]?.metadata).toEqual({
      code: "E700",
      other: "x",
    });
  });

  it("adds RetryInfo and a retry-after header when retryable", () => {
    const error = new MlsdmError("RATE_LIMITED", { retryDelayMs: 1_500 }).toConnectError();
    expect(error.code).toBe(Code.ResourceExhausted);
    const delay = error.findDetails(RetryInfoSchema)[0]?.retryDelay;
    expect(delay?.seconds).toBe(1n);
    expect(delay?.nanos).toBe(500_000_000);
    expect(error.metadata.get("retry-after")).toBe("2");

    const fast = new MlsdmError("RATE_LIMITED").toConnectError();
    expect(fast.findDetails(RetryInfoSchema)[0]?.retryDelay).toMatchObject({
      seconds: 0n,
      nanos: 200_000_000,
    });
    expect(fast.metadata.get("retry-after")).toBe("1");
  });

  it("adds BadRequest for field violations and QuotaFailure for quota violations", () => {
    const error = new MlsdmError("NON_FINITE_VALUE", {
      fieldViolations: [
        { field: "event_vector[3]", description: "must be finite, got NaN", reason: "NON_FINITE_VALUE" },
        { field: "moral_value", description: "must be finite" },
      ],
      quotaViolations: [{ subject: "client:abc", description: "5 requests per second" }],
    }).toConnectError();
    expect(error.code).toBe(Code.InvalidArgument);
    expect(error.findDetails(BadRequestSchema)[0]?.fieldViolations).toMatchObject([
      { field: "event_vector[3]", description: "must be finite, got NaN", reason: "NON_FINITE_VALUE" },
      { field: "moral_value", description: "must be finite", reason: "" },
    ]);
    expect(error.findDetails(QuotaFailureSchema)[0]?.violations).toMatchObject([
      { subject: "client:abc", description: "5 requests per second" },
    ]);
  });

  it("adds RequestInfo for a sane request id only", () => {
    const withId = new MlsdmError("INTERNAL").toConnectError({ requestId: "req-123" });
    expect(withId.findDetails(RequestInfoSchema)[0]?.requestId).toBe("req-123");
    for (const requestId of ["", "x".repeat(129), "bad\nid", "é"]) {
      expect(new MlsdmError("INTERNAL").toConnectError({ requestId }).findDetails(RequestInfoSchema)).toEqual(
        [],
      );
    }
  });

  it("keeps the MlsdmError as the ConnectError's cause (for logs) but never sends it", () => {
    const secret = new Error("secret-token-xyz at /home/user/app/src/db.ts:42");
    const mlsdm = new MlsdmError("INTERNAL", { cause: secret });
    const error = mlsdm.toConnectError({ requestId: "r1" });
    expect(error.cause).toBe(mlsdm);
    const wire = wireText(error);
    expect(wire).toContain("E700");
    expect(wire).not.toContain("secret-token-xyz");
    expect(wire).not.toContain("/home/user");
  });

  it.each([
    ["gRPC trailers", viaGrpc],
    ["Connect JSON body", viaConnect],
  ] as const)("round-trips through the %s back to the same MlsdmError", (_name, via) => {
    const original = new MlsdmError("EMERGENCY_SHUTDOWN", {
      detail: "attempt 2",
      metadata: { memory_bytes: "123" },
      retryDelayMs: 42_250,
      fieldViolations: [{ field: "f", description: "d", reason: "R" }],
      quotaViolations: [{ subject: "s", description: "q" }],
    });
    const { decoded } = via(original.toConnectError({ requestId: "req-9" }));
    expect(decoded.code).toBe(Code.Unavailable);
    expect(decoded.findDetails(ErrorInfoSchema)[0]).toMatchObject({
      reason: "EMERGENCY_SHUTDOWN",
      domain: "mlsdm.dev",
      metadata: { code: "E701", memory_bytes: "123" },
    });
    expect(decoded.findDetails(RequestInfoSchema)[0]?.requestId).toBe("req-9");

    const back = MlsdmError.from(decoded);
    expect(back).not.toBe(original);
    expect(back.reason).toBe("EMERGENCY_SHUTDOWN");
    expect(back.detail).toBe("attempt 2");
    expect(back.message).toBe(original.message);
    expect(back.metadata).toEqual({ memory_bytes: "123" });
    expect(back.retryDelayMs).toBe(42_250);
    expect(back.fieldViolations).toEqual([{ field: "f", description: "d", reason: "R" }]);
    expect(back.quotaViolations).toEqual([{ subject: "s", description: "q" }]);
    expect(back.cause).toBe(decoded);
  });
});

describe("MlsdmError.from", () => {
  it("returns an MlsdmError as is", () => {
    const error = new MlsdmError("SHUTTING_DOWN");
    expect(MlsdmError.from(error)).toBe(error);
  });

  it("turns a plain Error into INTERNAL without leaking its text, keeping it as cause", () => {
    const original = new Error("secret /home/x/file.ts:12");
    const error = MlsdmError.from(original);
    expect(error.reason).toBe("INTERNAL");
    expect(error.entry.code).toBe("E700");
    expect(error.message).toBe(ERROR_CATALOGUE.INTERNAL.message);
    expect(error.detail).toBeUndefined();
    expect(error.cause).toBe(original);
    const connectError = error.toConnectError();
    expect(connectError.code).toBe(Code.Internal);
    const wire = wireText(connectError);
    expect(wire).not.toContain("secret");
    expect(wire).not.toContain("/home/x");
    expect(wire).not.toContain("file.ts");
  });

  it.each([["a string"], [{ password: "hunter2" }], [undefined], [null], [42]])(
    "turns the thrown value %j into INTERNAL",
    (value) => {
      const error = MlsdmError.from(value);
      expect(error.reason).toBe("INTERNAL");
      expect(error.message).toBe(ERROR_CATALOGUE.INTERNAL.message);
      expect(error.cause).toBe(value);
    },
  );

  it.each<[Code, ErrorReason]>([
    [Code.Canceled, "CANCELLED"],
    [Code.DeadlineExceeded, "DEADLINE_EXCEEDED"],
    [Code.InvalidArgument, "MALFORMED_REQUEST"],
    [Code.OutOfRange, "VALUE_OUT_OF_RANGE"],
    [Code.Unimplemented, "METHOD_NOT_FOUND"],
    [Code.ResourceExhausted, "RESOURCE_EXHAUSTED"],
    [Code.Unavailable, "UNAVAILABLE"],
    [Code.Unauthenticated, "CREDENTIAL_INVALID"],
    [Code.PermissionDenied, "PERMISSION_DENIED"],
    [Code.Unknown, "INTERNAL"],
    [Code.Internal, "INTERNAL"],
    [Code.DataLoss, "INTERNAL"],
    [Code.NotFound, "INTERNAL"],
    [Code.AlreadyExists, "INTERNAL"],
    [Code.Aborted, "INTERNAL"],
    [Code.FailedPrecondition, "INTERNAL"],
  ])("maps a foreign ConnectError with code %i to %s", (code, reason) => {
    const original = new ConnectError("the operation timed out", code);
    const error = MlsdmError.from(original);
    expect(error.reason).toBe(reason);
    expect(error.cause).toBe(original);
    expect(error.detail).toBe(reason === "INTERNAL" ? undefined : "the operation timed out");
  });

  it.each([
    "ENOENT: no such file or directory, open 'config.yaml'",
    "connect ECONNREFUSED 127.0.0.1:6379",
    "failed at /srv/app/node_modules/x/index.js",
    "Error\n    at handler (src/rpc/engine.ts:10:5)",
    "cannot reach redis.internal:6379",
    "read C:\\Users\\me\\secrets.txt",
    "fetch https://internal.example/api failed",
    "x".repeat(201),
  ])("drops an unsafe foreign message: %s", (message) => {
    const error = MlsdmError.from(new ConnectError(message, Code.Unavailable));
    expect(error.reason).toBe("UNAVAILABLE");
    expect(error.detail).toBeUndefined();
    expect(error.message).toBe(ERROR_CATALOGUE.UNAVAILABLE.message);
  });

  it("drops the message of a ConnectError that wraps a foreign exception", () => {
    const error = MlsdmError.from(ConnectError.from(new Error("db password wrong"), Code.Unavailable));
    expect(error.reason).toBe("UNAVAILABLE");
    expect(error.detail).toBeUndefined();
  });

  it("ignores ErrorInfo from another domain or with an unknown reason", () => {
    const foreign = new ConnectError("quota", Code.ResourceExhausted, undefined, [
      { desc: ErrorInfoSchema, value: { reason: "EMERGENCY_SHUTDOWN", domain: "example.com" } },
    ]);
    expect(MlsdmError.from(foreign).reason).toBe("RESOURCE_EXHAUSTED");
    const future = new ConnectError("new", Code.Unavailable, undefined, [
      { desc: ErrorInfoSchema, value: { reason: "SOMETHING_NEW", domain: "mlsdm.dev" } },
    ]);
    expect(MlsdmError.from(future).reason).toBe("UNAVAILABLE");
  });

  it("maps a ConnectError carrying our ErrorInfo back to its reason even with another status", () => {
    const error = MlsdmError.from(
      new ConnectError(ERROR_CATALOGUE.SLEEP_PHASE.message, Code.Unknown, undefined, [
        {
          desc: ErrorInfoSchema,
          value: { reason: "SLEEP_PHASE", domain: "mlsdm.dev", metadata: { code: "E501" } },
        },
      ]),
    );
    expect(error.reason).toBe("SLEEP_PHASE");
    expect(error.detail).toBeUndefined();
    expect(error.retryDelayMs).toBe(ERROR_CATALOGUE.SLEEP_PHASE.retryAfterMs);
  });

  it("maps AbortError to CANCELLED and TimeoutError to DEADLINE_EXCEEDED", () => {
    const abort = new DOMException("This operation was aborted", "AbortError");
    expect(MlsdmError.from(abort).reason).toBe("CANCELLED");
    expect(MlsdmError.from(abort).cause).toBe(abort);
    const timeout = new DOMException("The operation timed out.", "TimeoutError");
    expect(MlsdmError.from(timeout).reason).toBe("DEADLINE_EXCEEDED");
  });

  it("maps an AbortError caused by a deadline to DEADLINE_EXCEEDED", () => {
    const abort = new Error("The operation was aborted", {
      cause: new ConnectError("the operation timed out", Code.DeadlineExceeded),
    });
    abort.name = "AbortError";
    const error = MlsdmError.from(abort);
    expect(error.reason).toBe("DEADLINE_EXCEEDED");
    expect(error.cause).toBe(abort);
  });
});

describe("errorLogFields", () => {
  it("carries the code, reason, gRPC name and retry advice", () => {
    expect(errorLogFields(new MlsdmError("EMERGENCY_SHUTDOWN", { retryDelayMs: 5_000 }))).toEqual({
      error_code: "E701",
      error_reason: "EMERGENCY_SHUTDOWN",
      grpc_code: "UNAVAILABLE",
      retryable: true,
      error_message: ERROR_CATALOGUE.EMERGENCY_SHUTDOWN.message,
      retry_delay_ms: 5_000,
    });
  });

  it("adds metadata and the cause chain when present", () => {
    const root = new Error("disk full");
    const middle = new TypeError("write failed", { cause: root });
    const fields = errorLogFields(
      new MlsdmError("INTERNAL", { cause: middle, metadata: { step: "persist" } }),
    );
    expect(fields).toMatchObject({
      error_code: "E700",
      grpc_code: "INTERNAL",
      retryable: false,
      error_metadata: { step: "persist" },
      error_cause: "TypeError: write failed <- Error: disk full",
    });
    expect(fields).not.toHaveProperty("retry_delay_ms");
  });

  it("describes non-Error causes and stops on cycles", () => {
    expect(causeChain(new MlsdmError("INTERNAL", { cause: { code: 7 } }))).toBe('{"code":7}');
    const a = new Error("a");
    const b = new Error("b", { cause: a });
    a.cause = b;
    expect(causeChain(new MlsdmError("INTERNAL", { cause: a }))).toBe("Error: a <- Error: b");
    expect(causeChain(new MlsdmError("INTERNAL"))).toBeUndefined();
  });
});
