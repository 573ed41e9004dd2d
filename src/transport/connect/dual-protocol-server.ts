/**
 * One TCP port serving both HTTP/1.1 and cleartext HTTP/2 (h2c with prior knowledge).
 *
 * Node's `http2.createServer` cannot fall back to HTTP/1.1 without TLS (ALPN), so each new
 * connection is routed by its first bytes: the HTTP/2 client preface goes to an http2
 * server, anything else to an http server. Both run the same request handler.
 */
import http from "node:http";
import http2 from "node:http2";
import net from "node:net";

const H2_PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

type Handler = (
  request: http.IncomingMessage | http2.Http2ServerRequest,
  response: http.ServerResponse | http2.Http2ServerResponse,
) => void;

/** A listening dual-protocol server. */
export interface DualProtocolServer {
  readonly port: number;
  /** Stops accepting connections and asks open ones to finish (GOAWAY, close when idle). */
  closeGracefully(): void;
  /** Destroys every open connection. */
  destroyAll(): void;
  /** Resolves when the listening socket has closed and every connection has ended. */
  closed(): Promise<void>;
}

function isH2Preface(chunk: Buffer): boolean {
  const length = Math.min(chunk.length, H2_PREFACE.length);
  return chunk.subarray(0, length).equals(H2_PREFACE.subarray(0, length));
}

/** Starts listening on `host:port` with `handler` behind both protocols. */
export async function startDualProtocolServer(
  host: string,
  port: number,
  handler: Handler,
  options: { maxHeaderSize?: number } = {},
): Promise<DualProtocolServer> {
  const h1 = http.createServer({ maxHeaderSize: options.maxHeaderSize }, handler);
  const h2 = http2.createServer({}, handler);
  const sockets = new Set<net.Socket>();
  const sessions = new Set<http2.ServerHttp2Session>();
  h2.on("session", (session: http2.ServerHttp2Session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
  });
  const tcp = net.createServer((socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    socket.once("data", (chunk: Buffer) => {
      socket.pause();
      socket.unshift(chunk);
      (isH2Preface(chunk) ? h2 : h1).emit("connection", socket);
      process.nextTick(() => socket.resume());
    });
    socket.on("error", () => socket.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    tcp.once("error", reject);
    tcp.listen(port, host, () => {
      tcp.off("error", reject);
      resolve();
    });
  });
  const address = tcp.address() as net.AddressInfo;
  const tcpClosed = new Promise<void>((resolve) =>
    tcp.once("close", () => {
      resolve();
    }),
  );
  return {
    port: address.port,
    closeGracefully() {
      tcp.close();
      h1.closeIdleConnections();
      for (const session of sessions) session.close();
    },
    destroyAll() {
      h1.closeAllConnections();
      for (const session of sessions) session.destroy();
      for (const socket of sockets) socket.destroy();
    },
    async closed() {
      await tcpClosed;
      await Promise.all(
        [...sockets].map((socket) => new Promise((resolve) => socket.once("close", resolve))),
      );
    },
  };
}
