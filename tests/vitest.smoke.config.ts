// Smoke suite (CICD-003): the fast unit tests, run on every push by .github/workflows/ci-smoke.yml
// (`npm run test:smoke`, job cap 5 min, test step cap 3 min). Everything else is "slow" and runs in
// the full suite (`npm test`) on pull requests: tests that start servers on real sockets, spawn
// processes (redis-server, promtool, kubectl, buf, chromium) or drive load. The split is by directory
// plus the SLOW list below; tests/ci/release-scripts.test.ts checks that every listed path exists.
import { defineConfig } from "vitest/config";
import base from "./vitest.config.js";

/** Directories whose tests are unit tests: in-process, no sockets, no child processes. */
export const SMOKE_DIRS = [
  "tests/core",
  "tests/policy",
  "tests/config",
  "tests/contract",
  "tests/telemetry",
  "tests/store",
  "tests/rpc",
  "tests/providers",
  "tests/ci",
];

/** Files inside SMOKE_DIRS that are slow (real Redis, child processes, servers): full suite only. */
export const SLOW = [
  "tests/policy/redis-replay-cache.test.ts",
  "tests/policy/token-quota.test.ts",
  "tests/store/redis-client.test.ts",
  "tests/providers/embedding-cache-from-config.test.ts",
  "tests/config/exit.test.ts",
  "tests/config/oidc.test.ts",
  "tests/config/tls.test.ts",
  "tests/contract/proto-docs.test.ts",
  "tests/telemetry/tracing/tracing.test.ts",
  "tests/telemetry/tracing/exporters.test.ts",
  "tests/ci/audit.test.ts",
  "tests/ci/commits-and-releases.test.ts",
  "tests/ci/release-scripts.test.ts",
];

// Spread, not mergeConfig: mergeConfig would append to the base include list instead of replacing it.
export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: SMOKE_DIRS.map((dir) => `${dir}/**/*.test.ts`),
    exclude: SLOW,
    // The coverage ratchet measures the whole suite; a subset would always fall short of it.
    coverage: { ...base.test?.coverage, enabled: false },
  },
});
