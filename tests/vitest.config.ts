// Test runner configuration (kept under tests/ so the top level holds only the design card's items).
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    root: fileURLToPath(new URL("..", import.meta.url)),
    include: ["tests/**/*.test.ts"],
    // Quiet logs, and the property-test regression file (BASE-CICD-b, tests/property-regressions.json).
    setupFiles: ["tests/support/quiet-logs.ts", "tests/support/property-regressions.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Integration tests start real servers on ephemeral ports; two workers match the 2-core machine.
    pool: "forks",
    maxWorkers: 2,
    // Line coverage of src/ (code run by child processes is not counted). BASE-CICD-a asks for
    // 90 % lines; these thresholds are a ratchet at the level reached (97.5 % lines, 96.2 %
    // statements, 98.1 % functions, 88.0 % branches on 2026-12-01, half a point of margin for
    // run-to-run variation): raise them as coverage grows, never lower them.
    coverage: {
      enabled: true,
      provider: "v8",
      include: ["src/**/*.ts"], // TypeScript only: the playground's static HTML and CSS are not code
      exclude: ["src/gen/**", "src/playground/web/**"],
      reporter: ["text-summary", "json-summary"],
      reportsDirectory: "coverage",
      thresholds: { lines: 97, statements: 95.5, functions: 97.5, branches: 87.5 },
    },
  },
});
