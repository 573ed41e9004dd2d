/**
 * Client helpers that sign MLSDM requests (SEC-007): `signRequest` computes the two metadata
 * entries for one request; `connectSigningInterceptor` and `grpcSigningInterceptor` sign every
 * unary and server-streaming call of a Connect or grpc-js client. The protocol is in
 * `signing-protocol.ts` and docs/security/signing.md.
 *
 * Only `@bufbuild/protobuf`, `@connectrpc/connect` and `@grpc/grpc-js` are used here, so this
 * module can be copied into (or imported by) a client without the server.
 */
import type { DescMessage, DescMethod, DescService, MessageInitShape } from "@bufbuild/protobuf";
import type { Interceptor } from "@connectrpc/connect";
import { createAsyncIterable } from "@connectrpc/connect/protocol";
import * as grpc from "@grpc/grpc-js";
import {
  KEY_ID_HEADER,
  SIGNATURE_HEADER,
  canonicalString,
  formatSignatureHeader,
  hmacBytes,
  messageDigest,
  methodPath,
  type SigningKey,
} from "./signing-protocol.js";

export {
  KEY_ID_HEADER,
  SIGNATURE_HEADER,
  canonicalString,
  formatSignatureHeader,
  messageBytes,
  messageDigest,
  methodPath,
  type SigningKey,
} from "./signing-protocol.js";

/** Options of the signing helpers. */
export interface SignOptions {
  /** The clock, in ms since the epoch (default `Date.now`); the timestamp is its whole seconds. */
  readonly now?: () => number;
}

/** The metadata entries that sign one request. */
export interface RequestSignature {
  readonly [KEY_ID_HEADER]: string;
  readonly [SIGNATURE_HEADER]: string;
}

/** A key, or a function returning the key to use now (for rotation without new clients). */
export type KeySource = SigningKey | (() => SigningKey);

function currentKey(source: KeySource): SigningKey {
  return typeof source === "function" ? source() : source;
}

/**
 * Signs one request: `method` is the method descriptor (or its full path, then `schema` is the
 * request message schema), `message` the request (a message or a plain init object).
 */
export function signRequest<Desc extends DescMessage>(
  key: SigningKey,
  method: DescMethod | string,
  schema: Desc,
  message: MessageInitShape<Desc>,
  options: SignOptions = {},
): RequestSignature {
  const path = typeof method === "string" ? method : methodPath(method);
  const timestamp = Math.floor((options.now ?? Date.now)() / 1000);
  const canonical = canonicalString(path, timestamp, messageDigest(schema, message));
  const signature = hmacBytes(key.secret, canonical).toString("base64");
  return { [KEY_ID_HEADER]: key.keyId, [SIGNATURE_HEADER]: formatSignatureHeader(timestamp, signature) };
}

function applyTo(headers: Headers, signature: RequestSignature): void {
  headers.set(KEY_ID_HEADER, signature[KEY_ID_HEADER]);
  headers.set(SIGNATURE_HEADER, signature[SIGNATURE_HEADER]);
}

/**
 * A Connect interceptor that signs unary and server-streaming calls (any protocol: Connect JSON
 * or binary, gRPC, gRPC-Web). Client- and bidi-streaming calls are passed through unsigned.
 */
export function connectSigningInterceptor(key: KeySource, options: SignOptions = {}): Interceptor {
  return (next) => async (req) => {
    if (!req.stream) {
      applyTo(req.header, signRequest(currentKey(key), req.method, req.method.input, req.message, options));
      return next(req);
    }
    if (req.method.methodKind !== "server_streaming") return next(req);
    const messages: unknown[] = [];
    for await (const message of req.message) messages.push(message);
    const [only] = messages;
    if (messages.length === 1 && only !== undefined) {
      applyTo(req.header, signRequest(currentKey(key), req.method, req.method.input, only as never, options));
    }
    return next({
      ...req,
      message: createAsyncIterable(messages) as typeof req.message,
    });
  };
}

/**
 * A grpc-js client interceptor that signs unary and server-streaming calls of `services`
 * (protobuf-es service descriptors; methods are looked up by path). Calls to other methods are
 * passed through unsigned. Use it as `new Client(address, credentials, { interceptors: [it] })`.
 */
export function grpcSigningInterceptor(
  services: DescService | readonly DescService[],
  key: KeySource,
  options: SignOptions = {},
): grpc.Interceptor {
  const methods = new Map<string, DescMethod>();
  for (const service of Array.isArray(services) ? services : [services]) {
    for (const method of (service as DescService).methods) {
      if (method.methodKind === "unary" || method.methodKind === "server_streaming") {
        methods.set(methodPath(method), method);
      }
    }
  }
  return (callOptions, nextCall) => {
    const method = methods.get(callOptions.method_definition.path);
    if (!method) return new grpc.InterceptingCall(nextCall(callOptions));
    let start: (() => void) | undefined;
    let metadata: grpc.Metadata | undefined;
    const requester = new grpc.RequesterBuilder()
      .withStart((md, listener, next) => {
        // The metadata goes out only once the message is known (sendMessage follows start).
        metadata = md;
        start = () => {
          next(md, listener);
        };
      })
      .withSendMessage((message, next) => {
        if (metadata && start) {
          const signature = signRequest(currentKey(key), method, method.input, message as never, options);
          metadata.set(KEY_ID_HEADER, signature[KEY_ID_HEADER]);
          metadata.set(SIGNATURE_HEADER, signature[SIGNATURE_HEADER]);
          const begin = start;
          start = undefined;
          begin();
        }
        next(message);
      })
      .withHalfClose((next) => {
        // A call that never sent a message still has to start.
        const begin = start;
        start = undefined;
        begin?.();
        next();
      })
      .withCancel((next) => {
        const begin = start;
        start = undefined;
        begin?.();
        next();
      })
      .build();
    return new grpc.InterceptingCall(nextCall(callOptions), requester);
  };
}
