/**
 * AdminService.CreateSnapshot and RestoreSnapshot over the durable state. A restore swaps the
 * whole cognitive state in one synchronous step (no call sees it half-restored) and writes a
 * new snapshot of it so a restart comes back to the restored state. Both are audited.
 */
import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { SnapshotFormatError } from "../../core/binary.js";
import type { SnapshotInfoSchema } from "../../gen/mlsdm/v1/admin_pb.js";
import type { DurableState } from "../../store/durable-state.js";
import type { StoredSnapshot } from "../../store/sqlite-store.js";
import { MlsdmError } from "../../telemetry/errors/index.js";
import { logger } from "../../telemetry/logger.js";

export function infoMessage(info: StoredSnapshot): MessageInitShape<typeof SnapshotInfoSchema> {
  return {
    snapshotId: info.id,
    label: info.label,
    createdAt: timestampFromMs(info.createdAtMs),
    sizeBytes: BigInt(info.sizeBytes),
    checksumSha256: info.sha256,
    step: BigInt(info.step),
    pelmUsed: info.pelmUsed,
    dimension: info.dimension,
  };
}

export function persistent(state: DurableState | undefined): DurableState {
  if (!state) throw new MlsdmError("STATE_NOT_PERSISTENT");
  return state;
}

/** The two snapshot handlers; `onRestored` lets health and metrics follow the new state. */
export function snapshotHandlers(state: DurableState | undefined, onRestored: () => void) {
  return {
    createSnapshot(request: { label: string }) {
      const info = persistent(state).snapshot(request.label, "manual");
      logger.info("admin action", {
        event: "admin_action",
        action: "create_snapshot",
        snapshot_id: info.id,
        size_bytes: info.sizeBytes,
      });
      return { snapshot: infoMessage(info) };
    },
    restoreSnapshot(request: { snapshotId: string; reason: string }) {
      let info: StoredSnapshot | undefined;
      try {
        info = persistent(state).restore(request.snapshotId.trim());
      } catch (error) {
        if (error instanceof SnapshotFormatError) {
          throw new MlsdmError("SNAPSHOT_CORRUPTED", { detail: error.message, cause: error });
        }
        throw error;
      }
      if (!info) throw new MlsdmError("SNAPSHOT_NOT_FOUND", { detail: request.snapshotId });
      logger.info("admin action", {
        event: "admin_action",
        action: "restore_snapshot",
        snapshot_id: info.id,
        reason: request.reason,
      });
      onRestored();
      return { snapshot: infoMessage(info) };
    },
  };
}
