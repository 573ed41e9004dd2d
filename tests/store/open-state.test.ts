/**
 * Opening and closing the durable state as the server does (src/store/open-state.ts) on a real
 * SQLite file: the E403 warnings for a corrupt snapshot and a torn journal, the load report
 * line, periodic snapshots on the configured interval and the E406 line when one fails, a
 * final snapshot failure logged rather than thrown, and DurableState's refusals of snapshots
 * that fail their checksum or format.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it, vi } from "vitest";
import { loadConfig } from "../../src/config/index.js";
import { SnapshotFormatError } from "../../src/core/binary.js";
import { CognitiveController, type ControllerOptions } from "../../src/core/controller.js";
import { closeDurableState, openDurableState } from "../../src/store/open-state.js";
import { DATABASE_FILE } from "../../src/store/sqlite-store.js";
import { logger } from "../../src/telemetry/logger.js";

const DIM = 8;
const options: ControllerOptions = {
  dimension: DIM,
  pelmCapacity: 64,
  phaseTolerance: 0.15,
  rhythm: { wakeDuration: 1000, sleepDuration: 1 },
  clock: () => performance.now(),
  memory: () => ({ rssBytes: 0, heapUsedBytes: 0 }),
};
const vector = (i: number): Float32Array =>
  Float32Array.from({ length: DIM }, (_, j) => Math.cos(i * 5 + j) + 0.1);

const dirs: string[] = [];
function config(env: Record<string, string> = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), "mlsdm-open-state-"));
  dirs.push(dir);
  return loadConfig({ env: { MLSDM_STATE: "sqlite", MLSDM_DATA_DIR: dir, ...env } }).config;
}
afterEach(() => {
  vi.restoreAllMocks();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Lets the batched journal commit (it commits once per event-loop turn). */
const turn = () => new Promise((resolve) => setImmediate(resolve));

describe("openDurableState and closeDurableState", () => {
  it("warns E403 for a corrupt snapshot and a torn journal, then reports what it loaded", async () => {
    const cfg = config();
    const first = new CognitiveController(options);
    const durable = openDurableState(first, cfg);
    for (let i = 0; i < 3; i++) first.processEvent(vector(i), 0.95);
    await turn();
    const snap = durable.snapshot("base", "manual");
    for (let i = 3; i < 6; i++) first.processEvent(vector(i), 0.95);
    await turn();
    durable.close(false);
    const db = new Database(path.join(cfg.dataDir, DATABASE_FILE));
    db.prepare("UPDATE snapshots SET bytes = zeroblob(length(bytes)) WHERE id = ?").run(snap.id);
    db.prepare(
      "UPDATE journal SET payload = substr(payload, 1, 10) WHERE seq = (SELECT max(seq) FROM journal)",
    ).run();
    db.close();

    const warn = vi.spyOn(logger, "warn");
    const info = vi.spyOn(logger, "info");
    const second = new CognitiveController(options);
    const reopened = openDurableState(second, cfg);
    expect(warn).toHaveBeenCalledWith(
      "snapshot skipped: it fails its checksum or format",
      expect.objectContaining({ event: "snapshot_corrupt", error_code: "E403", snapshot_id: snap.id }),
    );
    expect(warn).toHaveBeenCalledWith(
      "journal tail dropped: an entry fails its checksum",
      expect.objectContaining({ event: "journal_corrupt", error_code: "E403", from_seq: expect.any(Number) }),
    );
    // The snapshot truncated the journal it covered: with the snapshot unusable, what is left is
    // the three later entries, replayed up to the torn last one.
    expect(info).toHaveBeenCalledWith(
      "memory state loaded",
      expect.objectContaining({ event: "state_loaded", snapshot_id: "", replayed: 2, pelm_used: 2 }),
    );
    closeDurableState(reopened);
    expect(info).toHaveBeenCalledWith("memory state saved", { event: "state_saved" });
  });

  it("writes periodic snapshots on the configured interval, and logs E406 when one fails", async () => {
    const cfg = config({ MLSDM_SNAPSHOT_INTERVAL_SECONDS: "1" });
    const controller = new CognitiveController(options);
    const durable = openDurableState(controller, cfg);
    controller.processEvent(vector(1), 0.95);
    await turn();
    await vi.waitFor(
      () => {
        expect(durable.list().some((s) => s.label === "periodic" && s.kind === "auto")).toBe(true);
      },
      { timeout: 3_000, interval: 50 },
    );
    const error = vi.spyOn(logger, "error");
    const snapshot = vi.spyOn(durable, "snapshot").mockImplementation(() => {
      throw new Error("disk gone");
    });
    await vi.waitFor(
      () => {
        expect(error).toHaveBeenCalledWith(
          "periodic snapshot failed",
          expect.objectContaining({ event: "snapshot_failed", error_code: "E406", error: "disk gone" }),
        );
      },
      { timeout: 3_000, interval: 50 },
    );
    snapshot.mockRestore();
    durable.close(false);
  });

  it("logs a failed final snapshot instead of throwing", () => {
    const controller = new CognitiveController(options);
    const durable = openDurableState(controller, config());
    const error = vi.spyOn(logger, "error");
    const close = vi.spyOn(durable, "close").mockImplementation(() => {
      throw new Error("read-only file system");
    });
    expect(() => {
      closeDurableState(durable);
    }).not.toThrow();
    expect(error).toHaveBeenCalledWith(
      "final snapshot failed",
      expect.objectContaining({ error_code: "E406", error: "read-only file system" }),
    );
    close.mockRestore();
    durable.close(false);
  });
});

describe("DurableState refusals", () => {
  it("restore: undefined for an unknown id, SnapshotFormatError for a snapshot failing its checksum", async () => {
    const cfg = config();
    const controller = new CognitiveController(options);
    const durable = openDurableState(controller, cfg);
    controller.processEvent(vector(7), 0.95);
    await turn();
    const snap = durable.snapshot("to spoil", "manual");
    expect(durable.restore("no-such-id")).toBeUndefined();
    expect(durable.read("no-such-id")).toBeUndefined();
    const db = new Database(path.join(cfg.dataDir, DATABASE_FILE));
    db.prepare("UPDATE snapshots SET bytes = zeroblob(length(bytes)) WHERE id = ?").run(snap.id);
    db.close();
    expect(durable.read(snap.id)?.valid).toBe(false);
    expect(() => durable.restore(snap.id)).toThrow(SnapshotFormatError);
    expect(() => durable.restore(snap.id)).toThrow(/fails its SHA-256 checksum/);
    // The live state is untouched.
    expect(controller.state().pelmUsed).toBe(1);
    durable.close(false);
  });

  it("importSnapshot: refuses bytes that are not a snapshot of this shape, stores one that is", async () => {
    const controller = new CognitiveController(options);
    const durable = openDurableState(controller, config());
    expect(() => durable.importSnapshot(new Uint8Array([1, 2, 3, 4]), "garbage")).toThrow(
      SnapshotFormatError,
    );
    const other = new CognitiveController({ ...options, dimension: DIM * 2 });
    expect(() => durable.importSnapshot(other.snapshot(), "wrong dimension")).toThrow(SnapshotFormatError);
    controller.processEvent(vector(3), 0.95);
    await turn();
    const own = new CognitiveController(options);
    own.processEvent(vector(4), 0.95);
    own.processEvent(vector(5), 0.95);
    const stored = durable.importSnapshot(own.snapshot(), "fits");
    expect(stored).toMatchObject({ label: "fits", kind: "imported", pelmUsed: 2, journalSeq: 0 });
    expect(durable.list().map((s) => s.id)).toContain(stored.id);
    durable.close(false);
  });
});
