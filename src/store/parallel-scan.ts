/**
 * PELM's helper threads (the core's `ParallelScan` port, ADR 0021): worker threads that
 * instantiate PELM's WebAssembly kernel over the same shared memory and take chunks of a
 * retrieval's rows, so a scan of a full store runs on more than one core.
 *
 * Coordination is a small shared Int32Array, no message per call. The calling thread writes
 * the job, bumps SEQ and wakes the helpers; every thread claims chunks with a compare-and-swap
 * on NEXT, tagged with the job number so a helper that wakes late never claims a chunk of a
 * later job. A helper writes its scores into its own scratch region and then marks the chunk
 * (job, helper) in MARK. When the caller has no chunk left to claim it waits a little (a few
 * chunk-times) for the helpers' chunks, copies the marked ones into place and scores any
 * unmarked one itself: a helper that was descheduled, has not bound the memory yet, or died
 * slows nothing down for long and can never corrupt a result (its late write lands in its own
 * region, under an old job's mark). The caller never changes the memory while a scan runs
 * (PELM is written only on the event-loop thread).
 *
 * The worker's code is the small plain-JavaScript string below (`eval: true`), so it runs the
 * same under tsx, vitest and the compiled build.
 */
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { MessageChannel, Worker } from "node:worker_threads";
import type { DotKernel } from "../core/pelm-kernel.js";
import type { ParallelScan, ScanKernel } from "../core/ports.js";

// Slots of the control block.
const SEQ = 0; // job number (helpers wait on it)
const NEXT = 1; // (job << 16) | next chunk to claim
const DONE = 2; // chunks helpers finished (a wake-up hint only; MARK is the truth)
const CHUNKS = 3;
const Q = 4;
const BASE = 5;
const ROWS = 6;
const ROW_BYTES = 7;
const SCRATCH = 8; // byte offset of helper 0's scratch region
const REGION_BYTES = 9; // bytes of one helper's region
const CHUNK_ROWS = 10;
const GENERATION = 11; // the memory binding jobs are for
const STOP = 12;
const ACK = 16; // ACK + i: the generation helper i has bound
const MAX_HELPERS = 48;
const MARK = ACK + MAX_HELPERS; // MARK + c: (job << 8) | (helper + 1) once chunk c is in that helper's region
const MAX_CHUNKS = 4096;
const JOB_MASK = 0x7fff;

/** Rows per chunk: ~50 µs of work at 384 dimensions, small enough to share a scan evenly. */
export const DEFAULT_CHUNK_ROWS = 1024;

const WORKER_SOURCE = `
const { workerData, receiveMessageOnPort } = require("node:worker_threads");
const { control, port, index, pauseMs } = workerData;
const pause = new Int32Array(new SharedArrayBuffer(4));
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
  const tag = seen << 16;
  const chunks = ctl[${CHUNKS}], chunkRows = ctl[${CHUNK_ROWS}], rows = ctl[${ROWS}];
  const q = ctl[${Q}], base = ctl[${BASE}], rowBytes = ctl[${ROW_BYTES}];
  const out = ctl[${SCRATCH}] + index * ctl[${REGION_BYTES}];
  for (;;) {
    const next = Atomics.load(ctl, ${NEXT});
    if ((next & 0x7fff0000) !== tag || (next & 0xffff) >= chunks) break;
    if (Atomics.compareExchange(ctl, ${NEXT}, next, next + 1) !== next) continue;
    const chunk = next & 0xffff;
    const first = chunk * chunkRows;
    if (pauseMs > 0) Atomics.wait(pause, 0, 0, pauseMs);
    dots(q, base + first * rowBytes, Math.min(chunkRows, rows - first), rowBytes, out + first * 4);
    Atomics.store(ctl, ${MARK} + chunk, (seen << 8) | (index + 1));
    Atomics.add(ctl, ${DONE}, 1);
    Atomics.notify(ctl, ${DONE});
  }
}
`;

/**
 * Cores this process may use: the machine's, capped by a cgroup v2 CPU quota (a container's
 * CPU limit, which `availableParallelism` does not see).
 */
export function usableCores(cpuMax = "/sys/fs/cgroup/cpu.max"): number {
  const cores = availableParallelism();
  try {
    // eslint-disable-next-line security/detect-non-literal-fs-filename -- the cgroup file (a fixed path; tests pass a fixture)
    const [quota, period] = readFileSync(cpuMax, "utf8").trim().split(/\s+/);
    const limit = Number(quota) / Number(period);
    return Number.isFinite(limit) && limit > 0 ? Math.max(1, Math.min(cores, Math.floor(limit))) : cores;
  } catch {
    return cores; // no cgroup v2 quota file: no limit
  }
}

/** A running set of helper threads. */
export interface ScanThreads extends ParallelScan {
  /** Scans split so far, chunks the helpers delivered, chunks the caller took back, scans done alone. */
  stats(): { splitScans: number; helperChunks: number; stolenChunks: number; soloScans: number };
  /** Stops the helpers (idempotent). */
  stop(): Promise<void>;
}

interface Helper {
  readonly worker: Worker;
  readonly port: MessageChannel["port1"];
  alive: boolean;
}

/**
 * `threads − 1` helper threads (at most 48), started on the first `bind`: a store that never
 * grows past PELM_PARALLEL_MIN_ROWS never starts one. With `threads` ≤ 1 there are none and
 * `bind` returns undefined. Helpers are unref'd: they never keep the process alive.
 */
export function startScanThreads(
  threads: number,
  options: {
    /** Rows per chunk (default 1,024). */
    chunkRows?: number;
    /** Helpers sleep this long before each chunk: lets tests exercise the take-back path. */
    helperPauseMs?: number;
  } = {},
): ScanThreads {
  const control = new SharedArrayBuffer((MARK + MAX_CHUNKS) * 4);
  const ctl = new Int32Array(control);
  const chunkRows = options.chunkRows ?? DEFAULT_CHUNK_ROWS;
  const helpers = Math.min(Math.max(0, Math.floor(threads) - 1), MAX_HELPERS);
  const workers: Helper[] = [];
  let stopped = false;
  let generation = 0;
  let job = 0;
  const stats = { splitScans: 0, helperChunks: 0, stolenChunks: 0, soloScans: 0 };

  function spawn(): void {
    if (workers.length > 0 || stopped) return;
    for (let index = 0; index < helpers; index++) {
      const { port1, port2 } = new MessageChannel();
      const worker = new Worker(WORKER_SOURCE, {
        eval: true,
        workerData: { control, port: port2, index, pauseMs: options.helperPauseMs ?? 0 },
        transferList: [port2],
      });
      const helper: Helper = { worker, port: port1, alive: true };
      const dead = (): void => {
        helper.alive = false;
      };
      worker.on("error", dead);
      worker.on("exit", dead);
      worker.unref();
      port1.unref();
      workers.push(helper);
    }
  }

  /** A new job number, published with NEXT so that no chunk of it is claimable yet. */
  function wake(): void {
    job = (job + 1) & JOB_MASK;
    Atomics.store(ctl, NEXT, (job << 16) | 0xffff);
    Atomics.store(ctl, SEQ, job);
    Atomics.notify(ctl, SEQ);
  }

  function bind(kernel: ScanKernel): DotKernel | undefined {
    const buffer = kernel.memory.buffer;
    if (helpers === 0 || stopped || !(buffer instanceof SharedArrayBuffer)) return undefined;
    spawn();
    const mine = ++generation;
    Atomics.store(ctl, GENERATION, mine);
    for (const helper of workers) {
      helper.port.postMessage({ generation: mine, module: kernel.module, memory: kernel.memory });
    }
    wake(); // the helpers read the binding when they wake
    const floats = new Float32Array(buffer);
    const regionBytes = Math.floor(kernel.scratch.bytes / helpers / 16) * 16;
    return (q, base, rows, rowBytes, out) => {
      const ready = (): boolean =>
        Atomics.load(ctl, GENERATION) === mine &&
        workers.some((helper, i) => helper.alive && Atomics.load(ctl, ACK + i) === mine);
      const chunks = Math.ceil(rows / chunkRows);
      if (chunks < 2 || chunks > MAX_CHUNKS || rows * 4 > regionBytes || !ready()) {
        stats.soloScans++;
        kernel.dots(q, base, rows, rowBytes, out);
        return;
      }
      split({ q, base, rows, rowBytes, out, chunks, regionBytes, floats, own: kernel.dots }, kernel);
    };
  }

  interface Job {
    readonly q: number;
    readonly base: number;
    readonly rows: number;
    readonly rowBytes: number;
    readonly out: number;
    readonly chunks: number;
    readonly regionBytes: number;
    readonly floats: Float32Array;
    readonly own: DotKernel;
  }

  function split(work: Job, kernel: ScanKernel): void {
    const { q, base, rows, rowBytes, out, chunks, regionBytes, floats, own } = work;
    ctl[CHUNKS] = chunks;
    ctl[CHUNK_ROWS] = chunkRows;
    ctl[ROWS] = rows;
    ctl[Q] = q;
    ctl[BASE] = base;
    ctl[ROW_BYTES] = rowBytes;
    ctl[SCRATCH] = kernel.scratch.at;
    ctl[REGION_BYTES] = regionBytes;
    Atomics.store(ctl, DONE, 0);
    job = (job + 1) & JOB_MASK;
    Atomics.store(ctl, NEXT, job << 16);
    Atomics.store(ctl, SEQ, job);
    Atomics.notify(ctl, SEQ);
    const rowsOf = (chunk: number): number => Math.min(chunkRows, rows - chunk * chunkRows);
    // Claim and score chunks until none is left; remember which were ours.
    const ours = new Uint8Array(chunks);
    let mineCount = 0;
    const started = performance.now();
    for (;;) {
      const next = Atomics.load(ctl, NEXT);
      const chunk = next & 0xffff;
      if (chunk >= chunks) break;
      if (Atomics.compareExchange(ctl, NEXT, next, next + 1) !== next) continue;
      own(q, base + chunk * chunkRows * rowBytes, rowsOf(chunk), rowBytes, out + chunk * chunkRows * 4);
      ours[chunk] = 1;
      mineCount++;
    }
    // Wait a few chunk-times for the helpers' chunks, then take back whatever is not marked.
    const perChunk = (performance.now() - started) / Math.max(1, mineCount);
    const deadline = performance.now() + Math.max(0.2, 3 * perChunk);
    const theirs = chunks - mineCount;
    for (let done = Atomics.load(ctl, DONE); done < theirs; done = Atomics.load(ctl, DONE)) {
      const left = deadline - performance.now();
      if (left <= 0) break;
      Atomics.wait(ctl, DONE, done, left);
    }
    for (let chunk = 0; chunk < chunks; chunk++) {
      if (ours[chunk] === 1) continue;
      const mark = Atomics.load(ctl, MARK + chunk);
      const first = chunk * chunkRows;
      const helper = (mark & 0xff) - 1;
      if (mark >>> 8 === job && helper >= 0 && helper < helpers) {
        const from = (kernel.scratch.at + helper * regionBytes + first * 4) / 4;
        floats.copyWithin((out + first * 4) / 4, from, from + rowsOf(chunk));
        stats.helperChunks++;
      } else {
        own(q, base + first * rowBytes, rowsOf(chunk), rowBytes, out + first * 4);
        stats.stolenChunks++;
      }
    }
    stats.splitScans++;
  }

  return {
    helpers,
    bind,
    stats: () => ({ ...stats }),
    async stop() {
      stopped = true;
      Atomics.store(ctl, STOP, 1);
      wake();
      await Promise.all(workers.map((helper) => helper.worker.terminate()));
      for (const helper of workers) helper.port.close();
    },
  };
}
