import { afterEach, describe, expect, it, vi } from "vitest";
import {
  BulkheadRejected,
  PriorityBulkhead,
  priorityOf,
  type Priority,
} from "../../src/policy/priority-bulkhead.js";

afterEach(() => {
  vi.useRealTimers();
});

function bulkhead(limit = 1, queueSize = 10, queueTimeoutMs = 1_000, agingMs = 100) {
  let now = 0;
  const b = new PriorityBulkhead({ name: "test", limit, queueSize, queueTimeoutMs, agingMs }, () => now);
  return { b, advance: (ms: number) => (now += ms) };
}

describe("PriorityBulkhead", () => {
  it("admits up to the limit at once and queues the rest", async () => {
    const { b } = bulkhead(2);
    await b.acquire("normal");
    await b.acquire("normal");
    let third = false;
    const pending = b.acquire("normal").then((release) => {
      third = true;
      return release;
    });
    await Promise.resolve();
    expect(third).toBe(false);
    expect(b.stats()).toEqual({ active: 2, queued: 1 });
    void pending;
  });

  it("refuses at once when the queue is full, and after the timeout when no slot frees", async () => {
    vi.useFakeTimers();
    const { b } = bulkhead(1, 1, 500);
    await b.acquire("normal");
    const queued = b.acquire("normal");
    await expect(b.acquire("normal")).rejects.toMatchObject({ why: "queue_full" });
    vi.advanceTimersByTime(500);
    await expect(queued).rejects.toBeInstanceOf(BulkheadRejected);
    expect(b.stats()).toEqual({ active: 1, queued: 0 });
  });

  it("hands a freed slot to the highest priority first, oldest first on ties", async () => {
    const { b } = bulkhead(1);
    const release = await b.acquire("normal");
    const order: string[] = [];
    const wait = (priority: Priority, name: string) =>
      b.acquire(priority).then((r) => {
        order.push(name);
        r();
      });
    const all = [
      wait("low", "low"),
      wait("normal", "normal-1"),
      wait("high", "high"),
      wait("normal", "normal-2"),
    ];
    release();
    await Promise.all(all);
    expect(order).toEqual(["high", "normal-1", "normal-2", "low"]);
  });

  it("ages waiting calls so low priority is never starved", async () => {
    const { b, advance } = bulkhead(1, 10, 60_000, 100);
    let release = await b.acquire("normal");
    const order: string[] = [];
    const low = b.acquire("low").then((r) => {
      order.push("low");
      return r;
    });
    advance(250); // low has waited 2.5 levels: it now outranks a fresh high (2)
    const high = b.acquire("high").then((r) => {
      order.push("high");
      return r;
    });
    release();
    release = await low;
    release();
    (await high)();
    expect(order).toEqual(["low", "high"]);
  });

  it("releases a slot only once, and drops a queued call whose client went away", async () => {
    const { b } = bulkhead(1);
    const release = await b.acquire("normal");
    const abort = new AbortController();
    const queued = b.acquire("normal", abort.signal);
    abort.abort(new Error("client left"));
    await expect(queued).rejects.toThrow("client left");
    release();
    release();
    expect(b.stats()).toEqual({ active: 0, queued: 0 });
  });

  it("reads the priority header leniently", () => {
    expect(priorityOf("HIGH")).toBe("high");
    expect(priorityOf(" low ")).toBe("low");
    expect(priorityOf(null)).toBe("normal");
    expect(priorityOf("urgent")).toBe("normal");
  });
});
