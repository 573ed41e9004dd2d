/**
 * BASE-CICD-d / CICD-003: .ci/publish-client refuses to publish anything but a public @mlsdm/client
 * at the tag's version (never reaching npm in these cases), and the smoke split names real paths.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { SLOW, SMOKE_DIRS } from "../vitest.smoke.config.js";

const dir = mkdtempSync(path.join(tmpdir(), "mlsdm-client-"));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function publish(pkg: object | undefined, env: Record<string, string> = {}) {
  if (pkg) writeFileSync(path.join(dir, "package.json"), JSON.stringify(pkg));
  else rmSync(path.join(dir, "package.json"), { force: true });
  return spawnSync("bash", [".ci/publish-client", dir], {
    encoding: "utf8",
    env: { PATH: process.env.PATH ?? "", TAG: "v1.2.3", ...env },
  });
}

describe(".ci/publish-client", () => {
  it.each([
    [undefined, {}, /no package\.json/],
    [{ name: "mlsdm", version: "1.2.3" }, {}, /expected @mlsdm\/client/],
    [{ name: "@mlsdm/client", version: "1.2.3", private: true }, {}, /is private/],
    [{ name: "@mlsdm/client", version: "1.2.2" }, {}, /version 1\.2\.2, the tag is v1\.2\.3/],
    [{ name: "@mlsdm/client", version: "1.2.3" }, {}, /NODE_AUTH_TOKEN is empty/],
  ])("refuses %j", (pkg, env, reason) => {
    const r = publish(pkg, env);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(reason);
  });
});

describe("smoke split", () => {
  it("every smoke directory and slow file exists, and slow files lie in smoke directories", () => {
    for (const p of [...SMOKE_DIRS, ...SLOW]) expect(existsSync(p), p).toBe(true);
    for (const f of SLOW)
      expect(
        SMOKE_DIRS.some((d) => f.startsWith(`${d}/`)),
        f,
      ).toBe(true);
  });
});
