/**
 * Builds connect's transport-neutral `HandlerContext` for a grpc-js call, so the service
 * implementations and policies see the same context on both listeners: headers, deadline,
 * cancellation signal, protocol name.
 */
import type { DescMethod } from "@bufbuild/protobuf";
import { createContextValues, createHandlerContext, encodeBinaryHeader } from "@connectrpc/connect";
import { LISTENER, PEER_CERTIFICATE } from "../../policy/call-context.js";
import type { PeerFacts } from "../tls/peer-facts.js";
import type { Metadata, ServerUnaryCall, ServerWritableStream } from "@grpc/grpc-js";

/** The grpc-js call shapes the contract uses (unary and server streaming). */
type ServerSurfaceCall = ServerUnaryCall<unknown, unknown> | ServerWritableStream<unknown, unknown>;

/** grpc-js metadata as HTTP-style headers (binary values base64-encoded, as connect does). */
export function metadataToHeaders(metadata: Metadata): Headers {
  const headers = new Headers();
  for (const [key, values] of Object.entries(metadata.toJSON())) {
    for (const value of values) {
      headers.append(key, typeof value === "string" ? value : encodeBinaryHeader(value));
    }
  }
  return headers;
}

function remainingMs(call: ServerSurfaceCall): number | undefined {
  const deadline = call.getDeadline();
  const at = deadline instanceof Date ? deadline.getTime() : deadline;
  if (!Number.isFinite(at)) return undefined;
  return Math.max(0, at - Date.now());
}

function contextValuesFor(call: ServerSurfaceCall, peer: PeerFacts | undefined) {
  const values = createContextValues().set(LISTENER, "grpc");
  // grpc-js reports a peer certificate only when the TLS handshake verified it.
  const facts = peer?.of(call.getAuthContext().sslPeerCertificate);
  if (facts) values.set(PEER_CERTIFICATE, facts);
  return values;
}

/**
 * A HandlerContext for `call`; its signal aborts when the client cancels. With `peer` (mTLS),
 * the client certificate grpc-js reports as verified is put on it as PEER_CERTIFICATE.
 */
export function handlerContextFor(
  method: DescMethod,
  call: ServerSurfaceCall,
  shutdownSignal: AbortSignal,
  peer?: PeerFacts,
) {
  const requestAbort = new AbortController();
  call.once("cancelled", () => {
    requestAbort.abort();
  });
  return createHandlerContext({
    service: method.parent,
    method,
    protocolName: "grpc",
    requestMethod: "POST",
    url: `http://${call.getHost()}/${method.parent.typeName}/${method.name}`,
    timeoutMs: remainingMs(call),
    shutdownSignal,
    requestSignal: requestAbort.signal,
    requestHeader: metadataToHeaders(call.metadata),
    contextValues: contextValuesFor(call, peer),
  });
}
