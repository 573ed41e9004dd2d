/**
 * PELM's helper threads (the core's `ParallelScan` port, ADR 0021): worker threads that
 * instantiate PELM's WebAssembly kernel over the same shared memory and take chunks of a
 * retrieval's rows, so a scan of a full store runs on more than one core.
 *
 * Coordination is a small shared Int32Array, no messages per call: the calling thread writes
 * the job, bumps SEQ and wakes the helpers; every thread claims chunks with a compare-and-swap
 * on NEXT (tagged with the job number, so a helper that wakes late can never claim a chunk of
 * the next job) and counts finished chunks in DONE; the caller waits (Atomics.wait) only for
 * chunks a helper has claimed and not finished. A helper that has not bound the memory yet, or
 * has died, simply takes no chunks: the caller then scans everything itself. The caller never
 * changes the memory while a scan runs (PELM is written only on the event-loop thread).
 *
 * The worker's code is the small plain-JavaScript string below (`eval: true`), so it runs the
 * same under tsx, vitest and the compiled build.
 */
import { MessageChannel, Worker } from "node:worker_threads";
import type { DotKernel, KernelMemory } from "../core/pelm-kernel.js";
import type { ParallelScan } from "../core/ports.js";

// Slots of the control block.
const SEQ = 0; // job number (helpers wait on it)
const NEXT = 1; // (job & 0x7fff) << 16 | next chunk to claim
const DONE = 2; // chunks finished in the current job
const CHUNKS = 3;
const Q = 4;
const BASE = 5;
const ROWS = 6;
const ROW_BYTES = 7;
const OUT = 8;
const CHUNK_ROWS = 9;
const GENERATION = 10; // the memory binding jobs are for
const STOP = 11;
const ACK = 16; // ACK + i: the generation helper i has bound
const SLOTS = 64;

/** Rows per chunk: ~50 µs of work at 384 dimensions, small enough to share a scan evenly. */
const DEFAULT_CHUNK_ROWS = 1024;
/** Longest the caller waits for a claimed chunk before it stops using the helpers. */
const STALL_MS = 10_000;

const WORKER_SOURCE = `
const { workerData, receiveMessageOnPort } = require("node:worker_threads");
const { control, port, index } = workerData;
const ctl = new Int32Array(control);
let dots;
let generation = 0;
let seen = -1; // so the first wait returns at once and the pending binding is read
for (;;) {
  Atomics.wait(ctl, ${SEQ}, seen);
  if (Atomics.load(ctl, ${STOP}) !== 0) break;
  seen = Atomics.load(ctl, ${SEQ});
  for (let m = receiveMessageOnPort(port); m; m = receiveMessageOnPort(port)) {
    const bind = m.message;
    dots = new WebAssembly.Instance(bind.module, { env: { memory: bind.memory } }).exports.dots;
    generation = bind.generation;
    Atomics.store(ctl, ${ACK} + index, generation);
  }
  if (dots === undefined || Atomics.load(ctl, ${GENERATION}) !== generation) continue;
  const tag = (seen & 0x7fff) << 16;
  const chunks = ctl[${CHUNKS}], chunkRows = ctl[${CHUNK_ROWS}], rows = ctl[${ROWS}];
  const q = ctl[${Q}], base = ctl[${BASE}], rowBytes = ctl[${ROW_BYTES}], out = ctl[${OUT}];
  for (;;) {
    const next = Atomics.load(ctl, ${NEXT});
    if ((next & 0x7fff0000) !== tag || (next & 0xffff) >= chunks) break;
    if (Atomics.compareExchange(ctl, ${NEXT}, next, next + 1) !== next) continue;
    const first = (next & 0xffff) * chunkRows;
    dots(q, base + first * rowBytes, Math.min(chunkRows, rows - first), rowBytes, out + first * 4);
    Atomics.add(ctl, ${DONE}, 1);
    Atomics.notify(ctl, ${DONE});
  }
}
`;

/** A running set of helper threads. */
export interface ScanThreads extends ParallelScan {
  /** Helper threads (threads − 1), started on the first bind. */
  readonly helpers: number;
  /** Scans split so far, and the chunks the helpers took in them (for tests and metrics). */
  stats(): { splitScans: number; helperChunks: number; soloScans: number };
  /** Stops the helpers (idempotent). */
  stop(): Promise<void>;
}

/**
 * `threads − 1` helper threads, started on the first `bind` (a store that never grows past
 * PELM_PARALLEL_MIN_ROWS never starts one; nothing is started for `threads` ≤ 1, and `bind`
 * then returns undefined). Helpers are unref'd: they never keep the process alive.
 */
export function startScanThreads(threads: number, options: { chunkRows?: number } = {}): ScanThreads {
  const control = new SharedArrayBuffer(SLOTS * 4);
  const ctl = new Int32Array(control);
  const chunkRows = options.chunkRows ?? DEFAULT_CHUNK_ROWS;
  const helpers = Math.min(Math.max(0, threads - 1), SLOTS - ACK);
  const workers: { worker: Worker; port: MessageChannel["port1"]; alive: boolean }[] = [];
  let stopped = false;
  const spawn = (): void => {
    if (workers.length > 0 || stopped) return;
    for (let index = 0; index < helpers; index++) startWorker(index);
  };
  function startWorker(index: number): void {
    const { port1, port2 } = new MessageChannel();
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { control, port: port2, index },
      transferList: [port2],
    });
    const entry = { worker, port: port1, alive: true };
    worker.on("error", () => {
      entry.alive = false;
    });
    worker.on("exit", () => {
      entry.alive = false;
    });
    worker.unref();
    port1.unref();
    workers.push(entry);
  }
  let generation = 0;
  let job = 0;
  let stalled = false;
  let splitScans = 0;
  let helperChunks = 0;
  let soloScans = 0;

  const wake = (): void => {
    job = (job + 1) & 0x7fff;
    Atomics.store(ctl, NEXT, (job << 16) | 0xffff); // no chunk of this job is claimable yet
    Atomics.store(ctl, SEQ, job);
    Atomics.notify(ctl, SEQ);
  };

  function ready(mine: number): boolean {
    if (stalled || Atomics.load(ctl, GENERATION) !== mine) return false;
    return workers.some((entry, i) => entry.alive && Atomics.load(ctl, ACK + i) === mine);
  }

  function bind(kernel: { module: object; memory: KernelMemory; dots: DotKernel }): DotKernel | undefined {
    if (helpers === 0 || stopped || !(kernel.memory.buffer instanceof SharedArrayBuffer)) return undefined;
    spawn();
    const mine = ++generation;
    Atomics.store(ctl, GENERATION, mine);
    for (const entry of workers)
      entry.port.postMessage({ generation: mine, module: kernel.module, memory: kernel.memory });
    wake(); // the helpers read their messages when they wake
    const own = kernel.dots;
    return (q, base, rows, rowBytes, out) => {
      if (rows < 2 * chunkRows || !ready(mine)) {
        soloScans++;
        own(q, base, rows, rowBytes, out);
        return;
      }
      const chunks = Math.ceil(rows / chunkRows);
      ctl[CHUNKS] = chunks;
      ctl[CHUNK_ROWS] = chunkRows;
      ctl[ROWS] = rows;
      ctl[Q] = q;
      ctl[BASE] = base;
      ctl[ROW_BYTES] = rowBytes;
      ctl[OUT] = out;
      Atomics.store(ctl, DONE, 0);
      const nextJob = (job + 1) & 0x7fff;
      Atomics.store(ctl, NEXT, nextJob << 16);
      job = nextJob;
      Atomics.store(ctl, SEQ, job);
      Atomics.notify(ctl, SEQ);
      let mineDone = 0;
      for (;;) {
        const next = Atomics.load(ctl, NEXT);
        if ((next & 0xffff) >= chunks) break;
        if (Atomics.compareExchange(ctl, NEXT, next, next + 1) !== next) continue;
        const first = (next & 0xffff) * chunkRows;
        own(q, base + first * rowBytes, Math.min(chunkRows, rows - first), rowBytes, out + first * 4);
        Atomics.add(ctl, DONE, 1);
        mineDone++;
      }
      const deadline = performance.now() + STALL_MS;
      for (let done = Atomics.load(ctl, DONE); done < chunks; done = Atomics.load(ctl, DONE)) {
        if (performance.now() > deadline) {
          // A helper claimed a chunk and never finished it: stop using helpers, score it here.
          stalled = true;
          own(q, base, rows, rowBytes, out);
          break;
        }
        Atomics.wait(ctl, DONE, done, 50);
      }
      splitScans++;
      helperChunks += chunks - mineDone;
    };
  }

  return {
    helpers,
    bind,
    stats: () => ({ splitScans, helperChunks, soloScans }),
    async stop() {
      stopped = true;
      Atomics.store(ctl, STOP, 1);
      wake();
      await Promise.all(workers.map((entry) => entry.worker.terminate()));
      for (const entry of workers) entry.port.close();
    },
  };
}
