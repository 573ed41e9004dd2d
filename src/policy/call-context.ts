/**
 * Values each transport adapter puts on a call's context for the transport-neutral layers:
 * which listener the call came through (the protocol name alone cannot tell: both listeners
 * speak gRPC).
 */
import { createContextKey } from "@connectrpc/connect";
import type { ListenerName } from "../telemetry/metrics/rpc-metrics.js";

/** The listener a call arrived on. */
export const LISTENER = createContextKey<ListenerName>("connect", { description: "mlsdm listener" });

/**
 * The verified client certificate of a TLS connection (SEC-006), as facts the policies can read
 * without knowing the transport. Set by each listener only when the handshake verified the
 * certificate against tls.clientCaFile; absent on plaintext calls and without a client certificate.
 */
export interface PeerCertificateFacts {
  /** Subject distinguished name, e.g. "O=MLSDM Test, CN=billing". */
  readonly subject: string;
  /** The subject's common name (the first one if there are several). */
  readonly commonName: string | undefined;
  /** Subject alternative names by kind. */
  readonly dns: readonly string[];
  readonly uri: readonly string[];
  readonly email: readonly string[];
  readonly ip: readonly string[];
  /** Issuer distinguished name. */
  readonly issuer: string;
  readonly serialNumber: string;
  /** SHA-256 fingerprint, colon-separated hex as Node prints it. */
  readonly fingerprint256: string;
  readonly validTo: string;
  /**
   * Intermediate CA certificates between this certificate and its self-signed root, as OpenSSL
   * counts verify depth (0: issued by the root). Undefined when the chain could not be followed
   * to a root with the certificates at hand (an intermediate neither sent nor in the CA bundle).
   */
  readonly chainDepth: number | undefined;
}

/** The call's verified client certificate, if any. */
export const PEER_CERTIFICATE = createContextKey<PeerCertificateFacts | undefined>(undefined, {
  description: "verified client certificate",
});
