/**
 * Bridges a connect `ServiceImpl` (the one implementation both listeners mount) to grpc-js
 * handlers. No business logic here: build the context, call the implementation, write the
 * result or translate the error.
 */
import { once } from "node:events";
import type { DescMethod, DescService } from "@bufbuild/protobuf";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import type {
  sendUnaryData,
  ServerUnaryCall,
  ServerWritableStream,
  UntypedHandleCall,
  UntypedServiceImplementation,
} from "@grpc/grpc-js";
import { MlsdmError } from "../../telemetry/errors/index.js";
import type { PeerFacts } from "../tls/peer-facts.js";
import { handlerContextFor } from "./handler-context.js";
import { MalformedRequest } from "./service-definition.js";
import { headersToMetadata, toGrpcError } from "./status.js";

type AnyHandler = (request: unknown, context: HandlerContext) => unknown;

function hasEntries(headers: Headers): boolean {
  for (const _ of headers.keys()) return true;
  return false;
}

function malformed(request: unknown): MlsdmError | undefined {
  if (!(request instanceof MalformedRequest)) return undefined;
  if (request.tooLarge) return new MlsdmError("REQUEST_TOO_LARGE", { detail: request.reason });
  return new MlsdmError("MALFORMED_REQUEST", { detail: "the request is not a valid protobuf message" });
}

function unaryHandler(
  method: DescMethod,
  handler: AnyHandler,
  shutdown: AbortSignal,
  peer: PeerFacts | undefined,
): UntypedHandleCall {
  return (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => {
    const context = handlerContextFor(method, call, shutdown, peer);
    const rejected = malformed(call.request);
    const result = rejected
      ? Promise.reject(rejected.toConnectError())
      : Promise.resolve().then(() => handler(call.request, context));
    result
      .then(
        (response) => {
          if (hasEntries(context.responseHeader))
            call.sendMetadata(headersToMetadata(context.responseHeader));
          callback(null, response, headersToMetadata(context.responseTrailer));
        },
        (error: unknown) => {
          callback(toGrpcError(error, context.responseHeader));
        },
      )
      .finally(() => {
        context.abort();
      });
  };
}

async function pump(
  call: ServerWritableStream<unknown, unknown>,
  messages: AsyncIterable<unknown>,
  context: HandlerContext,
): Promise<void> {
  let headersSent = false;
  for await (const message of messages) {
    if (!headersSent) {
      call.sendMetadata(headersToMetadata(context.responseHeader));
      headersSent = true;
    }
    if (!call.write(message)) {
      await once(call, "drain", { signal: context.signal });
    }
  }
  call.end(headersToMetadata(context.responseTrailer));
}

function serverStreamingHandler(
  method: DescMethod,
  handler: AnyHandler,
  shutdown: AbortSignal,
  peer: PeerFacts | undefined,
): UntypedHandleCall {
  return (call: ServerWritableStream<unknown, unknown>) => {
    const context = handlerContextFor(method, call, shutdown, peer);
    const rejected = malformed(call.request);
    const run = rejected
      ? Promise.reject(rejected.toConnectError())
      : pump(call, handler(call.request, context) as AsyncIterable<unknown>, context);
    run
      .catch((error: unknown) => {
        if (!call.cancelled) call.emit("error", toGrpcError(error, context.responseHeader));
      })
      .finally(() => {
        context.abort();
      });
  };
}

/**
 * grpc-js handlers for `impl`, keyed by method local name (matching `serviceDefinition`).
 * `shutdown` aborts every running handler's signal at forced shutdown; with `peer` (mTLS), each
 * call's verified client certificate is put on its context.
 */
export function grpcHandlers<S extends DescService>(
  service: S,
  impl: ServiceImpl<S>,
  shutdown: AbortSignal,
  peer?: PeerFacts,
): UntypedServiceImplementation {
  const handlers = impl as unknown as Record<string, AnyHandler>;
  const result: UntypedServiceImplementation = {};
  for (const method of service.methods) {
    const handler = handlers[method.localName];
    if (!handler) throw new Error(`${service.typeName}.${method.name} has no implementation`);
    const bound = handler.bind(impl);
    if (method.methodKind === "unary") result[method.localName] = unaryHandler(method, bound, shutdown, peer);
    else if (method.methodKind === "server_streaming")
      result[method.localName] = serverStreamingHandler(method, bound, shutdown, peer);
    else throw new Error(`${service.typeName}.${method.name}: ${method.methodKind} is not supported`);
  }
  return result;
}
