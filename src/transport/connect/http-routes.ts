/**
 * Plain HTTP endpoints beside the RPCs on the Connect listener, and the answer for paths
 * that match no RPC: `GET /healthz` (liveness), `GET /readyz` (readiness), `GET /metrics`, the
 * browser playground under `/playground/` (`playground-route.ts`), and otherwise a
 * protocol-correct "unknown method" error with ErrorInfo, for Connect, gRPC and gRPC-Web
 * clients alike.
 */
import type { ConnectError } from "@connectrpc/connect";
import { codeToHttpStatus, errorToJson } from "@connectrpc/connect/protocol-connect";
import { setTrailerStatus } from "@connectrpc/connect/protocol-grpc";
import type { ConnectNodeAdapterOptions } from "@connectrpc/connect-node";
import { MlsdmError } from "../../telemetry/errors/index.js";
import { servePlayground, type PlaygroundOptions } from "./playground-route.js";

type NodeHandler = NonNullable<ConnectNodeAdapterOptions["fallback"]>;
type NodeServerRequest = Parameters<NodeHandler>[0];
type NodeServerResponse = Parameters<NodeHandler>[1];

/** Readiness and liveness as the HTTP endpoints report them. */
export interface ProbeState {
  /** True while the process can answer at all (liveness). */
  live(): boolean;
  /** Readiness plus the status of each service for the response body (omitted in secure mode). */
  ready(): { ready: boolean; statuses?: Record<string, string> };
}

function sendJson(response: NodeServerResponse, status: number, body: unknown, head = false): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
    "cache-control": "no-store",
  });
  if (head) response.end();
  else response.end(text);
}

function sendRpcError(request: NodeServerRequest, response: NodeServerResponse, error: ConnectError): void {
  const contentType = request.headers["content-type"] ?? "";
  if (/^application\/grpc(-web)?(\+|;|$)/i.test(contentType)) {
    // gRPC and gRPC-Web: HTTP 200 with the status in headers ("trailers-only" response).
    const headers = setTrailerStatus(new Headers({ "content-type": contentType }), error);
    response.writeHead(200, Object.fromEntries(headers.entries()));
    response.end();
    return;
  }
  sendJson(response, codeToHttpStatus(error.code), errorToJson(error, undefined));
}

/** The fallback handler: probes, metrics and the playground, then "no such method" for anything else. */
export function httpRoutes(
  probes: ProbeState,
  metrics?: () => Promise<{ contentType: string; text: string }>,
  playground?: PlaygroundOptions,
) {
  return (request: NodeServerRequest, response: NodeServerResponse): void => {
    request.resume();
    const path = (request.url ?? "/").split("?")[0] ?? "/";
    const method = request.method ?? "GET";
    if (path === "/metrics" && method === "GET" && metrics) {
      metrics().then(
        ({ contentType, text }) => {
          response.writeHead(200, { "content-type": contentType, "cache-control": "no-store" });
          response.end(text);
        },
        () => {
          response.writeHead(500, { "content-type": "text/plain" });
          response.end("metrics collection failed\n");
        },
      );
      return;
    }
    if ((path === "/healthz" || path === "/readyz") && (method === "GET" || method === "HEAD")) {
      if (path === "/healthz") {
        const live = probes.live();
        sendJson(response, live ? 200 : 503, { status: live ? "SERVING" : "NOT_SERVING" }, method === "HEAD");
      } else {
        const { ready, statuses } = probes.ready();
        sendJson(
          response,
          ready ? 200 : 503,
          { status: ready ? "SERVING" : "NOT_SERVING", ...(statuses ? { services: statuses } : {}) },
          method === "HEAD",
        );
      }
      return;
    }
    if (playground && servePlayground(playground, request, response, path)) return;
    const error = new MlsdmError("METHOD_NOT_FOUND", {
      detail: `no RPC or endpoint at ${method} ${path.slice(0, 200)}`,
    }).toConnectError();
    sendRpcError(request, response, error);
  };
}
