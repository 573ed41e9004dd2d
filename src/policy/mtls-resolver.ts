/**
 * Client certificates as an identity source (SEC-006). The listener has already verified the
 * certificate against tls.clientCaFile during the TLS handshake and put its facts on the call
 * (PEER_CERTIFICATE); this resolver checks the chain depth and maps the certificate's name to an
 * identity. A verified certificate that no rule maps yields no identity, so a bearer credential
 * on the same call can still apply; a chain deeper than tls.verifyDepth is refused (E201).
 */
import type { Config } from "../config/index.js";
import { parseClientIdentities } from "../config/schema-tls.js";
import { MlsdmError } from "../telemetry/errors/index.js";
import { security } from "./authenticate.js";
import { PEER_CERTIFICATE } from "./call-context.js";
import { identityRuleFor, loadClientIdentitiesFile, type ClientIdentity } from "./client-identities.js";
import type { CredentialResolver } from "./credential-resolver.js";
import type { Identity } from "./identity.js";

/** Options of the mTLS identity source. */
export interface MtlsResolverOptions {
  readonly rules: readonly ClientIdentity[];
  /** Most intermediate CAs allowed between a client certificate and its root. */
  readonly verifyDepth: number;
}

/** The mTLS identity source. */
export function mtlsResolver(options: MtlsResolverOptions): CredentialResolver {
  return {
    name: "mtls",
    resolve(context): Identity | undefined {
      const peer = context.values.get(PEER_CERTIFICATE);
      if (!peer) return undefined;
      if (peer.chainDepth === undefined || peer.chainDepth > options.verifyDepth) {
        security("auth_failed", {
          method: context.method.name,
          source: "mtls",
          reason: "certificate_chain_too_deep",
          chain_depth: peer.chainDepth ?? "unknown",
          verify_depth: options.verifyDepth,
          fingerprint256: peer.fingerprint256,
          error_code: "E201",
        });
        throw new MlsdmError("CREDENTIAL_INVALID", {
          detail:
            peer.chainDepth === undefined
              ? "the client certificate's chain could not be followed to a root in the CA bundle"
              : `the client certificate chain has ${peer.chainDepth} intermediates, more than tls.verifyDepth ${options.verifyDepth}`,
          metadata: { source: "mtls", verify_depth: String(options.verifyDepth) },
        });
      }
      const rule = identityRuleFor(options.rules, peer);
      if (!rule) return undefined;
      return { id: rule.id, owner: rule.owner ?? peer.subject, roles: rule.roles, source: "mtls" };
    },
  };
}

/**
 * The mTLS source of the `tls` configuration: none unless TLS with a client CA is on. `mapped`
 * says whether any certificate can become an identity (then mTLS counts as a configured source).
 */
export function mtlsFromConfig(config: Config): { resolvers: CredentialResolver[]; mapped: boolean } {
  const { tls } = config;
  if (!tls.enabled || tls.clientCaFile === "") return { resolvers: [], mapped: false };
  const inline = parseClientIdentities(tls.clientIdentities);
  const rules = [
    ...(typeof inline === "string" ? [] : inline),
    ...(tls.clientIdentitiesFile === "" ? [] : loadClientIdentitiesFile(tls.clientIdentitiesFile)),
  ];
  return { resolvers: [mtlsResolver({ rules, verifyDepth: tls.verifyDepth })], mapped: rules.length > 0 };
}
