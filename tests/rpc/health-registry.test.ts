import { describe, expect, it } from "vitest";
import { HealthRegistry, ServingStatus } from "../../src/rpc/health/health-registry.js";

async function take<T>(iterator: AsyncIterator<T>, n: number): Promise<T[]> {
  const out: T[] = [];
  while (out.length < n) {
    const next = await iterator.next();
    if (next.done) break;
    out.push(next.value);
  }
  return out;
}

describe("HealthRegistry", () => {
  it("starts NOT_SERVING for the server and every named service", () => {
    const registry = new HealthRegistry(["a.Service"]);
    expect(registry.entries()).toEqual([
      ["", ServingStatus.NOT_SERVING],
      ["a.Service", ServingStatus.NOT_SERVING],
    ]);
    expect(registry.get("unknown")).toBeUndefined();
  });

  it("watch yields the current status, then only changes", async () => {
    const registry = new HealthRegistry(["a.Service"]);
    const watch = registry.watch("a.Service", new AbortController().signal);
    const first = await take(watch, 1);
    registry.set("a.Service", ServingStatus.SERVING);
    registry.set("a.Service", ServingStatus.SERVING); // no change: no message
    registry.set("a.Service", ServingStatus.NOT_SERVING);
    const rest = await take(watch, 2);
    expect([...first, ...rest]).toEqual([
      ServingStatus.NOT_SERVING,
      ServingStatus.SERVING,
      ServingStatus.NOT_SERVING,
    ]);
  });

  it("watch of an unknown name yields SERVICE_UNKNOWN and reports a later registration", async () => {
    const registry = new HealthRegistry([]);
    const watch = registry.watch("later", new AbortController().signal);
    expect(await take(watch, 1)).toEqual([ServingStatus.SERVICE_UNKNOWN]);
    registry.set("later", ServingStatus.SERVING);
    expect(await take(watch, 1)).toEqual([ServingStatus.SERVING]);
  });

  it("close ends every watch after queued statuses are delivered; abort ends one", async () => {
    const registry = new HealthRegistry(["a"]);
    const abort = new AbortController();
    const aborted = registry.watch("a", abort.signal);
    const closed = registry.watch("", new AbortController().signal);
    await take(aborted, 1);
    await take(closed, 1);
    abort.abort();
    expect(await aborted.next()).toEqual({ done: true, value: undefined });
    registry.setAll(ServingStatus.SERVING);
    registry.close();
    expect(await take(closed, 5)).toEqual([ServingStatus.SERVING]);
    expect(registry.isClosed).toBe(true);
  });
});
