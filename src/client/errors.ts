/**
 * `MlsdmError` on the client side: every failed call of a client made by `createMlsdmClient`
 * rejects with this one class. It is read from the wire only (status, `google.rpc` details,
 * the `x-request-id`), never from the server's catalogue, so a client built from the contract
 * alone sees the same thing:
 *
 * - `code` / `reason`: `ErrorInfo.metadata.code` (E###) and `ErrorInfo.reason` when the server
 *   answered (domain `mlsdm.dev`); undefined when it never did (connection, TLS, client deadline);
 * - `status` / `statusName`: the gRPC status (`Code` number and `RESOURCE_EXHAUSTED`-style name);
 * - `retryable` / `retryDelayMs`: the server sends `RetryInfo` exactly when a retry can help;
 * - `connection`: the server was not reached (refused, unresolvable, TLS handshake, reset);
 * - `details`: ErrorInfo, RetryInfo, BadRequest, QuotaFailure and RequestInfo as sent.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import {
  BadRequestSchema,
  ErrorInfoSchema,
  QuotaFailureSchema,
  RequestInfoSchema,
  RetryInfoSchema,
  type BadRequest,
  type ErrorInfo,
  type QuotaFailure,
  type RequestInfo,
  type RetryInfo,
} from "../gen/google/rpc/error_details_pb.js";

/** The `ErrorInfo.domain` MLSDM sends. */
export const ERROR_DOMAIN = "mlsdm.dev";

/** The `google.rpc` details an error carried, decoded. */
export interface MlsdmErrorDetails {
  readonly errorInfo?: ErrorInfo;
  readonly retryInfo?: RetryInfo;
  readonly badRequest?: BadRequest;
  readonly quotaFailure?: QuotaFailure;
  readonly requestInfo?: RequestInfo;
}

/** One bad request field, from `google.rpc.BadRequest`. */
export interface MlsdmFieldViolation {
  readonly field: string;
  readonly description: string;
}

/** What the client knows about the call besides the error. */
export interface MlsdmErrorContext {
  /** The `x-request-id` the client sent (the server echoes it in RequestInfo). */
  readonly requestId?: string | undefined;
  /** How many attempts were made (1 when not retried). */
  readonly attempts?: number;
}

/** The canonical gRPC name of a status (`OK` for 0). */
export function statusName(status: Code | 0): string {
  if (status === 0) return "OK";
  if (status === Code.Canceled) return "CANCELLED"; // gRPC's spelling; connect-es says Canceled
  const name = (Code as unknown as Record<number, string | undefined>)[status];
  return name === undefined
    ? `CODE_${String(status)}`
    : name.replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase();
}

/** Node system and TLS error codes that mean "the server was never reached". */
const CONNECTION_CODES =
  /^(?:E(?:CONNREFUSED|CONNRESET|HOSTUNREACH|NETUNREACH|NOTFOUND|AI_AGAIN|TIMEDOUT|PIPE|PROTO)|ERR_SSL_\w+|ERR_TLS_\w+|ERR_HTTP2_(?:ERROR|SESSION_ERROR|GOAWAY_SESSION|STREAM_CANCEL|INVALID_SESSION)|CERT_\w+|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_\w+|HOSTNAME_MISMATCH)$/;

function causeCodes(error: unknown): string[] {
  const codes: string[] = [];
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current instanceof Error && !seen.has(current) && codes.length < 10) {
    seen.add(current);
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string") codes.push(code);
    current = current.cause;
  }
  return codes;
}

function msFromDuration(duration: RetryInfo["retryDelay"]): number | undefined {
  if (duration === undefined) return undefined;
  return Number(duration.seconds) * 1000 + Math.round(duration.nanos / 1e6);
}

/** The error every call of an MLSDM client rejects with. */
export class MlsdmError extends Error {
  override readonly name = "MlsdmError";
  /** The stable catalogue code (`E602`), or undefined when the server did not answer. */
  readonly code: string | undefined;
  /** The UPPER_SNAKE catalogue reason (`RATE_LIMITED`), or undefined. */
  readonly reason: string | undefined;
  /** The gRPC status as a Connect `Code`. */
  readonly status: Code;
  /** The gRPC status name, e.g. `RESOURCE_EXHAUSTED`. */
  readonly statusName: string;
  /** Whether the server said a retry can help (it sent `RetryInfo`). */
  readonly retryable: boolean;
  /** The server's `RetryInfo` delay, when it sent one. */
  readonly retryDelayMs: number | undefined;
  /** Whether the server was never reached: refused, unresolvable, TLS handshake, reset. */
  readonly connection: boolean;
  /** The request id of the call (RequestInfo, else the `x-request-id` the client sent). */
  readonly requestId: string | undefined;
  /** `ErrorInfo.metadata` without `code` (e.g. `received_bytes`, `upload_id`). */
  readonly metadata: Readonly<Record<string, string>>;
  /** Bad fields from `BadRequest`. */
  readonly fieldViolations: readonly MlsdmFieldViolation[];
  /** Attempts made, retries included. */
  readonly attempts: number;
  /** The decoded `google.rpc` details. */
  readonly details: MlsdmErrorDetails;

  constructor(
    message: string,
    init: {
      status: Code;
      details?: MlsdmErrorDetails;
      connection?: boolean;
      requestId?: string | undefined;
      attempts?: number;
      cause?: unknown;
    },
  ) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    const details = init.details ?? {};
    const info = details.errorInfo;
    const { code, ...metadata } = info?.metadata ?? {};
    this.code = code;
    this.reason = info?.reason;
    this.status = init.status;
    this.statusName = statusName(init.status);
    this.retryDelayMs = msFromDuration(details.retryInfo?.retryDelay);
    this.retryable = details.retryInfo !== undefined;
    this.connection = init.connection ?? false;
    const sent = details.requestInfo?.requestId ?? "";
    this.requestId = sent === "" ? init.requestId : sent;
    this.metadata = Object.freeze(metadata);
    this.fieldViolations = Object.freeze(
      (details.badRequest?.fieldViolations ?? []).map((v) => ({
        field: v.field,
        description: v.description,
      })),
    );
    this.attempts = init.attempts ?? 1;
    this.details = details;
  }

  /** Any thrown value as an MlsdmError (a ConnectError keeps its status and details). */
  static from(value: unknown, context: MlsdmErrorContext = {}): MlsdmError {
    if (value instanceof MlsdmError) return value;
    const error = ConnectError.from(value);
    const errorInfo = error.findDetails(ErrorInfoSchema).find((info) => info.domain === ERROR_DOMAIN);
    const details: MlsdmErrorDetails = {
      ...(errorInfo ? { errorInfo } : {}),
      ...optional("retryInfo", error.findDetails(RetryInfoSchema)[0]),
      ...optional("badRequest", error.findDetails(BadRequestSchema)[0]),
      ...optional("quotaFailure", error.findDetails(QuotaFailureSchema)[0]),
      ...optional("requestInfo", error.findDetails(RequestInfoSchema)[0]),
    };
    const connection =
      errorInfo === undefined &&
      (error.code === Code.Unavailable || causeCodes(value).some((code) => CONNECTION_CODES.test(code)));
    return new MlsdmError(error.rawMessage, {
      status: error.code,
      details,
      connection,
      requestId: context.requestId,
      attempts: context.attempts ?? 1,
      cause: value,
    });
  }

  /** One line for people: `E602 RATE_LIMITED: message (retry after 0.2 s)`. */
  describe(): string {
    const head = this.code === undefined ? this.statusName : `${this.code} ${this.reason ?? this.statusName}`;
    const retry =
      this.retryDelayMs === undefined ? "" : ` (retry after ${(this.retryDelayMs / 1000).toFixed(1)} s)`;
    return `${head}: ${this.message}${retry}`;
  }

  /** A plain object for `--json` output and logs. */
  toJSON(): Record<string, unknown> {
    return {
      code: this.code ?? null,
      reason: this.reason ?? null,
      status: this.statusName,
      message: this.message,
      retryable: this.retryable,
      retryDelayMs: this.retryDelayMs ?? null,
      connection: this.connection,
      requestId: this.requestId ?? null,
      metadata: this.metadata,
      fieldViolations: this.fieldViolations,
      attempts: this.attempts,
    };
  }
}

function optional<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return (value === undefined ? {} : { [key]: value }) as Partial<Record<K, V>>;
}
