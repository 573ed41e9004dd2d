/**
 * From an MLSDM URL to a connect-node transport. `http://host:8080` and `https://` name the
 * HTTP (connect-node) listener, spoken to with the Connect protocol by default; `grpc://host:50051`
 * and `grpcs://` name the grpc-js listener, spoken to with gRPC over HTTP/2. `transport` picks
 * the protocol explicitly (`grpc` also works against the HTTP listener, `grpc-web` only there).
 * TLS: the `s` schemes, with an optional CA, client certificate and key (mTLS).
 */
import { Agent as HttpAgent } from "node:http";
import { Agent as HttpsAgent } from "node:https";
import type { Interceptor, Transport } from "@connectrpc/connect";
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
  Http2SessionManager,
} from "@connectrpc/connect-node";

/** The protocols a client can speak. */
export type TransportKind = "grpc" | "connect" | "grpc-web";

/** TLS material for `https://` and `grpcs://` (PEM text or bytes). */
export interface ClientTlsOptions {
  /** CA bundle that signs the server certificate (default: the system roots). */
  readonly ca?: string | Buffer;
  /** Client certificate chain, for mTLS. */
  readonly cert?: string | Buffer;
  /** Client private key, for mTLS. */
  readonly key?: string | Buffer;
  /** Server name to verify instead of the URL's host (SNI and certificate check). */
  readonly servername?: string;
}

/** A parsed server URL. */
export interface ServerAddress {
  /** `http(s)://host:port` as the transports take it. */
  readonly baseUrl: string;
  readonly secure: boolean;
  /** The protocol the scheme implies. */
  readonly transport: TransportKind;
}

const SCHEMES: Readonly<Record<string, { secure: boolean; transport: TransportKind }>> = {
  "http:": { secure: false, transport: "connect" },
  "https:": { secure: true, transport: "connect" },
  "grpc:": { secure: false, transport: "grpc" },
  "grpcs:": { secure: true, transport: "grpc" },
};

/** A bad server URL (the CLI reports it as a usage error). */
export class ServerUrlError extends Error {
  override readonly name = "ServerUrlError";
}

/** Parses an MLSDM URL; throws ServerUrlError for anything else. */
export function parseServerUrl(url: string): ServerAddress {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ServerUrlError(
      `not a URL: "${url}" (expected e.g. http://127.0.0.1:8080 or grpc://127.0.0.1:50051)`,
    );
  }
  const scheme = SCHEMES[parsed.protocol];
  if (scheme === undefined) {
    throw new ServerUrlError(
      `unsupported scheme "${parsed.protocol}" in "${url}" (use http, https, grpc or grpcs)`,
    );
  }
  if (parsed.hostname === "" || (parsed.pathname !== "/" && parsed.pathname !== "") || parsed.search !== "") {
    throw new ServerUrlError(`"${url}" must be scheme://host[:port] without a path or query`);
  }
  const port = parsed.port === "" ? "" : `:${parsed.port}`;
  return {
    baseUrl: `${scheme.secure ? "https" : "http"}://${parsed.hostname}${port}`,
    ...scheme,
  };
}

/** A transport and the means to close its connections. */
export interface OwnedTransport {
  readonly transport: Transport;
  readonly kind: TransportKind;
  close(): void;
}

/** Creates the transport for `address`, speaking `kind`, with `interceptors` (outermost first). */
export function createMlsdmTransport(
  address: ServerAddress,
  kind: TransportKind,
  interceptors: Interceptor[],
  tls: ClientTlsOptions = {},
): OwnedTransport {
  const tlsOptions = address.secure
    ? {
        ...(tls.ca === undefined ? {} : { ca: tls.ca }),
        ...(tls.cert === undefined ? {} : { cert: tls.cert }),
        ...(tls.key === undefined ? {} : { key: tls.key }),
        ...(tls.servername === undefined ? {} : { servername: tls.servername }),
      }
    : {};
  if (kind === "grpc") {
    const sessions = new Http2SessionManager(address.baseUrl, {}, tlsOptions);
    return {
      kind,
      transport: createGrpcTransport({ baseUrl: address.baseUrl, sessionManager: sessions, interceptors }),
      close: () => {
        sessions.abort();
      },
    };
  }
  const agent = address.secure
    ? new HttpsAgent({ keepAlive: true, ...tlsOptions })
    : new HttpAgent({ keepAlive: true });
  const options = {
    baseUrl: address.baseUrl,
    httpVersion: "1.1" as const,
    nodeOptions: { agent },
    interceptors,
  };
  return {
    kind,
    transport: kind === "connect" ? createConnectTransport(options) : createGrpcWebTransport(options),
    close: () => {
      agent.destroy();
    },
  };
}
