/**
 * The programs in examples/ run against a real server (issue 10 item 4), as a user would run
 * them: `npx tsx examples/<name>.ts` with MLSDM_URL (and MLSDM_CLIENT_API_KEY) in the environment.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningApp } from "../../src/app.js";
import { startTestServer } from "../integration/support/server.js";
import { ROOT, runCli } from "../cli/support.js";

const ADMIN_KEY = "examples-admin-key-0123456789";
const example = (name: string) => ["--import", "tsx", `${ROOT}examples/${name}.ts`];

describe("examples", { timeout: 120_000 }, () => {
  let app: RunningApp;
  beforeAll(async () => {
    app = await startTestServer({ MLSDM_ADMIN_API_KEY: ADMIN_KEY, MLSDM_RATE_LIMIT_RPS: "0" });
  });
  afterAll(async () => {
    await app.shutdown("test done");
  });

  it.each([
    ["grpc", () => `grpc://127.0.0.1:${app.grpcPort}`],
    ["connect", () => `http://127.0.0.1:${app.httpPort}`],
  ])("generate.ts streams an answer over %s", async (_, url) => {
    const result = await runCli(
      [...example("generate"), "Tell me about the tides"],
      { MLSDM_URL: url(), MLSDM_CLIENT_API_KEY: ADMIN_KEY },
      { command: process.execPath },
    );
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^NEURO-RESPONSE: /); // the local stub model's answer
    expect(result.stdout).toMatch(/^accepted: true, moral threshold 0\.\d+$/m);
  });

  it("admin-status.ts prints the status, and the error line without the admin key", async () => {
    const ok = await runCli(
      example("admin-status"),
      { MLSDM_URL: `http://127.0.0.1:${app.httpPort}`, MLSDM_CLIENT_API_KEY: ADMIN_KEY },
      { command: process.execPath },
    );
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^mlsdm\.v1\.AdminService \d+\.\d+\.\d+\S*: SERVING$/m);
    expect(ok.stdout).toMatch(/^memory \d+\/\d+, moral threshold 0\.\d+$/m);
    const denied = await runCli(
      example("admin-status"),
      { MLSDM_URL: `grpc://127.0.0.1:${app.grpcPort}` },
      { command: process.execPath },
    );
    expect(denied.code).toBe(4);
    expect(denied.stderr).toMatch(/^E20\d \w+: .+ \[request [0-9a-f-]{36}\]$/m);
  });
});
