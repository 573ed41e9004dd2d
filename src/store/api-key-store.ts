/**
 * API keys created at run time (SEC-002, AdminService.CreateApiKey / RotateApiKey), kept in the
 * `api_keys` table of the same SQLite database as the memory state (`mlsdm.sqlite` under
 * MLSDM_DATA_DIR), so they survive a restart. Only the SHA-256 digest of a secret is stored,
 * never the secret. With MLSDM_STATE=memory the same interface is served from memory.
 *
 * The database is opened on its own connection (WAL allows several); better-sqlite3 is
 * synchronous, so a write here never interleaves with a memory-state transaction.
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import type { RoleName } from "../policy/identity.js";
import { logger } from "../telemetry/logger.js";
import { DATABASE_FILE } from "./sqlite-store.js";

/** One key created through the Admin API. */
export interface StoredApiKey {
  readonly id: string;
  readonly owner: string;
  readonly roles: readonly RoleName[];
  readonly description: string;
  /** SHA-256 of the secret, 64 lowercase hex characters. */
  readonly sha256: string;
  readonly createdAtMs: number;
  /** When the key stops being accepted (ms since the epoch); undefined: never. */
  readonly expiresAtMs: number | undefined;
  /** Lifetime the key was created with (a successor inherits it); undefined: no expiry. */
  readonly lifetimeMs: number | undefined;
  readonly revokedAtMs: number | undefined;
  readonly revokeReason: string;
  /** Id of the key that replaced this one through RotateApiKey ("" when none). */
  readonly supersededBy: string;
  /** Identity id of the caller that created the key. */
  readonly createdBy: string;
}

/** Where runtime keys are kept. */
export interface ApiKeyStore {
  /** Whether keys survive a restart. */
  readonly persistent: boolean;
  /** Every stored key, oldest first. */
  all(): StoredApiKey[];
  insert(key: StoredApiKey): void;
  /** Records a rotation in one step: the successor is inserted and the old key superseded. */
  rotate(successor: StoredApiKey, oldId: string, oldExpiresAtMs: number | undefined): void;
  revoke(id: string, atMs: number, reason: string): void;
  close(): void;
}

interface Row {
  id: string;
  owner: string;
  roles: string;
  description: string;
  sha256: string;
  created_at: number;
  expires_at: number | null;
  lifetime_ms: number | null;
  revoked_at: number | null;
  revoke_reason: string;
  superseded_by: string;
  created_by: string;
}

function fromRow(row: Row): StoredApiKey {
  return {
    id: row.id,
    owner: row.owner,
    roles: row.roles.split(",").filter(Boolean) as RoleName[],
    description: row.description,
    sha256: row.sha256,
    createdAtMs: row.created_at,
    expiresAtMs: row.expires_at ?? undefined,
    lifetimeMs: row.lifetime_ms ?? undefined,
    revokedAtMs: row.revoked_at ?? undefined,
    revokeReason: row.revoke_reason,
    supersededBy: row.superseded_by,
    createdBy: row.created_by,
  };
}

function toRow(key: StoredApiKey): Row {
  return {
    id: key.id,
    owner: key.owner,
    roles: key.roles.join(","),
    description: key.description,
    sha256: key.sha256,
    created_at: key.createdAtMs,
    expires_at: key.expiresAtMs ?? null,
    lifetime_ms: key.lifetimeMs ?? null,
    revoked_at: key.revokedAtMs ?? null,
    revoke_reason: key.revokeReason,
    superseded_by: key.supersededBy,
    created_by: key.createdBy,
  };
}

/** Runtime keys in the `api_keys` table of `<dataDir>/mlsdm.sqlite`. */
export class SqliteApiKeyStore implements ApiKeyStore {
  readonly persistent = true;
  private readonly db: Database.Database;

  constructor(dataDir: string) {
    // eslint-disable-next-line security/detect-non-literal-fs-filename -- dataDir is operator configuration (the data directory)
    mkdirSync(dataDir, { recursive: true });
    this.db = new Database(path.join(dataDir, DATABASE_FILE));
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("synchronous = NORMAL");
    this.db.pragma("busy_timeout = 5000");
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS api_keys (
        id TEXT PRIMARY KEY, owner TEXT NOT NULL, roles TEXT NOT NULL, description TEXT NOT NULL,
        sha256 TEXT NOT NULL UNIQUE, created_at INTEGER NOT NULL, expires_at INTEGER, lifetime_ms INTEGER,
        revoked_at INTEGER, revoke_reason TEXT NOT NULL DEFAULT '', superseded_by TEXT NOT NULL DEFAULT '',
        created_by TEXT NOT NULL DEFAULT '');
    `);
  }

  all(): StoredApiKey[] {
    const rows = this.db.prepare("SELECT * FROM api_keys ORDER BY created_at, rowid").all() as Row[];
    return rows.map(fromRow);
  }

  insert(key: StoredApiKey): void {
    this.db
      .prepare(
        `INSERT INTO api_keys (id, owner, roles, description, sha256, created_at, expires_at, lifetime_ms,
           revoked_at, revoke_reason, superseded_by, created_by)
         VALUES (@id, @owner, @roles, @description, @sha256, @created_at, @expires_at, @lifetime_ms,
           @revoked_at, @revoke_reason, @superseded_by, @created_by)`,
      )
      .run(toRow(key));
  }

  rotate(successor: StoredApiKey, oldId: string, oldExpiresAtMs: number | undefined): void {
    this.db.transaction(() => {
      this.insert(successor);
      this.db
        .prepare("UPDATE api_keys SET superseded_by = ?, expires_at = ? WHERE id = ?")
        .run(successor.id, oldExpiresAtMs ?? null, oldId);
    })();
  }

  revoke(id: string, atMs: number, reason: string): void {
    this.db
      .prepare("UPDATE api_keys SET revoked_at = ?, revoke_reason = ? WHERE id = ? AND revoked_at IS NULL")
      .run(atMs, reason, id);
  }

  close(): void {
    this.db.close();
  }
}

/** Runtime keys held in memory only (MLSDM_STATE=memory): lost on restart. */
export class MemoryApiKeyStore implements ApiKeyStore {
  readonly persistent = false;
  private keys: StoredApiKey[] = [];

  all(): StoredApiKey[] {
    return [...this.keys];
  }

  insert(key: StoredApiKey): void {
    if (this.keys.some((k) => k.id === key.id || k.sha256 === key.sha256)) {
      throw new Error(`API key "${key.id}" is already stored`);
    }
    this.keys.push(key);
  }

  rotate(successor: StoredApiKey, oldId: string, oldExpiresAtMs: number | undefined): void {
    this.insert(successor);
    this.keys = this.keys.map((k) =>
      k.id === oldId ? { ...k, supersededBy: successor.id, expiresAtMs: oldExpiresAtMs } : k,
    );
  }

  revoke(id: string, atMs: number, reason: string): void {
    this.keys = this.keys.map((k) =>
      k.id === id && k.revokedAtMs === undefined ? { ...k, revokedAtMs: atMs, revokeReason: reason } : k,
    );
  }

  close(): void {
    this.keys = [];
  }
}

/** The store for runtime keys: the state database with MLSDM_STATE=sqlite, else memory. */
export function openApiKeyStore(mode: "sqlite" | "memory", dataDir: string): ApiKeyStore {
  if (mode === "sqlite") return new SqliteApiKeyStore(path.resolve(dataDir));
  logger.info("API keys created through the Admin API are held in memory and will not survive a restart", {
    event: "keys_not_persistent",
    hint: "run with MLSDM_STATE=sqlite to keep them",
  });
  return new MemoryApiKeyStore();
}
