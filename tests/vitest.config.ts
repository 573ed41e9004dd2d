// Test runner configuration (kept under tests/ so the top level holds only the design card's items).
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    root: fileURLToPath(new URL("..", import.meta.url)),
    include: ["tests/**/*.test.ts"],
    setupFiles: ["tests/support/quiet-logs.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Integration tests start real servers on ephemeral ports; two workers match the 2-core machine.
    pool: "forks",
    maxWorkers: 2,
  },
});
