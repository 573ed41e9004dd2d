/**
 * Example: read the server's status and cognitive state with the Admin and Engine clients.
 *
 *   MLSDM_URL=http://127.0.0.1:8080 MLSDM_CLIENT_API_KEY=<admin key> npx tsx examples/admin-status.ts
 */
/* eslint-disable no-console -- an example program prints its results */
import { AdminService, createMlsdmClient, MlsdmError } from "../src/client/index.js";
import { ServingStatus } from "../src/gen/mlsdm/v1/admin_pb.js";

const mlsdm = createMlsdmClient({
  url: process.env.MLSDM_URL ?? "http://127.0.0.1:8080",
  ...(process.env.MLSDM_CLIENT_API_KEY ? { apiKey: process.env.MLSDM_CLIENT_API_KEY } : {}),
  timeoutMs: 5_000,
});
try {
  const status = await mlsdm.admin.getStatus({});
  const state = (await mlsdm.engine.getState({})).state;
  console.log(`${AdminService.typeName} ${status.version}: ${ServingStatus[status.servingStatus]}`);
  console.log(`uptime ${status.uptimeSeconds.toFixed(1)} s, step ${state?.step}, phase ${state?.phase}`);
  console.log(`memory ${state?.pelmUsed}/${state?.pelmCapacity}, moral threshold ${state?.moralThreshold}`);
} catch (error) {
  if (!(error instanceof MlsdmError)) throw error;
  console.error(`${error.describe()}${error.requestId ? ` [request ${error.requestId}]` : ""}`);
  process.exitCode = error.connection ? 3 : 4;
} finally {
  mlsdm.close();
}
