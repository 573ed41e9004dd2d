/**
 * The client's retry interceptor (src/client/retry.ts) on what client.test.ts does not reach:
 * a server stream refused before its first message is retried after the RetryInfo delay and
 * then delivered once, in full; a caller's abort during the backoff ends the wait at once; and
 * the pure pacing rules (retryWaitMs). Against a real server with a tight rate limit.
 */
import { Code, type Interceptor } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningApp } from "../../src/app.js";
import { createMlsdmClient, MlsdmError, retryInfoDelayMs, type MlsdmClient } from "../../src/client/index.js";
import { retryWaitMs } from "../../src/client/retry.js";
import { startTestServer } from "../integration/support/server.js";

const KEY = "retry-stream-key-0123456789";
const VECTOR = Array.from({ length: 384 }, (_, i) => Math.cos(i) + 0.01);

function recorder() {
  const attempts: { status: Code | 0; delayMs?: number | undefined }[] = [];
  const interceptor: Interceptor = (next) => async (req) => {
    try {
      const res = await next(req);
      attempts.push({ status: 0 });
      return res;
    } catch (error) {
      attempts.push({ status: (error as { code: Code }).code, delayMs: retryInfoDelayMs(error) });
      throw error;
    }
  };
  return { attempts, interceptor };
}

describe("retries of server streams and aborted backoffs (1 call per second, burst 1)", () => {
  let app: RunningApp;
  const clients: MlsdmClient[] = [];
  beforeAll(async () => {
    app = await startTestServer({
      MLSDM_API_KEY: KEY,
      MLSDM_RATE_LIMIT_RPS: "1",
      MLSDM_RATE_LIMIT_BURST: "1",
    });
  });
  afterAll(async () => {
    for (const client of clients) client.close();
    await app.shutdown("test done");
  });

  it.each([
    ["grpc", () => `grpc://127.0.0.1:${app.grpcPort}`],
    ["connect", () => `http://127.0.0.1:${app.httpPort}`],
  ] as const)(
    "retries a refused GenerateStream before its first message, then streams it once: %s",
    async (name, url) => {
      const { attempts, interceptor } = recorder();
      const client = createMlsdmClient({ url: url(), apiKey: KEY, interceptors: [interceptor] });
      clients.push(client);
      // Spend the token (retried itself if an earlier test left the bucket empty).
      await client.engine.retrieveContext({ queryVector: VECTOR, topK: 1 });
      attempts.length = 0;
      const kinds: (string | undefined)[] = [];
      for await (const message of client.engine.generateStream({ prompt: "Streams retried whole." })) {
        kinds.push(message.event.case);
      }
      // One stream, delivered once: deltas, then a single summary at the end (a replayed stream
      // would show a second summary).
      expect(kinds.filter((kind) => kind === "summary")).toHaveLength(1);
      expect(kinds.at(-1)).toBe("summary");
      expect(kinds.filter((kind) => kind === "delta").length).toBeGreaterThan(0);
      // The first attempt was refused (gRPC: in the response headers; Connect: in the stream's
      // end message, after the headers came back fine), the last one streamed.
      expect(attempts.length).toBeGreaterThanOrEqual(2);
      if (name === "grpc")
        expect(attempts[0]).toMatchObject({ status: Code.ResourceExhausted, delayMs: expect.any(Number) });
      expect(attempts.at(-1)?.status).toBe(0);
    },
  );

  it("a caller's abort during the backoff ends the call at once, without another attempt", async () => {
    const { attempts, interceptor } = recorder();
    const client = createMlsdmClient({
      url: `grpc://127.0.0.1:${app.grpcPort}`,
      apiKey: KEY,
      interceptors: [interceptor],
    });
    clients.push(client);
    await client.engine.getState({});
    attempts.length = 0;
    const controller = new AbortController();
    const startedAt = Date.now();
    const call = client.engine.getState({}, { signal: controller.signal });
    // Abort once the first refusal is in (the interceptor is waiting out the RetryInfo delay).
    const poll = setInterval(() => {
      if (attempts.length > 0) controller.abort(new Error("caller gave up"));
    }, 5);
    let caught: unknown;
    try {
      await call;
    } catch (error) {
      caught = error;
    } finally {
      clearInterval(poll);
    }
    expect(caught).toBeInstanceOf(MlsdmError);
    expect(attempts).toEqual([{ status: Code.ResourceExhausted, delayMs: expect.any(Number) }]);
    expect(Date.now() - startedAt).toBeLessThan(attempts[0]?.delayMs ?? 1000);
  });
});

describe("retryWaitMs", () => {
  it("doubles the jittered backoff per attempt up to the cap, and never waits less than the server asks", () => {
    const low = { random: () => 0 };
    const high = { random: () => 0.999_999 };
    expect([1, 2, 3, 4].map((attempt) => retryWaitMs(attempt, 0, low))).toEqual([50, 100, 200, 400]);
    expect([1, 2, 3, 4].map((attempt) => retryWaitMs(attempt, 0, high))).toEqual([100, 200, 400, 800]);
    expect(retryWaitMs(20, 0, { ...high, maxDelayMs: 1_000 })).toBe(1_000);
    expect(retryWaitMs(1, 0, { ...low, baseDelayMs: 10 })).toBe(5);
    // The server's delay wins over a shorter backoff, plus up to 10 % jitter, even above the cap.
    expect(retryWaitMs(1, 2_000, low)).toBe(2_000);
    expect(retryWaitMs(1, 2_000, high)).toBe(2_200);
    expect(retryWaitMs(1, 30_000, { ...low, maxDelayMs: 1_000 })).toBe(30_000);
  });
});
