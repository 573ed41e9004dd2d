/**
 * Builds connect's transport-neutral `HandlerContext` for a grpc-js call, so the service
 * implementations and policies see the same context on both listeners: headers, deadline,
 * cancellation signal, protocol name.
 */
import type { DescMethod } from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  createContextValues,
  encodeBinaryHeader,
  type HandlerContext,
} from "@connectrpc/connect";
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

/*
 * Abort reasons are made once: aborting with no reason makes Node build a DOMException (with a
 * stack trace) per call, which the load harness profile showed as ~6 % of a ProcessEvent call
 * (ADR 0021). Readers of `signal.reason` only look at its type and code.
 */
const CLIENT_CANCELLED = new ConnectError("the client cancelled the call", Code.Canceled);
const SHUTTING_DOWN = new ConnectError("the server is shutting down", Code.Unavailable);
const CALL_ENDED = new ConnectError("the call has ended", Code.Canceled);

/** The context of one grpc-js call, and `abort` to end it (the handler calls it once the call is over). */
export interface GrpcHandlerContext extends HandlerContext {
  abort(reason?: unknown): void;
}

/**
 * A HandlerContext for `call`, with the same behaviour as connect's `createHandlerContext`
 * (signal aborted by a client cancel, the deadline or the shutdown signal; `abort()` ends it) at
 * a fraction of its cost (ADR 0021): the AbortController, the shutdown listener and the deadline
 * timer are only made when something reads `signal` (most unary calls never do), and aborts
 * use reasons made once instead of a DOMException per call. With `peer` (mTLS), the client
 * certificate grpc-js reports as verified is put on it as PEER_CERTIFICATE.
 */
export function handlerContextFor(
  method: DescMethod,
  call: ServerSurfaceCall,
  shutdownSignal: AbortSignal,
  peer?: PeerFacts,
): GrpcHandlerContext {
  const timeout = remainingMs(call);
  const deadlineAt = timeout === undefined ? undefined : Date.now() + timeout;
  let controller: AbortController | undefined;
  /** Why the call ended (first reason wins); undefined while it runs. */
  let ended: unknown;
  let timer: NodeJS.Timeout | undefined;
  let listening = false;
  const onShutdown = (): void => {
    end(shutdownSignal.reason ?? SHUTTING_DOWN);
  };
  const expire = (): void => {
    end(new ConnectError("the operation timed out", Code.DeadlineExceeded));
  };
  function end(reason: unknown): void {
    if (ended !== undefined) return;
    ended = reason;
    if (timer !== undefined) clearTimeout(timer);
    if (listening) shutdownSignal.removeEventListener("abort", onShutdown);
    controller?.abort(reason);
  }
  function signal(): AbortSignal {
    if (controller) return controller.signal;
    controller = new AbortController();
    if (ended !== undefined) controller.abort(ended);
    else if (shutdownSignal.aborted) onShutdown();
    else if (deadlineAt !== undefined && deadlineAt <= Date.now()) expire();
    else {
      shutdownSignal.addEventListener("abort", onShutdown);
      listening = true;
      if (deadlineAt !== undefined) timer = setTimeout(expire, deadlineAt - Date.now());
    }
    return controller.signal;
  }
  call.once("cancelled", () => {
    end(CLIENT_CANCELLED);
  });
  return {
    service: method.parent,
    method,
    protocolName: "grpc",
    requestMethod: "POST",
    url: `http://${call.getHost()}/${method.parent.typeName}/${method.name}`,
    get signal() {
      return signal();
    },
    timeoutMs: () => (deadlineAt === undefined ? undefined : deadlineAt - Date.now()),
    requestHeader: metadataToHeaders(call.metadata),
    responseHeader: new Headers(),
    responseTrailer: new Headers(),
    values: contextValuesFor(call, peer),
    abort(reason?: unknown) {
      end(reason ?? CALL_ENDED);
    },
  };
}
