// The eval suite alone (`npm run test:eval`, the `eval` CI job): golden moral-filter, content and
// aphasia cases. Coverage off; the same file also runs in the full suite.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    root: fileURLToPath(new URL("..", import.meta.url)),
    include: ["tests/eval/**/*.test.ts"],
    setupFiles: ["tests/support/quiet-logs.ts"],
  },
});
