/**
 * `npm run bench:state`: what durable state costs. ProcessEvent-shaped work (controller event +
 * journal entry) in batches of 64 calls per event-loop turn, as concurrent callers produce it, with
 * persistence off (MLSDM_STATE=memory) and on (SQLite WAL journal, one transaction per turn,
 * each call waiting for its commit), in one run on the same machine. Also times a full snapshot
 * of a 20,000-vector store. Writes benchmarks/results/state.json. A recorded benchmark, not a test.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { CognitiveController } from "../../src/core/controller.js";
import { DurableState } from "../../src/store/durable-state.js";

const DIM = 384;
const EVENTS = Number(process.env.MLSDM_BENCH_EVENTS ?? 20_000);
const BATCH = 64;

const pool = Array.from({ length: 512 }, (_, i) =>
  Float32Array.from({ length: DIM }, (_, j) => Math.sin(i * 31 + j)),
);

function controller(): CognitiveController {
  return new CognitiveController({
    dimension: DIM,
    pelmCapacity: 20_000,
    phaseTolerance: 0.15,
    rhythm: { wakeDuration: 1_000_000, sleepDuration: 1 },
    clock: () => performance.now(),
    memory: () => ({ rssBytes: 0, heapUsedBytes: 0 }),
  });
}

async function run(
  persist: boolean,
): Promise<{ eventsPerSecond: number; snapshotMs?: number; bytes?: number }> {
  const ctrl = controller();
  const dir = mkdtempSync(path.join(tmpdir(), "mlsdm-bench-state-"));
  const durable = persist
    ? new DurableState(ctrl, { dataDir: dir, snapshotIntervalMs: 3_600_000, keepSnapshots: 2 })
    : undefined;
  durable?.load();
  const started = performance.now();
  for (let i = 0; i < EVENTS; i += BATCH) {
    const waits: Promise<void>[] = [];
    for (let k = i; k < Math.min(EVENTS, i + BATCH); k++) {
      ctrl.processEvent(pool[k % pool.length] ?? new Float32Array(DIM).fill(1), 0.95);
      if (durable) waits.push(durable.flushed());
    }
    await Promise.all(waits);
  }
  const seconds = (performance.now() - started) / 1000;
  let snapshotMs: number | undefined;
  let bytes: number | undefined;
  if (durable) {
    const t = performance.now();
    const info = durable.snapshot("bench", "manual");
    snapshotMs = performance.now() - t;
    bytes = info.sizeBytes;
    durable.close(false);
  }
  rmSync(dir, { recursive: true, force: true });
  return { eventsPerSecond: EVENTS / seconds, ...(snapshotMs === undefined ? {} : { snapshotMs, bytes }) };
}

const memory = await run(false);
const sqlite = await run(true);
const memoryAgain = await run(false);
const baseline = Math.max(memory.eventsPerSecond, memoryAgain.eventsPerSecond);
const result = {
  date: new Date().toISOString(),
  node: process.version,
  events: EVENTS,
  batch: BATCH,
  memoryEventsPerSecond: baseline,
  sqliteEventsPerSecond: sqlite.eventsPerSecond,
  ratio: sqlite.eventsPerSecond / baseline,
  snapshotMsAt20000: sqlite.snapshotMs,
  snapshotBytes: sqlite.bytes,
};
const out = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "results", "state.json");
mkdirSync(path.dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
process.stdout.write(
  `ProcessEvent work, ${EVENTS} events in batches of ${BATCH}:\n` +
    `  memory  ${baseline.toFixed(0)} events/s (best of two runs around the SQLite run)\n` +
    `  sqlite  ${sqlite.eventsPerSecond.toFixed(0)} events/s (ratio ${result.ratio.toFixed(2)})\n` +
    `  snapshot of the full store: ${sqlite.snapshotMs?.toFixed(1) ?? "?"} ms, ${sqlite.bytes ?? 0} bytes\n` +
    `wrote ${path.relative(process.cwd(), out)}\n`,
);
