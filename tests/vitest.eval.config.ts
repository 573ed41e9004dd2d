// Eval suite (BASE-CICD-a): the golden moral-filter and aphasia cases of tests/eval/, run alone by
// `npm run test:eval` (the `eval` job of .github/workflows/ci.yml). They also run in the full suite.
import { defineConfig } from "vitest/config";
import base from "./vitest.config.js";

// Spread, not mergeConfig: mergeConfig would append to the base include list instead of replacing it.
export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: ["tests/eval/**/*.test.ts"],
    // The coverage ratchet measures the whole suite; a subset would always fall short of it.
    coverage: { ...base.test?.coverage, enabled: false },
  },
});
