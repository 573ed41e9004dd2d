/**
 * The `mlsdm` commands that need no running server (config print/validate, bench), `serve` as a
 * real process, mTLS options, and the built executable (bundled with esbuild to a JS file with
 * the shebang, run as a program, as npm's `bin` link would run dist/src/cli/main.js).
 */
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningApp } from "../../src/app.js";
import { startTestServer } from "../integration/support/server.js";
import { clientTls, makeTestCerts } from "../integration/support/tls-clients.js";
import { exitOf, MAIN, ROOT, runCli, startCli, waitForLine } from "./support.js";

describe("mlsdm config, bench and serve", { timeout: 120_000 }, () => {
  const work = mkdtempSync(path.join(tmpdir(), "mlsdm-cli-local-"));
  afterAll(() => {
    rmSync(work, { recursive: true, force: true });
  });

  it("config print masks secrets and names each value's source", async () => {
    const env = { MLSDM_API_KEY: "very-secret-api-key-42", MLSDM_GRPC_PORT: "50999" };
    const text = await runCli(["config", "print"], env);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^server\.grpcPort\s+50999\s+MLSDM_GRPC_PORT$/m);
    expect(text.stdout).toMatch(/^auth\.apiKey\s+\*\*\*\s+MLSDM_API_KEY$/m);
    expect(text.stdout).not.toContain("very-secret-api-key-42");
    const json = await runCli(["--json", "config", "print"], env);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({
      config: { auth: { apiKey: "***" }, server: { grpcPort: 50999 } },
    });
    expect(json.stdout).not.toContain("very-secret-api-key-42");
  });

  it("config validate: exit 0 when valid, exit 2 with the E801 line on a bad value or file", async () => {
    expect(await runCli(["config", "validate"])).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(/^configuration valid$/m),
    });
    const bad = await runCli(["config", "validate"], { MLSDM_GRPC_PORT: "abc" });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^error: E801 CONFIG_INVALID: server\.grpcPort \(MLSDM_GRPC_PORT\) = "abc"/m);
    const file = path.join(work, "bad.yaml");
    writeFileSync(file, "server:\n  httpPort: -1\n");
    const badFile = await runCli(["--json", "config", "validate", "--file", file]);
    expect(badFile.code).toBe(2);
    expect(JSON.parse(badFile.stdout)).toMatchObject({
      error: { message: expect.stringMatching(/^E801 CONFIG_INVALID: server\.httpPort/) },
    });
    const insecure = await runCli(["config", "validate"], { MLSDM_HOST: "0.0.0.0" });
    expect(insecure.code).toBe(2);
    expect(insecure.stderr).toMatch(/^error: E80\d /m);
  });

  it("bench runs every bench:* script with progress, and exit 6 when one fails", async () => {
    const root = path.join(work, "pkg");
    mkdirSync(root, { recursive: true });
    writeFileSync(
      path.join(root, "package.json"),
      JSON.stringify({
        name: "bench-fixture",
        private: true,
        scripts: {
          "bench:fast": "node -e \"console.log('fast result 42')\"",
          "bench:broken": 'node -e "process.exit(3)"',
          test: "true",
        },
      }),
    );
    const list = await runCli(["bench", "--root", root, "--list"]);
    expect(list).toMatchObject({ code: 0, stdout: "bench:fast\nbench:broken\n" });
    const one = await runCli(["bench", "--root", root, "--only", "fast"]);
    expect(one.code).toBe(0);
    expect(one.stdout).toContain("fast result 42");
    expect(one.stdout).toMatch(/^bench:fast\s+ok\s+\d+\.\d$/m);
    expect(one.stderr).toMatch(/^bench: 1\/1 benchmarks \(100%\) done$/m);
    const all = await runCli(["--json", "bench", "--root", root]);
    expect(all.code).toBe(6);
    const results = JSON.parse(all.stdout.slice(0, all.stdout.indexOf("\n}\n") + 2)) as {
      results: { script: string; exitCode: number }[];
    };
    expect(results.results.map((r) => [r.script, r.exitCode])).toEqual([
      ["bench:fast", 0],
      ["bench:broken", 3],
    ]);
    expect(all.stdout).toContain("benchmark failed: bench:broken");
    const unknown = await runCli(["bench", "--root", root, "--only", "nope"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/no such benchmark: bench:nope/);
  });

  it("serve runs the server until SIGTERM; a bad value exits 2 before listening", async () => {
    const server = startCli(["serve"], {
      MLSDM_GRPC_PORT: "0",
      MLSDM_HTTP_PORT: "0",
      MLSDM_STATE: "memory",
      MLSDM_LOG_FORMAT: "json",
      MLSDM_LOG_LEVEL: "info",
      MLSDM_RATE_LIMIT_RPS: "0",
    });
    try {
      const line = await waitForLine(server, /"event":"started"/, 60_000);
      const { grpc, http } = JSON.parse(line) as { grpc: string; http: string };
      expect((await runCli(["--url", `grpc://${grpc}`, "health"])).stdout).toBe("SERVING\n");
      expect((await runCli(["--url", `http://${http}`, "--json", "state"])).code).toBe(0);
    } finally {
      server.kill("SIGTERM");
    }
    expect(await exitOf(server)).toBe(0);
    const bad = await runCli(["serve"], { MLSDM_GRPC_PORT: "abc" });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^E801 CONFIG_INVALID: server\.grpcPort/m);
  });
});

describe("mlsdm over mTLS and as a built executable", { timeout: 120_000 }, () => {
  const certs = makeTestCerts();
  const out = mkdtempSync(path.join(ROOT, ".tmp-cli-build-"));
  const bin = path.join(out, "main.js");
  let app: RunningApp;
  beforeAll(async () => {
    app = await startTestServer({
      MLSDM_TLS_ENABLED: "true",
      MLSDM_TLS_CERT_FILE: path.join(certs, "server.pem"),
      MLSDM_TLS_KEY_FILE: path.join(certs, "server.key"),
      MLSDM_TLS_CLIENT_CA_FILE: path.join(certs, "client-ca-bundle.pem"),
      MLSDM_TLS_CLIENT_IDENTITIES: "cn:reader=reader:read",
      MLSDM_RATE_LIMIT_RPS: "0",
    });
    // Everything but the packages goes into one file; node resolves the packages from the repo.
    await build({
      entryPoints: [MAIN],
      outfile: bin,
      bundle: true,
      platform: "node",
      format: "esm",
      packages: "external",
      target: "node20",
      logLevel: "silent",
    });
    chmodSync(bin, 0o755);
  });
  afterAll(async () => {
    await app.shutdown("test done");
    rmSync(certs, { recursive: true, force: true });
    rmSync(out, { recursive: true, force: true });
  });

  it("presents a client certificate with --ca, --cert and --key; exit 3 without the CA", async () => {
    const ca = path.join(certs, "ca.pem");
    const cert = path.join(certs, "client-reader.pem");
    const key = path.join(certs, "client-reader.key");
    expect(clientTls(certs, "reader").cert).toBeDefined();
    for (const url of [`grpcs://127.0.0.1:${app.grpcPort}`, `https://127.0.0.1:${app.httpPort}`]) {
      const ok = await runCli(["--url", url, "--ca", ca, "--cert", cert, "--key", key, "state"]);
      expect([url, ok.code]).toEqual([url, 0]);
      const denied = await runCli(["--url", url, "admin", "status"], {
        MLSDM_CLIENT_CA: ca,
        MLSDM_CLIENT_CERT: cert,
        MLSDM_CLIENT_KEY: key,
      });
      expect([url, denied.code]).toEqual([url, 4]);
      const untrusted = await runCli(["--url", url, "--cert", cert, "--key", key, "state"]);
      expect([url, untrusted.code]).toEqual([url, 3]);
      expect(untrusted.stderr).toMatch(/^connection error: /);
    }
  });

  it("runs as an executable file with its shebang, as the package's bin", async () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as {
      bin: Record<string, string>;
    };
    expect(pkg.bin.mlsdm).toBe("dist/src/cli/main.js"); // tsc's output path of src/cli/main.ts
    expect(readFileSync(MAIN, "utf8").startsWith("#!/usr/bin/env node\n")).toBe(true);
    expect(readFileSync(bin, "utf8").startsWith("#!/usr/bin/env node\n")).toBe(true);
    const version = await runCli(["--version"], {}, { command: bin });
    expect(version.code).toBe(0);
    expect(version.stdout).toMatch(/^\d+\.\d+\.\d+/);
    const ca = path.join(certs, "ca.pem");
    const health = await runCli(
      [
        "--url",
        `grpcs://127.0.0.1:${app.grpcPort}`,
        "--ca",
        ca,
        "--cert",
        path.join(certs, "client-reader.pem"),
        "--key",
        path.join(certs, "client-reader.key"),
        "health",
      ],
      {},
      { command: bin },
    );
    expect(health).toMatchObject({ code: 0, stdout: "SERVING\n" });
    const usage = await runCli(["--nope"], {}, { command: bin });
    expect(usage.code).toBe(2);
  });
});
