/**
 * Process-level: the real entry point (src/main.ts) refuses a bad configuration before it
 * starts anything, printing one line that names the key and its source, and exits with code 2.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { yamlFile } from "./support.js";

const repoRoot = fileURLToPath(new URL("../..", import.meta.url));
const EXIT_TIMEOUT_MS = 20_000;

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/** Runs `node --import tsx src/main.ts` with `extra` on top of a clean MLSDM_ environment. */
function runMain(extra: Record<string, string>): Promise<Exit> {
  const env: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith("MLSDM_")) env[name] = value;
  }
  Object.assign(
    env,
    { MLSDM_HOST: "127.0.0.1", MLSDM_GRPC_PORT: "0", MLSDM_HTTP_PORT: "0", MLSDM_STATE: "memory" },
    extra,
  );
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
      cwd: repoRoot,
      env,
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (chunk: string) => (stderr += chunk));
    // A valid-looking configuration would start the server and never exit: stop it and fail.
    const timer = setTimeout(() => child.kill("SIGKILL"), EXIT_TIMEOUT_MS);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stderr });
    });
  });
}

describe("start-up with a bad configuration exits 2 with one line naming the key", () => {
  it.each([
    ["wrong type", { MLSDM_GRPC_PORT: "abc" }, "server.grpcPort", "MLSDM_GRPC_PORT"],
    ["out of range", { MLSDM_HTTP_PORT: "70000" }, "server.httpPort", "MLSDM_HTTP_PORT"],
    ["unknown enum word", { MLSDM_LOG_LEVEL: "verbose" }, "log.level", "MLSDM_LOG_LEVEL"],
    ["bad boolean", { MLSDM_REFLECTION: "maybe" }, "server.reflection", "MLSDM_REFLECTION"],
  ])("%s", async (_name, extra: Record<string, string>, key, envName) => {
    const result = await runMain(extra);
    expect(result.signal, `did not exit by itself; stderr: ${result.stderr}`).toBeNull();
    expect(result.code, result.stderr).toBe(2);
    const lines = result.stderr.trim().split("\n");
    expect(lines, result.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/^E801 CONFIG_INVALID: /);
    expect(lines[0]).toContain(`${key} (${envName})`);
  });

  it("unknown key in the YAML file", async () => {
    const file = yamlFile("server:\n  grpcPrt: 0\n");
    const result = await runMain({ MLSDM_CONFIG: file });
    expect(result.signal, `did not exit by itself; stderr: ${result.stderr}`).toBeNull();
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr.trim()).toMatch(/^E801 CONFIG_INVALID: server\.grpcPrt \(.*\) = 0: unknown key/);
    expect(result.stderr).toContain(file);
  });

  it("missing YAML file", async () => {
    const result = await runMain({ MLSDM_CONFIG: `${repoRoot}/does-not-exist.yaml` });
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr.trim()).toMatch(/^E802 CONFIG_FILE_UNREADABLE: .*does-not-exist\.yaml/);
  });
});

describe("start-up checks refuse like a bad value: exit 2, one line naming the key", () => {
  it("a non-loopback host without any identity source (the image's MLSDM_HOST=0.0.0.0 with no key)", async () => {
    const result = await runMain({ MLSDM_HOST: "0.0.0.0" });
    expect(result.signal, `did not exit by itself; stderr: ${result.stderr}`).toBeNull();
    expect(result.code, result.stderr).toBe(2);
    const lines = result.stderr.trim().split("\n");
    expect(lines, result.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/^E801 CONFIG_INVALID: server\.host \(MLSDM_HOST\) = "0\.0\.0\.0": /);
    expect(lines[0]).toContain("MLSDM_AUTH_DISABLED=true");
  });

  it("secure mode without an identity source", async () => {
    const result = await runMain({ MLSDM_SECURE_MODE: "true" });
    expect(result.signal, `did not exit by itself; stderr: ${result.stderr}`).toBeNull();
    expect(result.code, result.stderr).toBe(2);
    const lines = result.stderr.trim().split("\n");
    expect(lines, result.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/^E804 CONFIG_INSECURE: secureMode \(MLSDM_SECURE_MODE\) = true: /);
  });
});
