/**
 * Serving status of the server ("") and of each known service, with change notification.
 *
 * Transport-neutral: the Health service (both listeners), `/readyz` and the lifecycle all
 * read and write this one registry, so every door reports the same status.
 */
import { HealthCheckResponse_ServingStatus as ServingStatus } from "../../gen/grpc/health/v1/health_pb.js";

export { ServingStatus };

type Listener = (status: ServingStatus) => void;

/** Holds the status per service name and notifies watchers of each change. */
export class HealthRegistry {
  private readonly statuses = new Map<string, ServingStatus>();
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly closeListeners = new Set<() => void>();
  private closed = false;

  /**
   * @param names Service names to know from the start ("" is always added). Everything
   * starts NOT_SERVING: the server reports SERVING only once it has started.
   */
  constructor(names: readonly string[]) {
    for (const name of ["", ...names]) this.statuses.set(name, ServingStatus.NOT_SERVING);
  }

  /** Status of `name`, or undefined when the name is unknown. */
  get(name: string): ServingStatus | undefined {
    return this.statuses.get(name);
  }

  /** A snapshot of every known name and its status. */
  entries(): [string, ServingStatus][] {
    return [...this.statuses.entries()];
  }

  /** Sets the status of one name (registering it if new) and notifies its watchers on change. */
  set(name: string, status: ServingStatus): void {
    const previous = this.statuses.get(name);
    this.statuses.set(name, status);
    if (previous === status) return;
    for (const listener of this.listeners.get(name) ?? []) listener(status);
  }

  /** Sets every known name to `status`. */
  setAll(status: ServingStatus): void {
    for (const name of [...this.statuses.keys()]) this.set(name, status);
  }

  /** True once `close` ran: watch streams have ended and no new ones start. */
  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Streams the status of `name`: the current one at once (SERVICE_UNKNOWN for an unknown
   * name), then every change, until `signal` aborts or the registry closes.
   */
  async *watch(name: string, signal: AbortSignal): AsyncGenerator<ServingStatus> {
    const queue: ServingStatus[] = [this.get(name) ?? ServingStatus.SERVICE_UNKNOWN];
    let wake: (() => void) | undefined;
    const listener: Listener = (status) => {
      queue.push(status);
      wake?.();
    };
    const onEnd = (): void => wake?.();
    let set = this.listeners.get(name);
    if (!set) {
      set = new Set();
      this.listeners.set(name, set);
    }
    set.add(listener);
    this.closeListeners.add(onEnd);
    signal.addEventListener("abort", onEnd);
    try {
      for (;;) {
        const next = queue.shift();
        if (next !== undefined) {
          yield next;
          continue;
        }
        if (this.closed || signal.aborted) return;
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
      }
    } finally {
      set.delete(listener);
      this.closeListeners.delete(onEnd);
      signal.removeEventListener("abort", onEnd);
    }
  }

  /** Ends every watch stream after it has delivered the statuses already queued. */
  close(): void {
    this.closed = true;
    for (const onEnd of [...this.closeListeners]) onEnd();
  }
}
