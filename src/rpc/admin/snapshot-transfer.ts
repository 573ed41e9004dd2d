/**
 * AdminService.ExportSnapshot and ImportSnapshot: a stored snapshot streamed out in chunks, and
 * one uploaded in chunks (unary calls, so a snapshot larger than the message cap fits), checked
 * against its SHA-256 and restored into a scratch controller (format and dimension) before it is
 * stored as a new snapshot. An import never touches the live state: RestoreSnapshot does that.
 */
import { createHash } from "node:crypto";
import { SnapshotFormatError } from "../../core/binary.js";
import type { DurableState } from "../../store/durable-state.js";
import { MlsdmError } from "../../telemetry/errors/index.js";
import { logger } from "../../telemetry/logger.js";
import { infoMessage, persistent } from "./snapshot-handlers.js";
import { SnapshotUploads } from "./snapshot-uploads.js";

/** Bytes per exported chunk. */
export const EXPORT_CHUNK_BYTES = 256 * 1024;
/** Largest chunk an import accepts (under the 1 MiB message cap with room to spare). */
export const IMPORT_CHUNK_BYTES = 512 * 1024;

interface ImportRequest {
  readonly uploadId: string;
  readonly offset: bigint;
  readonly chunk: Uint8Array;
  readonly totalSize: bigint;
  readonly checksumSha256: string;
  readonly label: string;
}

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** The two transfer handlers; `maxImportBytes` bounds uploads in memory. */
export function snapshotTransferHandlers(state: DurableState | undefined, maxImportBytes: number) {
  const uploads = new SnapshotUploads(maxImportBytes);
  return {
    async *exportSnapshot(request: { snapshotId: string }) {
      const read = persistent(state).read(request.snapshotId.trim());
      if (!read) throw new MlsdmError("SNAPSHOT_NOT_FOUND", { detail: request.snapshotId });
      if (!read.valid) throw new MlsdmError("SNAPSHOT_CORRUPTED", { detail: request.snapshotId });
      logger.info("admin action", {
        event: "admin_action",
        action: "export_snapshot",
        snapshot_id: read.info.id,
        size_bytes: read.info.sizeBytes,
      });
      yield { part: { case: "info" as const, value: infoMessage(read.info) } };
      for (let offset = 0; offset < read.bytes.length; offset += EXPORT_CHUNK_BYTES) {
        await new Promise((resolve) => setImmediate(resolve)); // let other calls run between chunks
        yield {
          part: { case: "chunk" as const, value: read.bytes.subarray(offset, offset + EXPORT_CHUNK_BYTES) },
        };
      }
    },
    importSnapshot(request: ImportRequest) {
      const store = persistent(state);
      if (request.chunk.length > IMPORT_CHUNK_BYTES) {
        throw new MlsdmError("VALIDATION_FAILED", {
          fieldViolations: [{ field: "chunk", description: `must be at most ${IMPORT_CHUNK_BYTES} bytes` }],
        });
      }
      const result = uploads.add({
        uploadId: request.uploadId.trim(),
        offset: Number(request.offset),
        chunk: request.chunk,
        totalSize: Number(request.totalSize),
        sha256: request.checksumSha256,
        label: request.label,
      });
      const progress = { uploadId: result.uploadId, receivedBytes: BigInt(result.received) };
      if (!result.complete) return progress;
      const { bytes, label } = result.complete;
      if (sha256(bytes) !== result.complete.sha256) {
        throw new MlsdmError("SNAPSHOT_IMPORT_INVALID", {
          detail: "the content does not match checksum_sha256",
        });
      }
      let info;
      try {
        info = store.importSnapshot(bytes, label === "" ? "imported" : label);
      } catch (error) {
        if (!(error instanceof SnapshotFormatError)) throw error;
        throw new MlsdmError("SNAPSHOT_IMPORT_INVALID", { detail: error.message, cause: error });
      }
      logger.info("admin action", {
        event: "admin_action",
        action: "import_snapshot",
        snapshot_id: info.id,
        size_bytes: info.sizeBytes,
      });
      return { ...progress, snapshot: infoMessage(info) };
    },
  };
}
