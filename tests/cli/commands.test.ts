/**
 * The `mlsdm` command end to end (issue 10 item 3): the real command, as a child process,
 * against a real server started in-process, on both listeners; every exit-code class
 * (0 ok, 2 usage, 3 connection, 4 server error, 5 not serving) with text and `--json` output.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningApp } from "../../src/app.js";
import { createMlsdmClient } from "../../src/client/index.js";
import { startTestServer } from "../integration/support/server.js";
import { runCli, startCli, waitForLine, exitOf } from "./support.js";
import { freePort } from "../support/free-port.js";

const ADMIN_KEY = "cli-admin-key-0123456789abcdef";

// Each run starts node with tsx: a few seconds apiece on a loaded machine.
describe("mlsdm against a running server", { timeout: 120_000 }, () => {
  let app: RunningApp;
  let http: string;
  let grpc: string;
  const admin = () => ({ MLSDM_CLIENT_API_KEY: ADMIN_KEY });

  beforeAll(async () => {
    app = await startTestServer({ MLSDM_ADMIN_API_KEY: ADMIN_KEY, MLSDM_RATE_LIMIT_RPS: "0" });
    http = `http://127.0.0.1:${app.httpPort}`;
    grpc = `grpc://127.0.0.1:${app.grpcPort}`;
  });
  afterAll(async () => {
    await app.shutdown("test done");
  });

  it("exit 0: health on both listeners, by --url and by MLSDM_URL", async () => {
    const viaFlag = await runCli(["--url", grpc, "health"]);
    expect(viaFlag).toMatchObject({ code: 0, stdout: "SERVING\n" });
    const viaEnv = await runCli(["--json", "health"], { MLSDM_URL: http });
    expect(viaEnv.code).toBe(0);
    expect(JSON.parse(viaEnv.stdout)).toEqual({ status: "SERVING" });
  });

  it("exit 0: generate streams the answer to stdout and the decision to stderr; --json gives both", async () => {
    const streamed = await runCli(
      ["--url", grpc, "generate", "Tell", "me", "about", "the", "tides"],
      admin(),
    );
    expect(streamed.code).toBe(0);
    expect(streamed.stdout).toContain("Tell me about the tides");
    expect(streamed.stderr).toMatch(/^accepted \(moral/m);
    const json = await runCli(
      ["--url", http, "--json", "generate", "--max-tokens", "64", "--top-k", "0", "-"],
      admin(),
      {
        input: "Hello from stdin",
      },
    );
    expect(json.code).toBe(0);
    const parsed = JSON.parse(json.stdout) as { text: string; decision: { accepted: boolean } };
    expect(parsed.text).toContain("Hello from stdin");
    expect(parsed.decision.accepted).toBe(true);
  });

  it("exit 0: event, then state shows the step; admin status and threshold", async () => {
    const event = await runCli(
      ["--url", grpc, "--json", "event", "--seed", "7", "--moral-value", "0.9"],
      admin(),
    );
    expect(event.code).toBe(0);
    expect(JSON.parse(event.stdout)).toMatchObject({ accepted: true });
    const state = await runCli(["--url", http, "state"], admin());
    expect(state.code).toBe(0);
    expect(state.stdout).toMatch(/^step\s+[1-9]\d*$/m);
    expect(state.stdout).toMatch(/^pelmCapacity\s+\d+$/m);
    const status = await runCli(["--url", grpc, "--json", "admin", "status"], admin());
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ servingStatus: "SERVING_STATUS_SERVING" });
    const threshold = await runCli(
      ["--url", grpc, "admin", "threshold", "0.6", "--reason", "cli test"],
      admin(),
    );
    expect(threshold.code).toBe(0);
    expect(threshold.stdout).toMatch(/^threshold\s+0\.6$/m);
  });

  it("exit 0: admin keys create, use, list, rotate and revoke", async () => {
    const created = await runCli(
      [
        "--url",
        grpc,
        "--json",
        "admin",
        "keys",
        "create",
        "--owner",
        "cli test",
        "--role",
        "read",
        "--ttl",
        "1d",
      ],
      admin(),
    );
    expect(created.code).toBe(0);
    const { key, secret } = JSON.parse(created.stdout) as { key: { keyId: string }; secret: string };
    expect(secret.length).toBeGreaterThan(16);
    expect((await runCli(["--url", http, "state"], { MLSDM_CLIENT_API_KEY: secret })).code).toBe(0);
    const denied = await runCli(["--url", http, "admin", "status"], { MLSDM_CLIENT_API_KEY: secret });
    expect(denied.code).toBe(4);
    expect(denied.stderr).toMatch(/^E203 \w+: /);
    const listed = await runCli(["--url", grpc, "admin", "keys", "list"], admin());
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/^KEY ID\s+OWNER\s+ROLES\s+STATE\s+EXPIRES$/m);
    expect(listed.stdout).toContain(key.keyId);
    const rotated = await runCli(
      ["--url", grpc, "--json", "admin", "keys", "rotate", key.keyId, "--overlap", "1h", "--reason", "test"],
      admin(),
    );
    expect(rotated.code).toBe(0);
    const next = (JSON.parse(rotated.stdout) as { key: { keyId: string } }).key.keyId;
    const revoked = await runCli(
      ["--url", grpc, "--json", "admin", "keys", "revoke", next, "--reason", "test over"],
      admin(),
    );
    expect(revoked.code).toBe(0);
    expect(JSON.parse(revoked.stdout)).toMatchObject({
      key: { keyId: next, state: "API_KEY_STATE_REVOKED" },
    });
  });

  it("exit 2: unknown flags and commands, missing arguments, bad numbers and bad URLs", async () => {
    const cases: [string[], RegExp][] = [
      [["--bogus", "health"], /unknown option '--bogus'/],
      [["helth"], /unknown command 'helth'/],
      [["admin", "snapshot", "export", "only-an-id"], /missing required argument 'file'/],
      [["generate", "--max-tokens", "abc", "hi"], /expected an integer, got "abc"/],
      [["--transport", "carrier-pigeon", "health"], /Allowed choices are grpc, connect, grpc-web/],
      [["--url", "ftp://127.0.0.1:1", "health"], /unsupported scheme "ftp:"/],
      [["--url", "not a url", "health"], /not a URL/],
      [["--url", grpc, "--cert", "/nonexistent.pem", "--key", "/nonexistent.key", "health"], /cannot read/],
    ];
    for (const [args, message] of cases) {
      const result = await runCli(args, admin());
      expect([args, result.code]).toEqual([args, 2]);
      expect(result.stderr).toMatch(message);
    }
    const json = await runCli(["--json", "--url", "grpc:/", "health"]);
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout)).toMatchObject({ error: { exitCode: 2 } });
  });

  it("exit 3: a server that cannot be reached, on both schemes, in text and JSON", async () => {
    const port = await freePort();
    const text = await runCli(["--url", `grpc://127.0.0.1:${port}`, "state"]);
    expect(text.code).toBe(3);
    expect(text.stderr).toMatch(new RegExp(`^connection error: cannot reach grpc://127.0.0.1:${port}: `));
    const json = await runCli(["--json", "state"], { MLSDM_URL: `http://127.0.0.1:${port}` });
    expect(json.code).toBe(3);
    expect(JSON.parse(json.stdout)).toMatchObject({ error: { connection: true, code: null, exitCode: 3 } });
  });

  it("exit 4: server errors print E### REASON: message, with the retry hint and request id", async () => {
    const anonymous = await runCli(["--url", grpc, "state"]);
    expect(anonymous.code).toBe(4);
    expect(anonymous.stderr).toMatch(/^E20\d \w+: .+ \[request [0-9a-f-]{36}\]$/m);
    const empty = await runCli(["--url", http, "generate", " "], admin());
    expect(empty.code).toBe(4);
    expect(empty.stderr).toMatch(/^E103 PROMPT_EMPTY: /);
    const range = await runCli(
      ["--url", grpc, "--json", "admin", "threshold", "0.95", "--reason", "x"],
      admin(),
    );
    expect(range.code).toBe(4);
    expect(JSON.parse(range.stdout)).toMatchObject({
      error: { code: "E102", status: "INVALID_ARGUMENT", retryable: false, exitCode: 4 },
    });
    // The server keeps serving.
    expect((await runCli(["--url", grpc, "health"])).code).toBe(0);
  });

  it("exit 5: health is NOT_SERVING during an emergency shutdown; --watch streams the change", async () => {
    const watch = startCli(["--url", grpc, "health", "--watch", "--service", "mlsdm.v1.EngineService"]);
    try {
      await waitForLine(watch, /SERVING$/);
      const stop = await runCli(["--url", http, "admin", "emergency", "cli", "test"], admin());
      expect(stop.code).toBe(0);
      expect(stop.stdout).toMatch(/^emergency\.active\s+true$/m);
      await waitForLine(watch, /NOT_SERVING$/);
      const health = await runCli(["--url", http, "health", "--service", "mlsdm.v1.EngineService"]);
      expect(health).toMatchObject({ code: 5, stdout: "NOT_SERVING\n" });
      const reset = await runCli(["--url", grpc, "admin", "reset", "cli", "test", "done"], admin());
      expect(reset.code).toBe(0);
      await waitForLine(watch, /\dZ {2}SERVING$/);
      expect((await runCli(["--url", http, "health", "--service", "mlsdm.v1.EngineService"])).code).toBe(0);
    } finally {
      watch.kill("SIGTERM");
      await exitOf(watch);
    }
  });

  it("reads the API key from MLSDM_CLIENT_API_KEY, never from a flag", async () => {
    const client = createMlsdmClient({ url: grpc, apiKey: ADMIN_KEY });
    try {
      expect((await client.admin.getStatus({})).servingStatus).toBeGreaterThan(0);
    } finally {
      client.close();
    }
    const flag = await runCli(["--url", grpc, "--api-key", ADMIN_KEY, "state"]);
    expect(flag.code).toBe(2);
  });
});
