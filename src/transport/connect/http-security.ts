/**
 * Browser-facing protections of the Connect listener (BASE-SEC-e): security headers on every
 * response (RPCs, errors, /healthz, /readyz, /metrics, preflights) and a CORS allow-list.
 *
 * CORS: a preflight (OPTIONS with Access-Control-Request-Method) from a listed origin answers
 * 204 with that origin, the Connect/gRPC-Web request headers plus MLSDM's own, and a max age;
 * from any other origin it is refused with 403 and no Access-Control-Allow-Origin. Actual
 * requests from a listed origin carry Access-Control-Allow-Origin and the expose list (grpc-status,
 * grpc-message, grpc-status-details-bin, ...), so browsers can read errors; requests from other
 * origins are served without them, which keeps their answers unreadable to the page.
 */
import type http from "node:http";
import type http2 from "node:http2";
import { cors } from "@connectrpc/connect";

type Request = http.IncomingMessage | http2.Http2ServerRequest;
type Response = http.ServerResponse | http2.Http2ServerResponse;
type Handler = (request: Request, response: Response) => void;

/** Options of the HTTP security wrapper. */
export interface HttpSecurityOptions {
  /** TLS is on for this listener: adds Strict-Transport-Security. */
  readonly tls: boolean;
  /** Exact origins allowed cross-origin; empty: none. */
  readonly corsOrigins: readonly string[];
}

/** Headers on every response; HSTS only over TLS (browsers ignore it on plain HTTP anyway). */
export function securityHeaders(tls: boolean): Record<string, string> {
  return {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "content-security-policy": "default-src 'self'",
    "referrer-policy": "no-referrer",
    ...(tls ? { "strict-transport-security": "max-age=31536000; includeSubDomains" } : {}),
  };
}

/** Request headers a browser may send: Connect's and gRPC-Web's, plus MLSDM's own. */
export const CORS_ALLOWED_HEADERS: readonly string[] = [
  ...cors.allowedHeaders,
  "authorization",
  "x-api-key",
  "x-request-id",
  "x-mlsdm-priority",
  "x-mlsdm-signature",
  "x-mlsdm-key-id",
  "traceparent",
];

/** Response headers a browser script may read. */
export const CORS_EXPOSED_HEADERS: readonly string[] = [...cors.exposedHeaders, "x-request-id"];

/** How long a browser may cache a preflight answer, in seconds. */
export const CORS_MAX_AGE_SECONDS = 7200;

function headerOf(request: Request, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Wraps `handler` with the security headers and the CORS allow-list. */
export function withHttpSecurity(handler: Handler, options: HttpSecurityOptions): Handler {
  const headers = Object.entries(securityHeaders(options.tls));
  const allowed = new Set(options.corsOrigins);
  return (request, response) => {
    for (const [name, value] of headers) response.setHeader(name, value);
    const origin = headerOf(request, "origin");
    if (origin === undefined) {
      handler(request, response);
      return;
    }
    response.setHeader("vary", "Origin");
    const listed = allowed.has(origin);
    const preflight =
      request.method === "OPTIONS" && headerOf(request, "access-control-request-method") !== undefined;
    if (preflight) {
      request.resume();
      if (!listed) {
        response.writeHead(403, { "content-type": "text/plain", "cache-control": "no-store" });
        response.end("origin not allowed\n");
        return;
      }
      response.writeHead(204, {
        "access-control-allow-origin": origin,
        "access-control-allow-methods": cors.allowedMethods.join(", "),
        "access-control-allow-headers": CORS_ALLOWED_HEADERS.join(", "),
        "access-control-max-age": String(CORS_MAX_AGE_SECONDS),
      });
      response.end();
      return;
    }
    if (listed) {
      response.setHeader("access-control-allow-origin", origin);
      response.setHeader("access-control-expose-headers", CORS_EXPOSED_HEADERS.join(", "));
    }
    handler(request, response);
  };
}
