/**
 * AdminService.CreateApiKey, ListApiKeys, RotateApiKey and RevokeApiKey (SEC-002) over the key
 * manager. A secret leaves the server only in the response that creates it; listings carry an
 * 8-character digest prefix. Every change is a security event with the key id, the caller's
 * identity, the reason and the method, never the secret.
 */
import type { MessageInitShape } from "@bufbuild/protobuf";
import { durationMs, timestampFromMs, timestampMs, type Duration } from "@bufbuild/protobuf/wkt";
import type { HandlerContext } from "@connectrpc/connect";
import {
  ApiKeySource,
  ApiKeyState,
  type ApiKeySchema,
  type CreateApiKeyRequest,
  type ListApiKeysRequest,
  type RevokeApiKeyRequest,
  type RotateApiKeyRequest,
} from "../../gen/mlsdm/v1/admin_pb.js";
import { Role } from "../../gen/mlsdm/v1/options_pb.js";
import { MAX_OVERLAP_MS, type ApiKeyManager, type KeyView } from "../../policy/api-key-manager.js";
import { security } from "../../policy/authenticate.js";
import { IDENTITY, type RoleName } from "../../policy/identity.js";
import { MlsdmError } from "../../telemetry/errors/index.js";
import { logger } from "../../telemetry/logger.js";

const STATES = {
  active: ApiKeyState.ACTIVE,
  superseded: ApiKeyState.SUPERSEDED,
  expired: ApiKeyState.EXPIRED,
  revoked: ApiKeyState.REVOKED,
} as const;
const SOURCES = {
  env: ApiKeySource.ENV,
  file: ApiKeySource.FILE,
  admin_api: ApiKeySource.ADMIN_API,
} as const;
const ROLE_VALUES = { read: Role.READ, write: Role.WRITE, admin: Role.ADMIN } as const;
const ROLE_NAMES: Partial<Record<Role, RoleName>> = {
  [Role.READ]: "read",
  [Role.WRITE]: "write",
  [Role.ADMIN]: "admin",
};

/** The contract's view of a key: metadata only. */
export function keyMessage(key: KeyView): MessageInitShape<typeof ApiKeySchema> {
  return {
    keyId: key.id,
    owner: key.owner,
    roles: key.roles.map((role) => ROLE_VALUES[role]),
    description: key.description,
    hashPrefix: key.hashPrefix,
    state: STATES[key.state],
    source: SOURCES[key.source],
    ...(key.createdAtMs === undefined ? {} : { createdAt: timestampFromMs(key.createdAtMs) }),
    ...(key.expiresAtMs === undefined ? {} : { expiresAt: timestampFromMs(key.expiresAtMs) }),
    ...(key.revokedAtMs === undefined ? {} : { revokedAt: timestampFromMs(key.revokedAtMs) }),
    revokeReason: key.revokeReason,
    supersededBy: key.supersededBy,
  };
}

function outOfRange(field: string, description: string): MlsdmError {
  return new MlsdmError("VALUE_OUT_OF_RANGE", {
    detail: `${field} ${description}`,
    fieldViolations: [{ field, description }],
  });
}

function roleNames(roles: readonly Role[]): RoleName[] {
  const names: RoleName[] = [];
  roles.forEach((role, index) => {
    const name = ROLE_NAMES[role];
    if (name === undefined) {
      throw new MlsdmError("VALIDATION_FAILED", {
        detail: `roles[${index}] must be ROLE_READ, ROLE_WRITE or ROLE_ADMIN`,
        fieldViolations: [
          { field: `roles[${index}]`, description: "must be ROLE_READ, ROLE_WRITE or ROLE_ADMIN" },
        ],
      });
    }
    if (!names.includes(name)) names.push(name);
  });
  return names;
}

/**
 * The longest lifetime a key may be given (10 years): beyond it an expiry is a typo, and far
 * enough out it would not even have a JSON form (Timestamps end at 9999-12-31).
 */
export const MAX_KEY_LIFETIME_MS = 10 * 365.25 * 24 * 3600 * 1000;

function positive(duration: Duration | undefined, field: string): number | undefined {
  if (duration === undefined) return undefined;
  const ms = durationMs(duration);
  if (!(ms > 0 && ms <= MAX_KEY_LIFETIME_MS))
    throw outOfRange(field, "must be positive and at most 10 years");
  return ms;
}

function actorOf(context: HandlerContext): string {
  return context.values.get(IDENTITY)?.id ?? "";
}

/** Runs a store change; a failure of the database is E406 (retryable), not an internal error. */
function stored<T>(change: () => T): T {
  try {
    return change();
  } catch (error) {
    if (error instanceof MlsdmError) throw error;
    throw new MlsdmError("STORE_UNAVAILABLE", {
      detail: "the API key store could not be written",
      cause: error,
    });
  }
}

/** The four key handlers. */
export function apiKeyHandlers(keys: ApiKeyManager, now: () => number = Date.now) {
  return {
    createApiKey(request: CreateApiKeyRequest, context: HandlerContext) {
      const roles = roleNames(request.roles);
      let expiresAtMs: number | undefined;
      if (request.expiry.case === "expiresAt") {
        expiresAtMs = timestampMs(request.expiry.value);
        if (!(expiresAtMs > now() && expiresAtMs <= now() + MAX_KEY_LIFETIME_MS)) {
          throw outOfRange("expires_at", "must be in the future and at most 10 years ahead");
        }
      } else if (request.expiry.case === "ttl") {
        expiresAtMs = now() + (positive(request.expiry.value, "ttl") ?? 0);
      }
      const actor = actorOf(context);
      const { key, secret } = stored(() =>
        keys.create({
          owner: request.owner.trim(),
          roles,
          description: request.description,
          expiresAtMs,
          actor,
        }),
      );
      security("key_created", {
        key_id: key.id,
        actor,
        reason: request.description,
        method: context.method.name,
        owner: key.owner,
        roles: key.roles.join(","),
        hash_prefix: key.hashPrefix,
      });
      if (!keys.persistent) {
        logger.warn("API key held in memory only: it will not survive a restart (MLSDM_STATE=memory)", {
          event: "key_not_persistent",
          key_id: key.id,
        });
      }
      return { key: keyMessage(key), secret };
    },

    listApiKeys(request: ListApiKeysRequest) {
      const page = keys.list({
        pageSize: request.pageSize,
        pageToken: request.pageToken,
        includeInactive: request.includeInactive,
      });
      return { keys: page.keys.map(keyMessage), nextPageToken: page.nextPageToken };
    },

    rotateApiKey(request: RotateApiKeyRequest, context: HandlerContext) {
      let overlapMs: number | undefined;
      if (request.overlap !== undefined) {
        overlapMs = durationMs(request.overlap);
        if (!(overlapMs >= 0 && overlapMs <= MAX_OVERLAP_MS)) {
          throw outOfRange("overlap", "must be from 0 to 7 days");
        }
      }
      const ttlMs = positive(request.ttl, "ttl");
      const actor = actorOf(context);
      const id = request.keyId.trim();
      const rotated = stored(() => keys.rotate(id, { overlapMs, ttlMs, actor }));
      security("key_rotated", {
        key_id: id,
        successor_key_id: rotated.key.id,
        actor,
        reason: request.reason,
        method: context.method.name,
        overlap_until:
          rotated.previous.expiresAtMs === undefined
            ? ""
            : new Date(rotated.previous.expiresAtMs).toISOString(),
      });
      return {
        key: keyMessage(rotated.key),
        secret: rotated.secret,
        previousKey: keyMessage(rotated.previous),
      };
    },

    revokeApiKey(request: RevokeApiKeyRequest, context: HandlerContext) {
      const id = request.keyId.trim();
      const { key, changed } = stored(() => keys.revoke(id, request.reason));
      if (changed) {
        security("key_revoked", {
          key_id: id,
          actor: actorOf(context),
          reason: request.reason,
          method: context.method.name,
          source: key.source,
        });
      }
      return { key: keyMessage(key) };
    },
  };
}
