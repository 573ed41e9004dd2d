/**
 * The API keys the server accepts (SEC-002): several valid at once, each stored only as the
 * SHA-256 digest of its secret, with an id, an owner, roles and an optional expiry. A presented
 * secret is hashed and compared with `crypto.timingSafeEqual`; the ring can be replaced at run
 * time (file reload) without dropping calls, since each call reads the ring once.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { Identity, RoleName } from "./identity.js";

/** One accepted key. */
export interface ApiKeyEntry {
  readonly id: string;
  readonly owner: string;
  readonly roles: readonly RoleName[];
  /** SHA-256 of the secret, 64 lowercase hex characters. */
  readonly sha256: string;
  /** Expiry (ms since the epoch), or undefined for none. */
  readonly expiresAtMs: number | undefined;
  /** Calls with this key must be signed (SEC-007). */
  readonly requireSignature?: boolean;
}

/** The outcome of presenting a secret. */
export type KeyCheck =
  | { readonly ok: true; readonly identity: Identity }
  | { readonly ok: false; readonly why: "unknown" | "expired"; readonly keyId?: string };

/** SHA-256 of a secret, hex. */
export function digestOf(secret: string): string {
  return createHash("sha256").update(secret, "utf8").digest("hex");
}

/** An immutable set of keys. */
export class ApiKeyRing {
  private readonly byDigest: ReadonlyMap<string, ApiKeyEntry>;

  constructor(readonly entries: readonly ApiKeyEntry[]) {
    const ids = new Set<string>();
    for (const entry of entries) {
      if (ids.has(entry.id)) throw new Error(`API key id "${entry.id}" is used twice`);
      if (!/^[0-9a-f]{64}$/.test(entry.sha256)) throw new Error(`API key "${entry.id}" has no valid sha256`);
      ids.add(entry.id);
    }
    this.byDigest = new Map(entries.map((entry) => [entry.sha256, entry]));
  }

  get size(): number {
    return this.entries.length;
  }

  /** Checks a presented secret at time `now`. */
  check(secret: string, now: number = Date.now()): KeyCheck {
    const digest = digestOf(secret);
    const entry = this.byDigest.get(digest);
    if (!entry || !timingSafeEqual(Buffer.from(entry.sha256, "hex"), Buffer.from(digest, "hex"))) {
      return { ok: false, why: "unknown" };
    }
    if (entry.expiresAtMs !== undefined && now >= entry.expiresAtMs) {
      return { ok: false, why: "expired", keyId: entry.id };
    }
    return {
      ok: true,
      identity: {
        id: entry.id,
        owner: entry.owner,
        roles: entry.roles,
        source: "api_key",
        ...(entry.requireSignature === true ? { requireSignature: true } : {}),
      },
    };
  }
}
