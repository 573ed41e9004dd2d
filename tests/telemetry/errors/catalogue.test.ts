/**
 * Invariants of the error catalogue: stable, unique, well-formed codes in the right family,
 * retry advice that is consistent, and the numbers the specifications fix.
 */
import { Code } from "@connectrpc/connect";
import { codeToHttpStatus } from "@connectrpc/connect/protocol-connect";
import { status as GrpcStatus } from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import {
  CODE_FAMILY_EXCEPTIONS,
  ERROR_CATALOGUE,
  ERROR_DOMAIN,
  ERROR_FAMILIES,
  ERROR_REASONS,
  connectHttpStatus,
  grpcStatusName,
  isErrorReason,
  type ErrorReason,
} from "../../../src/telemetry/errors/index.js";

const ALL_CODES = Object.values(Code).filter((value): value is Code => typeof value === "number");
const entries = ERROR_REASONS.map((reason) => [reason, ERROR_CATALOGUE[reason]] as const);

describe("error catalogue", () => {
  it("lists every key of the table in ERROR_REASONS", () => {
    expect([...ERROR_REASONS].sort()).toEqual(Object.keys(ERROR_CATALOGUE).sort());
    expect(ERROR_REASONS.length).toBeGreaterThan(30);
  });

  it("has unique codes", () => {
    const codes = entries.map(([, entry]) => entry.code);
    const duplicates = codes.filter((code, i) => codes.indexOf(code) !== i);
    expect(duplicates).toEqual([]);
  });

  it.each(entries)("%s: code is E + family digit 1-8 + two digits", (_reason, entry) => {
    expect(entry.code).toMatch(/^E[1-8]\d\d$/);
  });

  it.each(entries)("%s: reason is UPPER_SNAKE", (reason) => {
    expect(reason).toMatch(/^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*$/);
  });

  it.each(entries)(
    "%s: family matches the code's first digit (or is a documented exception)",
    (reason, entry) => {
      const digit = entry.code.charAt(1) as keyof typeof ERROR_FAMILIES;
      if (reason in CODE_FAMILY_EXCEPTIONS) {
        expect(entry.family).not.toBe(ERROR_FAMILIES[digit]);
      } else {
        expect(entry.family).toBe(ERROR_FAMILIES[digit]);
      }
    },
  );

  it("allows exactly the exceptions the specs force (E602 RATE_LIMITED, BASE-SEC-b)", () => {
    expect(Object.keys(CODE_FAMILY_EXCEPTIONS)).toEqual(["RATE_LIMITED"]);
    expect(ERROR_CATALOGUE.RATE_LIMITED.code).toBe("E602");
    expect(CODE_FAMILY_EXCEPTIONS.RATE_LIMITED).toContain("BASE-SEC-b");
  });

  it.each(entries)("%s: has a retry hint exactly when retryable", (_reason, entry) => {
    if (entry.retryable) {
      expect(entry.retryAfterMs).toBeGreaterThan(0);
      expect(Number.isInteger(entry.retryAfterMs)).toBe(true);
    } else {
      expect(entry.retryAfterMs).toBeUndefined();
    }
  });

  it.each(entries)("%s: status is a canonical non-OK code", (_reason, entry) => {
    expect(ALL_CODES).toContain(entry.status);
    expect(entry.status).not.toBe(0);
  });

  it.each(entries)("%s: message and action are short, complete sentences", (_reason, entry) => {
    expect(entry.message.length).toBeGreaterThan(10);
    expect(entry.message.length).toBeLessThanOrEqual(120);
    expect(entry.message).toMatch(/^[A-Z].*\.$/);
    expect(entry.message).not.toContain("\n");
    expect(entry.action.length).toBeGreaterThan(3);
    expect(entry.action).toMatch(/\.$/);
  });

  it("keeps the numbers and statuses the specifications name", () => {
    const pinned: Record<string, [ErrorReason, Code]> = {
      E201: ["CREDENTIAL_INVALID", Code.Unauthenticated],
      E202: ["CREDENTIAL_EXPIRED", Code.Unauthenticated],
      E203: ["PERMISSION_DENIED", Code.PermissionDenied],
      E204: ["API_KEY_INVALID", Code.Unauthenticated],
      E205: ["DISABLED_IN_SECURE_MODE", Code.PermissionDenied],
      E206: ["CREDENTIAL_MISSING", Code.Unauthenticated],
      E301: ["MORAL_REJECTED", Code.FailedPrecondition],
      E407: ["PATH_NOT_ALLOWED", Code.InvalidArgument],
      E503: ["PROCESSING_TIME_EXCEEDED", Code.DeadlineExceeded],
      E601: ["LLM_TIMEOUT", Code.DeadlineExceeded],
      E602: ["RATE_LIMITED", Code.ResourceExhausted],
      E700: ["INTERNAL", Code.Internal],
      E701: ["EMERGENCY_SHUTDOWN", Code.Unavailable],
      E702: ["RESOURCE_EXHAUSTED", Code.ResourceExhausted],
      E703: ["CIRCUIT_OPEN", Code.Unavailable],
      E704: ["RECOVERY_FAILED", Code.Unavailable],
      E705: ["SHUTTING_DOWN", Code.Unavailable],
      E801: ["CONFIG_INVALID", Code.FailedPrecondition],
      E802: ["CONFIG_FILE_UNREADABLE", Code.FailedPrecondition],
      E803: ["CONFIG_FILE_INVALID_YAML", Code.FailedPrecondition],
    };
    for (const [code, [reason, status]] of Object.entries(pinned)) {
      expect({ reason, code: ERROR_CATALOGUE[reason].code, status: ERROR_CATALOGUE[reason].status }).toEqual({
        reason,
        code,
        status,
      });
    }
  });

  it("gives overload and unavailability a retry hint, as the status conventions require", () => {
    for (const reason of [
      "RATE_LIMITED",
      "RESOURCE_EXHAUSTED",
      "EMERGENCY_SHUTDOWN",
      "CIRCUIT_OPEN",
      "SHUTTING_DOWN",
    ] as const) {
      expect(ERROR_CATALOGUE[reason].retryable, reason).toBe(true);
    }
  });

  it("uses INVALID_ARGUMENT for every validation code", () => {
    for (const [reason, entry] of entries) {
      if (entry.code.startsWith("E1")) expect(entry.status, reason).toBe(Code.InvalidArgument);
    }
  });

  it("has the foundation's reasons with their statuses", () => {
    expect(ERROR_CATALOGUE.NOT_IMPLEMENTED.status).toBe(Code.Unimplemented);
    expect(ERROR_CATALOGUE.METHOD_NOT_FOUND.status).toBe(Code.Unimplemented);
    expect(ERROR_CATALOGUE.MALFORMED_REQUEST.status).toBe(Code.InvalidArgument);
    expect(ERROR_CATALOGUE.DEADLINE_EXCEEDED.status).toBe(Code.DeadlineExceeded);
    expect(ERROR_CATALOGUE.CANCELLED.status).toBe(Code.Canceled);
    expect(ERROR_CATALOGUE.SERVICE_UNKNOWN.status).toBe(Code.NotFound);
    expect(ERROR_DOMAIN).toBe("mlsdm.dev");
  });

  it("is frozen", () => {
    expect(Object.isFrozen(ERROR_CATALOGUE)).toBe(true);
    expect(Object.isFrozen(ERROR_CATALOGUE.INTERNAL)).toBe(true);
    expect(Object.isFrozen(ERROR_REASONS)).toBe(true);
  });

  it("recognises reasons and nothing else", () => {
    expect(isErrorReason("EMERGENCY_SHUTDOWN")).toBe(true);
    for (const value of ["", "emergency_shutdown", "E701", "toString", "__proto__", "constructor"]) {
      expect(isErrorReason(value), value).toBe(false);
    }
  });
});

describe("status names and the Connect HTTP mapping", () => {
  it.each(ALL_CODES)("code %i: gRPC name matches grpc-js", (code) => {
    expect(grpcStatusName(code)).toBe(GrpcStatus[code]);
  });

  it.each(ALL_CODES)("code %i: HTTP status matches connect-es", (code) => {
    expect(connectHttpStatus(code)).toBe(codeToHttpStatus(code));
  });
});
