/**
 * The durable state against a real SQLite file in a temporary directory: journalled writes
 * survive a "restart" (a new controller loading the same directory), snapshots truncate the
 * journal, and a flipped byte in a snapshot or a torn journal entry is detected and survived.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { CognitiveController, type ControllerOptions } from "../../src/core/controller.js";
import { DurableState } from "../../src/store/durable-state.js";
import { DATABASE_FILE } from "../../src/store/sqlite-store.js";

const DIM = 8;
const options: ControllerOptions = {
  dimension: DIM,
  pelmCapacity: 64,
  phaseTolerance: 0.15,
  rhythm: { wakeDuration: 1000, sleepDuration: 1 },
  clock: () => performance.now(),
  memory: () => ({ rssBytes: 0, heapUsedBytes: 0 }),
};
const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "mlsdm-state-"));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const vector = (i: number): Float32Array =>
  Float32Array.from({ length: DIM }, (_, j) => Math.sin(i * 7 + j) + 0.1);

function open(dir: string): { controller: CognitiveController; durable: DurableState } {
  const controller = new CognitiveController(options);
  const durable = new DurableState(controller, {
    dataDir: dir,
    snapshotIntervalMs: 60_000,
    keepSnapshots: 2,
  });
  return { controller, durable };
}

async function write(controller: CognitiveController, durable: DurableState, from: number, to: number) {
  for (let i = from; i < to; i++) {
    expect(controller.processEvent(vector(i), 0.95).accepted).toBe(true);
  }
  await durable.flushed();
}

describe("DurableState", () => {
  it("replays acknowledged writes after a restart, with and without a snapshot", async () => {
    const dir = tempDir();
    const first = open(dir);
    expect(first.durable.load()).toMatchObject({ snapshotId: undefined, replayed: 0 });
    await write(first.controller, first.durable, 0, 10);
    first.durable.snapshot("middle", "manual");
    await write(first.controller, first.durable, 10, 15);
    const expected = first.controller.state();
    first.durable.close(false); // a crash after the commits: no final snapshot

    const second = open(dir);
    const report = second.durable.load();
    expect(report.replayed).toBe(5);
    expect(report.snapshotId).toBeDefined();
    expect(second.controller.state().pelmUsed).toBe(15);
    expect(second.controller.state().norms).toEqual(expected.norms);
    expect(second.controller.state().step).toBe(expected.step);
    second.durable.close();

    const third = open(dir);
    expect(third.durable.load()).toMatchObject({ replayed: 0 });
    expect(third.controller.state().norms).toEqual(expected.norms);
    third.durable.close();
  });

  it("survives a flipped byte in the newest snapshot by falling back to the previous one", async () => {
    const dir = tempDir();
    const first = open(dir);
    first.durable.load();
    await write(first.controller, first.durable, 0, 4);
    const older = first.durable.snapshot("older", "manual");
    await write(first.controller, first.durable, 4, 6);
    const newer = first.durable.snapshot("newer", "manual");
    first.durable.close(false);
    const db = new Database(path.join(dir, DATABASE_FILE));
    db.prepare("UPDATE snapshots SET bytes = zeroblob(length(bytes)) WHERE id = ?").run(newer.id);
    db.close();

    const second = open(dir);
    const report = second.durable.load();
    expect(report.corruptSnapshots).toEqual([newer.id]);
    expect(report.snapshotId).toBe(older.id);
    expect(second.controller.state().pelmUsed).toBe(4);
    second.durable.close(false);
  });

  it("drops a torn journal tail and keeps everything before it", async () => {
    const dir = tempDir();
    const first = open(dir);
    first.durable.load();
    await write(first.controller, first.durable, 0, 6);
    first.durable.close(false);
    const db = new Database(path.join(dir, DATABASE_FILE));
    db.prepare("UPDATE journal SET payload = substr(payload, 1, 20) WHERE seq = 5").run();
    db.close();

    const second = open(dir);
    const report = second.durable.load();
    expect(report.replayed).toBe(4);
    expect(report.droppedFromSeq).toBe(5);
    expect(second.controller.state().pelmUsed).toBe(4);
    await write(second.controller, second.durable, 100, 101);
    second.durable.close(false);

    const third = open(dir);
    expect(third.durable.load().droppedFromSeq).toBeUndefined();
    expect(third.controller.state().pelmUsed).toBe(5);
    third.durable.close(false);
  });

  it("restores a stored snapshot in place and keeps it across a restart", async () => {
    const dir = tempDir();
    const first = open(dir);
    first.durable.load();
    await write(first.controller, first.durable, 0, 3);
    const saved = first.durable.snapshot("three", "manual");
    await write(first.controller, first.durable, 3, 9);
    expect(first.durable.restore(saved.id)?.id).toBe(saved.id);
    expect(first.controller.state().pelmUsed).toBe(3);
    expect(first.durable.restore("no-such-snapshot")).toBeUndefined();
    first.durable.close(false);
    const second = open(dir);
    second.durable.load();
    expect(second.controller.state().pelmUsed).toBe(3);
    second.durable.close(false);
  });

  it("keeps only the newest automatic snapshots", async () => {
    const dir = tempDir();
    const first = open(dir);
    first.durable.load();
    for (let i = 0; i < 4; i++) {
      await write(first.controller, first.durable, i, i + 1);
      first.durable.snapshot(`auto ${i}`, "auto");
    }
    first.durable.snapshot("kept", "manual");
    const kinds = first.durable.list().map((s) => s.kind);
    expect(kinds.filter((k) => k === "auto")).toHaveLength(2);
    expect(kinds.filter((k) => k === "manual")).toHaveLength(1);
    first.durable.close(false);
  });
});
