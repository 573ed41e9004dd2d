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
  const role = getOption(method, required_role);
  if (role === Role.PUBLIC) return "public";
  return ROLE_NAMES[role];
}

/** The presented secret, from `authorization: Bearer` or `x-api-key`. */
export function presentedKey(headers: Headers): string | undefined {
  const authorization = headers.get("authorization");
  const bearer = authorization ? /^Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1] : undefined;
  return bearer ?? headers.get("x-api-key")?.trim() ?? undefined;
}

function security(event: string, fields: Record<string, unknown>): void {
  logger.warn("security event", { event, ...fields });
}

/**
 * The authentication policy. `keys()` is read per call (the ring can be reloaded); with
 * `anonymous` set, a call without a credential runs as that identity.
 */
export function authenticate(keys: () => ApiKeyRing, anonymous: Identity | undefined): Policy {
  return (context: HandlerContext) => {
    const role = requiredRole(context.method);
    if (role === "public") return;
    const secret = presentedKey(context.requestHeader);
    if (secret === undefined || secret === "") {
      if (anonymous) {
        remember(context, anonymous);
        return;
      }
      security("auth_missing", { method: context.method.name });
      context.responseHeader.set("www-authenticate", 'Bearer realm="mlsdm"');
      throw new MlsdmError("CREDENTIAL_MISSING");
    }
    const check = keys().check(secret);
    if (!check.ok) {
      if (check.why === "expired") {
        security("key_expired", { key_id: check.keyId });
        throw new MlsdmError("CREDENTIAL_EXPIRED", { metadata: { key_id: check.keyId ?? "" } });
      }
      security("auth_failed", { method: context.method.name });
      context.responseHeader.set("www-authenticate", 'Bearer realm="mlsdm", error="invalid_token"');
      throw new MlsdmError("API_KEY_INVALID");
    }
    remember(context, check.identity);
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
