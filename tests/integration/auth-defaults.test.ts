/**
 * Safe defaults that stay easy: with no identity source, a loopback server serves anonymous
 * calls and says so in a warning at start-up (real process); MLSDM_AUTH_DISABLED=true serves
 * credential-less calls as admin (with a warning) while sent credentials are still checked.
 * The refusal off loopback is in tests/config/exit.test.ts and tests/policy/startup-checks.test.ts.
 */
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningApp } from "../../src/app.js";
import { AdminService, GetStatusRequestSchema } from "../../src/gen/mlsdm/v1/admin_pb.js";
import { connectClient, connectErrorInfo, grpcClient, grpcErrorInfo, grpcUnary } from "./support/clients.js";
import { startTestServer } from "./support/server.js";

const repoRoot = fileURLToPath(new URL("../..", import.meta.url));
const ADMIN = "admin-key-defaults-0123456789";

describe("a loopback server without any identity source (real process)", () => {
  it("starts, warns that anonymous calls are served as admin on loopback, and serves them", async () => {
    const env: Record<string, string | undefined> = {};
    for (const [name, value] of Object.entries(process.env))
      if (!name.startsWith("MLSDM_")) env[name] = value;
    const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
      cwd: repoRoot,
      env: {
        ...env,
        MLSDM_HOST: "127.0.0.1",
        MLSDM_GRPC_PORT: "0",
        MLSDM_HTTP_PORT: "0",
        MLSDM_STATE: "memory",
        MLSDM_LOG_FORMAT: "json",
      },
      stdio: ["ignore", "pipe", "inherit"],
    });
    const raw: string[] = [];
    createInterface({ input: child.stdout }).on("line", (line) => raw.push(line));
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
    const lines = (): Record<string, unknown>[] =>
      raw.flatMap((line) => {
        try {
          return [JSON.parse(line) as Record<string, unknown>];
        } catch {
          return [];
        }
      });
    try {
      await expect.poll(() => lines().find((l) => l.event === "started"), { timeout: 40_000 }).toBeDefined();
      const warning = lines().find((l) => l.event === "auth_anonymous");
      expect(warning).toMatchObject({ level: "warn" });
      expect(String(warning?.message)).toContain("loopback");
      const httpPort = Number(
        String(lines().find((l) => l.event === "started")?.http)
          .split(":")
          .at(-1),
      );
      const response = await fetch(`http://127.0.0.1:${httpPort}/mlsdm.v1.AdminService/GetStatus`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{}",
      });
      expect(response.status).toBe(200);
    } finally {
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
    }
  }, 60_000);
});

describe("MLSDM_AUTH_DISABLED=true with an admin key configured", () => {
  let app: RunningApp;
  beforeAll(async () => {
    app = await startTestServer({ MLSDM_AUTH_DISABLED: "true", MLSDM_ADMIN_API_KEY: ADMIN });
  });
  afterAll(async () => {
    await app.shutdown("test done");
  });

  it("serves a call without a credential as admin on both listeners", async () => {
    const status = await connectClient(AdminService, app.httpPort, "connect").getStatus({});
    expect(status.version).not.toBe("");
    const client = grpcClient(AdminService, app.grpcPort);
    const { error } = await grpcUnary(client, "getStatus", create(GetStatusRequestSchema));
    client.close();
    expect(error).toBeUndefined();
  });

  it("still refuses a wrong credential (E204) on both listeners", async () => {
    const outcome = await connectClient(AdminService, app.httpPort, "connect")
      .getStatus({}, { headers: { authorization: "Bearer not-the-key-0000" } })
      .then(
        () => undefined,
        (e: unknown) => [ConnectError.from(e).code, connectErrorInfo(e)?.metadata.code],
      );
    expect(outcome).toEqual([Code.Unauthenticated, "E204"]);
    const client = grpcClient(AdminService, app.grpcPort);
    const metadata = new grpc.Metadata();
    metadata.set("authorization", "Bearer not-the-key-0000");
    const { error } = await grpcUnary(client, "getStatus", create(GetStatusRequestSchema), { metadata });
    client.close();
    expect(error?.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(error && grpcErrorInfo(error)?.metadata.code).toBe("E204");
  });
});

describe("an admin key configured on loopback (no anonymous)", () => {
  let app: RunningApp;
  beforeAll(async () => {
    app = await startTestServer({ MLSDM_ADMIN_API_KEY: ADMIN });
  });
  afterAll(async () => {
    await app.shutdown("test done");
  });

  it("refuses a call without a credential with E206 and serves the bootstrap admin key", async () => {
    const admin = connectClient(AdminService, app.httpPort, "connect");
    const outcome = await admin.getStatus({}).then(
      () => undefined,
      (e: unknown) => [ConnectError.from(e).code, connectErrorInfo(e)?.metadata.code],
    );
    expect(outcome).toEqual([Code.Unauthenticated, "E206"]);
    const status = await admin.getStatus({}, { headers: { authorization: `Bearer ${ADMIN}` } });
    expect(status.version).not.toBe("");
  });
});
