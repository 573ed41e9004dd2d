/**
 * The accepted API keys and their lifecycle (SEC-002). Three sources make up the ring that
 * authentication reads: keys from the environment, keys from the watched keys file, and keys
 * created at run time through the Admin API (kept hashed in the `api_keys` store). The ring is
 * rebuilt synchronously on every change, so a revocation holds for the very next call.
 *
 * Ids are unique across sources: a keys file that reuses an id (or a secret) of another source
 * is rejected as a whole and the previous keys stay in force; nothing is silently merged.
 * Keys from the environment and the file can be revoked here (in memory: they come back on
 * restart while their source still lists them) but not rotated: rotate them at their source.
 */
import { randomBytes } from "node:crypto";
import type { ApiKeyStore, StoredApiKey } from "../store/api-key-store.js";
import { MlsdmError } from "../telemetry/errors/index.js";
import { ApiKeyRing, digestOf, type ApiKeyEntry } from "./api-key-ring.js";
import type { RoleName } from "./identity.js";

/** Where a key was defined. */
export type KeySource = "env" | "file" | "admin_api";
/** Lifecycle state of a key at a given time. */
export type KeyState = "active" | "superseded" | "expired" | "revoked";

/** What a listing shows of a key: metadata and a digest prefix, never the secret. */
export interface KeyView {
  readonly id: string;
  readonly owner: string;
  readonly roles: readonly RoleName[];
  readonly description: string;
  /** First 8 hex characters of the SHA-256 of the secret. */
  readonly hashPrefix: string;
  readonly state: KeyState;
  readonly source: KeySource;
  readonly createdAtMs: number | undefined;
  readonly expiresAtMs: number | undefined;
  readonly revokedAtMs: number | undefined;
  readonly revokeReason: string;
  readonly supersededBy: string;
}

/** Prefix of every secret the server issues, so leaked keys are easy to recognise (and scan for). */
export const SECRET_PREFIX = "mlsdm_";
/** Largest rotation overlap the contract allows (RotateApiKeyRequest.overlap). */
export const MAX_OVERLAP_MS = 7 * 24 * 3600 * 1000;
const DEFAULT_PAGE_SIZE = 100;

interface Revocation {
  readonly sha256: string;
  readonly atMs: number;
  readonly reason: string;
}

interface Listed {
  readonly view: KeyView;
  /** Sort key: source group, then creation time (store) or position (env, file), then id. */
  readonly order: readonly [number, number, string];
}

/** A new key's secret and metadata (the secret is returned once and never kept). */
export interface IssuedKey {
  readonly key: KeyView;
  readonly secret: string;
}

/** What CreateApiKey asks for, already validated. */
export interface NewKey {
  readonly owner: string;
  readonly roles: readonly RoleName[];
  readonly description: string;
  readonly expiresAtMs: number | undefined;
  readonly actor: string;
}

function stateOf(
  revokedAtMs: number | undefined,
  expiresAtMs: number | undefined,
  supersededBy: string,
  now: number,
): KeyState {
  if (revokedAtMs !== undefined) return "revoked";
  if (expiresAtMs !== undefined && now >= expiresAtMs) return "expired";
  return supersededBy !== "" ? "superseded" : "active";
}

function compareOrder(a: Listed["order"], b: Listed["order"]): number {
  return a[0] - b[0] || a[1] - b[1] || (a[2] < b[2] ? -1 : a[2] > b[2] ? 1 : 0);
}

function encodeToken(order: Listed["order"]): string {
  return Buffer.from(JSON.stringify(order), "utf8").toString("base64url");
}

function decodeToken(token: string): Listed["order"] {
  try {
    const value: unknown = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
    if (
      Array.isArray(value) &&
      value.length === 3 &&
      typeof value[0] === "number" &&
      typeof value[1] === "number" &&
      typeof value[2] === "string"
    ) {
      return [value[0], value[1], value[2]];
    }
  } catch {
    // reported below
  }
  throw new MlsdmError("VALIDATION_FAILED", {
    detail: "page_token is not a token from a previous ListApiKeys response",
    fieldViolations: [{ field: "page_token", description: "is not a token from a previous response" }],
  });
}

/** Builds the ring from the three sources; throws an Error naming any id or secret used twice. */
export function composeRing(
  sources: readonly { readonly source: KeySource; readonly entries: readonly ApiKeyEntry[] }[],
): ApiKeyRing {
  const ids = new Map<string, KeySource>();
  const digests = new Map<string, string>();
  const all: ApiKeyEntry[] = [];
  for (const { source, entries } of sources) {
    for (const entry of entries) {
      const other = ids.get(entry.id);
      if (other !== undefined) {
        throw new Error(
          `API key id "${entry.id}" of the ${source} keys is already used by the ${other} keys`,
        );
      }
      const twin = digests.get(entry.sha256);
      if (twin !== undefined) {
        throw new Error(`API key "${entry.id}" (${source}) has the same secret as key "${twin}"`);
      }
      ids.set(entry.id, source);
      digests.set(entry.sha256, entry.id);
      all.push(entry);
    }
  }
  return new ApiKeyRing(all);
}

/** The accepted keys and the operations of the Admin key RPCs. */
export class ApiKeyManager {
  private fileEntries: readonly ApiKeyEntry[] = [];
  private current: ApiKeyRing;
  /** Revocations of environment and file keys (memory only), by key id. */
  private readonly revoked = new Map<string, Revocation>();
  private readonly now: () => number;

  constructor(
    private readonly envEntries: readonly ApiKeyEntry[],
    private readonly store: ApiKeyStore,
    private readonly options: { readonly defaultOverlapMs: number; readonly now?: () => number },
  ) {
    this.now = options.now ?? Date.now;
    this.current = this.compose(this.fileEntries);
  }

  /** The ring authentication checks against (replaced, never mutated). */
  ring(): ApiKeyRing {
    return this.current;
  }

  /** Whether runtime keys survive a restart. */
  get persistent(): boolean {
    return this.store.persistent;
  }

  /** Replaces the keys of the file; throws (keeping the previous keys) on a clash. */
  setFileEntries(entries: readonly ApiKeyEntry[]): void {
    this.current = this.compose(entries);
    this.fileEntries = entries;
  }

  /** Creates a key; the secret is in the result only. */
  create(request: NewKey): IssuedKey {
    const now = this.now();
    const { key, secret } = this.newKey(now, {
      owner: request.owner,
      roles: request.roles,
      description: request.description,
      expiresAtMs: request.expiresAtMs,
      lifetimeMs: request.expiresAtMs === undefined ? undefined : request.expiresAtMs - now,
      createdBy: request.actor,
    });
    this.store.insert(key);
    this.rebuild();
    return { key: this.viewOfStored(key, now), secret };
  }

  /** Metadata of every key, oldest first (environment, then file, then runtime), one page. */
  list(options: { pageSize: number; pageToken: string; includeInactive: boolean }): {
    keys: KeyView[];
    nextPageToken: string;
  } {
    const after = options.pageToken === "" ? undefined : decodeToken(options.pageToken);
    const size = options.pageSize === 0 ? DEFAULT_PAGE_SIZE : options.pageSize;
    const listed = this.listed(this.now())
      .filter(
        (item) => options.includeInactive || item.view.state === "active" || item.view.state === "superseded",
      )
      .filter((item) => after === undefined || compareOrder(item.order, after) > 0)
      .sort((a, b) => compareOrder(a.order, b.order));
    const page = listed.slice(0, size);
    const last = page[page.length - 1];
    return {
      keys: page.map((item) => item.view),
      nextPageToken: listed.length > size && last ? encodeToken(last.order) : "",
    };
  }

  /**
   * Issues a successor of an active runtime key (same owner, roles and description) and cuts the
   * old key's life to the overlap, so both are accepted while clients switch.
   */
  rotate(
    id: string,
    request: { overlapMs: number | undefined; ttlMs: number | undefined; actor: string },
  ): IssuedKey & { previous: KeyView } {
    const now = this.now();
    const old = this.stored(id);
    const state = stateOf(old.revokedAtMs, old.expiresAtMs, old.supersededBy, now);
    if (state !== "active") {
      throw new MlsdmError("KEY_NOT_ROTATABLE", {
        detail: `key ${id} is ${state}; only an active key can be rotated`,
        metadata: { key_id: id, state },
      });
    }
    const overlapEnd = now + (request.overlapMs ?? this.options.defaultOverlapMs);
    const oldExpiresAtMs = old.expiresAtMs === undefined ? overlapEnd : Math.min(old.expiresAtMs, overlapEnd);
    const lifetimeMs = request.ttlMs ?? old.lifetimeMs;
    const { key, secret } = this.newKey(now, {
      owner: old.owner,
      roles: old.roles,
      description: old.description,
      expiresAtMs: lifetimeMs === undefined ? undefined : now + lifetimeMs,
      lifetimeMs,
      createdBy: request.actor,
    });
    this.store.rotate(key, old.id, oldExpiresAtMs);
    this.rebuild();
    return {
      key: this.viewOfStored(key, now),
      secret,
      previous: this.viewOfStored({ ...old, supersededBy: key.id, expiresAtMs: oldExpiresAtMs }, now),
    };
  }

  /** Revokes a key at once; revoking a revoked key changes nothing (`changed` false). */
  revoke(id: string, reason: string): { key: KeyView; changed: boolean } {
    const now = this.now();
    const before = this.find(id, now);
    if (!before)
      throw new MlsdmError("KEY_NOT_FOUND", { detail: `no API key has id ${id}`, metadata: { key_id: id } });
    if (before.view.state === "revoked") return { key: before.view, changed: false };
    if (before.view.source === "admin_api") {
      this.store.revoke(id, now, reason);
    } else {
      const entry = [...this.envEntries, ...this.fileEntries].find((e) => e.id === id);
      if (entry) this.revoked.set(id, { sha256: entry.sha256, atMs: now, reason });
    }
    this.rebuild();
    const after = this.find(id, now);
    return { key: after?.view ?? before.view, changed: true };
  }

  /** The metadata of one key now, or undefined. */
  get(id: string): KeyView | undefined {
    return this.find(id, this.now())?.view;
  }

  close(): void {
    this.store.close();
  }

  private rebuild(): void {
    this.current = this.compose(this.fileEntries);
  }

  private compose(fileEntries: readonly ApiKeyEntry[]): ApiKeyRing {
    const notRevoked = (entry: ApiKeyEntry): boolean => this.revoked.get(entry.id)?.sha256 !== entry.sha256;
    const runtime = this.store
      .all()
      .filter((key) => key.revokedAtMs === undefined)
      .map((key) => ({
        id: key.id,
        owner: key.owner,
        roles: key.roles,
        sha256: key.sha256,
        expiresAtMs: key.expiresAtMs,
      }));
    return composeRing([
      { source: "env", entries: this.envEntries.filter(notRevoked) },
      { source: "admin_api", entries: runtime },
      { source: "file", entries: fileEntries.filter(notRevoked) },
    ]);
  }

  private newKey(
    now: number,
    fields: Pick<
      StoredApiKey,
      "owner" | "roles" | "description" | "expiresAtMs" | "lifetimeMs" | "createdBy"
    >,
  ): { key: StoredApiKey; secret: string } {
    const used = new Set(this.listed(now).map((item) => item.view.id));
    let id = "";
    do id = `key_${randomBytes(6).toString("hex")}`;
    while (used.has(id));
    const secret = SECRET_PREFIX + randomBytes(32).toString("base64url");
    return {
      secret,
      key: {
        ...fields,
        id,
        sha256: digestOf(secret),
        createdAtMs: now,
        revokedAtMs: undefined,
        revokeReason: "",
        supersededBy: "",
      },
    };
  }

  private stored(id: string): StoredApiKey {
    const key = this.store.all().find((k) => k.id === id);
    if (key) return key;
    const configured = this.find(id, this.now());
    if (configured) {
      throw new MlsdmError("KEY_NOT_ROTATABLE", {
        detail: `key ${id} comes from the ${configured.view.source === "env" ? "environment" : "keys file"}; rotate it there`,
        metadata: { key_id: id, source: configured.view.source },
      });
    }
    throw new MlsdmError("KEY_NOT_FOUND", { detail: `no API key has id ${id}`, metadata: { key_id: id } });
  }

  private find(id: string, now: number): Listed | undefined {
    return this.listed(now).find((item) => item.view.id === id);
  }

  private viewOfStored(key: StoredApiKey, now: number): KeyView {
    return {
      id: key.id,
      owner: key.owner,
      roles: key.roles,
      description: key.description,
      hashPrefix: key.sha256.slice(0, 8),
      state: stateOf(key.revokedAtMs, key.expiresAtMs, key.supersededBy, now),
      source: "admin_api",
      createdAtMs: key.createdAtMs,
      expiresAtMs: key.expiresAtMs,
      revokedAtMs: key.revokedAtMs,
      revokeReason: key.revokeReason,
      supersededBy: key.supersededBy,
    };
  }

  private listed(now: number): Listed[] {
    const configured = (source: "env" | "file", group: number) => (entry: ApiKeyEntry, index: number) => {
      const revocation = this.revoked.get(entry.id);
      const revokedAtMs = revocation?.sha256 === entry.sha256 ? revocation.atMs : undefined;
      const view: KeyView = {
        id: entry.id,
        owner: entry.owner,
        roles: entry.roles,
        description: "",
        hashPrefix: entry.sha256.slice(0, 8),
        state: stateOf(revokedAtMs, entry.expiresAtMs, "", now),
        source,
        createdAtMs: undefined,
        expiresAtMs: entry.expiresAtMs,
        revokedAtMs,
        revokeReason: revokedAtMs === undefined ? "" : (revocation?.reason ?? ""),
        supersededBy: "",
      };
      return { view, order: [group, index, entry.id] as const };
    };
    return [
      ...this.envEntries.map(configured("env", 0)),
      ...this.fileEntries.map(configured("file", 1)),
      ...this.store.all().map((key) => ({
        view: this.viewOfStored(key, now),
        order: [2, key.createdAtMs, key.id] as const,
      })),
    ];
  }
}
