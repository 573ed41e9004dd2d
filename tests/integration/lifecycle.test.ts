/**
 * Graceful shutdown: calls in flight when drain starts complete; new calls are refused with
 * UNAVAILABLE (E705 SHUTTING_DOWN) on both listeners; the process exits 0 on SIGTERM, and at once
 * on a second signal without harming the state database.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { Code } from "@connectrpc/connect";
import { status as Status } from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { EngineService } from "../../src/gen/mlsdm/v1/engine_pb.js";
import {
  Health,
  HealthCheckResponse_ServingStatus as ServingStatus,
} from "../../src/gen/grpc/health/v1/health_pb.js";
import { notImplementedService } from "../../src/rpc/not-implemented.js";
import {
  connectClient,
  connectErrorInfo,
  grpcClient,
  grpcErrorInfo,
  grpcHasRetryInfo,
  grpcUnary,
} from "./support/clients.js";
import { startTestServer } from "./support/server.js";

/** An engine whose GetState takes `delayMs`: a stand-in for a slow model call. */
function slowEngine(delayMs: number) {
  return {
    ...notImplementedService(EngineService),
    async getState() {
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      return {};
    },
  };
}

describe("graceful shutdown in-process", () => {
  it("in-flight calls on both listeners complete; new calls get UNAVAILABLE E705", async () => {
    const app = await startTestServer({ MLSDM_DRAIN_TIMEOUT_MS: "5000" }, { engine: slowEngine(600) });
    const grpc = grpcClient(EngineService, app.grpcPort);
    const connect = connectClient(EngineService, app.httpPort, "connect");
    const inFlight = [grpcUnary(grpc, "getState", {}), connect.getState({})];
    await expect.poll(() => app.inFlight()).toBe(2);
    const stopping = app.shutdown("test");
    await expect.poll(() => app.health.get("")).toBe(ServingStatus.NOT_SERVING);

    const refusedGrpc = await grpcUnary(grpc, "getState", {});
    expect(refusedGrpc.error?.code).toBe(Status.UNAVAILABLE);
    expect(grpcErrorInfo(refusedGrpc.error!)?.reason).toBe("SHUTTING_DOWN");
    expect(grpcHasRetryInfo(refusedGrpc.error!)).toBe(true);
    const refusedConnect = await connect.getState({}).catch((e: unknown) => e);
    expect(refusedConnect).toMatchObject({ code: Code.Unavailable });
    expect(connectErrorInfo(refusedConnect)?.metadata.code).toBe("E705");

    const [fromGrpc, fromConnect] = await Promise.all(inFlight);
    expect(fromGrpc).toMatchObject({ response: expect.anything() });
    expect((fromGrpc as { error?: unknown }).error).toBeUndefined();
    expect(fromConnect).toBeDefined();
    await stopping;
    grpc.close();
    expect(app.inFlight()).toBe(0);
  });

  it("calls running past the drain timeout are cut off and shutdown still completes", async () => {
    const app = await startTestServer({ MLSDM_DRAIN_TIMEOUT_MS: "200" }, { engine: slowEngine(10_000) });
    const grpc = grpcClient(EngineService, app.grpcPort);
    const pending = grpcUnary(grpc, "getState", {});
    await expect.poll(() => app.inFlight()).toBe(1);
    const started = Date.now();
    await app.shutdown("test");
    expect(Date.now() - started).toBeLessThan(4_000);
    const { error } = await pending;
    expect(error).toBeDefined();
    grpc.close();
  });
});

describe("the real process", () => {
  it("logs where it listens, and on SIGTERM goes NOT_SERVING, drains and exits 0", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
      env: {
        ...process.env,
        MLSDM_GRPC_PORT: "0",
        MLSDM_STATE: "memory",
        MLSDM_HTTP_PORT: "0",
        MLSDM_LOG_FORMAT: "json",
        MLSDM_SHUTDOWN_DELAY_MS: "200",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const lines: Record<string, unknown>[] = [];
    createInterface({ input: child.stdout }).on("line", (line) => {
      lines.push(JSON.parse(line) as Record<string, unknown>);
    });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));

    await expect.poll(() => lines.find((l) => l.event === "started"), { timeout: 15_000 }).toBeDefined();
    const started = lines.find((l) => l.event === "started")!;
    expect(started).toMatchObject({ level: "info", service: "mlsdm", version: expect.any(String) });
    expect(started.config).toMatchObject({ server: { host: "127.0.0.1" } });
    const grpcPort = Number(String(started.grpc).split(":").at(-1));
    const httpPort = Number(String(started.http).split(":").at(-1));

    const health = grpcClient(Health, grpcPort);
    expect((await grpcUnary(health, "check", { service: "" })).response).toMatchObject({
      status: ServingStatus.SERVING,
    });
    const seen: ServingStatus[] = [];
    const watch = (async () => {
      for await (const m of connectClient(Health, httpPort, "connect").watch({ service: "" }))
        seen.push(m.status);
    })().catch(() => undefined);
    await expect.poll(() => seen.length).toBe(1);

    child.kill("SIGTERM");
    await expect.poll(() => seen.at(-1)).toBe(ServingStatus.NOT_SERVING);
    expect(await exited).toBe(0);
    await watch;
    health.close();
    expect(stderr).toBe("");
    expect(lines.map((l) => l.event)).toEqual(
      expect.arrayContaining(["started", "shutdown_started", "shutdown_complete"]),
    );
  });
});

/** Starts `src/main.ts` as a real process; resolves once it logged where it listens. */
async function spawnServer(env: Record<string, string>) {
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    env: {
      ...process.env,
      MLSDM_GRPC_PORT: "0",
      MLSDM_HTTP_PORT: "0",
      MLSDM_LOG_FORMAT: "json",
      MLSDM_RATE_LIMIT_RPS: "0",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: Record<string, unknown>[] = [];
  createInterface({ input: child.stdout }).on("line", (line) => {
    lines.push(JSON.parse(line) as Record<string, unknown>);
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
  await expect.poll(() => lines.find((l) => l.event === "started"), { timeout: 15_000 }).toBeDefined();
  const httpPort = Number(
    String(lines.find((l) => l.event === "started")?.http)
      .split(":")
      .at(-1),
  );
  return { child, lines, exited, httpPort };
}

describe("a second signal", () => {
  it("exits at once (143) without waiting for the drain, and the state database survives it", async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), "mlsdm-2nd-signal-"));
    try {
      const env = { MLSDM_STATE: "sqlite", MLSDM_DATA_DIR: dataDir, MLSDM_SHUTDOWN_DELAY_MS: "10000" };
      const first = await spawnServer(env);
      const engine = connectClient(EngineService, first.httpPort, "connect");
      for (let i = 0; i < 6; i++) {
        await engine.processEvent({
          vector: Array.from({ length: 384 }, (_, j) => Math.sin(i * 3 + j) + 0.01),
          moralValue: 0.95,
        });
      }
      const before = (await engine.getState({})).state;
      expect(before?.pelmUsed).toBeGreaterThan(0);

      first.child.kill("SIGTERM");
      await expect.poll(() => first.lines.some((l) => l.event === "shutdown_started")).toBe(true);
      const forcedAt = Date.now();
      first.child.kill("SIGTERM"); // the first one would wait 10 s before even draining
      expect(await first.exited).toBe(143);
      expect(Date.now() - forcedAt).toBeLessThan(3_000);
      expect(first.lines.find((l) => l.event === "shutdown_forced")).toMatchObject({ level: "warn" });

      const second = await spawnServer({ ...env, MLSDM_SHUTDOWN_DELAY_MS: "0" });
      try {
        expect(second.lines.find((l) => l.event === "state_loaded")).toBeDefined();
        expect(second.lines.some((l) => String(l.event).includes("corrupt"))).toBe(false);
        const after = (await connectClient(EngineService, second.httpPort, "connect").getState({})).state;
        expect(after?.pelmUsed).toBe(before?.pelmUsed);
        expect(after?.step).toBe(before?.step);
      } finally {
        second.child.kill("SIGTERM");
        expect(await second.exited).toBe(0);
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});
