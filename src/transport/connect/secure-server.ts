/**
 * The Connect listener's TLS server (SEC-006): one port, HTTP/2 or HTTP/1.1 chosen by ALPN
 * (`http2.createSecureServer` with `allowHTTP1`), client certificates asked for when the TLS files
 * include a client CA bundle. A rotated certificate or CA bundle applies to new connections via
 * `setSecureContext`, without a restart. Same surface as the plaintext dual-protocol server.
 */
import type http from "node:http";
import http2 from "node:http2";
import type net from "node:net";
import type { SecureContextOptions, TLSSocket } from "node:tls";
import type { PeerCertificateFacts } from "../../policy/call-context.js";
import { logger } from "../../telemetry/logger.js";
import { PeerFacts } from "../tls/peer-facts.js";
import type { ListenerTls, TlsMaterial } from "../tls/tls-files.js";
import type { DualProtocolServer } from "./dual-protocol-server.js";

type Request = http.IncomingMessage | http2.Http2ServerRequest;
type Response = http.ServerResponse | http2.Http2ServerResponse;
type Handler = (request: Request, response: Response) => void;
/** What is read from a request's TLS socket (for HTTP/2, a proxy of it). */
type PeerSocket = Pick<TLSSocket, "authorized" | "getPeerCertificate">;

function contextOptions(material: TlsMaterial): SecureContextOptions {
  return { cert: material.cert, key: material.key, ...(material.ca ? { ca: material.ca } : {}) };
}

/**
 * The connection a request arrived on: the HTTP/2 session, or the HTTP/1.1 socket (the key the
 * facts are cached under), and the TLS socket to ask (for HTTP/2, the session's socket proxy).
 */
function connectionOf(request: Request): { key: object; socket: PeerSocket } | undefined {
  if ("stream" in request) {
    const session = request.stream.session;
    return session ? { key: session, socket: session.socket as unknown as PeerSocket } : undefined;
  }
  return { key: request.socket, socket: request.socket as unknown as PeerSocket };
}

/** Reads the verified client certificate of a request's connection (cached per connection). */
export function peerCertificateReader(
  tls: ListenerTls,
): (request: Request) => PeerCertificateFacts | undefined {
  const facts = new PeerFacts(() => tls.files.anchors());
  const byConnection = new WeakMap<object, PeerCertificateFacts | null>();
  return (request) => {
    const connection = connectionOf(request);
    if (!connection?.socket.authorized) return undefined;
    let known = byConnection.get(connection.key);
    if (known === undefined) {
      known = facts.of(connection.socket.getPeerCertificate(true)) ?? null;
      byConnection.set(connection.key, known);
    }
    return known ?? undefined;
  };
}

/** Starts the TLS server on `host:port` with `handler` behind both HTTP versions. */
export async function startSecureServer(
  host: string,
  port: number,
  handler: Handler,
  tls: ListenerTls,
): Promise<DualProtocolServer> {
  const material = tls.files.current();
  const askForCert = material.ca !== undefined;
  const sockets = new Set<net.Socket>();
  const tlsSockets = new Set<TLSSocket>();
  const sessions = new Set<http2.ServerHttp2Session>();
  const h1InFlight = new Map<object, number>();
  let draining = false;

  const counted: Handler = (request, response) => {
    if (request.httpVersionMajor !== 1) {
      handler(request, response);
      return;
    }
    const socket = request.socket;
    h1InFlight.set(socket, (h1InFlight.get(socket) ?? 0) + 1);
    if (draining) response.setHeader("connection", "close");
    response.once("close", () => {
      const left = (h1InFlight.get(socket) ?? 1) - 1;
      if (left > 0) h1InFlight.set(socket, left);
      else {
        h1InFlight.delete(socket);
        if (draining) socket.end();
      }
    });
    handler(request, response);
  };

  const server = http2.createSecureServer(
    {
      ...contextOptions(material),
      allowHTTP1: true,
      requestCert: askForCert,
      rejectUnauthorized: askForCert && tls.requireClientCert,
    },
    counted,
  );
  const unsubscribe = tls.files.onChange((next) => {
    server.setSecureContext(contextOptions(next));
  });
  server.on("connection", (socket: net.Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  server.on("secureConnection", (socket: TLSSocket) => {
    tlsSockets.add(socket);
    socket.once("close", () => tlsSockets.delete(socket));
  });
  server.on("session", (session: http2.ServerHttp2Session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
  });
  server.on("tlsClientError", (error: NodeJS.ErrnoException, socket: TLSSocket) => {
    logger.warn("TLS handshake refused", {
      event: "tls_handshake_failed",
      listener: "connect",
      reason: error.code ?? error.message,
      peer: socket.remoteAddress ?? "",
    });
    socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as net.AddressInfo;
  const serverClosed = new Promise<void>((resolve) =>
    server.once("close", () => {
      unsubscribe();
      resolve();
    }),
  );
  return {
    port: address.port,
    closeGracefully() {
      draining = true;
      server.close();
      for (const session of sessions) session.close();
      // HTTP/1.1 connections idle now are closed; busy ones close after their response.
      for (const socket of tlsSockets) {
        if (socket.alpnProtocol !== "h2" && !h1InFlight.has(socket)) socket.end();
      }
    },
    destroyAll() {
      for (const session of sessions) session.destroy();
      for (const socket of sockets) socket.destroy();
    },
    async closed() {
      await serverClosed;
      await Promise.all(
        [...sockets].map((socket) => new Promise((resolve) => socket.once("close", resolve))),
      );
    },
  };
}
