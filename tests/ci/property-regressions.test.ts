/**
 * BASE-CICD-b: a failing fast-check property records its seed in the regression file, and the
 * next run replays that seed (the same inputs in the same order, so the failure comes back).
 * Runs a real vitest on a fixture property, twice, with a temporary regression file.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { loadRegressions } from "../support/property-regressions.js";

const run = promisify(execFile);

async function vitestOnFixture(env: Record<string, string>): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run(
      process.execPath,
      ["node_modules/vitest/vitest.mjs", "run", "--config", "tests/ci/fixtures/vitest.fixture.config.ts"],
      { env: { ...process.env, ...env }, timeout: 60_000 },
    );
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === "number" ? e.code : 1, output: (e.stdout ?? "") + (e.stderr ?? "") };
  }
}

describe("property-test counterexample regression", () => {
  it("records the seed of a failure and replays it on the next run", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "mlsdm-prop-"));
    try {
      const file = path.join(dir, "regressions.json");
      const first = await vitestOnFixture({
        MLSDM_PROPERTY_REGRESSIONS: file,
        FIXTURE_INPUT_LOG: path.join(dir, "first.log"),
      });
      expect(first.code, first.output).not.toBe(0);
      expect(first.output).toContain("seed recorded in");
      const [entry, ...more] = loadRegressions(file);
      expect(more).toEqual([]);
      expect(entry).toMatchObject({ test: "fixture > stays small", index: 0, seed: expect.any(Number) });
      expect(Number(entry?.counterexample.replace(/[[\]]/g, ""))).toBe(1000); // shrunk to the edge

      const second = await vitestOnFixture({
        MLSDM_PROPERTY_REGRESSIONS: file,
        FIXTURE_INPUT_LOG: path.join(dir, "second.log"),
      });
      expect(second.code).not.toBe(0);
      expect(second.output).toContain("a recorded regression failed again");
      // The same seed: the same inputs, in the same order, up to and through the failure.
      expect(readFileSync(path.join(dir, "second.log"), "utf8")).toBe(
        readFileSync(path.join(dir, "first.log"), "utf8"),
      );
      expect(loadRegressions(file)).toHaveLength(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
