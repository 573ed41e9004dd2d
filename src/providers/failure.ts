/**
 * The one place where SDK and network errors become {@link ProviderFailure}s. Every adapter (OpenAI-compatible,
 * Anthropic, embeddings, moderation, the stub) funnels its errors through {@link toProviderFailure}, so the
 * retry policy sees the same kinds whatever the vendor: the caller's signal decides cancelled vs timeout,
 * HTTP statuses decide rate_limited / unavailable / rejected, and unparseable bodies are invalid_response.
 * Messages are built from statuses and error names (plus the vendor's message with secrets redacted), never
 * from request headers, so an API key cannot leak through them.
 */
import * as Anthropic from "@anthropic-ai/sdk";
import * as OpenAi from "openai";
import { ProviderFailure, type ProviderFailureKind } from "../core/engine/ports.js";

/** Who failed and what must never appear in a message. */
export interface FailureContext {
  readonly providerId: string;
  /** The call's signal: when it has fired, the failure is "cancelled" or (deadline) "timeout". */
  readonly signal?: AbortSignal | undefined;
  /** Strings to redact from messages (the API key). */
  readonly secrets?: readonly string[] | undefined;
}

/** Node/undici error codes meaning the transport timed out. */
const TIMEOUT_CODES = new Set([
  "ETIMEDOUT",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
]);
/** Error types vendors put in a streamed error event (no HTTP status there). */
const RATE_LIMIT_TYPES = new Set(["rate_limit_error", "rate_limit_exceeded", "insufficient_quota"]);
const REJECTED_TYPES = new Set([
  "invalid_request_error",
  "authentication_error",
  "permission_error",
  "not_found_error",
  "request_too_large",
]);
const MAX_VENDOR_MESSAGE = 200;

/** True when the signal fired because of a deadline (`AbortSignal.timeout` or an equivalent reason). */
export function isDeadlineAbort(signal: AbortSignal): boolean {
  const reason: unknown = signal.reason;
  return reason instanceof Error && reason.name === "TimeoutError";
}

/** The failure for a call whose signal has fired: "timeout" for a deadline, "cancelled" otherwise. */
export function abortFailure(signal: AbortSignal, providerId: string, cause?: unknown): ProviderFailure {
  return isDeadlineAbort(signal)
    ? new ProviderFailure("timeout", `${providerId}: deadline exceeded`, { providerId, cause })
    : new ProviderFailure("cancelled", `${providerId}: call cancelled`, { providerId, cause });
}

/** Throws the abort failure when the signal has already fired. */
export function throwIfAborted(signal: AbortSignal, providerId: string): void {
  if (signal.aborted) throw abortFailure(signal, providerId);
}

/** A body that is not the protocol's, or an empty answer. */
export function invalidResponse(providerId: string, what: string, cause?: unknown): ProviderFailure {
  return new ProviderFailure("invalid_response", `${providerId}: invalid response (${what})`, {
    providerId,
    cause,
  });
}

/**
 * The delay a response asks for, in ms: `retry-after-ms` (milliseconds), else `retry-after` as seconds or
 * as an HTTP date. Undefined when absent or unparseable; never negative.
 */
export function parseRetryAfterMs(
  headers: Headers | undefined,
  now: number = Date.now(),
): number | undefined {
  if (headers === undefined) return undefined;
  const ms = headers.get("retry-after-ms");
  if (ms !== null && ms.trim() !== "") {
    const value = Number(ms);
    if (Number.isFinite(value)) return Math.max(0, Math.round(value));
  }
  const after = headers.get("retry-after");
  if (after === null || after.trim() === "") return undefined;
  const seconds = Number(after);
  if (Number.isFinite(seconds)) return Math.max(0, Math.round(seconds * 1000));
  const date = Date.parse(after);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Maps any error thrown while talking to a provider to a {@link ProviderFailure}. */
export function toProviderFailure(error: unknown, context: FailureContext): ProviderFailure {
  if (error instanceof ProviderFailure) return error;
  const { providerId, signal } = context;
  if (signal?.aborted === true) return abortFailure(signal, providerId, error);
  if (isSdkApiError(error)) return fromApiError(error, context);
  if (error instanceof SyntaxError) return invalidResponse(providerId, "body is not valid JSON", error);
  const name = errorName(error);
  if (name === "TimeoutError" || hasCode(error, TIMEOUT_CODES)) {
    return failure("timeout", context, "request timed out", error);
  }
  if (name === "AbortError") return failure("cancelled", context, "request aborted", error);
  return failure("unavailable", context, `connection failed (${describe(error)})`, error);
}

type SdkApiError = OpenAi.APIError | Anthropic.APIError;

function isSdkApiError(error: unknown): error is SdkApiError {
  return error instanceof OpenAi.APIError || error instanceof Anthropic.APIError;
}

function fromApiError(error: SdkApiError, context: FailureContext): ProviderFailure {
  if (error instanceof OpenAi.APIUserAbortError || error instanceof Anthropic.APIUserAbortError) {
    return failure("cancelled", context, "request aborted", error);
  }
  if (
    error instanceof OpenAi.APIConnectionTimeoutError ||
    error instanceof Anthropic.APIConnectionTimeoutError
  ) {
    return failure("timeout", context, "request timed out", error);
  }
  if (error instanceof OpenAi.APIConnectionError || error instanceof Anthropic.APIConnectionError) {
    const cause: unknown = error.cause;
    if (hasCode(cause, TIMEOUT_CODES)) return failure("timeout", context, "connection timed out", error);
    return failure("unavailable", context, `connection failed (${describe(cause ?? error)})`, error);
  }
  const status = error.status;
  const vendor = redact(error.message, context.secrets);
  if (status === undefined) return fromErrorEvent(error, vendor, context);
  const detail = `HTTP ${status}: ${vendor}`;
  if (status === 429) {
    return failure("rate_limited", context, detail, error, status, parseRetryAfterMs(error.headers));
  }
  if (status === 408 || status === 409 || status >= 500) {
    return failure("unavailable", context, detail, error, status);
  }
  if (status >= 400) return failure("rejected", context, detail, error, status);
  return failure("invalid_response", context, detail, error, status);
}

/** An error event inside a stream (HTTP 200 already sent): classified by the vendor's error type. */
function fromErrorEvent(error: SdkApiError, vendor: string, context: FailureContext): ProviderFailure {
  const type = error.type ?? "";
  const detail = `stream error event: ${vendor}`;
  if (RATE_LIMIT_TYPES.has(type)) return failure("rate_limited", context, detail, error);
  if (REJECTED_TYPES.has(type)) return failure("rejected", context, detail, error);
  return failure("unavailable", context, detail, error);
}

function failure(
  kind: ProviderFailureKind,
  context: FailureContext,
  detail: string,
  cause: unknown,
  httpStatus?: number,
  retryAfterMs?: number,
): ProviderFailure {
  const { providerId } = context;
  return new ProviderFailure(kind, `${providerId}: ${kind}: ${redact(detail, context.secrets)}`, {
    providerId,
    cause,
    ...(httpStatus === undefined ? {} : { httpStatus }),
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  });
}

/** Removes every secret (API key) from a message and bounds its length. */
function redact(text: string, secrets: readonly string[] | undefined): string {
  let out = text;
  for (const secret of secrets ?? []) {
    if (secret.length >= 4) out = out.split(secret).join("[REDACTED]");
  }
  return out.length > MAX_VENDOR_MESSAGE ? `${out.slice(0, MAX_VENDOR_MESSAGE)}…` : out;
}

function errorName(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null || !("name" in error)) return undefined;
  return typeof error.name === "string" ? error.name : undefined;
}

/** True when the error or one of its causes carries one of the codes. */
function hasCode(error: unknown, codes: ReadonlySet<string>): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && typeof current === "object" && current !== null; depth++) {
    if ("code" in current && typeof current.code === "string" && codes.has(current.code)) return true;
    current = "cause" in current ? current.cause : undefined;
  }
  return false;
}

/** A short description of an error chain: names and codes, e.g. "TypeError: fetch failed ← ECONNRESET". */
function describe(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current !== undefined && current !== null; depth++) {
    if (typeof current !== "object") {
      parts.push(typeof current === "string" ? current : typeof current);
      break;
    }
    const code = "code" in current && typeof current.code === "string" ? current.code : undefined;
    const message = current instanceof Error ? `${current.name}: ${current.message}` : "error";
    parts.push(code ?? message);
    current = "cause" in current ? current.cause : undefined;
  }
  return parts.join(" ← ");
}
