/**
 * The request-signing policy (SEC-007). It runs after authentication and RBAC, over the decoded
 * request. A signature is required on every non-public call when `required` is set, and on the
 * calls of an identity marked `requireSignature` (an API key with `requireSignature: true`);
 * a signature that is present is always verified, required or not. Public methods (health) are
 * exempt. Checks, in order: header well-formed, key id known, HMAC equal (constant time),
 * timestamp inside the window, not seen before. Every failure is UNAUTHENTICATED and logged as
 * the security event `signature_failed`.
 */
import type { HandlerContext } from "@connectrpc/connect";
import { MlsdmError } from "../../telemetry/errors/index.js";
import { requiredRole, security } from "../authenticate.js";
import { IDENTITY } from "../identity.js";
import type { Policy } from "../policy.js";
import {
  KEY_ID_HEADER,
  SIGNATURE_HEADER,
  expectedSignature,
  parseSignatureHeader,
  signaturesEqual,
} from "./canonical.js";
import type { ReplayCache } from "./replay-cache.js";
import type { SigningKeys } from "./signing-keys.js";

/** What the signing policy needs. */
export interface SignaturePolicyOptions {
  /** The signing keys now in force (read once per call, so a reload never splits a call). */
  readonly keys: () => SigningKeys;
  /** Require a signature on every authenticated (non-public) call. */
  readonly required: boolean;
  /** Oldest accepted timestamp, in seconds before now (before the clock skew is added). */
  readonly maxAgeSeconds: number;
  /** Tolerated clock difference, seconds, on both sides of the window. */
  readonly clockSkewSeconds: number;
  readonly replayCache: ReplayCache;
  /** The clock, ms since the epoch. */
  readonly now?: () => number;
}

/** Why a signature was refused (the `reason` of the security event). */
type Failure =
  | "missing"
  | "malformed"
  | "unknown_key"
  | "mismatch"
  | "stale"
  | "future"
  | "replayed"
  | "cache_unavailable";

const REASONS = {
  missing: "SIGNATURE_INVALID",
  malformed: "SIGNATURE_INVALID",
  unknown_key: "SIGNATURE_INVALID",
  mismatch: "SIGNATURE_INVALID",
  stale: "SIGNATURE_EXPIRED",
  future: "SIGNATURE_EXPIRED",
  replayed: "SIGNATURE_REPLAYED",
  cache_unavailable: "UNAVAILABLE",
} as const;

/** Builds the signing policy. */
export function verifySignature(options: SignaturePolicyOptions): Policy {
  const now = options.now ?? Date.now;
  return async (context: HandlerContext, request: unknown) => {
    if (requiredRole(context.method) === "public") return;
    const identity = context.values.get(IDENTITY);
    const header = context.requestHeader.get(SIGNATURE_HEADER);
    const keyId = context.requestHeader.get(KEY_ID_HEADER);
    const report = (error: MlsdmError, why: string): MlsdmError => {
      security("signature_failed", {
        method: context.method.name,
        identity_id: identity?.id ?? "",
        key_id: keyId ?? "",
        error_code: error.entry.code,
        reason: why,
      });
      return error;
    };
    const fail = (why: Failure, cause?: unknown): MlsdmError =>
      report(
        new MlsdmError(REASONS[why], {
          detail: why === "cache_unavailable" ? "the replay cache of request signing is unavailable" : why,
          cause,
        }),
        why,
      );
    if (header === null && keyId === null) {
      if (options.required || identity?.requireSignature === true) throw fail("missing");
      return;
    }
    const parsed = header === null ? undefined : parseSignatureHeader(header);
    if (!parsed || keyId === null) throw fail("malformed");
    const secret = options.keys().get(keyId);
    // eslint-disable-next-line security/detect-possible-timing-attacks -- compares with undefined (key presence), not a secret value
    if (secret === undefined) throw fail("unknown_key");
    if (
      !signaturesEqual(parsed.signature, expectedSignature(secret, context.method, parsed.timestamp, request))
    ) {
      throw fail("mismatch");
    }
    const nowMs = now();
    const ageSeconds = nowMs / 1000 - parsed.timestamp;
    if (ageSeconds > options.maxAgeSeconds + options.clockSkewSeconds) throw fail("stale");
    if (ageSeconds < -options.clockSkewSeconds) throw fail("future");
    // Remember the signature until its timestamp leaves the window (plus a second for rounding).
    const ttlMs = (parsed.timestamp + options.maxAgeSeconds + options.clockSkewSeconds + 1) * 1000 - nowMs;
    let fresh: boolean;
    try {
      fresh = await options.replayCache.remember(`${keyId}:${parsed.signatureBase64}`, ttlMs);
    } catch (error) {
      if (error instanceof MlsdmError) throw report(error, "cache_refused"); // e.g. the memory cache is full
      throw fail("cache_unavailable", error);
    }
    if (!fresh) throw fail("replayed");
  };
}
