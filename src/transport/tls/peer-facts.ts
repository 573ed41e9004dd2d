/**
 * Turns the client certificate Node reports for a TLS connection into the transport-neutral
 * `PeerCertificateFacts` the policies read (SEC-006): names, issuer, fingerprint and the chain
 * depth. Both listeners use it; results are cached by certificate chain, since a client sends
 * the same certificate on every connection.
 */
import { X509Certificate } from "node:crypto";
import type { DetailedPeerCertificate, PeerCertificate } from "node:tls";
import type { PeerCertificateFacts } from "../../policy/call-context.js";

/** Most distinct client certificate chains whose facts are kept (oldest dropped first). */
const CACHE_LIMIT = 1024;
/** Longest chain followed; anything longer is reported as not followable. */
const MAX_CHAIN = 16;

const SAN_ENTRY = /(DNS|URI|email|IP Address):("(?:[^"\\]|\\.)*"|[^,]*)(?:, |$)/g;

/** Subject alternative names of Node's `subjectAltName` text, by kind. */
export function parseSubjectAltName(
  text: string | undefined,
): Pick<PeerCertificateFacts, "dns" | "uri" | "email" | "ip"> {
  const names = { dns: [] as string[], uri: [] as string[], email: [] as string[], ip: [] as string[] };
  for (const [, kind, raw = ""] of (text ?? "").matchAll(SAN_ENTRY)) {
    let value = raw;
    if (raw.startsWith('"')) {
      try {
        value = String(JSON.parse(raw));
      } catch {
        value = raw.slice(1, -1);
      }
    }
    if (value === "") continue;
    if (kind === "DNS") names.dns.push(value);
    else if (kind === "URI") names.uri.push(value);
    else if (kind === "email") names.email.push(value);
    else names.ip.push(value);
  }
  return names;
}

function selfSigned(cert: X509Certificate): boolean {
  return cert.checkIssued(cert) && cert.verify(cert.publicKey);
}

/**
 * Intermediates between `leaf` and a self-signed root, following issuers through the
 * certificates the client sent and the configured CA bundle; undefined when no root is reached.
 */
export function chainDepthOf(
  leaf: X509Certificate,
  presented: readonly X509Certificate[],
  anchors: readonly X509Certificate[],
): number | undefined {
  const pool = [...presented, ...anchors];
  const chain = [leaf];
  let current = leaf;
  while (chain.length <= MAX_CHAIN) {
    if (selfSigned(current)) return Math.max(0, chain.length - 2);
    const issuer = pool.find(
      (candidate) =>
        candidate.fingerprint256 !== current.fingerprint256 &&
        current.checkIssued(candidate) &&
        current.verify(candidate.publicKey),
    );
    if (!issuer) return undefined;
    chain.push(issuer);
    current = issuer;
  }
  return undefined;
}

/** The certificates above the leaf in a detailed peer certificate (empty for a plain one). */
function issuersOf(peer: PeerCertificate): X509Certificate[] {
  const issuers: X509Certificate[] = [];
  let next = (peer as Partial<DetailedPeerCertificate>).issuerCertificate;
  let previous: PeerCertificate = peer;
  while (next && next !== previous && issuers.length < MAX_CHAIN) {
    issuers.push(new X509Certificate(next.raw));
    previous = next;
    next = next.issuerCertificate;
  }
  return issuers;
}

function commonNameOf(peer: PeerCertificate): string | undefined {
  const cn = (peer.subject as Record<string, string | string[] | undefined> | undefined)?.CN;
  return Array.isArray(cn) ? cn[0] : cn;
}

/** Builds facts for verified client certificates against the CA bundle in force. */
export class PeerFacts {
  private readonly cache = new Map<string, PeerCertificateFacts>();
  private cachedAnchors: readonly X509Certificate[] | undefined;

  constructor(private readonly anchors: () => readonly X509Certificate[]) {}

  /** The facts of `peer` (Node's peer certificate, detailed or not); undefined without one. */
  of(peer: PeerCertificate | undefined): PeerCertificateFacts | undefined {
    if (!peer?.raw) return undefined;
    const anchors = this.anchors();
    if (anchors !== this.cachedAnchors) {
      this.cache.clear();
      this.cachedAnchors = anchors;
    }
    const issuers = issuersOf(peer);
    const cacheKey = [peer.fingerprint256, ...issuers.map((c) => c.fingerprint256)].join("/");
    const cached = this.cache.get(cacheKey);
    if (cached) return cached;
    const leaf = new X509Certificate(peer.raw);
    const facts: PeerCertificateFacts = {
      subject: leaf.subject.split("\n").join(", "),
      commonName: commonNameOf(peer),
      ...parseSubjectAltName(leaf.subjectAltName),
      issuer: leaf.issuer.split("\n").join(", "),
      serialNumber: leaf.serialNumber,
      fingerprint256: leaf.fingerprint256,
      validTo: leaf.validTo,
      chainDepth: chainDepthOf(leaf, issuers, anchors),
    };
    if (this.cache.size >= CACHE_LIMIT) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
    this.cache.set(cacheKey, facts);
    return facts;
  }
}
