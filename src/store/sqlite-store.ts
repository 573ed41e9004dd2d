/**
 * The durable memory state in one local SQLite database (better-sqlite3, WAL): a journal of
 * memory writes and full binary snapshots (the core's snapshot format). Every row carries its
 * own checksum (CRC-32 for journal entries, SHA-256 for snapshots) so a truncated or flipped
 * record is detected on load and skipped instead of being served.
 *
 * All methods are synchronous (better-sqlite3), so a snapshot and the journal truncation that
 * goes with it happen in one step that no call can interleave with.
 */
import { createHash } from "node:crypto";
import { mkdirSync } from "node:fs";
import { crc32 } from "node:zlib";
import Database from "better-sqlite3";
import { resolveUnder } from "../policy/path-guard.js";

/** File name of the database under the data directory. */
export const DATABASE_FILE = "mlsdm.sqlite";

/** Metadata of a stored snapshot. */
export interface StoredSnapshot {
  readonly id: string;
  readonly label: string;
  readonly createdAtMs: number;
  readonly journalSeq: number;
  readonly step: number;
  readonly pelmUsed: number;
  readonly dimension: number;
  readonly sizeBytes: number;
  readonly sha256: string;
  /** auto and manual snapshots cover the journal; an imported one is only stored (never a start-up base). */
  readonly kind: "auto" | "manual" | "imported";
}

/** A journal entry read back, with whether its checksum held. */
export interface JournalRow {
  readonly seq: number;
  readonly payload: Uint8Array;
  readonly valid: boolean;
}

interface SnapshotRow {
  id: string;
  label: string;
  created_at: number;
  journal_seq: number;
  step: number;
  pelm_used: number;
  dimension: number;
  size_bytes: number;
  sha256: string;
  kind: "auto" | "manual" | "imported";
}

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

function toInfo(row: SnapshotRow): StoredSnapshot {
  return {
    id: row.id,
    label: row.label,
    createdAtMs: row.created_at,
    journalSeq: row.journal_seq,
    step: row.step,
    pelmUsed: row.pelm_used,
    dimension: row.dimension,
    sizeBytes: row.size_bytes,
    sha256: row.sha256,
    kind: row.kind,
  };
}

/** The database. */
export class SqliteStore {
  private readonly db: Database.Database;
  private readonly insertEntry: Database.Statement<[Buffer, number]>;

  constructor(dataDir: string, maxDatabaseBytes = 0) {
    // eslint-disable-next-line security/detect-non-literal-fs-filename -- dataDir is operator configuration (the data directory)
    mkdirSync(dataDir, { recursive: true });
    // BASE-SEC-h: the state file must really lie under the data directory (no symlink escape).
    this.db = new Database(resolveUnder(dataDir, DATABASE_FILE));
    this.db.pragma("journal_mode = WAL");
    // NORMAL keeps committed transactions across a process crash (kill -9); only a power loss
    // may drop the last ones, which the journal's checksums then detect.
    this.db.pragma("synchronous = NORMAL");
    if (maxDatabaseBytes > 0) {
      const pageSize = Number(this.db.pragma("page_size", { simple: true }));
      // Past the cap SQLite fails writes with SQLITE_FULL, exactly as a full disk would.
      this.db.pragma(`max_page_count = ${Math.max(1, Math.floor(maxDatabaseBytes / pageSize))}`);
    }
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS journal (seq INTEGER PRIMARY KEY AUTOINCREMENT, payload BLOB NOT NULL, crc INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS snapshots (
        id TEXT PRIMARY KEY, label TEXT NOT NULL, created_at INTEGER NOT NULL, journal_seq INTEGER NOT NULL,
        step INTEGER NOT NULL, pelm_used INTEGER NOT NULL, dimension INTEGER NOT NULL,
        size_bytes INTEGER NOT NULL, sha256 TEXT NOT NULL, kind TEXT NOT NULL, bytes BLOB NOT NULL);
    `);
    this.insertEntry = this.db.prepare("INSERT INTO journal (payload, crc) VALUES (?, ?)");
  }

  /** Appends entries in one transaction. */
  appendJournal(entries: readonly Uint8Array[]): void {
    if (entries.length === 0) return;
    this.db.transaction(() => {
      for (const entry of entries) {
        const buffer = Buffer.from(entry.buffer, entry.byteOffset, entry.byteLength);
        this.insertEntry.run(buffer, crc32(buffer));
      }
    })();
  }

  /** Highest journal sequence number written so far (0 when none). */
  lastJournalSeq(): number {
    const row = this.db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'journal'").get() as
      { seq: number } | undefined;
    return row?.seq ?? 0;
  }

  /** Journal entries after `seq`, in order, each with whether its checksum holds. */
  *journalAfter(seq: number): Generator<JournalRow> {
    const rows = this.db
      .prepare("SELECT seq, payload, crc FROM journal WHERE seq > ? ORDER BY seq")
      .iterate(seq) as IterableIterator<{ seq: number; payload: Buffer; crc: number }>;
    for (const row of rows) {
      yield { seq: row.seq, payload: new Uint8Array(row.payload), valid: crc32(row.payload) === row.crc };
    }
  }

  /** Deletes journal entries from `seq` on (a corrupt tail). */
  dropJournalFrom(seq: number): void {
    this.db.prepare("DELETE FROM journal WHERE seq >= ?").run(seq);
  }

  /**
   * Stores a snapshot covering the journal up to `journalSeq`, deletes those journal entries
   * and keeps only the newest `keepAuto` automatic snapshots, in one transaction. An imported
   * snapshot covers no journal: nothing is deleted.
   */
  writeSnapshot(
    bytes: Uint8Array,
    meta: Omit<StoredSnapshot, "sizeBytes" | "sha256">,
    keepAuto: number,
  ): StoredSnapshot {
    const info: StoredSnapshot = { ...meta, sizeBytes: bytes.byteLength, sha256: sha256(bytes) };
    this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT INTO snapshots (id, label, created_at, journal_seq, step, pelm_used, dimension, size_bytes, sha256, kind, bytes)
           VALUES (@id, @label, @createdAtMs, @journalSeq, @step, @pelmUsed, @dimension, @sizeBytes, @sha256, @kind, @bytes)`,
        )
        .run({ ...info, bytes: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) });
      if (info.kind !== "imported")
        this.db.prepare("DELETE FROM journal WHERE seq <= ?").run(info.journalSeq);
      this.db
        .prepare(
          `DELETE FROM snapshots WHERE kind = 'auto' AND id NOT IN
             (SELECT id FROM snapshots WHERE kind = 'auto' ORDER BY created_at DESC, rowid DESC LIMIT ?)`,
        )
        .run(keepAuto);
    })();
    return info;
  }

  /** Snapshots, newest first. */
  listSnapshots(): StoredSnapshot[] {
    const rows = this.db
      .prepare(
        "SELECT id, label, created_at, journal_seq, step, pelm_used, dimension, size_bytes, sha256, kind FROM snapshots ORDER BY created_at DESC, rowid DESC",
      )
      .all() as SnapshotRow[];
    return rows.map(toInfo);
  }

  /** A snapshot's bytes and whether they match their checksum; undefined when unknown. */
  readSnapshot(id: string): { info: StoredSnapshot; bytes: Uint8Array; valid: boolean } | undefined {
    const row = this.db.prepare("SELECT * FROM snapshots WHERE id = ?").get(id) as
      (SnapshotRow & { bytes: Buffer }) | undefined;
    if (!row) return undefined;
    const bytes = new Uint8Array(row.bytes);
    return { info: toInfo(row), bytes, valid: sha256(bytes) === row.sha256 };
  }

  close(): void {
    this.db.close();
  }
}
