/**
 * A compartment of limited concurrency with a bounded, priority-ordered queue (REL-002, REL-005).
 * cockatiel's bulkhead queues first-in first-out only, so this small queue is written by hand
 * (docs/adr/0015-bulkheads-and-priority.md): a waiting call's effective priority is its class
 * (high 2, normal 1, low 0) plus one level per `agingMs` waited, so a low-priority call
 * overtakes fresh high-priority ones after `2 × agingMs` and is never starved. A call that
 * cannot get a slot within `queueTimeoutMs`, or finds the queue full, is refused.
 */

/** Priority classes, from the `x-mlsdm-priority` header. */
export const PRIORITIES = { low: 0, normal: 1, high: 2 } as const;
export type Priority = keyof typeof PRIORITIES;

/** Why a call was refused. */
export class BulkheadRejected extends Error {
  override readonly name = "BulkheadRejected";
  constructor(
    readonly compartment: string,
    readonly why: "queue_full" | "queue_timeout",
    readonly retryAfterMs: number,
  ) {
    super(
      why === "queue_full"
        ? `the ${compartment} compartment and its queue are full`
        : `no ${compartment} slot came free in time`,
    );
  }
}

/** Limits of one compartment. */
export interface BulkheadOptions {
  readonly name: string;
  readonly limit: number;
  readonly queueSize: number;
  readonly queueTimeoutMs: number;
  readonly agingMs: number;
}

interface Waiter {
  readonly priority: number;
  readonly enqueuedAt: number;
  readonly grant: (release: () => void) => void;
  readonly timer: NodeJS.Timeout;
}

/** Counters a compartment exposes to metrics. */
export interface BulkheadStats {
  readonly active: number;
  readonly queued: number;
}

/** One compartment. */
export class PriorityBulkhead {
  private active = 0;
  private readonly queue: Waiter[] = [];

  constructor(
    readonly options: BulkheadOptions,
    private readonly now: () => number = () => performance.now(),
  ) {}

  stats(): BulkheadStats {
    return { active: this.active, queued: this.queue.length };
  }

  /**
   * Resolves with a release function once a slot is held; rejects with BulkheadRejected. The
   * signal (which cancels a queued wait) may be given as a function: it is then read only when
   * the call has to queue, so a call admitted at once never makes its context build one.
   */
  acquire(priority: Priority, signalOrGetter?: AbortSignal | (() => AbortSignal)): Promise<() => void> {
    if (this.active < this.options.limit && this.queue.length === 0) {
      this.active += 1;
      return Promise.resolve(this.releaser());
    }
    if (this.queue.length >= this.options.queueSize) {
      return Promise.reject(
        new BulkheadRejected(this.options.name, "queue_full", this.options.queueTimeoutMs),
      );
    }
    const signal = typeof signalOrGetter === "function" ? signalOrGetter() : signalOrGetter;
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        priority: PRIORITIES[priority],
        enqueuedAt: this.now(),
        grant: resolve,
        timer: setTimeout(() => {
          this.remove(waiter);
          reject(new BulkheadRejected(this.options.name, "queue_timeout", this.options.queueTimeoutMs));
        }, this.options.queueTimeoutMs),
      };
      this.queue.push(waiter);
      signal?.addEventListener(
        "abort",
        () => {
          if (this.remove(waiter)) {
            clearTimeout(waiter.timer);
            reject(signal.reason instanceof Error ? signal.reason : new Error("cancelled while queued"));
          }
        },
        { once: true },
      );
    });
  }

  private remove(waiter: Waiter): boolean {
    const index = this.queue.indexOf(waiter);
    if (index < 0) return false;
    this.queue.splice(index, 1);
    return true;
  }

  /** A release function that frees the slot once, then hands it to the best waiter. */
  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.active -= 1;
      this.dispatch();
    };
  }

  /** Grants free slots to the waiters with the highest aged priority (oldest first on ties). */
  private dispatch(): void {
    while (this.active < this.options.limit && this.queue.length > 0) {
      const now = this.now();
      let best = 0;
      let bestScore = -Infinity;
      this.queue.forEach((waiter, index) => {
        const score = waiter.priority + (now - waiter.enqueuedAt) / this.options.agingMs;
        if (score > bestScore) {
          bestScore = score;
          best = index;
        }
      });
      const [waiter] = this.queue.splice(best, 1);
      if (!waiter) return;
      clearTimeout(waiter.timer);
      this.active += 1;
      waiter.grant(this.releaser());
    }
  }
}

/** The priority class of a call from its `x-mlsdm-priority` header (default normal). */
export function priorityOf(header: string | null): Priority {
  const value = header?.trim().toLowerCase();
  return value === "high" || value === "low" ? value : "normal";
}
