/**
 * Helpers for the configuration tests: temporary YAML files and capturing a thrown ConfigError.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";
import { ConfigError } from "../../src/config/index.js";

const dir = mkdtempSync(join(tmpdir(), "mlsdm-config-test-"));
let counter = 0;
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Writes `text` to a new file in a per-test-file temporary directory and returns its absolute path. */
export function yamlFile(text: string): string {
  counter += 1;
  const path = join(dir, `config-${counter}.yaml`);
  writeFileSync(path, text);
  return path;
}

/** A path under the temporary directory that does not exist. */
export function missingFile(): string {
  return join(dir, "does-not-exist.yaml");
}

/** Runs `fn`, expecting a ConfigError, and returns it (fails the test otherwise). */
export function configErrorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw new Error(`expected a ConfigError, got ${String(error)}`);
  }
  throw new Error("expected a ConfigError, but nothing was thrown");
}
