/**
 * `MlsdmError`: the one error class every layer throws for a client-visible failure, and its
 * conversion to the wire.
 *
 * Why one class over the catalogue: code that fails names only the reason (and, where it
 * knows better, a detail, a retry delay or the bad fields); the status, the stable code, the
 * `google.rpc` details and the log fields all follow from `catalogue.ts`, so both listeners
 * (grpc-js and connect-node), browsers and logs see the same thing. Unknown exceptions go
 * through {@link MlsdmError.from}, which turns them into INTERNAL (E700) without putting any
 * of their text on the wire; the original stays available as `cause` for logs only
 * (BASE-REL-g).
 */
import { create } from "@bufbuild/protobuf";
import type { Duration } from "@bufbuild/protobuf/wkt";
import { DurationSchema } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  BadRequest_FieldViolationSchema,
  BadRequestSchema,
  ErrorInfoSchema,
  QuotaFailure_ViolationSchema,
  QuotaFailureSchema,
  RequestInfoSchema,
  RetryInfoSchema,
} from "../../gen/google/rpc/error_details_pb.js";
import {
  ERROR_CATALOGUE,
  ERROR_DOMAIN,
  grpcStatusName,
  isErrorReason,
  type CatalogueEntry,
  type ErrorReason,
} from "./catalogue.js";

/** One bad request field, sent as `google.rpc.BadRequest.FieldViolation`. */
export interface FieldViolation {
  /** Path of the field in the request, e.g. `event_vector[3]` or `prompt`. */
  readonly field: string;
  /** What is wrong and what would be accepted. */
  readonly description: string;
  /** Optional UPPER_SNAKE reason for this one violation (e.g. `NON_FINITE_VALUE`). */
  readonly reason?: string;
}

/** One exceeded quota, sent as `google.rpc.QuotaFailure.Violation`. */
export interface QuotaViolation {
  /** Whose quota, e.g. `client:<key id>` or `provider:openai`. */
  readonly subject: string;
  /** Which limit was hit, e.g. `5 requests per second`. */
  readonly description: string;
}

/** What the raising code may add to a catalogue entry. */
export interface MlsdmErrorOptions {
  /** Extra human text appended to the catalogue message. Must not contain secrets or internals. */
  readonly detail?: string;
  /** Extra `ErrorInfo.metadata` (short, non-secret values); `code` is always the catalogue code. */
  readonly metadata?: Readonly<Record<string, string>>;
  /**
   * Retry delay for `RetryInfo`, overriding the entry's default hint (e.g. the remaining
   * emergency cooldown). Ignored for entries that are not retryable: the catalogue decides
   * whether a retry can help.
   */
  readonly retryDelayMs?: number;
  /** Bad fields, sent as `google.rpc.BadRequest`. */
  readonly fieldViolations?: readonly FieldViolation[];
  /** Exceeded quotas, sent as `google.rpc.QuotaFailure`. */
  readonly quotaViolations?: readonly QuotaViolation[];
  /** The underlying error (ES2022 `cause`): for logs only, never sent to the client. */
  readonly cause?: unknown;
}

/** Options of {@link MlsdmError.toConnectError}. */
export interface ToConnectErrorOptions {
  /** The call's request id, sent as `google.rpc.RequestInfo.request_id` so users can quote it. */
  readonly requestId?: string | undefined;
}

type OutgoingDetail = NonNullable<ConstructorParameters<typeof ConnectError>[3]>[number];

const MAX_REQUEST_ID_LENGTH = 128;
const PRINTABLE_ASCII = /^[\x20-\x7e]+$/;

function wireMessage(entry: CatalogueEntry, detail: string | undefined): string {
  return detail === undefined || detail === "" ? entry.message : `${entry.message} (${detail})`;
}

function durationFromMs(ms: number): Duration {
  const whole = Math.floor(ms / 1000);
  return create(DurationSchema, { seconds: BigInt(whole), nanos: Math.round((ms - whole * 1000) * 1e6) });
}

function msFromDuration(duration: Duration | undefined): number | undefined {
  if (duration === undefined) return undefined;
  return Number(duration.seconds) * 1000 + Math.round(duration.nanos / 1e6);
}

function effectiveRetryDelay(entry: CatalogueEntry, requested: number | undefined): number | undefined {
  if (!entry.retryable) return undefined;
  const ms = requested !== undefined && Number.isFinite(requested) ? requested : entry.retryAfterMs;
  return ms === undefined ? undefined : Math.max(0, Math.round(ms));
}

/**
 * A client-visible failure, named by its catalogue reason.
 *
 * @example
 * throw new MlsdmError("EMERGENCY_SHUTDOWN", { retryDelayMs: remainingCooldownMs });
 * @example
 * throw new MlsdmError("NON_FINITE_VALUE", {
 *   fieldViolations: [{ field: "event_vector[3]", description: "must be finite, got NaN" }],
 * });
 * @see ERROR_CATALOGUE for the reasons, codes and statuses.
 */
export class MlsdmError extends Error {
  override readonly name = "MlsdmError";
  /** The catalogue reason (`ErrorInfo.reason`). */
  readonly reason: ErrorReason;
  /** The catalogue entry of `reason`: code, status, retry advice, messages. */
  readonly entry: CatalogueEntry;
  /** The extra human text appended to the message, if any. */
  readonly detail: string | undefined;
  /** Extra `ErrorInfo.metadata` (without `code`, which is always `entry.code`). */
  readonly metadata: Readonly<Record<string, string>>;
  /** The `RetryInfo` delay that will be sent; undefined exactly when the entry is not retryable. */
  readonly retryDelayMs: number | undefined;
  /** Bad fields (`google.rpc.BadRequest`); empty when none. */
  readonly fieldViolations: readonly FieldViolation[];
  /** Exceeded quotas (`google.rpc.QuotaFailure`); empty when none. */
  readonly quotaViolations: readonly QuotaViolation[];

  /** A failure of kind `reason`; the message is the catalogue message plus `options.detail`. */
  constructor(reason: ErrorReason, options: MlsdmErrorOptions = {}) {
    const entry = ERROR_CATALOGUE[reason];
    super(wireMessage(entry, options.detail), "cause" in options ? { cause: options.cause } : undefined);
    this.reason = reason;
    this.entry = entry;
    this.detail = options.detail === "" ? undefined : options.detail;
    const { code: _code, ...metadata } = options.metadata ?? {};
    this.metadata = Object.freeze(metadata);
    this.retryDelayMs = effectiveRetryDelay(entry, options.retryDelayMs);
    this.fieldViolations = Object.freeze([...(options.fieldViolations ?? [])]);
    this.quotaViolations = Object.freeze([...(options.quotaViolations ?? [])]);
  }

  /**
   * The ConnectError both listeners send: status = the entry's status, message = the
   * catalogue message (+ detail), details = `ErrorInfo{reason, domain "mlsdm.dev",
   * metadata{code, ...}}`, plus `RetryInfo` when retryable (and a `retry-after` header in
   * whole seconds, which Connect sends as a Retry-After response header),
   * `BadRequest`, `QuotaFailure` and `RequestInfo` when they apply. The ConnectError's
   * `cause` is this error, for logs; connect never serialises `cause`.
   */
  toConnectError(options: ToConnectErrorOptions = {}): ConnectError {
    const details: OutgoingDetail[] = [
      {
        desc: ErrorInfoSchema,
        value: create(ErrorInfoSchema, {
          reason: this.reason,
          domain: ERROR_DOMAIN,
          metadata: { ...this.metadata, code: this.entry.code },
        }),
      },
    ];
    const headers = new Headers();
    if (this.retryDelayMs !== undefined) {
      details.push({
        desc: RetryInfoSchema,
        value: create(RetryInfoSchema, { retryDelay: durationFromMs(this.retryDelayMs) }),
      });
      headers.set("retry-after", String(Math.max(1, Math.ceil(this.retryDelayMs / 1000))));
    }
    if (this.fieldViolations.length > 0) {
      details.push({
        desc: BadRequestSchema,
        value: create(BadRequestSchema, {
          fieldViolations: this.fieldViolations.map((v) =>
            create(BadRequest_FieldViolationSchema, {
              field: v.field,
              description: v.description,
              reason: v.reason ?? "",
            }),
          ),
        }),
      });
    }
    if (this.quotaViolations.length > 0) {
      details.push({
        desc: QuotaFailureSchema,
        value: create(QuotaFailureSchema, {
          violations: this.quotaViolations.map((v) =>
            create(QuotaFailure_ViolationSchema, { subject: v.subject, description: v.description }),
          ),
        }),
      });
    }
    const requestId = options.requestId;
    if (
      requestId !== undefined &&
      requestId.length <= MAX_REQUEST_ID_LENGTH &&
      PRINTABLE_ASCII.test(requestId)
    ) {
      details.push({ desc: RequestInfoSchema, value: create(RequestInfoSchema, { requestId }) });
    }
    return new ConnectError(this.message, this.entry.status, headers, details, this);
  }

  /**
   * Normalises anything thrown into an MlsdmError, never leaking internals:
   * - an MlsdmError is returned as is;
   * - a ConnectError carrying our `ErrorInfo` (domain `mlsdm.dev`, known reason) maps back to
   *   that reason with its detail, metadata, retry delay and violations;
   * - another ConnectError maps by status (Canceled → CANCELLED, DeadlineExceeded →
   *   DEADLINE_EXCEEDED, InvalidArgument → MALFORMED_REQUEST, Unimplemented →
   *   METHOD_NOT_FOUND, ResourceExhausted → RESOURCE_EXHAUSTED, ...), keeping its message as
   *   detail only when it looks like a framework message (no paths, stacks, addresses);
   *   statuses without a safe generic meaning become INTERNAL;
   * - a DOM AbortError / TimeoutError becomes CANCELLED / DEADLINE_EXCEEDED (an AbortError
   *   whose cause is a ConnectError, as an aborted handler signal gives, maps that cause);
   * - anything else becomes INTERNAL (E700) with the generic message.
   * In every case the original value is kept as `cause`, for logs only.
   */
  static from(value: unknown): MlsdmError {
    if (value instanceof MlsdmError) return value;
    if (value instanceof ConnectError) return fromConnectError(value);
    if (value instanceof Error) {
      if (value.name === "AbortError") {
        if (value.cause instanceof MlsdmError || value.cause instanceof ConnectError) {
          const inner = MlsdmError.from(value.cause);
          return new MlsdmError(inner.reason, { ...optionsOf(inner), cause: value });
        }
        return new MlsdmError("CANCELLED", { cause: value });
      }
      if (value.name === "TimeoutError") return new MlsdmError("DEADLINE_EXCEEDED", { cause: value });
    }
    return new MlsdmError("INTERNAL", { cause: value });
  }
}

function optionsOf(error: MlsdmError): MlsdmErrorOptions {
  return {
    ...(error.detail === undefined ? {} : { detail: error.detail }),
    metadata: error.metadata,
    ...(error.retryDelayMs === undefined ? {} : { retryDelayMs: error.retryDelayMs }),
    fieldViolations: error.fieldViolations,
    quotaViolations: error.quotaViolations,
  };
}

/** The catalogue entry a foreign ConnectError maps to, by status; absent means INTERNAL. */
const REASON_BY_CODE: Readonly<Partial<Record<Code, ErrorReason>>> = {
  [Code.Canceled]: "CANCELLED",
  [Code.DeadlineExceeded]: "DEADLINE_EXCEEDED",
  [Code.InvalidArgument]: "MALFORMED_REQUEST",
  [Code.OutOfRange]: "VALUE_OUT_OF_RANGE",
  [Code.Unimplemented]: "METHOD_NOT_FOUND",
  [Code.ResourceExhausted]: "RESOURCE_EXHAUSTED",
  [Code.Unavailable]: "UNAVAILABLE",
  [Code.Unauthenticated]: "CREDENTIAL_INVALID",
  [Code.PermissionDenied]: "PERMISSION_DENIED",
};

const MAX_SAFE_MESSAGE_LENGTH = 200;
const UNSAFE_MESSAGE_PATTERNS: readonly RegExp[] = [
  /[\r\n\t]/, // multi-line text: stacks, dumps
  /\bat\s+\S.*[(:]\d/, // stack frame "at fn (file:1:2)"
  // eslint-disable-next-line security/detect-unsafe-regex -- bounded or unambiguous repetition only (no nested ambiguous quantifier): linear time
  /(?:^|[\s(="'`[])(?:~|\.{1,2})?\/[\w@.+-]+\//, // POSIX path "/home/x/", "./a/", "~/a/"
  /[A-Za-z]:\\/, // Windows path
  /\b[\w-]+\.(?:[cm]?[jt]sx?|py|json|ya?ml|node|sqlite|db|log)\b/i, // file names
  /\b(?:file|node|https?):\/?\//i, // URLs and node:internal
  // eslint-disable-next-line security/detect-unsafe-regex -- bounded or unambiguous repetition only (no nested ambiguous quantifier): linear time
  /\b\d{1,3}(?:\.\d{1,3}){3}\b/, // IPv4 addresses
  /\[[0-9a-f:]*:[0-9a-f:]*\]/i, // bracketed IPv6 addresses
  /\b[\w.-]+:\d{2,5}\b/, // host:port
  /\bE[A-Z]{4,}\b/, // Node system error codes (ECONNREFUSED, ENOENT, ...)
];

/**
 * Whether a foreign error message may be shown to the client: short, one line, and free of
 * anything that looks like a path, a stack frame, a network address or a system error.
 */
function isSafeMessage(message: string): boolean {
  if (message.length === 0 || message.length > MAX_SAFE_MESSAGE_LENGTH) return false;
  return !UNSAFE_MESSAGE_PATTERNS.some((pattern) => pattern.test(message));
}

function detailFromMessage(raw: string, entry: CatalogueEntry): string | undefined {
  if (raw === entry.message) return undefined;
  const prefix = `${entry.message} (`;
  if (raw.startsWith(prefix) && raw.endsWith(")")) return raw.slice(prefix.length, -1);
  return isSafeMessage(raw) ? raw : undefined;
}

function fromConnectError(error: ConnectError): MlsdmError {
  const info = error.findDetails(ErrorInfoSchema).find((i) => i.domain === ERROR_DOMAIN);
  if (info !== undefined && isErrorReason(info.reason)) {
    const reason = info.reason;
    const { code: _code, ...metadata } = info.metadata;
    const retryDelayMs = msFromDuration(error.findDetails(RetryInfoSchema)[0]?.retryDelay);
    const detail = detailFromMessage(error.rawMessage, ERROR_CATALOGUE[reason]);
    return new MlsdmError(reason, {
      ...(detail === undefined ? {} : { detail }),
      metadata,
      ...(retryDelayMs === undefined ? {} : { retryDelayMs }),
      fieldViolations: error
        .findDetails(BadRequestSchema)
        .flatMap((b) => b.fieldViolations)
        .map((v) => ({
          field: v.field,
          description: v.description,
          ...(v.reason === "" ? {} : { reason: v.reason }),
        })),
      quotaViolations: error
        .findDetails(QuotaFailureSchema)
        .flatMap((q) => q.violations)
        .map((v) => ({ subject: v.subject, description: v.description })),
      cause: error,
    });
  }
  const reason = REASON_BY_CODE[error.code];
  if (reason === undefined) return new MlsdmError("INTERNAL", { cause: error });
  const foreignCause = error.cause !== undefined && !(error.cause instanceof ConnectError);
  const detail = !foreignCause && isSafeMessage(error.rawMessage) ? error.rawMessage : undefined;
  return new MlsdmError(reason, { ...(detail === undefined ? {} : { detail }), cause: error });
}

/** Log fields of an error, as every error log line carries them (OBS-004, BASE-OBS-b). */
export interface ErrorLogFields {
  /** Stable catalogue code, e.g. `E701`; alerts and LogQL queries key on it. */
  readonly error_code: string;
  /** Catalogue reason, e.g. `EMERGENCY_SHUTDOWN`. */
  readonly error_reason: ErrorReason;
  /** Canonical gRPC status name sent to the client, e.g. `UNAVAILABLE`. */
  readonly grpc_code: string;
  /** Whether the catalogue says a retry can help. */
  readonly retryable: boolean;
  /** The message sent to the client (catalogue message plus detail). */
  readonly error_message: string;
  /** The retry delay sent in RetryInfo, when retryable. */
  readonly retry_delay_ms?: number;
  /** Extra ErrorInfo metadata, when any. */
  readonly error_metadata?: Readonly<Record<string, string>>;
  /** The cause chain (`Name: message <- Name: message`), when there is a cause; logs only. */
  readonly error_cause?: string;
}

const MAX_CAUSE_DEPTH = 5;
const MAX_CAUSE_PART = 500;

function describe(value: unknown): string {
  if (value instanceof Error) return `${value.name}: ${value.message}`.slice(0, MAX_CAUSE_PART);
  if (typeof value === "string") return value.slice(0, MAX_CAUSE_PART);
  try {
    // JSON.stringify returns undefined for undefined, functions and symbols.
    const json = JSON.stringify(value) as string | undefined;
    return (json ?? String(value)).slice(0, MAX_CAUSE_PART);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

/**
 * The cause chain of `error` as one line, outermost first (`TypeError: x <- Error: y`),
 * without stacks: what BASE-REL-g asks logs to carry.
 */
export function causeChain(error: MlsdmError): string | undefined {
  const parts: string[] = [];
  let current: unknown = error.cause;
  const seen = new Set<unknown>();
  while (current !== undefined && parts.length < MAX_CAUSE_DEPTH && !seen.has(current)) {
    seen.add(current);
    parts.push(describe(current));
    current = current instanceof Error ? current.cause : undefined;
  }
  return parts.length === 0 ? undefined : parts.join(" <- ");
}

/**
 * The structured log fields of `error`: `error_code`, `error_reason`, `grpc_code`, ... Spread
 * them into a winston call so logs, metrics and the wire share one code.
 *
 * @example
 * logger.warn("rpc rejected", { ...errorLogFields(error), method });
 */
export function errorLogFields(error: MlsdmError): ErrorLogFields {
  const cause = causeChain(error);
  return {
    error_code: error.entry.code,
    error_reason: error.reason,
    grpc_code: grpcStatusName(error.entry.status),
    retryable: error.entry.retryable,
    error_message: error.message,
    ...(error.retryDelayMs === undefined ? {} : { retry_delay_ms: error.retryDelayMs }),
    ...(Object.keys(error.metadata).length === 0 ? {} : { error_metadata: error.metadata }),
    ...(cause === undefined ? {} : { error_cause: cause }),
  };
}
