/**
 * Who is calling: the identity an authentication policy establishes for a call, carried in the
 * call's context values so later policies (RBAC, rate limits) and logs can read it.
 */
import { createContextKey } from "@connectrpc/connect";

/** Roles, each including the ones before it: read ⊂ write ⊂ admin. */
export const ROLE_ORDER = ["read", "write", "admin"] as const;
export type RoleName = (typeof ROLE_ORDER)[number];

/** The caller of one RPC. */
export interface Identity {
  /** Stable id for logs, metrics and rate limits (an API key id, or "anonymous"). */
  readonly id: string;
  readonly owner: string;
  readonly roles: readonly RoleName[];
  /** How the identity was established. */
  readonly source: "api_key" | "jwt" | "mtls" | "anonymous";
  /** Calls of this identity must be signed (SEC-007; an API key with `requireSignature: true`). */
  readonly requireSignature?: boolean;
}

/** The caller of the current RPC (undefined before authentication ran). */
export const IDENTITY = createContextKey<Identity | undefined>(undefined, { description: "caller identity" });

/** Whether `identity` holds `required` (a higher role includes the lower ones). */
export function hasRole(identity: Identity, required: RoleName): boolean {
  const needed = ROLE_ORDER.indexOf(required);
  return identity.roles.some((role) => ROLE_ORDER.indexOf(role) >= needed);
}
