/**
 * connect-node reports a request body that is not a valid protobuf message ("parse binary")
 * as INTERNAL (unary and streaming alike), and one over readMaxBytes as RESOURCE_EXHAUSTED, on all three protocols. Bad input must never count as a server fault (it
 * would burn the availability budget and page someone), so this response transform turns
 * those two errors into INVALID_ARGUMENT (E106 MALFORMED_REQUEST, E107 REQUEST_TOO_LARGE), as
 * the grpc-js listener answers. Nothing else is touched; well-formed responses stream through unbuffered.
 */
import { ConnectError } from "@connectrpc/connect";
import type { UniversalServerResponse } from "@connectrpc/connect/protocol";
import {
  codeToHttpStatus,
  endStreamFlag,
  endStreamFromJson,
  endStreamToJson,
  errorFromJsonBytes,
  errorToJsonBytes,
} from "@connectrpc/connect/protocol-connect";
import { findTrailerError, setTrailerStatus } from "@connectrpc/connect/protocol-grpc";
import { trailerFlag, trailerParse, trailerSerialize } from "@connectrpc/connect/protocol-grpc-web";
import { MlsdmError } from "../../telemetry/errors/index.js";

// eslint-disable-next-line security/detect-unsafe-regex -- bounded or unambiguous repetition only (no nested ambiguous quantifier): linear time
const TOO_LARGE = /^message size (\d+ )?is larger than configured readMaxBytes (\d+)/;

/** The catalogue error for a connect-node input error we rewrite, or undefined to leave it. */
function replacementFor(error: ConnectError | undefined): ConnectError | undefined {
  if (error === undefined) return undefined;
  if (error.rawMessage.startsWith("parse binary: ")) {
    return new MlsdmError("MALFORMED_REQUEST", {
      detail: "the request body is not a valid protobuf message",
    }).toConnectError();
  }
  const tooLarge = TOO_LARGE.exec(error.rawMessage);
  if (tooLarge) {
    return new MlsdmError("REQUEST_TOO_LARGE", {
      detail: `the request exceeds the limit of ${tooLarge[2] ?? "?"} bytes`,
    }).toConnectError();
  }
  return undefined;
}

async function readAll(body: AsyncIterable<Uint8Array> | undefined): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  if (body) for await (const chunk of body) chunks.push(chunk);
  return Buffer.concat(chunks);
}

async function* single(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  await Promise.resolve();
  yield bytes;
}

/** Connect unary: a 500 JSON error body. Error bodies are small, so buffering them is fine. */
async function fixConnectUnary(response: UniversalServerResponse): Promise<UniversalServerResponse> {
  const bytes = await readAll(response.body);
  let error: ConnectError | undefined;
  try {
    error = errorFromJsonBytes(bytes, undefined, ConnectError.from("unparseable error body"));
  } catch {
    error = undefined;
  }
  const replacement = replacementFor(error);
  if (!replacement) return { ...response, body: single(bytes) };
  const replacementBytes = errorToJsonBytes(replacement, {});
  const header = new Headers(response.header);
  replacement.metadata.forEach((value, key) => {
    header.set(key, value);
  });
  if (header.has("content-length")) header.set("content-length", String(replacementBytes.byteLength));
  return {
    ...response,
    header,
    status: codeToHttpStatus(replacement.code),
    body: single(replacementBytes),
  };
}

/** gRPC: the status is in the trailer (or, trailers-only, in the header), written after the body. */
function fixGrpc(response: UniversalServerResponse): UniversalServerResponse {
  const fix = (headers: Headers | undefined): void => {
    const replacement = headers && replacementFor(findTrailerError(headers));
    if (headers && replacement) setTrailerStatus(headers, replacement);
  };
  fix(response.header);
  const body = response.body;
  if (!body) {
    fix(response.trailer);
    return response;
  }
  return {
    ...response,
    body: (async function* () {
      yield* body;
      fix(response.trailer);
    })(),
  };
}

/** gRPC-Web: the trailer is the last frame of the body; rewrite that frame if it is ours. */
function fixGrpcWebFrame(chunk: Uint8Array): Uint8Array {
  if (chunk.length < 5 || chunk[0] !== trailerFlag) return chunk;
  const length = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).readUInt32BE(1);
  if (chunk.length !== 5 + length) return chunk;
  const replacement = replacementFor(findTrailerError(trailerParse(chunk.subarray(5))));
  if (!replacement) return chunk;
  return frame(trailerFlag, trailerSerialize(setTrailerStatus(new Headers(), replacement)));
}

/** A frame of `flag` with `data` as payload (5-byte envelope header). */
function frame(flag: number, data: Uint8Array): Uint8Array {
  const out = Buffer.alloc(5 + data.length);
  out[0] = flag;
  out.writeUInt32BE(data.length, 1);
  out.set(data, 5);
  return out;
}

/** Connect streaming: the error is in the uncompressed end-stream frame (JSON); rewrite it if ours. */
function fixConnectStreamFrame(chunk: Uint8Array): Uint8Array {
  if (chunk.length < 5 || chunk[0] !== endStreamFlag) return chunk;
  const length = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).readUInt32BE(1);
  if (chunk.length !== 5 + length) return chunk;
  let end;
  try {
    end = endStreamFromJson(chunk.subarray(5));
  } catch {
    return chunk;
  }
  const replacement = replacementFor(end.error);
  if (!replacement) return chunk;
  const json = endStreamToJson(end.metadata, replacement, {});
  return frame(endStreamFlag, new TextEncoder().encode(JSON.stringify(json)));
}

function fixFrames(
  response: UniversalServerResponse,
  fix: (chunk: Uint8Array) => Uint8Array,
): UniversalServerResponse {
  const body = response.body;
  if (!body) return response;
  return {
    ...response,
    body: (async function* () {
      for await (const chunk of body) yield fix(chunk);
    })(),
  };
}

/** The response transform for the Connect listener. */
export async function fixMalformedRequestStatus(
  response: UniversalServerResponse,
): Promise<UniversalServerResponse> {
  const contentType = response.header?.get("content-type") ?? "";
  if (/^application\/grpc-web/i.test(contentType)) return fixFrames(response, fixGrpcWebFrame);
  if (/^application\/connect\+/i.test(contentType)) return fixFrames(response, fixConnectStreamFrame);
  if (/^application\/grpc/i.test(contentType)) return fixGrpc(response);
  if ((response.status === 500 || response.status === 429) && /^application\/json/i.test(contentType)) {
    return fixConnectUnary(response);
  }
  return response;
}
