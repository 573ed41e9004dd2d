/**
 * The `mlsdm` commands run in-process (tests/cli/in-process.ts) against a real server started
 * in-process: every engine and admin command in text and `--json`, the snapshot transfer with
 * its checks, the resume after E412, and the option and input errors the commands catch
 * themselves (the child-process tests in commands.test.ts and snapshot.test.ts run the real
 * executable; these reach the branches those cannot show to coverage).
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningApp } from "../../src/app.js";
import { createMlsdmClient } from "../../src/client/index.js";
import { startTestServer } from "../integration/support/server.js";
import { freePort } from "../support/free-port.js";
import { runInProcess } from "./in-process.js";

const ADMIN_KEY = "cli-inproc-admin-key-0123456789";
const admin = { MLSDM_CLIENT_API_KEY: ADMIN_KEY };
const sha256 = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex");
const vector = (i: number): number[] => Array.from({ length: 384 }, (_, j) => Math.sin(i * 7 + j / 5) + 0.02);

describe("mlsdm commands in-process against a running server", { timeout: 120_000 }, () => {
  const work = mkdtempSync(path.join(tmpdir(), "mlsdm-cli-inproc-"));
  let app: RunningApp;
  let grpc: string;
  let http: string;

  beforeAll(async () => {
    mkdirSync(path.join(work, "data"));
    app = await startTestServer({
      MLSDM_ADMIN_API_KEY: ADMIN_KEY,
      MLSDM_RATE_LIMIT_RPS: "0",
      MLSDM_STATE: "sqlite",
      MLSDM_DATA_DIR: path.join(work, "data"),
    });
    grpc = `grpc://127.0.0.1:${app.grpcPort}`;
    http = `http://127.0.0.1:${app.httpPort}`;
    const client = createMlsdmClient({ url: grpc, apiKey: ADMIN_KEY });
    try {
      // Enough memory for a snapshot of more than one export chunk.
      for (let i = 0; i < 300; i += 10) {
        await Promise.all(
          Array.from({ length: 10 }, (_, k) =>
            client.engine.processEvent({ vector: vector(i + k), moralValue: 0.95 }),
          ),
        );
      }
    } finally {
      client.close();
    }
  });
  afterAll(async () => {
    await app.shutdown("test done");
    rmSync(work, { recursive: true, force: true });
  });

  it("health in text and JSON, for the server and a named service", async () => {
    expect(await runInProcess(["--url", grpc, "health"])).toMatchObject({ code: 0, stdout: "SERVING\n" });
    const json = await runInProcess(["--json", "health", "--service", "mlsdm.v1.EngineService"], {
      MLSDM_URL: http,
    });
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({ status: "SERVING" });
    const unknown = await runInProcess(["--url", grpc, "health", "--service", "no.such.Service"]);
    expect(unknown.code).toBe(4);
    expect(unknown.stderr).toMatch(/NOT_FOUND|E\d{3}/);
  });

  it("generate: streamed and unary, text and JSON, accepted and rejected", async () => {
    const streamed = await runInProcess(["--url", grpc, "generate", "Tell", "me", "about", "tides"], admin);
    expect(streamed.code).toBe(0);
    expect(streamed.stdout).toContain("Tell me about tides");
    expect(streamed.stderr).toMatch(/^accepted \(moral \d\.\d\d ≥ \d\.\d\d, phase [A-Z_]+\)$/m);

    const streamedJson = await runInProcess(
      ["--url", http, "--json", "generate", "--intent", "chat", "--diagnostics", "hello json"],
      admin,
    );
    expect(streamedJson.code).toBe(0);
    const parsed = JSON.parse(streamedJson.stdout) as { text: string; decision: { accepted: boolean } };
    expect(parsed.text).toContain("hello json");
    expect(parsed.decision.accepted).toBe(true);

    const unary = await runInProcess(
      ["--url", grpc, "generate", "--no-stream", "--max-tokens", "32", "--top-k", "2", "unary", "words"],
      admin,
    );
    expect(unary.code).toBe(0);
    expect(unary.stdout).toContain("unary words");
    expect(unary.stderr).toMatch(/^accepted /m);

    const unaryJson = await runInProcess(
      ["--url", http, "--json", "generate", "--no-stream", "unary", "json"],
      admin,
    );
    expect(unaryJson.code).toBe(0);
    expect(JSON.parse(unaryJson.stdout)).toMatchObject({
      text: expect.stringContaining("NEURO-RESPONSE"),
      decision: { accepted: true },
    });

    for (const stream of [[], ["--no-stream"]]) {
      const rejected = await runInProcess(
        ["--url", grpc, "generate", ...stream, "--moral-value", "0.05", "a", "dubious", "request"],
        admin,
      );
      expect([stream, rejected.code]).toEqual([stream, 0]);
      expect(rejected.stdout).toBe("");
      expect(rejected.stderr).toMatch(/^rejected at [A-Z_]+/m);
    }
  });

  it("event: from --vector, a JSON array file, --seed; bad and missing vectors exit 2", async () => {
    const inline = await runInProcess(
      ["--url", grpc, "--json", "event", "--moral-value", "0.9", "--vector", "0.1, 0.2 0.3"],
      admin,
    );
    // The server checks the dimension; a 3-vector is refused with a catalogue code.
    expect(inline.code).toBe(4);
    expect(JSON.parse(inline.stdout)).toMatchObject({ error: { code: expect.stringMatching(/^E1\d\d$/) } });

    const file = path.join(work, "vector.json");
    writeFileSync(file, JSON.stringify(vector(999)));
    const fromFile = await runInProcess(
      ["--url", grpc, "event", "--moral-value", "0.9", "--vector-file", file],
      admin,
    );
    expect(fromFile.code).toBe(0);
    // Accepted or not depends on the rhythm's phase; the answer always carries the state.
    expect(fromFile.stdout).toMatch(/^accepted\s+(true|false)$/m);
    const stepAfterFile = Number(/^state\.step\s+(\d+)$/m.exec(fromFile.stdout)?.[1]);
    expect(stepAfterFile).toBeGreaterThan(0);

    const seeded = await runInProcess(
      ["--url", http, "--json", "event", "--moral-value", "0.95", "--seed", "42", "--dimension", "384"],
      admin,
    );
    expect(seeded.code).toBe(0);
    const seededJson = JSON.parse(seeded.stdout) as { accepted: boolean; state: { step: string } };
    expect(typeof seededJson.accepted).toBe("boolean");
    expect(Number(seededJson.state.step)).toBeGreaterThan(stepAfterFile);

    const cases: [string[], RegExp][] = [
      [["--vector", "1,two,3"], /the vector must be a list of finite numbers/],
      [["--vector", "[]"], /the vector must be a list of finite numbers/],
      [["--vector-file", path.join(work, "missing.json")], /cannot read .*missing\.json: ENOENT/],
      [[], /give the vector: --vector, --vector-file or --seed/],
      [["--vector", "1", "--seed", "3"], /cannot be used with option '--seed/],
      [["--seed", "1.5"], /expected an integer, got "1\.5"/],
    ];
    for (const [args, message] of cases) {
      const result = await runInProcess(["--url", grpc, "event", "--moral-value", "0.5", ...args], admin);
      expect([args, result.code]).toEqual([args, 2]);
      expect(result.stderr).toMatch(message);
    }
  });

  it("state and admin status (with and without the configuration)", async () => {
    const state = await runInProcess(["--url", http, "state"], admin);
    expect(state.code).toBe(0);
    expect(state.stdout).toMatch(/^step\s+[1-9]\d*$/m);
    const stateJson = await runInProcess(["--url", grpc, "--json", "state"], admin);
    expect(JSON.parse(stateJson.stdout)).toMatchObject({ state: { step: expect.any(String) } });

    const status = await runInProcess(["--url", grpc, "admin", "status"], admin);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/^servingStatus\s+SERVING$/m);
    expect(status.stdout).not.toMatch(/^server\.grpcPort /m);
    const withConfig = await runInProcess(["--url", grpc, "admin", "status", "--config"], admin);
    expect(withConfig.stdout).toMatch(/^auth\.adminApiKey\s+\*\*\*$/m);
    expect(withConfig.stdout).not.toContain(ADMIN_KEY);
    const json = await runInProcess(["--url", http, "--json", "admin", "status"], admin);
    expect(JSON.parse(json.stdout)).toMatchObject({ servingStatus: "SERVING_STATUS_SERVING" });
  });

  it("admin emergency, health NOT_SERVING (exit 5), reset, threshold", async () => {
    const stop = await runInProcess(["--url", grpc, "admin", "emergency", "in-process", "test"], admin);
    expect(stop.code).toBe(0);
    expect(stop.stdout).toMatch(/^emergency\.active\s+true$/m);
    const down = await runInProcess(["--url", grpc, "health", "--service", "mlsdm.v1.EngineService"]);
    expect(down).toMatchObject({ code: 5, stdout: "NOT_SERVING\n" });
    const downJson = await runInProcess([
      "--url",
      http,
      "--json",
      "health",
      "--service",
      "mlsdm.v1.EngineService",
    ]);
    expect(downJson.code).toBe(5);
    expect(JSON.parse(downJson.stdout)).toEqual({ status: "NOT_SERVING" });
    const reset = await runInProcess(["--url", http, "--json", "admin", "reset", "done"], admin);
    expect(reset.code).toBe(0);
    expect(JSON.parse(reset.stdout)).toMatchObject({ emergency: { active: false } });
    expect((await runInProcess(["--url", grpc, "health", "--service", "mlsdm.v1.EngineService"])).code).toBe(
      0,
    );

    const threshold = await runInProcess(
      ["--url", grpc, "admin", "threshold", "0.55", "--reason", "t"],
      admin,
    );
    expect(threshold.code).toBe(0);
    expect(threshold.stdout).toMatch(/^threshold\s+0\.55$/m);
    const outOfRange = await runInProcess(
      ["--url", grpc, "admin", "threshold", "1.5", "--reason", "t"],
      admin,
    );
    expect(outOfRange.code).toBe(2);
    expect(outOfRange.stderr).toMatch(/expected 0 to 1, got 1\.5/);
    const noReason = await runInProcess(["--url", grpc, "admin", "threshold", "0.5"], admin);
    expect(noReason.code).toBe(2);
    expect(noReason.stderr).toMatch(/required option '--reason <text>' not specified/);
  });

  it("admin keys: create (text and JSON), list, list --all, rotate, revoke; bad roles and TTLs", async () => {
    const created = await runInProcess(
      ["--url", grpc, "admin", "keys", "create", "--owner", "ops", "--role", "read,write", "--ttl", "2h"],
      admin,
    );
    expect(created.code).toBe(0);
    expect(created.stderr).toContain("The secret is shown only once");
    const keyId = /^key\.keyId\s+(\S+)$/m.exec(created.stdout)?.[1] ?? "";
    expect(keyId).not.toBe("");
    const secret = /^secret\s+(\S+)$/m.exec(created.stdout)?.[1] ?? "";
    expect((await runInProcess(["--url", http, "state"], { MLSDM_CLIENT_API_KEY: secret })).code).toBe(0);

    const noTtl = await runInProcess(
      [
        "--url",
        grpc,
        "--json",
        "admin",
        "keys",
        "create",
        "--owner",
        "bot",
        "--role",
        "admin",
        "--role",
        "read",
      ],
      admin,
    );
    expect(noTtl.code).toBe(0);
    const second = JSON.parse(noTtl.stdout) as { key: { keyId: string; roles: string[] } };
    expect(second.key.roles).toEqual(["ROLE_ADMIN", "ROLE_READ"]);
    expect(noTtl.stderr).toBe("");

    const listed = await runInProcess(["--url", grpc, "admin", "keys", "list"], admin);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(
      new RegExp(`^${keyId}\\s+ops\\s+read,write\\s+active\\s+\\d{4}-\\d\\d-\\d\\dT`, "m"),
    );
    expect(listed.stdout).toMatch(
      new RegExp(`^${second.key.keyId}\\s+bot\\s+admin,read\\s+active\\s+never$`, "m"),
    );

    const rotated = await runInProcess(
      ["--url", http, "admin", "keys", "rotate", keyId, "--overlap", "0", "--ttl", "1d", "--reason", "r"],
      admin,
    );
    expect(rotated.code).toBe(0);
    expect(rotated.stderr).toContain("The new secret is shown only once");
    const revoked = await runInProcess(
      ["--url", grpc, "admin", "keys", "revoke", second.key.keyId, "--reason", "gone"],
      admin,
    );
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toMatch(/^key\.state\s+API_KEY_STATE_REVOKED$/m);

    const active = await runInProcess(["--url", grpc, "--json", "admin", "keys", "list"], admin);
    const all = await runInProcess(["--url", grpc, "--json", "admin", "keys", "list", "--all"], admin);
    const ids = (text: string) =>
      (JSON.parse(text) as { keys: { keyId: string }[] }).keys.map((k) => k.keyId);
    expect(ids(active.stdout)).not.toContain(second.key.keyId);
    expect(ids(all.stdout)).toContain(second.key.keyId);
    expect(ids(all.stdout)).toContain(keyId);

    const bad: [string[], RegExp][] = [
      [["--owner", "x", "--role", "root"], /expected read, write or admin, got "root"/],
      [["--owner", "x", "--role", "read", "--ttl", "3 weeks"], /expected a duration like 90s/],
    ];
    for (const [args, message] of bad) {
      const result = await runInProcess(["--url", grpc, "admin", "keys", "create", ...args], admin);
      expect([args, result.code]).toEqual([args, 2]);
      expect(result.stderr).toMatch(message);
    }
  });

  it("snapshot create, export (checked), import, restore; bad files and ids", async () => {
    const created = await runInProcess(["--url", grpc, "admin", "snapshot", "--label", "inproc"], admin);
    expect(created.code).toBe(0);
    const snapshotId = /^snapshot\.snapshotId\s+(\S+)$/m.exec(created.stdout)?.[1] ?? "";
    expect(snapshotId).not.toBe("");

    const file = path.join(work, "snap.bin");
    const exported = await runInProcess(
      ["--url", http, "--progress", "plain", "admin", "snapshot", "export", snapshotId, file],
      admin,
    );
    expect(exported.code).toBe(0);
    expect(exported.stderr).toMatch(/^export: \d+\/\d+ bytes \(100%\)$/m);
    const bytes = readFileSync(file);
    expect(exported.stdout).toContain(`checksumSha256  ${sha256(bytes)}`);
    expect(exported.stdout).toMatch(/^verified\s+true$/m);
    expect(existsSync(`${file}.part`)).toBe(false);

    const unwritable = await runInProcess(
      ["--url", grpc, "admin", "snapshot", "export", snapshotId, path.join(work, "no-dir", "x.bin")],
      admin,
    );
    expect(unwritable.code).toBe(2);
    expect(unwritable.stderr).toMatch(/cannot write .*x\.bin\.part: ENOENT/);
    const missing = await runInProcess(
      ["--url", grpc, "admin", "snapshot", "export", "no-such-snapshot", path.join(work, "y.bin")],
      admin,
    );
    expect(missing.code).toBe(4);
    expect(existsSync(path.join(work, "y.bin.part"))).toBe(false);

    const imported = await runInProcess(
      ["--url", grpc, "--json", "admin", "snapshot", "import", file, "--label", "back"],
      admin,
    );
    expect(imported.code).toBe(0);
    const info = JSON.parse(imported.stdout) as {
      snapshotId: string;
      checksumSha256: string;
      resumed: boolean;
    };
    expect(info).toMatchObject({ checksumSha256: sha256(bytes), resumed: false });

    const empty = path.join(work, "empty.bin");
    writeFileSync(empty, "");
    const emptyResult = await runInProcess(["--url", grpc, "admin", "snapshot", "import", empty], admin);
    expect(emptyResult.code).toBe(2);
    expect(emptyResult.stderr).toMatch(/empty\.bin is empty/);
    const absent = await runInProcess(
      ["--url", grpc, "admin", "snapshot", "import", path.join(work, "absent.bin")],
      admin,
    );
    expect(absent.code).toBe(2);
    expect(absent.stderr).toMatch(/cannot read .*absent\.bin: ENOENT/);

    const restored = await runInProcess(
      ["--url", http, "admin", "snapshot", "restore", info.snapshotId, "--reason", "round trip"],
      admin,
    );
    expect(restored.code).toBe(0);
    const restoredTop = await runInProcess(["--url", grpc, "--json", "admin", "restore", snapshotId], admin);
    expect(restoredTop.code).toBe(0);
    const unknown = await runInProcess(["--url", grpc, "admin", "restore", "no-such-snapshot"], admin);
    expect(unknown.code).toBe(4);
    expect(unknown.stderr).toMatch(/^E4\d\d SNAPSHOT_NOT_FOUND: /m);
  });

  it("import resumes once from received_bytes after E412, with the resumed progress line", async () => {
    const file = path.join(work, "snap.bin");
    const bytes = readFileSync(file);
    const client = createMlsdmClient({ url: grpc, apiKey: ADMIN_KEY });
    let uploadId: string;
    try {
      const first = await client.admin.importSnapshot({
        uploadId: "",
        offset: 0n,
        chunk: bytes.subarray(0, 64 * 1024),
        totalSize: BigInt(bytes.length),
        checksumSha256: sha256(bytes),
        label: "resumed",
      });
      uploadId = first.uploadId;
    } finally {
      client.close();
    }
    const resumed = await runInProcess(
      ["--url", grpc, "--progress", "plain", "admin", "snapshot", "import", file, "--resume", uploadId],
      admin,
    );
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).toMatch(/^import: 65536\/\d+ bytes \(\d+%\) \(resumed\)$/m);
    expect(resumed.stdout).toMatch(/^resumed\s+true$/m);
  });

  it("exit 3 and 4 in text and JSON: unreachable server, missing credential with request id", async () => {
    const port = await freePort();
    const text = await runInProcess(["--url", `http://127.0.0.1:${port}`, "state"]);
    expect(text.code).toBe(3);
    expect(text.stderr).toMatch(
      new RegExp(`^connection error: cannot reach http://127\\.0\\.0\\.1:${port}: `),
    );
    const viaEnv = await runInProcess(["state"], { MLSDM_URL: `grpc://127.0.0.1:${port}` });
    expect(viaEnv.stderr).toContain(`cannot reach grpc://127.0.0.1:${port}`);
    const inline = await runInProcess([`--url=grpc://127.0.0.1:${port}`, "state"]);
    expect(inline.stderr).toContain(`cannot reach grpc://127.0.0.1:${port}`);
    const json = await runInProcess(["--json", "--url", `grpc://127.0.0.1:${port}`, "state"]);
    expect(json.code).toBe(3);
    expect(JSON.parse(json.stdout)).toMatchObject({ error: { connection: true, exitCode: 3 } });

    const anonymous = await runInProcess(["--url", grpc, "state"]);
    expect(anonymous.code).toBe(4);
    expect(anonymous.stderr).toMatch(/^E20\d \w+: .+ \[request [0-9a-f-]{36}\]$/m);
    const anonymousJson = await runInProcess(["--url", http, "--json", "admin", "status"]);
    expect(anonymousJson.code).toBe(4);
    expect(JSON.parse(anonymousJson.stdout)).toMatchObject({
      error: { code: expect.stringMatching(/^E20\d$/), exitCode: 4 },
    });
  });

  it("health --watch prints each change with a timestamp; exit 5 when the server stops", async () => {
    const other = await startTestServer({ MLSDM_RATE_LIMIT_RPS: "0" });
    let serving!: () => void;
    const first = new Promise<void>((resolve) => (serving = resolve));
    const watching = runInProcess(
      ["--url", `grpc://127.0.0.1:${other.grpcPort}`, "health", "--watch"],
      {},
      (stdout) => {
        if (/ {2}SERVING\n/.test(stdout)) serving();
      },
    );
    await first;
    await other.shutdown("test done");
    const result = await watching;
    // The shutdown announces NOT_SERVING to watchers, then ends the stream.
    expect(result.stdout).toMatch(
      /^\d{4}-\d\d-\d\dT[\d:.]+Z {2}SERVING\n\d{4}-\d\d-\d\dT[\d:.]+Z {2}NOT_SERVING\n$/,
    );
    expect(result.code).toBe(5);
  });

  it("a local I/O failure after the transfer is an unexpected error, exit 1", async () => {
    const created = await runInProcess(["--url", grpc, "--json", "admin", "snapshot", "create"], admin);
    const { snapshot } = JSON.parse(created.stdout) as { snapshot: { snapshotId: string } };
    // The target is a directory: the final rename of <file>.part fails.
    const dir = path.join(work, "a-directory");
    mkdirSync(path.join(dir, "inside"), { recursive: true });
    const result = await runInProcess(
      ["--url", grpc, "--progress", "none", "admin", "snapshot", "export", snapshot.snapshotId, dir],
      admin,
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^unexpected error: .*(EISDIR|ENOTEMPTY|EEXIST)/m);
    const json = await runInProcess(
      ["--url", grpc, "--json", "admin", "snapshot", "export", snapshot.snapshotId, dir],
      admin,
    );
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ error: { exitCode: 1, message: expect.any(String) } });
  });

  it("import --resume with an unknown upload id is the server's E411, not retried", async () => {
    const result = await runInProcess(
      [
        "--url",
        grpc,
        "admin",
        "snapshot",
        "import",
        path.join(work, "snap.bin"),
        "--resume",
        "no-such-upload",
      ],
      admin,
    );
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/^E411 SNAPSHOT_UPLOAD_UNKNOWN: /m);
  });
});
