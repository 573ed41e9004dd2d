/**
 * Path restriction (BASE-SEC-h): resolveUnder keeps every loaded file under its base directory;
 * `..`, absolute paths elsewhere and symbolic links out of the base are refused with
 * INVALID_ARGUMENT E407. The state database applies it to its own file.
 */
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Code } from "@connectrpc/connect";
import { afterAll, describe, expect, it } from "vitest";
import { resolveUnder } from "../../src/policy/path-guard.js";
import { DATABASE_FILE, SqliteStore } from "../../src/store/sqlite-store.js";
import { MlsdmError } from "../../src/telemetry/errors/index.js";
import { logger } from "../../src/telemetry/logger.js";

logger.silent = true;

const root = realpathSync(mkdtempSync(path.join(tmpdir(), "mlsdm-paths-")));
const base = path.join(root, "base");
const outside = path.join(root, "outside");
mkdirSync(path.join(base, "snapshots"), { recursive: true });
mkdirSync(outside);
writeFileSync(path.join(base, "snapshots", "a.bin"), "a");
writeFileSync(path.join(outside, "secret.txt"), "secret");
symlinkSync(path.join(outside, "secret.txt"), path.join(base, "escape-file"));
symlinkSync(outside, path.join(base, "escape-dir"));
symlinkSync(path.join(base, "snapshots"), path.join(base, "inner-link"));
symlinkSync(path.join(outside, "does-not-exist"), path.join(base, "dangling"));
symlinkSync(base, path.join(root, "base-link"));

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

function refusal(fn: () => unknown): MlsdmError | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof MlsdmError) return error;
    throw error;
  }
  return undefined;
}

describe("resolveUnder", () => {
  it.each([
    ["a file below the base", "snapshots/a.bin", path.join(base, "snapshots", "a.bin")],
    ["a file that does not exist yet", "snapshots/new.bin", path.join(base, "snapshots", "new.bin")],
    ["a new file in a new directory", "x/y/z.bin", path.join(base, "x", "y", "z.bin")],
    ["the base itself", ".", base],
    [
      "a harmless .. that stays inside",
      "snapshots/../snapshots/a.bin",
      path.join(base, "snapshots", "a.bin"),
    ],
    [
      "an absolute path inside the base",
      path.join(base, "snapshots", "a.bin"),
      path.join(base, "snapshots", "a.bin"),
    ],
    ["a symlink that stays inside", "inner-link/a.bin", path.join(base, "snapshots", "a.bin")],
  ])("accepts %s", (_name, candidate, expected) => {
    expect(resolveUnder(base, candidate)).toBe(expected);
  });

  it("accepts a base given through a symlink, with absolute paths spelled either way", () => {
    const linked = path.join(root, "base-link");
    expect(resolveUnder(linked, "snapshots/a.bin")).toBe(path.join(base, "snapshots", "a.bin"));
    expect(resolveUnder(linked, path.join(linked, "snapshots", "a.bin"))).toBe(
      path.join(base, "snapshots", "a.bin"),
    );
    expect(resolveUnder(linked, path.join(base, "snapshots", "a.bin"))).toBe(
      path.join(base, "snapshots", "a.bin"),
    );
  });

  it.each([
    ["a .. escape", "../outside/secret.txt", "outside the base"],
    ["a deep .. escape", "snapshots/../../../../etc/passwd", "outside the base"],
    ["an absolute path elsewhere", "/etc/passwd", "outside the base"],
    ["an absolute path beside the base with the same prefix", `${base}-other/file`, "outside the base"],
    ["a symlinked file leading out", "escape-file", "symbolic link leads outside"],
    ["a symlinked directory leading out", "escape-dir/secret.txt", "symbolic link leads outside"],
    [
      "a new file under a symlinked directory leading out",
      "escape-dir/new.bin",
      "symbolic link leads outside",
    ],
    ["a dangling symlink", "dangling", "cannot be resolved"],
    ["an empty path", "", "empty"],
    ["a NUL byte", "snapshots/a.bin\0.txt", "NUL"],
  ])("refuses %s with INVALID_ARGUMENT E407", (_name, candidate, why) => {
    const error = refusal(() => resolveUnder(base, candidate));
    expect(error, `accepted ${candidate}`).toBeDefined();
    expect(error?.entry.code).toBe("E407");
    expect(error?.reason).toBe("PATH_NOT_ALLOWED");
    expect(error?.entry.status).toBe(Code.InvalidArgument);
    expect(error?.message).toContain(why);
  });
});

describe("the state database stays under the data directory", () => {
  it("opens mlsdm.sqlite under the data directory", () => {
    const dataDir = path.join(root, "data-ok");
    const store = new SqliteStore(dataDir);
    store.close();
  });

  it("refuses a mlsdm.sqlite that is a symbolic link out of the data directory (E407)", () => {
    const dataDir = path.join(root, "data-escape");
    mkdirSync(dataDir);
    symlinkSync(path.join(outside, "stolen.sqlite"), path.join(dataDir, DATABASE_FILE));
    writeFileSync(path.join(outside, "stolen.sqlite"), "");
    const error = refusal(() => new SqliteStore(dataDir));
    expect(error?.entry.code).toBe("E407");
  });
});
