/**
 * Correlation ids (BASE-OBS-c) and the access log, on a real server process: a client's
 * x-request-id comes back on both listeners and appears in the JSON log line of the call;
 * a missing or unacceptable id is replaced by a fresh UUID.
 */
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import * as grpc from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { EngineService } from "../../src/gen/mlsdm/v1/engine_pb.js";
import { grpcClient } from "./support/clients.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe("request ids and access log lines", () => {
  it("echoes x-request-id on both listeners and logs it on the call's line", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
      env: {
        ...process.env,
        MLSDM_GRPC_PORT: "0",
        MLSDM_HTTP_PORT: "0",
        MLSDM_LOG_FORMAT: "json",
        MLSDM_STATE: "memory",
      },
      stdio: ["ignore", "pipe", "inherit"],
    });
    const lines: Record<string, unknown>[] = [];
    createInterface({ input: child.stdout }).on("line", (line) =>
      lines.push(JSON.parse(line) as Record<string, unknown>),
    );
    const exited = new Promise((resolve) => child.on("exit", resolve));
    try {
      await expect.poll(() => lines.find((l) => l.event === "started"), { timeout: 15_000 }).toBeDefined();
      const started = lines.find((l) => l.event === "started")!;
      const grpcPort = Number(String(started.grpc).split(":").at(-1));
      const httpPort = Number(String(started.http).split(":").at(-1));

      // Connect listener, plain HTTP.
      const echoed = await fetch(`http://127.0.0.1:${httpPort}/mlsdm.v1.EngineService/GetState`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-request-id": "req-connect-1" },
        body: "{}",
      });
      expect(echoed.headers.get("x-request-id")).toBe("req-connect-1");
      const replaced = await fetch(`http://127.0.0.1:${httpPort}/mlsdm.v1.EngineService/GetState`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-request-id": "x".repeat(200) },
        body: "{}",
      });
      expect(replaced.headers.get("x-request-id")).toMatch(UUID);

      // grpc-js listener: the id comes back in the response metadata.
      const client = grpcClient(EngineService, grpcPort);
      const metadata = new grpc.Metadata();
      metadata.set("x-request-id", "req-grpc-1");
      const header = await new Promise<grpc.Metadata>((resolve) => {
        const call = (
          client.getState as (r: object, m: grpc.Metadata, cb: () => void) => grpc.ClientUnaryCall
        )({}, metadata, () => undefined);
        call.on("metadata", resolve);
      });
      client.close();
      expect(header.get("x-request-id")).toEqual(["req-grpc-1"]);

      await expect.poll(() => lines.filter((l) => l.event === "rpc").length).toBeGreaterThanOrEqual(3);
      const grpcLine = lines.find((l) => l.event === "rpc" && l.request_id === "req-grpc-1");
      expect(grpcLine).toMatchObject({
        level: "info",
        method: "/mlsdm.v1.EngineService/GetState",
        listener: "grpc",
        code: "OK",
        service: "mlsdm",
      });
      expect(typeof grpcLine?.duration_ms).toBe("number");
      expect(lines.find((l) => l.event === "rpc" && l.request_id === "req-connect-1")).toMatchObject({
        listener: "connect",
      });
    } finally {
      child.kill("SIGTERM");
      await exited;
    }
  });
});
