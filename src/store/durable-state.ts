/**
 * Durable memory state (issue 7): the controller's memory writes go to a journal, batched into
 * one SQLite transaction per event-loop turn, and a call that wrote memory answers only after
 * its batch committed, so every acknowledged write survives a crash. A full snapshot is written
 * periodically, on operator request and at shutdown, and truncates the journal it covers.
 * Start-up loads the newest snapshot whose checksum holds and replays the journal after it,
 * stopping at the first entry that fails its checksum (a torn tail) — the last good state.
 */
import { randomUUID } from "node:crypto";
import { SnapshotFormatError } from "../core/binary.js";
import { CognitiveController } from "../core/controller.js";
import { SqliteStore, type StoredSnapshot } from "./sqlite-store.js";

/** What start-up found and did. */
export interface LoadReport {
  readonly snapshotId: string | undefined;
  readonly replayed: number;
  /** Snapshots skipped because their checksum or format failed, newest first. */
  readonly corruptSnapshots: readonly string[];
  /** Sequence number of the first journal entry dropped as corrupt, if any. */
  readonly droppedFromSeq: number | undefined;
}

/** Options of the durable state (config section `state`). */
export interface DurableStateOptions {
  readonly dataDir: string;
  readonly snapshotIntervalMs: number;
  readonly keepSnapshots: number;
  /** Cap on the database size in bytes (0: none). */
  readonly maxDatabaseBytes?: number;
}

interface Waiter {
  resolve(): void;
  reject(error: unknown): void;
}

/** The journal and snapshots of one controller. */
export class DurableState {
  private readonly store: SqliteStore;
  private pending: Uint8Array[] = [];
  private waiters: Waiter[] = [];
  private scheduled = false;
  private timer: NodeJS.Timeout | undefined;
  private lastSnapshotAtMs = Date.now();
  private journalledTotal = 0;

  constructor(
    private readonly controller: CognitiveController,
    private readonly options: DurableStateOptions,
  ) {
    this.store = new SqliteStore(options.dataDir, options.maxDatabaseBytes ?? 0);
  }

  /** Loads the newest good snapshot, replays the journal, then starts journalling. */
  load(): LoadReport {
    const corrupt: string[] = [];
    let base: StoredSnapshot | undefined;
    for (const info of this.store.listSnapshots()) {
      if (info.kind === "imported") continue; // stored for RestoreSnapshot, not this server's state
      const read = this.store.readSnapshot(info.id);
      if (!read?.valid) {
        corrupt.push(info.id);
        continue;
      }
      try {
        this.controller.restoreFrom(read.bytes);
        base = info;
        break;
      } catch (error) {
        if (!(error instanceof SnapshotFormatError)) throw error;
        corrupt.push(info.id);
      }
    }
    let replayed = 0;
    let droppedFromSeq: number | undefined;
    for (const row of this.store.journalAfter(base?.journalSeq ?? 0)) {
      let applied = row.valid;
      if (applied) {
        try {
          this.controller.replay(row.payload);
        } catch (error) {
          if (!(error instanceof SnapshotFormatError)) throw error;
          applied = false;
        }
      }
      if (!applied) {
        droppedFromSeq = row.seq;
        break;
      }
      replayed += 1;
    }
    if (droppedFromSeq !== undefined) this.store.dropJournalFrom(droppedFromSeq);
    this.controller.setJournal((entry) => {
      this.append(entry);
    });
    return { snapshotId: base?.id, replayed, corruptSnapshots: corrupt, droppedFromSeq };
  }

  /** Queues a journal entry; it is committed with the others of this event-loop turn. */
  append(entry: Uint8Array): void {
    this.pending.push(entry);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.flushNow();
      });
    }
  }

  /** Resolves once every entry queued so far is committed (rejects if the commit failed). */
  flushed(): Promise<void> {
    if (this.pending.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.waiters.push({ resolve, reject });
    });
  }

  /** Commits the queued entries now, in one transaction. */
  flushNow(): void {
    this.scheduled = false;
    const batch = this.pending;
    const waiters = this.waiters;
    this.pending = [];
    this.waiters = [];
    try {
      this.store.appendJournal(batch);
      this.journalledTotal += batch.length;
      for (const waiter of waiters) waiter.resolve();
    } catch (error) {
      for (const waiter of waiters) waiter.reject(error);
    }
  }

  /** Entries queued but not yet committed. */
  get pendingEntries(): number {
    return this.pending.length;
  }

  /** Entries committed since start. */
  get journalled(): number {
    return this.journalledTotal;
  }

  /** Milliseconds since the last snapshot was written. */
  snapshotAgeMs(): number {
    return Date.now() - this.lastSnapshotAtMs;
  }

  /** Writes a snapshot of the current state (after committing the queued entries). */
  snapshot(label: string, kind: "auto" | "manual"): StoredSnapshot {
    this.flushNow();
    const bytes = this.controller.snapshot();
    const state = this.controller.state();
    const info = this.store.writeSnapshot(
      bytes,
      {
        id: randomUUID(),
        label,
        createdAtMs: Date.now(),
        journalSeq: this.store.lastJournalSeq(),
        step: state.step,
        pelmUsed: state.pelmUsed,
        dimension: this.controller.options.dimension,
        kind,
      },
      this.options.keepSnapshots,
    );
    this.lastSnapshotAtMs = info.createdAtMs;
    return info;
  }

  /** A stored snapshot's metadata and bytes, for export; undefined when unknown. */
  read(id: string): { info: StoredSnapshot; bytes: Uint8Array; valid: boolean } | undefined {
    return this.store.readSnapshot(id);
  }

  /**
   * Stores the bytes of a snapshot made elsewhere, after checking that they restore into a
   * controller with this one's options (format and dimension); the live state is untouched.
   * Throws SnapshotFormatError when they do not.
   */
  importSnapshot(bytes: Uint8Array, label: string): StoredSnapshot {
    const probe = CognitiveController.restore(bytes, this.controller.options).state();
    return this.store.writeSnapshot(
      bytes,
      {
        id: randomUUID(),
        label,
        createdAtMs: Date.now(),
        journalSeq: 0,
        step: probe.step,
        pelmUsed: probe.pelmUsed,
        dimension: this.controller.options.dimension,
        kind: "imported",
      },
      this.options.keepSnapshots,
    );
  }

  /** Snapshots, newest first. */
  list(): StoredSnapshot[] {
    return this.store.listSnapshots();
  }

  /**
   * Restores a stored snapshot into the controller in one synchronous step and writes a new
   * snapshot of the restored state, so a restart comes back to it. Undefined when unknown;
   * throws SnapshotFormatError when it fails its checksum or format (state unchanged).
   */
  restore(id: string): StoredSnapshot | undefined {
    const read = this.store.readSnapshot(id);
    if (!read) return undefined;
    if (!read.valid) throw new SnapshotFormatError(`snapshot ${id} fails its SHA-256 checksum`);
    this.flushNow();
    this.controller.restoreFrom(read.bytes);
    this.snapshot(`restored from ${id}`, "manual");
    return read.info;
  }

  /** Starts periodic snapshots. */
  start(onError: (error: unknown) => void): void {
    this.timer = setInterval(() => {
      try {
        this.snapshot("periodic", "auto");
      } catch (error) {
        onError(error);
      }
    }, this.options.snapshotIntervalMs);
    this.timer.unref();
  }

  /** Stops: a final snapshot, then closes the database. */
  close(finalSnapshot = true): void {
    if (this.timer) clearInterval(this.timer);
    this.controller.setJournal(undefined);
    if (finalSnapshot) this.snapshot("shutdown", "auto");
    else this.flushNow();
    this.store.close();
  }
}
