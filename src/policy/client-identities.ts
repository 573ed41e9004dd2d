/**
 * Which client certificates are which callers (SEC-006): rules that map a certificate's subject
 * CN or a SAN entry (DNS, URI such as a SPIFFE id, email) to an identity id and roles. Rules come
 * from the inline `tls.clientIdentities` string and the `tls.clientIdentitiesFile` document
 * `{clients: [{match, id, roles, owner?}]}`; the first rule that matches wins.
 */
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { z } from "zod";
import { invalidValue } from "../config/errors.js";
import { parseMatch, type ClientIdentityRule } from "../config/schema-tls.js";
import type { PeerCertificateFacts } from "./call-context.js";
import { ROLE_ORDER } from "./identity.js";

/** A rule, optionally with the owner recorded on the identity. */
export interface ClientIdentity extends ClientIdentityRule {
  readonly owner?: string;
}

const fileSchema = z.strictObject({
  clients: z.array(
    z.strictObject({
      match: z.string().min(1),
      id: z
        .string()
        .min(1)
        .max(128)
        .regex(/^[^:=\s]+$/),
      roles: z.array(z.enum(ROLE_ORDER)).min(1),
      owner: z.string().max(256).optional(),
    }),
  ),
});

/** Parses a client identities document; throws an Error naming the problem. */
export function parseClientIdentitiesFile(text: string): ClientIdentity[] {
  const parsed = fileSchema.safeParse(parse(text));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${issue?.path.join(".") ?? ""} ${issue?.message ?? "is invalid"}`);
  }
  return parsed.data.clients.map((client, index) => {
    const match = parseMatch(client.match);
    if (typeof match === "string") throw new Error(`clients.${index}.match: ${match}`);
    return { ...match, id: client.id, roles: client.roles, ...(client.owner ? { owner: client.owner } : {}) };
  });
}

/** Reads `path` (start-up); a bad file is a configuration error naming tls.clientIdentitiesFile. */
export function loadClientIdentitiesFile(path: string): ClientIdentity[] {
  try {
    // eslint-disable-next-line security/detect-non-literal-fs-filename -- path from operator configuration, never from a call
    return parseClientIdentitiesFile(readFileSync(path, "utf8"));
  } catch (error) {
    throw invalidValue({
      key: "tls.clientIdentitiesFile",
      source: "MLSDM_TLS_CLIENT_IDENTITIES_FILE",
      value: path,
      allowed: "a readable YAML/JSON file {clients: [{match, id, roles}]}",
      problem: error instanceof Error ? error.message : String(error),
    });
  }
}

function matches(rule: ClientIdentityRule, peer: PeerCertificateFacts): boolean {
  const lower = rule.value.toLowerCase();
  switch (rule.kind) {
    case "cn":
      return peer.commonName === rule.value;
    case "dns":
      return peer.dns.some((name) => name.toLowerCase() === lower);
    case "uri":
      return peer.uri.includes(rule.value);
    case "email":
      return peer.email.some((address) => address.toLowerCase() === lower);
  }
}

/** The first rule matching `peer`, if any. */
export function identityRuleFor(
  rules: readonly ClientIdentity[],
  peer: PeerCertificateFacts,
): ClientIdentity | undefined {
  return rules.find((rule) => matches(rule, peer));
}
