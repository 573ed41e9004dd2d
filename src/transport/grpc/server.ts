/**
 * The grpc-js listener: service-to-service gRPC over HTTP/2, with server reflection.
 */
import type { DescService } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import { experimental, Server, ServerCredentials } from "@grpc/grpc-js";
import { PeerFacts } from "../tls/peer-facts.js";
import type { ListenerTls } from "../tls/tls-files.js";
import { grpcHandlers } from "./handlers.js";
import { addReflection } from "./reflection.js";
import { serviceDefinition } from "./service-definition.js";

/** A service and the one implementation both listeners mount. */
export interface MountedService {
  readonly service: DescService;
  readonly impl: ServiceImpl<DescService>;
}

/** Options of the grpc-js listener. */
export interface GrpcListenerOptions {
  readonly host: string;
  readonly port: number;
  readonly services: readonly MountedService[];
  readonly reflection: boolean;
  readonly maxMessageBytes: number;
  /** Serve TLS (and mTLS when the files include a client CA bundle); plaintext h2c without. */
  readonly tls?: ListenerTls;
}

/** A started grpc-js listener. */
export interface GrpcListener {
  /** The bound port (useful when 0 was asked for). */
  readonly port: number;
  /** Stops taking new calls, lets running ones finish for up to `graceMs`, then cuts them off. */
  close(graceMs: number): Promise<void>;
}

/** The grpc-js receive cap as a multiple of server.maxMessageBytes. */
const HARD_CAP_FACTOR = 4;

/** `host:port` for grpc-js, bracketing IPv6 literals. */
function bindAddress(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * Server credentials: insecure, or grpc-js's certificate-provider credentials fed by the watched
 * TLS files, so a rotated certificate applies to new connections without a restart.
 */
function credentialsFor(tls: ListenerTls | undefined): ServerCredentials {
  if (!tls) return ServerCredentials.createInsecure();
  const withClientCa = tls.files.current().ca !== undefined;
  // grpc-js 1.14 declares these parameters as (ca, identity) but uses them as (identity, ca):
  // the first provider supplies the certificate and key, the second (optional) the client CA.
  return experimental.createCertificateProviderServerCredentials(
    tls.files,
    withClientCa ? tls.files : null,
    withClientCa && tls.requireClientCert,
  );
}

/** Starts the grpc-js listener with every service mounted. */
export async function startGrpcListener(options: GrpcListenerOptions): Promise<GrpcListener> {
  const shutdown = new AbortController();
  const server = new Server({
    // Hard transport cap well above the configured limit: requests between the two are read
    // and refused as INVALID_ARGUMENT (E107) like on the Connect listener; beyond it grpc-js
    // refuses them itself (RESOURCE_EXHAUSTED) without buffering them.
    "grpc.max_receive_message_length": options.maxMessageBytes * HARD_CAP_FACTOR,
    // grpc-js leaves server keepalive off; ping idle clients so dead peers are noticed, and
    // age connections out so clients rebalance across replicas behind a Kubernetes Service.
    "grpc.keepalive_time_ms": 60_000,
    "grpc.keepalive_timeout_ms": 20_000,
    "grpc.max_connection_idle_ms": 300_000,
    "grpc.max_connection_age_ms": 1_800_000,
    "grpc.max_connection_age_grace_ms": 30_000,
  });
  const tls = options.tls;
  const peer = tls ? new PeerFacts(() => tls.files.anchors()) : undefined;
  for (const { service, impl } of options.services) {
    server.addService(
      serviceDefinition(service, options.maxMessageBytes),
      grpcHandlers(service, impl, shutdown.signal, peer),
    );
  }
  if (options.reflection)
    addReflection(
      server,
      options.services.map((s) => s.service),
    );
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(bindAddress(options.host, options.port), credentialsFor(options.tls), (error, bound) => {
      if (error) reject(error);
      else resolve(bound);
    });
  });
  return {
    port,
    close: (graceMs) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          shutdown.abort();
          server.forceShutdown();
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      }),
  };
}
