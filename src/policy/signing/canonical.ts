/**
 * The server's side of the signing protocol (SEC-007): strict parsing of the
 * `x-mlsdm-signature` value and the expected signature of a decoded request. The canonical
 * string itself is defined once, in `src/client/signing-protocol.ts`, which clients share.
 */
import { timingSafeEqual } from "node:crypto";
import type { DescMethod, MessageInitShape } from "@bufbuild/protobuf";
import { canonicalString, hmacBytes, messageDigest, methodPath } from "../../client/signing-protocol.js";

export {
  KEY_ID_HEADER,
  SIGNATURE_HEADER,
  canonicalString,
  methodPath,
} from "../../client/signing-protocol.js";

/** A parsed `x-mlsdm-signature` value. */
export interface SignatureHeader {
  /** Unix seconds, exactly as sent (no sign, no leading zeros, no fraction). */
  readonly timestamp: number;
  /** The 32 signature bytes. */
  readonly signature: Buffer;
  /** The signature as sent (canonical padded base64: one spelling per signature). */
  readonly signatureBase64: string;
}

const TIMESTAMP = /^(0|[1-9][0-9]{0,11})$/;
/** Standard base64 of 32 bytes: 43 characters and one "=". */
const SIGNATURE = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/;

/**
 * Parses `timestamp=<unix seconds>,signature=<base64>` (either order, optional spaces after the
 * comma); anything else (a missing or repeated part, an extra part, a signature that is not
 * exactly 32 bytes in padded standard base64) is undefined.
 */
export function parseSignatureHeader(value: string): SignatureHeader | undefined {
  const parts = new Map<string, string>();
  for (const part of value.split(",")) {
    const eq = part.indexOf("=");
    if (eq < 0) return undefined;
    const name = part.slice(0, eq).trim();
    if (parts.has(name)) return undefined;
    parts.set(name, part.slice(eq + 1).trim());
  }
  const timestamp = parts.get("timestamp");
  const signature = parts.get("signature");
  if (parts.size !== 2 || timestamp === undefined || signature === undefined) return undefined;
  if (!TIMESTAMP.test(timestamp) || !SIGNATURE.test(signature)) return undefined;
  return {
    timestamp: Number(timestamp),
    signature: Buffer.from(signature, "base64"),
    signatureBase64: signature,
  };
}

/** The HMAC the server expects for `request` (a decoded message) on `method` at `timestamp`. */
export function expectedSignature(
  secret: string | Uint8Array,
  method: DescMethod,
  timestamp: number,
  request: unknown,
): Buffer {
  const digest = messageDigest(method.input, request as MessageInitShape<typeof method.input>);
  return hmacBytes(secret, canonicalString(methodPath(method), timestamp, digest));
}

/** Constant-time comparison of two signatures (false when the lengths differ). */
export function signaturesEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
