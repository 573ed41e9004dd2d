/**
 * Authentication and RBAC (SEC-001, SEC-002) as two transport-neutral policies, so both listeners
 * behave identically. Credentials: `authorization: Bearer <key>` or `x-api-key: <key>`. The
 * required role of each RPC is read from the contract (`(mlsdm.v1.required_role)` on the method);
 * a method without one is denied (default deny). ROLE_PUBLIC methods need no credential.
 */
import { getOption, type DescMethod } from "@bufbuild/protobuf";
import type { HandlerContext } from "@connectrpc/connect";
import { Role, required_role } from "../gen/mlsdm/v1/options_pb.js";
import { MlsdmError } from "../telemetry/errors/index.js";
import { logger } from "../telemetry/logger.js";
import { currentRequest } from "../telemetry/request-context.js";
import type { ApiKeyRing } from "./api-key-ring.js";
import { IDENTITY, hasRole, type Identity, type RoleName } from "./identity.js";
import type { CredentialResolver } from "./credential-resolver.js";
import type { Policy } from "./policy.js";

/** The anonymous caller served when no credential source is configured (loopback only). */
export const ANONYMOUS: Identity = {
  id: "anonymous",
  owner: "",
  roles: ["admin"],
  source: "anonymous",
};

const ROLE_NAMES: Partial<Record<Role, RoleName>> = {
  [Role.READ]: "read",
  [Role.WRITE]: "write",
  [Role.ADMIN]: "admin",
};

/** The role a method requires: a role name, "public", or undefined when it declares none. */
export function requiredRole(method: DescMethod): RoleName | "public" | undefined {
  // Read once per method: getOption decodes the option's extension on every call (it showed as
  // ~6 % of a ProcessEvent call's CPU in the load harness profile, ADR 0021).
  if (roleCache.has(method)) return roleCache.get(method);
  const option = getOption(method, required_role);
  const role = option === Role.PUBLIC ? "public" : ROLE_NAMES[option];
  roleCache.set(method, role);
  return role;
}

const roleCache = new WeakMap<DescMethod, RoleName | "public" | undefined>();

/** The presented secret, from `authorization: Bearer` or `x-api-key`. */
export function presentedKey(headers: Headers): string | undefined {
  const authorization = headers.get("authorization");
  const bearer = authorization ? /^Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1] : undefined;
  return bearer ?? headers.get("x-api-key")?.trim() ?? undefined;
}

/** Logs one security event (BASE-OBS-d): identity, method and code, never the secret. */
export function security(event: string, fields: Record<string, unknown>): void {
  logger.warn("security event", { event, ...fields });
}

/** API keys as an identity source: `authorization: Bearer <key>` or `x-api-key`. */
export function apiKeyResolver(keys: () => ApiKeyRing): CredentialResolver {
  return {
    name: "api_key",
    resolve(context) {
      const secret = presentedKey(context.requestHeader);
      if (secret === undefined || secret === "") return undefined;
      const check = keys().check(secret);
      if (check.ok) return check.identity;
      if (check.why === "expired") {
        security("key_expired", { method: context.method.name, key_id: check.keyId });
        throw new MlsdmError("CREDENTIAL_EXPIRED", { metadata: { key_id: check.keyId ?? "" } });
      }
      security("auth_failed", { method: context.method.name, source: "api_key" });
      context.responseHeader.set("www-authenticate", 'Bearer realm="mlsdm", error="invalid_token"');
      throw new MlsdmError("API_KEY_INVALID");
    },
  };
}

/**
 * The authentication policy: tries each identity source in order (first match wins; the source
 * is recorded on the identity). With `anonymous` set, a call that carries no credential at all
 * runs as that identity; otherwise it is refused with E206.
 */
export function authenticate(
  resolvers: readonly CredentialResolver[],
  anonymous: Identity | undefined,
): Policy {
  return async (context: HandlerContext) => {
    const role = requiredRole(context.method);
    if (role === "public") return;
    for (const resolver of resolvers) {
      const pending = resolver.resolve(context);
      const identity = pending instanceof Promise ? await pending : pending;
      if (identity) {
        remember(context, identity);
        return;
      }
    }
    if (anonymous) {
      remember(context, anonymous);
      return;
    }
    security("auth_missing", { method: context.method.name });
    context.responseHeader.set("www-authenticate", 'Bearer realm="mlsdm"');
    throw new MlsdmError("CREDENTIAL_MISSING");
  };
}

function remember(context: HandlerContext, identity: Identity): void {
  context.values.set(IDENTITY, identity);
  const request = currentRequest();
  if (request) request.identityId = identity.id;
}

/** The RBAC policy: the caller must hold the method's role; a method without one is denied. */
export const authorize: Policy = (context: HandlerContext) => {
  const role = requiredRole(context.method);
  if (role === "public") return;
  const identity = context.values.get(IDENTITY);
  if (role === undefined || !identity || !hasRole(identity, role)) {
    security("permission_denied", {
      method: context.method.name,
      identity_id: identity?.id ?? "",
      required_role: role ?? "undeclared",
    });
    throw new MlsdmError("PERMISSION_DENIED", {
      metadata: { required_role: role ?? "undeclared" },
    });
  }
};
