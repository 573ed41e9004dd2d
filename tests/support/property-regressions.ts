/**
 * Property-test counterexample regression (BASE-CICD-b), for every fast-check property in the
 * suite without touching the tests: a test setup file that installs a global fast-check reporter.
 *
 * - When a property fails, its seed (and counterexample, for the reader) is appended to
 *   `tests/property-regressions.json` under the test's full name and the property's position in
 *   the test, then the test fails with fast-check's usual report. Commit the file with the fix.
 * - On every run, a property with a recorded entry runs with that seed: fast-check then generates
 *   the same sequence of inputs, so the input that failed comes back every time.
 *
 * `MLSDM_PROPERTY_REGRESSIONS` names another file (tests of this mechanism use a temporary one).
 */
import { readFileSync, writeFileSync } from "node:fs";
import fc from "fast-check";
import { beforeEach, expect } from "vitest";

/** One recorded failure. */
export interface Regression {
  /** vitest's full test name (`describe > it`). */
  readonly test: string;
  /** Which fast-check run inside the test, counting from 0. */
  readonly index: number;
  readonly seed: number;
  /** The shrunk counterexample, as fast-check prints it (for the reader; replay uses the seed). */
  readonly counterexample: string;
  readonly found: string;
}

const FILE = process.env.MLSDM_PROPERTY_REGRESSIONS ?? "tests/property-regressions.json";

/** The recorded regressions (none when the file does not exist yet). */
export function loadRegressions(file = FILE): Regression[] {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return [];
  }
  return (JSON.parse(text) as { regressions: Regression[] }).regressions;
}

/** Appends `entry` unless the same test and index already has a recorded seed. */
export function recordRegression(entry: Regression, file = FILE): void {
  const regressions = loadRegressions(file);
  if (regressions.some((r) => r.test === entry.test && r.index === entry.index)) return;
  regressions.push(entry);
  writeFileSync(file, `${JSON.stringify({ regressions }, null, 2)}\n`);
}

const original = fc.readConfigureGlobal();
let current = { test: "", index: 0 };

function report(details: fc.RunDetails<unknown>): void {
  const at = current;
  current = { test: at.test, index: at.index + 1 };
  configureFor(current.test, current.index);
  if (!details.failed) return;
  const replayed = loadRegressions().some((r) => r.test === at.test && r.index === at.index);
  if (!replayed && !details.interrupted) {
    recordRegression({
      test: at.test,
      index: at.index,
      seed: details.seed,
      counterexample: fc.stringify(details.counterexample),
      found: new Date().toISOString(),
    });
  }
  const where = replayed ? "a recorded regression failed again" : `seed recorded in ${FILE}`;
  throw new Error(`${fc.defaultReportMessage(details)}\n(${where})`);
}

function configureFor(test: string, index: number): void {
  const hit = loadRegressions().find((r) => r.test === test && r.index === index);
  fc.configureGlobal({ ...original, ...(hit ? { seed: hit.seed } : {}) });
}

// Called once after every fast-check run (sync or async property alike), pass or fail.
fc.installGlobalPlugin(() => ({ onAllRunsComplete: report }));

beforeEach(() => {
  current = { test: expect.getState().currentTestName ?? "", index: 0 };
  configureFor(current.test, 0);
});
