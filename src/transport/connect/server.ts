/**
 * The Connect listener (connect-node): Connect (JSON and binary), gRPC and gRPC-Web over
 * HTTP/1.1 and h2c on one port (with TLS: HTTP/2 or HTTP/1.1 by ALPN), for browsers, curl and
 * HTTP clients; plus `/healthz`, `/readyz`, `/metrics` and the browser playground `/playground/`. It mounts the same service implementations as the
 * grpc-js listener. Every response
 * carries the security headers; cross-origin browsers are served per the CORS allow-list
 * (`http-security.ts`).
 */
import { createContextValues } from "@connectrpc/connect";
import { LISTENER, PEER_CERTIFICATE } from "../../policy/call-context.js";
import type { MountedService } from "../grpc/server.js";
import type { ListenerTls } from "../tls/tls-files.js";
import { startDualProtocolServer } from "./dual-protocol-server.js";
import { httpRoutes, type ProbeState } from "./http-routes.js";
import { withHttpSecurity } from "./http-security.js";
import { fixMalformedRequestStatus } from "./malformed-request.js";
import type { PlaygroundOptions } from "./playground-route.js";
import { createNodeAdapter } from "./node-adapter.js";
import { peerCertificateReader, startSecureServer } from "./secure-server.js";

/** Options of the Connect listener. */
export interface ConnectListenerOptions {
  readonly host: string;
  readonly port: number;
  readonly services: readonly MountedService[];
  readonly maxMessageBytes: number;
  readonly probes: ProbeState;
  /** Prometheus exposition for `GET /metrics`. */
  readonly metrics?: () => Promise<{ contentType: string; text: string }>;
  /** Serve TLS (and mTLS when the files include a client CA bundle); plaintext without. */
  readonly tls?: ListenerTls;
  /** Browser origins allowed cross-origin (http.corsOrigins). Default: none. */
  readonly corsOrigins?: readonly string[];
  /** The browser playground at /playground (DOC-004). Default: not served. */
  readonly playground?: PlaygroundOptions;
}

/** A started Connect listener. */
export interface ConnectListener {
  readonly port: number;
  /** Stops taking new connections, lets running calls finish for up to `graceMs`, then cuts them off. */
  close(graceMs: number): Promise<void>;
}

/** Starts the Connect listener with every service mounted. */
export async function startConnectListener(options: ConnectListenerOptions): Promise<ConnectListener> {
  const shutdown = new AbortController();
  const tls = options.tls;
  const peerOf = tls ? peerCertificateReader(tls) : undefined;
  const handler = createNodeAdapter({
    routes(router) {
      for (const { service, impl } of options.services) router.service(service, impl);
    },
    fallback: httpRoutes(options.probes, options.metrics, options.playground),
    readMaxBytes: options.maxMessageBytes,
    writeMaxBytes: options.maxMessageBytes * 4,
    // curl and plain HTTP clients do not send Connect-Protocol-Version; accept them.
    requireConnectProtocolHeader: false,
    shutdownSignal: shutdown.signal,
    contextValues: (request) => {
      const values = createContextValues().set(LISTENER, "connect");
      const peer = peerOf?.(request);
      if (peer) values.set(PEER_CERTIFICATE, peer);
      return values;
    },
    transformResponse: fixMalformedRequestStatus,
  });
  const secured = withHttpSecurity(handler, {
    tls: tls !== undefined,
    corsOrigins: options.corsOrigins ?? [],
  });
  const server = tls
    ? await startSecureServer(options.host, options.port, secured, tls)
    : await startDualProtocolServer(options.host, options.port, secured);
  return {
    port: server.port,
    async close(graceMs) {
      server.closeGracefully();
      const timer = setTimeout(() => {
        shutdown.abort();
        server.destroyAll();
      }, graceMs);
      await server.closed();
      clearTimeout(timer);
    },
  };
}
