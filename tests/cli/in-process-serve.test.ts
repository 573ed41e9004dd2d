/**
 * `mlsdm serve` in-process (src/serve.ts through the command's `run`): the server starts from
 * the MLSDM_* environment and a `--config` file, answers, and shuts down on SIGTERM with exit 0;
 * a second signal exits at once (130 for SIGINT); a bad value or an unknown trace exporter exits
 * 2 with the E801 line before listening. `process.exit` is replaced by a spy and the signals are
 * delivered with `process.emit`, so the test's process survives; local.test.ts runs the real
 * executable with real signals.
 */
import { createServer, type AddressInfo } from "node:net";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, describe, expect, it, vi, type MockInstance } from "vitest";
import { createMlsdmClient } from "../../src/client/index.js";
import { logger } from "../../src/telemetry/logger.js";
import { runInProcess } from "./in-process.js";

const API_KEY = "serve-inproc-api-key-0123456789";
const SERVE_ENV = {
  MLSDM_API_KEY: API_KEY,
  MLSDM_GRPC_PORT: "0",
  MLSDM_HTTP_PORT: "0",
  MLSDM_STATE: "memory",
  MLSDM_LOG_LEVEL: "error",
  MLSDM_RATE_LIMIT_RPS: "0",
  MLSDM_MAX_EVENT_LOOP_LAG_MS: "0",
};

/** Signal listeners added since `before`, removed. */
function dropListenersSince(before: Record<"SIGTERM" | "SIGINT", NodeJS.SignalsListener[]>): void {
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    for (const listener of process.listeners(signal)) {
      if (!before[signal].includes(listener)) process.off(signal, listener);
    }
  }
}

class ExitCalled extends Error {
  constructor(readonly code: number | undefined) {
    super(`process.exit(${String(code)})`);
  }
}

describe("mlsdm serve, in-process", { timeout: 60_000 }, () => {
  const work = mkdtempSync(path.join(tmpdir(), "mlsdm-cli-serve-"));
  let exit: MockInstance<typeof process.exit> | undefined;
  const listeners = {
    SIGTERM: process.listeners("SIGTERM"),
    SIGINT: process.listeners("SIGINT"),
  };
  const level = logger.level;

  afterAll(() => {
    rmSync(work, { recursive: true, force: true });
  });
  afterEach(() => {
    exit?.mockRestore();
    exit = undefined;
    vi.restoreAllMocks();
    dropListenersSince(listeners);
    logger.level = level;
    logger.silent = true;
    process.exitCode = undefined;
  });

  async function serve(env: Record<string, string>, args: string[] = []) {
    const info = vi.spyOn(logger, "info");
    const result = await runInProcess(["serve", ...args], env);
    logger.silent = true; // configureLogger leaves it alone, but keep the runner quiet regardless
    const started = (info.mock.calls as unknown as [unknown, unknown][]).find(
      ([message]) => message === "mlsdm listening",
    );
    const meta = started?.[1] as { grpc: string; http: string } | undefined;
    return { result, meta };
  }

  it("starts from the environment and a --config file, answers, and stops on SIGTERM with exit 0", async () => {
    exit = vi.spyOn(process, "exit").mockImplementation((() => undefined) as never);
    const file = path.join(work, "serve.yaml");
    writeFileSync(file, "moral:\n  initialThreshold: 0.55\n");
    const { result, meta } = await serve(SERVE_ENV, ["--config", file]);
    expect(result).toMatchObject({ code: 0, keepAlive: true });
    expect(meta?.grpc).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(process.env.MLSDM_CONFIG).toBeUndefined(); // put back by the harness

    const client = createMlsdmClient({ url: `grpc://${meta?.grpc}`, apiKey: API_KEY });
    try {
      expect((await client.health.check({ service: "" })).status).toBe(1); // SERVING
      // The file's value is in force.
      expect((await client.engine.getState({})).state?.moralThreshold).toBeCloseTo(0.55, 5);
    } finally {
      client.close();
    }
    const info = vi.spyOn(logger, "info");
    process.emit("SIGTERM", "SIGTERM");
    await vi.waitFor(
      () => {
        const messages = (info.mock.calls as unknown as [unknown][]).map(([message]) => message);
        expect(messages).toContain("shutdown complete");
      },
      { timeout: 10_000 },
    );
    await vi.waitFor(() => {
      expect(process.exitCode).toBe(0);
    });
    // The forced exit after the drain is scheduled a second later, with code 0.
    await vi.waitFor(
      () => {
        expect(exit).toHaveBeenCalledWith(0);
      },
      { timeout: 3_000 },
    );
    expect(exit).not.toHaveBeenCalledWith(143);
    const after = createMlsdmClient({ url: `grpc://${meta?.grpc}`, timeoutMs: 2_000 });
    try {
      await expect(after.health.check({ service: "" })).rejects.toMatchObject({ connection: true });
    } finally {
      after.close();
    }
  });

  it("a second signal exits at once: 130 for SIGINT", async () => {
    exit = vi.spyOn(process, "exit").mockImplementation((() => undefined) as never);
    const warn = vi.spyOn(logger, "warn");
    const { result, meta } = await serve(SERVE_ENV);
    expect(result.keepAlive).toBe(true);
    expect(meta?.http).toMatch(/^127\.0\.0\.1:\d+$/);
    process.emit("SIGINT", "SIGINT");
    process.emit("SIGINT", "SIGINT");
    expect(exit).toHaveBeenCalledWith(130);
    expect(warn).toHaveBeenCalledWith(
      "second signal: exiting without waiting for the drain",
      expect.objectContaining({ event: "shutdown_forced", signal: "SIGINT" }),
    );
    // The first signal's drain still finishes (the spy kept the process alive).
    await vi.waitFor(
      () => {
        expect(exit).toHaveBeenCalledWith(0);
      },
      { timeout: 5_000 },
    );
  });

  it("exits 2 with the E801 line on a bad value, before listening", async () => {
    exit = vi.spyOn(process, "exit").mockImplementation(((code?: number) => {
      throw new ExitCalled(code);
    }) as never);
    const { result, meta } = await serve({ ...SERVE_ENV, MLSDM_GRPC_PORT: "abc" });
    expect(exit).toHaveBeenCalledWith(2);
    expect(result.stderr).toMatch(/^E801 CONFIG_INVALID: server\.grpcPort \(MLSDM_GRPC_PORT\)/m);
    expect(meta).toBeUndefined();
  });

  it("exits 2 with E801 on an unknown trace exporter", async () => {
    exit = vi.spyOn(process, "exit").mockImplementation(((code?: number) => {
      throw new ExitCalled(code);
    }) as never);
    const saved = process.env.OTEL_TRACES_EXPORTER;
    process.env.OTEL_TRACES_EXPORTER = "carrier-pigeon";
    try {
      const { result, meta } = await serve(SERVE_ENV);
      expect(exit).toHaveBeenCalledWith(2);
      expect(result.stderr).toMatch(/^E801 CONFIG_INVALID: .*carrier-pigeon/m);
      expect(meta).toBeUndefined();
    } finally {
      if (saved === undefined) delete process.env.OTEL_TRACES_EXPORTER;
      else process.env.OTEL_TRACES_EXPORTER = saved;
    }
  });

  it("a start-up check refusing the whole configuration exits 2 too", async () => {
    exit = vi.spyOn(process, "exit").mockImplementation(((code?: number) => {
      throw new ExitCalled(code);
    }) as never);
    // All interfaces without any credential configured: refused by the start-up rules.
    const { MLSDM_API_KEY: _key, ...anonymous } = SERVE_ENV;
    const { result } = await serve({ ...anonymous, MLSDM_HOST: "0.0.0.0" });
    expect(exit).toHaveBeenCalledWith(2);
    expect(result.stderr).toMatch(/^E80\d /m);
  });

  it("a listener that cannot start is E706, exit code 1", async () => {
    exit = vi.spyOn(process, "exit").mockImplementation(((code?: number) => {
      throw new ExitCalled(code);
    }) as never);
    const error = vi.spyOn(logger, "error");
    // A port another listener holds: the bind fails after the configuration was accepted.
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, "127.0.0.1", resolve));
    const port = (holder.address() as AddressInfo).port;
    let result;
    try {
      ({ result } = await serve({ ...SERVE_ENV, MLSDM_GRPC_PORT: String(port) }));
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
    expect(result.code).toBe(0);
    expect(error).toHaveBeenCalledWith(
      "start-up failed",
      expect.objectContaining({ event: "startup_failed", error_code: "E706" }),
    );
    expect(process.exitCode).toBe(1);
    expect(exit).not.toHaveBeenCalled();
  });
});
