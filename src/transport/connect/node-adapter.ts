/**
 * connect-node's request handler, with one hook connect-node lacks: a transform of each RPC's
 * universal response before it is written. Same routing and conversion as
 * `connectNodeAdapter` (it is built from the same exported pieces); see ADR 0009 for why.
 */
import { Code, ConnectError, createConnectRouter, type ConnectRouter } from "@connectrpc/connect";
import type { UniversalHandler, UniversalServerResponse } from "@connectrpc/connect/protocol";
import {
  compressionBrotli,
  compressionGzip,
  universalRequestFromNodeRequest,
  universalResponseToNodeResponse,
  type ConnectNodeAdapterOptions,
} from "@connectrpc/connect-node";
import { logger } from "../../telemetry/logger.js";

type NodeHandler = NonNullable<ConnectNodeAdapterOptions["fallback"]>;

/** Options: connect-node's adapter options plus the response transform. */
export interface NodeAdapterOptions extends Omit<ConnectNodeAdapterOptions, "requestPathPrefix"> {
  readonly routes: (router: ConnectRouter) => void;
  readonly fallback: NodeHandler;
  /** Rewrites a handler's response (e.g. an error status) before it goes on the wire. */
  readonly transformResponse: (
    response: UniversalServerResponse,
    handler: UniversalHandler,
  ) => Promise<UniversalServerResponse> | UniversalServerResponse;
}

/** A Node.js request handler for http and http2 servers. */
export function createNodeAdapter(options: NodeAdapterOptions): NodeHandler {
  const router = createConnectRouter({
    ...options,
    acceptCompression: options.acceptCompression ?? [compressionGzip, compressionBrotli],
  });
  options.routes(router);
  const paths = new Map(router.handlers.map((handler) => [handler.requestPath, handler]));
  return (request, response) => {
    const handler = paths.get(request.url?.split("?", 2)[0] ?? "");
    if (!handler) {
      options.fallback(request, response);
      return;
    }
    const universal = universalRequestFromNodeRequest(
      request,
      response,
      undefined,
      options.contextValues?.(request),
    );
    handler(universal)
      .then((result) => options.transformResponse(result, handler))
      .then((result) => universalResponseToNodeResponse(result, response))
      .catch((reason: unknown) => {
        if (ConnectError.from(reason).code === Code.Aborted) return;
        logger.warn("rpc response could not be written", {
          event: "rpc_write_failed",
          method: `/${handler.service.typeName}/${handler.method.name}`,
          error: reason instanceof Error ? reason.message : String(reason),
        });
      });
  };
}
