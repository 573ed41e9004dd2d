/**
 * The `tls` section (SEC-006): TLS on both listeners, optionally with client certificates (mTLS)
 * whose names map to identities. One set of files serves both listeners; the files are re-read
 * every `reloadIntervalMs`, so certificates rotated in place (cert-manager) take effect for new
 * connections without a restart.
 */
import { z } from "zod";
import { flag, integer, key, optionalText } from "./meta.js";

/** Role names a client identity may hold (the same words as the policy layer's ROLE_ORDER). */
export const CLIENT_ROLES = ["read", "write", "admin"] as const;

/** The certificate names a mapping entry can match: subject CN, or a DNS, URI or email SAN. */
export const MATCH_KINDS = ["cn", "dns", "uri", "email"] as const;

/** One client-certificate-to-identity rule. */
export interface ClientIdentityRule {
  readonly kind: (typeof MATCH_KINDS)[number];
  /** The name to match, exactly (DNS names and emails case-insensitively). */
  readonly value: string;
  readonly id: string;
  readonly roles: readonly (typeof CLIENT_ROLES)[number][];
}

/**
 * Parses a match expression: `cn:billing` (also `CN=billing`), `dns:billing.svc`,
 * `uri:spiffe://…`, `email:ops@example.com`. Returns the rule's kind and value, or a message.
 */
export function parseMatch(text: string): { kind: ClientIdentityRule["kind"]; value: string } | string {
  const cn = /^CN=(.+)$/i.exec(text.trim());
  if (cn?.[1]) return { kind: "cn", value: cn[1] };
  const match = /^([a-z]+):(.+)$/i.exec(text.trim());
  const kind = match?.[1]?.toLowerCase();
  const found = MATCH_KINDS.find((k) => k === kind);
  if (!match?.[2] || !found) return `"${text}" is not cn:, dns:, uri: or email: followed by a name`;
  return { kind: found, value: match[2] };
}

/**
 * Parses the inline mapping: comma-separated `match=id:role` entries, e.g.
 * `cn:billing=billing:write,uri:spiffe://prod/sa/ops=ops:admin`. The last `=` splits the match
 * from the identity, so URIs may contain `:`; ids may not contain `:` or `=`.
 */
export function parseClientIdentities(text: string): ClientIdentityRule[] | string {
  const rules: ClientIdentityRule[] = [];
  for (const part of text
    .split(",")
    .map((p) => p.trim())
    .filter((p) => p !== "")) {
    const at = part.lastIndexOf("=");
    const target = /^([^:=\s]+):(read|write|admin)$/.exec(part.slice(at + 1).trim());
    if (at <= 0 || !target?.[1] || !target[2]) return `"${part}" is not match=id:role`;
    const match = parseMatch(part.slice(0, at));
    if (typeof match === "string") return match;
    const role = CLIENT_ROLES.find((r) => r === target[2]) ?? "read";
    rules.push({ ...match, id: target[1], roles: [role] });
  }
  return rules;
}

function required(
  tls: { enabled: boolean; certFile: string; keyFile: string },
  context: z.RefinementCtx,
): void {
  if (!tls.enabled) return;
  for (const [name, what] of [
    ["certFile", "a PEM certificate chain file (required when tls.enabled is true)"],
    ["keyFile", "a PEM private key file (required when tls.enabled is true)"],
  ] as const) {
    if (tls[name] === "") context.addIssue({ code: "custom", path: [name], input: "", message: what });
  }
}

function inlineIdentities(tls: { clientIdentities: string }, context: z.RefinementCtx): void {
  const parsed = parseClientIdentities(tls.clientIdentities);
  if (typeof parsed === "string") {
    context.addIssue({
      code: "custom",
      path: ["clientIdentities"],
      input: tls.clientIdentities,
      message: `comma-separated match=id:role entries (${parsed})`,
    });
  }
}

/** The `tls` section. */
export const tlsSection = z
  .strictObject({
    enabled: key(flag(false), {
      env: "MLSDM_TLS_ENABLED",
      description:
        "Serve both listeners over TLS (tls.certFile and tls.keyFile required); the Connect listener then negotiates HTTP/2 or HTTP/1.1 by ALPN.",
    }),
    certFile: key(optionalText(), {
      env: "MLSDM_TLS_CERT_FILE",
      description: "PEM file with the server certificate (and any intermediates after it), e.g. tls.crt.",
    }),
    keyFile: key(optionalText(), {
      env: "MLSDM_TLS_KEY_FILE",
      description: "PEM file with the server's private key, e.g. tls.key.",
    }),
    clientCaFile: key(optionalText(), {
      env: "MLSDM_TLS_CLIENT_CA_FILE",
      description:
        "PEM bundle of the CAs (roots and intermediates) that issue client certificates. Set: clients are asked for a certificate (mTLS). Empty: plain TLS.",
    }),
    requireClientCert: key(flag(true), {
      env: "MLSDM_TLS_REQUIRE_CLIENT_CERT",
      description:
        "With tls.clientCaFile set: refuse the TLS handshake without a certificate from those CAs. false: a certificate is optional and other credentials (API keys) still work.",
    }),
    verifyDepth: key(integer(0, 10, 3), {
      env: "MLSDM_TLS_VERIFY_DEPTH",
      description:
        "Most intermediate CA certificates allowed between a client certificate and its root (as OpenSSL counts verify depth); deeper chains are refused with E201.",
    }),
    clientIdentitiesFile: key(optionalText(), {
      env: "MLSDM_TLS_CLIENT_IDENTITIES_FILE",
      description:
        'YAML/JSON file mapping client certificates to identities: {clients: [{match: "cn:billing" | "dns:…" | "uri:spiffe://…" | "email:…", id, roles}]}. Read at start-up.',
    }),
    clientIdentities: key(optionalText(), {
      env: "MLSDM_TLS_CLIENT_IDENTITIES",
      description:
        "The same mapping inline, comma-separated match=id:role entries, e.g. cn:billing=billing:write,uri:spiffe://prod/sa/ops=ops:admin. Checked before the file's entries.",
    }),
    reloadIntervalMs: key(integer(100, 3_600_000, 5_000), {
      env: "MLSDM_TLS_RELOAD_INTERVAL_MS",
      description:
        "How often the certificate, key and CA files are re-read; a changed, valid set applies to new connections (a bad set is logged and the old one kept).",
    }),
  })
  .superRefine(required)
  .superRefine(inlineIdentities)
  .prefault({});

/** The validated `tls` section. */
export type TlsConfig = z.infer<typeof tlsSection>;
