/**
 * Counts calls that are running, so that shutdown can wait for them to finish.
 */
export class InFlightTracker {
  private active = 0;
  private waiters: (() => void)[] = [];

  /** Number of calls running now. */
  get count(): number {
    return this.active;
  }

  /** Marks a call as started; the returned function marks it as finished (idempotent). */
  start(): () => void {
    this.active += 1;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.active -= 1;
      if (this.active === 0) {
        const waiters = this.waiters;
        this.waiters = [];
        for (const wake of waiters) wake();
      }
    };
  }

  /** Resolves true when no call is running, or false once `timeoutMs` has passed first. */
  async whenIdle(timeoutMs: number): Promise<boolean> {
    if (this.active === 0) return true;
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== wake);
        resolve(false);
      }, timeoutMs);
      const wake = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      this.waiters.push(wake);
    });
  }
}
