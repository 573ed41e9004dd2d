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
  },
});
