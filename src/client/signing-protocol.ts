/**
 * The request-signing protocol (SEC-007), shared by the client helpers and the server policy. It
 * depends on nothing but `node:crypto` and `@bufbuild/protobuf`, so a client can use it without
 * the server's layers.
 *
 * Canonical string (three lines joined by "\n", no trailing newline):
 *
 *     <full method path, e.g. /mlsdm.v1.EngineService/Generate>
 *     <timestamp: unix seconds, decimal>
 *     <lowercase hex SHA-256 of the request message serialised as protobuf binary>
 *
 * The signature is the base64 (standard alphabet, padded) HMAC-SHA256 of the canonical string's
 * UTF-8 bytes under the key's secret (its UTF-8 bytes). The message is always hashed in its
 * protobuf binary form, also for Connect JSON calls, so every protocol signs the same bytes.
 * Metadata: `x-mlsdm-key-id: <id>` and `x-mlsdm-signature: timestamp=<ts>,signature=<base64>`.
 */
import { createHash, createHmac } from "node:crypto";
import {
  create,
  toBinary,
  type DescMessage,
  type DescMethod,
  type MessageInitShape,
} from "@bufbuild/protobuf";

/** Metadata key naming the signing key. */
export const KEY_ID_HEADER = "x-mlsdm-key-id";
/** Metadata key carrying the timestamp and signature. */
export const SIGNATURE_HEADER = "x-mlsdm-signature";

/** A signing key: its id (sent in clear) and its secret (never sent). */
export interface SigningKey {
  readonly keyId: string;
  readonly secret: string | Uint8Array;
}

/** The full path of a method, `/<package>.<Service>/<Method>`, as gRPC puts it on the wire. */
export function methodPath(method: DescMethod): string {
  return `/${method.parent.typeName}/${method.name}`;
}

/**
 * The protobuf binary bytes that are hashed: protobuf-es `toBinary` of the message (fields in
 * field-number order, repeated scalars packed, unknown fields last). Plain init objects are
 * accepted and completed with `create` first, exactly as the grpc-js serialiser does.
 */
export function messageBytes<Desc extends DescMessage>(
  schema: Desc,
  message: MessageInitShape<Desc>,
): Uint8Array {
  return toBinary(schema, create(schema, message));
}

/** Lowercase hex SHA-256 of the message's protobuf binary bytes. */
export function messageDigest<Desc extends DescMessage>(
  schema: Desc,
  message: MessageInitShape<Desc>,
): string {
  return createHash("sha256").update(messageBytes(schema, message)).digest("hex");
}

/** The canonical string: method path, timestamp and body digest on three lines. */
export function canonicalString(path: string, timestamp: number | string, bodySha256Hex: string): string {
  return `${path}\n${String(timestamp)}\n${bodySha256Hex}`;
}

/** The raw HMAC-SHA256 of the canonical string (32 bytes). */
export function hmacBytes(secret: string | Uint8Array, canonical: string): Buffer {
  return createHmac("sha256", secret).update(canonical, "utf8").digest();
}

/** The `x-mlsdm-signature` value: `timestamp=<ts>,signature=<base64>`. */
export function formatSignatureHeader(timestamp: number, signatureBase64: string): string {
  return `timestamp=${timestamp},signature=${signatureBase64}`;
}
