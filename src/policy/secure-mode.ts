/**
 * Secure mode's run-time part (BASE-SEC-g): RPCs that load state from outside the running
 * process are refused with PERMISSION_DENIED E205, whatever the caller's role. The start-up
 * part (refusing insecure combinations) is `checkStartup`; reflection and the /readyz details
 * are switched off where the listeners are built (`src/app.ts`).
 */
import type { DescMethod } from "@bufbuild/protobuf";
import type { HandlerContext } from "@connectrpc/connect";
import { AdminService } from "../gen/mlsdm/v1/admin_pb.js";
import { MlsdmError } from "../telemetry/errors/index.js";
import { IDENTITY } from "./identity.js";
import { security } from "./authenticate.js";
import type { Policy } from "./policy.js";

/**
 * RPCs disabled in secure mode: checkpoint loading, i.e. replacing the cognitive state with stored
 * data (RestoreSnapshot) or bringing state in from outside (ImportSnapshot).
 */
export const DISABLED_IN_SECURE_MODE: readonly DescMethod[] = [
  AdminService.method.restoreSnapshot,
  AdminService.method.importSnapshot,
];

/** Full method path, `/package.Service/Method`. */
function methodPath(method: DescMethod): string {
  return `/${method.parent.typeName}/${method.name}`;
}

/**
 * The secure-mode guard. Place it after authentication and RBAC, so a caller without a
 * credential still learns E206 and one without the role E203; only permitted callers see E205.
 */
export function secureModeGuard(disabled: readonly DescMethod[] = DISABLED_IN_SECURE_MODE): Policy {
  const paths = new Set(disabled.map(methodPath));
  return (context: HandlerContext) => {
    const path = methodPath(context.method);
    if (!paths.has(path)) return;
    security("disabled_in_secure_mode", {
      method: context.method.name,
      identity_id: context.values.get(IDENTITY)?.id ?? "",
      error_code: "E205",
    });
    throw new MlsdmError("DISABLED_IN_SECURE_MODE", { metadata: { method: path } });
  };
}
