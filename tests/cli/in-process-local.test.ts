/**
 * The `mlsdm` commands that run without a server, run in-process (tests/cli/in-process.ts):
 * help and version, config print/validate, bench with every progress mode, the connection
 * settings read from flags and the environment (TLS files, the signing key) and the exit code of
 * each class of failure; plus the command's output helpers.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningApp } from "../../src/app.js";
import { connect, DEFAULT_URL, serverUrl, type GlobalOptions } from "../../src/cli/connection.js";
import { durationSeconds, numberIn } from "../../src/cli/context.js";
import { enumName, flatten, keyValues, table } from "../../src/cli/output.js";
import { resolveProgressMode, startProgress } from "../../src/cli/progress.js";
import { VERSION } from "../../src/version.js";
import { startTestServer } from "../integration/support/server.js";
import { runInProcess } from "./in-process.js";

describe("mlsdm without a server, in-process", { timeout: 120_000 }, () => {
  const work = mkdtempSync(path.join(tmpdir(), "mlsdm-cli-inproc-local-"));
  afterAll(() => {
    rmSync(work, { recursive: true, force: true });
  });

  it("--version and --help exit 0; unknown commands and options exit 2", async () => {
    const version = await runInProcess(["--version"]);
    expect(version).toMatchObject({ code: 0, stdout: `${VERSION}\n`, keepAlive: false });
    const help = await runInProcess(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: mlsdm \[options\] \[command\]/m);
    for (const command of ["health", "generate", "event", "state", "admin", "config", "bench", "serve"]) {
      expect(help.stdout).toMatch(new RegExp(`^  ${command}\\b`, "m"));
    }
    const typo = await runInProcess(["stat"]);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/unknown command 'stat'/);
    expect(typo.stderr).toMatch(/Did you mean state\?/);
    const flag = await runInProcess(["--api-key", "x", "state"]);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/unknown option '--api-key'/);
  });

  it("config print: a table with sources and warnings, or JSON; a YAML file via --file", async () => {
    const env = { MLSDM_API_KEY: "inproc-secret-api-key-42", MLSDM_HTTP_PORT: "18081" };
    const text = await runInProcess(["config", "print"], env);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^KEY\s+VALUE\s+SOURCE$/m);
    expect(text.stdout).toMatch(/^server\.httpPort\s+18081\s+MLSDM_HTTP_PORT$/m);
    expect(text.stdout).toMatch(/^server\.grpcPort\s+\d+\s+default$/m);
    expect(text.stdout).not.toContain("inproc-secret-api-key-42");

    const file = path.join(work, "config.yaml");
    writeFileSync(file, "server:\n  grpcPort: 50123\n");
    const json = await runInProcess(["--json", "config", "print", "--file", file], env);
    expect(json.code).toBe(0);
    const parsed = JSON.parse(json.stdout) as {
      config: { server: { grpcPort: number; httpPort: number }; auth: { apiKey: string } };
      configFile: string | null;
      sources: Record<string, string>;
      warnings: string[];
    };
    expect(parsed.config.server).toMatchObject({ grpcPort: 50123, httpPort: 18081 });
    expect(parsed.config.auth.apiKey).toBe("***");
    expect(parsed.configFile).toBe(file);
    expect(parsed.sources["server.grpcPort"]).toMatch(/config\.yaml/);
    expect(Array.isArray(parsed.warnings)).toBe(true);
    expect((await runInProcess(["--json", "config", "print"])).stdout).toMatch(/"configFile": null/);
  });

  it("config validate: valid, a bad value, a missing file and a start-up rule all answer exit 2 or 0", async () => {
    const valid = await runInProcess(["config", "validate"]);
    expect(valid).toMatchObject({ code: 0, stdout: expect.stringMatching(/^configuration valid$/m) });
    const validJson = await runInProcess(["--json", "config", "validate"]);
    expect(JSON.parse(validJson.stdout)).toMatchObject({ valid: true, configFile: null });

    const bad = await runInProcess(["config", "validate"], { MLSDM_GRPC_PORT: "abc" });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^error: E801 CONFIG_INVALID: server\.grpcPort \(MLSDM_GRPC_PORT\)/m);
    const badPrint = await runInProcess(["config", "print"], { MLSDM_GRPC_PORT: "abc" });
    expect(badPrint.code).toBe(2);

    const missing = await runInProcess([
      "--json",
      "config",
      "validate",
      "--file",
      path.join(work, "nope.yaml"),
    ]);
    expect(missing.code).toBe(2);
    expect(JSON.parse(missing.stdout)).toMatchObject({
      error: { exitCode: 2, message: expect.stringMatching(/^E8\d\d /) },
    });

    const insecure = await runInProcess(["config", "validate"], { MLSDM_HOST: "0.0.0.0" });
    expect(insecure.code).toBe(2);
    expect(insecure.stderr).toMatch(/^error: E80\d /m);
  });

  describe("bench", () => {
    const root = path.join(work, "pkg");
    beforeAll(() => {
      mkdirSync(root, { recursive: true });
      writeFileSync(
        path.join(root, "package.json"),
        JSON.stringify({
          name: "bench-fixture",
          private: true,
          scripts: {
            "bench:fast": "node -e \"console.log('fast result 42'); console.error('fast note')\"",
            "bench:broken": 'node -e "process.exit(3)"',
            test: "true",
          },
        }),
      );
    });

    it("lists the bench:* scripts in text and JSON", async () => {
      expect(await runInProcess(["bench", "--root", root, "--list"])).toMatchObject({
        code: 0,
        stdout: "bench:fast\nbench:broken\n",
      });
      const json = await runInProcess(["--json", "bench", "--root", root, "--list"]);
      expect(JSON.parse(json.stdout)).toEqual({ scripts: ["bench:fast", "bench:broken"] });
      // Without --root: this package's own scripts.
      const own = await runInProcess(["--json", "bench", "--list"]);
      expect(own.code).toBe(0);
      const scripts = (JSON.parse(own.stdout) as { scripts: string[] }).scripts;
      expect(scripts.length).toBeGreaterThan(0);
      expect(scripts.every((name) => name.startsWith("bench:"))).toBe(true);
    });

    it("plain progress forwards each script's output; a failure ends with exit 6", async () => {
      const one = await runInProcess([
        "--progress",
        "plain",
        "bench",
        "--root",
        root,
        "--only",
        "bench:fast",
      ]);
      expect(one.code).toBe(0);
      expect(one.stdout).toContain("fast result 42");
      expect(one.stderr).toContain("fast note");
      expect(one.stdout).toMatch(/^bench:fast\s+ok\s+\d+\.\d$/m);
      expect(one.stderr).toMatch(/^bench: 0\/1 benchmarks \(0%\) bench:fast$/m);
      expect(one.stderr).toMatch(/^bench: 1\/1 benchmarks \(100%\) done$/m);

      const all = await runInProcess(["--progress", "none", "bench", "--root", root]);
      expect(all.code).toBe(6);
      expect(all.stdout).toMatch(/^bench:broken\s+failed \(3\)\s+\d+\.\d$/m);
      expect(all.stderr).toMatch(/^error: benchmark failed: bench:broken$/m);
      expect(all.stderr).not.toMatch(/benchmarks \(/);
    });

    it("a bar buffers each script's output under its name; JSON sends it to stderr", async () => {
      const bar = await runInProcess(["--progress", "bar", "bench", "--root", root, "--only", "fast"]);
      expect(bar.code).toBe(0);
      expect(bar.stdout).toMatch(/^── bench:fast ──\nfast result 42\n/m);
      expect(bar.stdout).toMatch(/^bench:fast\s+ok/m);

      const json = await runInProcess(["--json", "bench", "--root", root, "--only", "fast"]);
      expect(json.code).toBe(0);
      expect(JSON.parse(json.stdout)).toMatchObject({ results: [{ script: "bench:fast", exitCode: 0 }] });
      expect(json.stderr).toContain("fast result 42");
    });

    it("usage errors: unknown names, no scripts, an unreadable package.json", async () => {
      const unknown = await runInProcess(["bench", "--root", root, "--only", "fast,nope"]);
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toMatch(/no such benchmark: bench:nope \(have bench:fast, bench:broken\)/);

      const bare = path.join(work, "bare");
      mkdirSync(bare, { recursive: true });
      writeFileSync(path.join(bare, "package.json"), JSON.stringify({ name: "bare" }));
      const none = await runInProcess(["bench", "--root", bare]);
      expect(none.code).toBe(2);
      expect(none.stderr).toMatch(/no bench:\* scripts in .*bare\/package\.json/);

      const broken = path.join(work, "broken");
      mkdirSync(broken, { recursive: true });
      writeFileSync(path.join(broken, "package.json"), "{ not json");
      const unreadable = await runInProcess(["--json", "bench", "--root", broken, "--list"]);
      expect(unreadable.code).toBe(2);
      expect(JSON.parse(unreadable.stdout)).toMatchObject({
        error: { message: expect.stringMatching(/^cannot read .*broken\/package\.json: SyntaxError/) },
      });
    });
  });

  it("connection settings: unreadable TLS files, --cert without --key, a bad signing key", async () => {
    const url = ["--url", "grpc://127.0.0.1:1"];
    const cases: [string[], Record<string, string>, RegExp][] = [
      [["--ca", path.join(work, "no-ca.pem")], {}, /cannot read the CA file .*no-ca\.pem: ENOENT/],
      [[], { MLSDM_CLIENT_CERT: path.join(work, "no.pem") }, /cannot read the client certificate file/],
      [
        [],
        { MLSDM_CLIENT_SIGNING_KEY: "no-equals-sign" },
        /MLSDM_CLIENT_SIGNING_KEY must be <key id>=<secret>/,
      ],
      [[], { MLSDM_CLIENT_SIGNING_KEY: "=secret" }, /MLSDM_CLIENT_SIGNING_KEY must be/],
    ];
    const pem = path.join(work, "some.pem");
    writeFileSync(pem, "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n");
    cases.push([["--cert", pem], {}, /--cert and --key go together/]);
    cases.push([[], { MLSDM_CLIENT_KEY: pem }, /--cert and --key go together/]);
    for (const [args, env, message] of cases) {
      const result = await runInProcess([...url, ...args, "state"], env);
      expect([args, env, result.code]).toEqual([args, env, 2]);
      expect(result.stderr).toMatch(message);
    }
    const badUrl = await runInProcess(["--json", "state"], { MLSDM_URL: "gopher://x" });
    expect(badUrl.code).toBe(2);
    expect(JSON.parse(badUrl.stdout)).toMatchObject({ error: { message: expect.stringMatching(/gopher/) } });
  });

  it("serverUrl: --url, then MLSDM_URL, then the default; connect refuses bad URLs", () => {
    const base = { timeout: 1000, progress: "none" } as GlobalOptions;
    expect(serverUrl(base, {})).toBe(DEFAULT_URL);
    expect(serverUrl(base, { MLSDM_URL: "" })).toBe(DEFAULT_URL);
    expect(serverUrl(base, { MLSDM_URL: "grpc://h:1" })).toBe("grpc://h:1");
    expect(serverUrl({ ...base, url: "http://a:2" }, { MLSDM_URL: "grpc://h:1" })).toBe("http://a:2");
    expect(() => connect({ ...base, url: "ftp://x" }, {})).toThrow(/unsupported scheme/);
    const client = connect({ ...base, url: "grpc://127.0.0.1:1", transport: "grpc" }, {});
    client.close();
  });

  it("numberIn and durationSeconds parse what the options take and refuse the rest", () => {
    const integer = numberIn(1, 10, true);
    expect(integer("7")).toBe(7);
    expect(() => integer("")).toThrow(/expected an integer, got ""/);
    expect(() => integer("2.5")).toThrow(/expected an integer/);
    expect(() => integer("11")).toThrow(/expected 1 to 10, got 11/);
    expect(numberIn(0, 1)("0.25")).toBe(0.25);
    expect(() => numberIn(0, 1)("NaN")).toThrow(/expected a number, got "NaN"/);
    expect([durationSeconds("90"), durationSeconds("90s"), durationSeconds("15m")]).toEqual([90, 90, 900]);
    expect([durationSeconds("24h"), durationSeconds(" 30d ")]).toEqual([86_400, 2_592_000]);
    expect(() => durationSeconds("1w")).toThrow(/expected a duration/);
  });

  it("output helpers: flatten, keyValues, table, enumName", () => {
    expect(flatten({ a: { b: 1, c: [1, 2] }, d: null, e: "x", f: {}, g: [{ h: true }] })).toEqual([
      ["a.b", "1"],
      ["a.c", "1, 2"],
      ["d", ""],
      ["e", "x"],
      ["f", ""],
      ["g[0].h", "true"],
    ]);
    expect(flatten({})).toEqual([]);
    expect(
      keyValues([
        ["a", "1"],
        ["long", "2"],
      ]),
    ).toBe("a     1\nlong  2\n");
    expect(keyValues([])).toBe("");
    expect(table(["A", "BB"], [["xyz", "1"], ["q"]])).toBe("A    BB\n---  --\nxyz  1\nq\n");
    enum Color {
      RED = 1,
    }
    expect(enumName(Color, 1)).toBe("RED");
    expect(enumName(Color, 9)).toBe("9");
  });

  it("progress: auto resolves by JSON and terminal; plain prints each quarter once", () => {
    expect(resolveProgressMode("auto", true)).toBe("none");
    expect(resolveProgressMode("bar", true)).toBe("bar");
    expect(resolveProgressMode("auto", false)).toBe(process.stderr.isTTY ? "bar" : "plain");
    const lines: string[] = [];
    const real = process.stderr.write.bind(process.stderr);
    process.stderr.write = (chunk: string) => {
      lines.push(chunk);
      return true;
    };
    try {
      const plain = startProgress("plain", "copy", 8, "bytes");
      for (let value = 0; value <= 8; value++) plain.update(value);
      plain.update(8, "done");
      plain.stop();
      const empty = startProgress("plain", "nothing", 0, "items");
      empty.update(0);
      const none = startProgress("none", "quiet", 5, "items");
      none.update(3, "x");
      none.stop();
    } finally {
      process.stderr.write = real;
    }
    expect(lines).toEqual([
      "copy: 0/8 bytes (0%)\n",
      "copy: 2/8 bytes (25%)\n",
      "copy: 4/8 bytes (50%)\n",
      "copy: 6/8 bytes (75%)\n",
      "copy: 8/8 bytes (100%)\n",
      "copy: 8/8 bytes (100%) done\n",
      "nothing: 0/0 items (100%)\n",
    ]);
  });
});

describe("mlsdm with a signing key from MLSDM_CLIENT_SIGNING_KEY, in-process", () => {
  const SECRET = "inproc-signing-secret-0123456789";
  let app: RunningApp;
  beforeAll(async () => {
    app = await startTestServer({
      MLSDM_RATE_LIMIT_RPS: "0",
      MLSDM_API_KEY: "inproc-api-key-0123456789abcdef",
      MLSDM_SIGNING_REQUIRED: "true",
      MLSDM_SIGNING_KEYS: `k1=${SECRET}`,
    });
  });
  afterAll(async () => {
    await app.shutdown("test done");
  });

  it("signs each call: accepted with the key, refused (exit 4) without it or with a wrong one", async () => {
    const url = `http://127.0.0.1:${app.httpPort}`;
    const apiKey = { MLSDM_CLIENT_API_KEY: "inproc-api-key-0123456789abcdef" };
    const signed = await runInProcess(["--url", url, "state"], {
      ...apiKey,
      MLSDM_CLIENT_SIGNING_KEY: `k1=${SECRET}`,
    });
    expect(signed.code).toBe(0);
    expect(signed.stdout).toMatch(/^step\s+\d+$/m);
    const unsigned = await runInProcess(["--url", url, "state"], apiKey);
    expect(unsigned.code).toBe(4);
    expect(unsigned.stderr).toMatch(/^E\d{3} \w+: /m);
    const wrong = await runInProcess(["--url", `grpc://127.0.0.1:${app.grpcPort}`, "state"], {
      ...apiKey,
      MLSDM_CLIENT_SIGNING_KEY: "k1=not-the-right-secret-at-all",
    });
    expect(wrong.code).toBe(4);
  });
});
