/**
 * Snapshot uploads in progress (AdminService.ImportSnapshot): each upload gathers its chunks in
 * order until its declared size is reached. Uploads are held in memory, bounded in size (the
 * configured import cap, for each upload and for all of them together) and dropped after 5
 * minutes without a chunk, so an abandoned upload cannot pin memory.
 */
import { randomUUID } from "node:crypto";
import { MlsdmError } from "../../telemetry/errors/index.js";

/** An upload is dropped when no chunk arrived for this long. */
export const UPLOAD_IDLE_MS = 5 * 60_000;

interface Upload {
  readonly totalSize: number;
  readonly sha256: string;
  readonly label: string;
  readonly buffer: Buffer;
  received: number;
  lastChunkAtMs: number;
}

/** One chunk as the RPC carries it. */
export interface UploadChunk {
  readonly uploadId: string;
  readonly offset: number;
  readonly chunk: Uint8Array;
  readonly totalSize: number;
  readonly sha256: string;
  readonly label: string;
}

/** What a chunk led to: the upload's id and progress, and the whole content once complete. */
export interface ChunkResult {
  readonly uploadId: string;
  readonly received: number;
  readonly complete?: { readonly bytes: Uint8Array; readonly sha256: string; readonly label: string };
}

/** The uploads of one server. */
export class SnapshotUploads {
  private readonly uploads = new Map<string, Upload>();

  constructor(
    private readonly maxBytes: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Bytes held by uploads not yet complete. */
  get heldBytes(): number {
    let total = 0;
    for (const upload of this.uploads.values()) total += upload.totalSize;
    return total;
  }

  /** Adds one chunk; throws a catalogue error when it does not fit or does not follow. */
  add(chunk: UploadChunk): ChunkResult {
    this.expire();
    const upload = chunk.uploadId === "" ? this.begin(chunk) : this.uploads.get(chunk.uploadId);
    if (!upload) throw new MlsdmError("SNAPSHOT_UPLOAD_UNKNOWN", { metadata: { upload_id: chunk.uploadId } });
    const uploadId = chunk.uploadId === "" ? this.idOf(upload) : chunk.uploadId;
    const resume = { upload_id: uploadId, received_bytes: String(upload.received) };
    if (
      chunk.offset !== upload.received ||
      chunk.totalSize !== upload.totalSize ||
      chunk.sha256 !== upload.sha256 ||
      chunk.chunk.length === 0 ||
      upload.received + chunk.chunk.length > upload.totalSize
    ) {
      throw new MlsdmError("SNAPSHOT_UPLOAD_OUT_OF_ORDER", { metadata: resume });
    }
    upload.buffer.set(chunk.chunk, upload.received);
    upload.received += chunk.chunk.length;
    upload.lastChunkAtMs = this.now();
    if (upload.received < upload.totalSize) return { uploadId, received: upload.received };
    this.uploads.delete(uploadId);
    return {
      uploadId,
      received: upload.received,
      complete: { bytes: upload.buffer, sha256: upload.sha256, label: upload.label },
    };
  }

  private begin(chunk: UploadChunk): Upload {
    if (!/^[0-9a-f]{64}$/.test(chunk.sha256)) {
      throw new MlsdmError("VALIDATION_FAILED", {
        fieldViolations: [
          { field: "checksum_sha256", description: "must be 64 lowercase hexadecimal characters" },
        ],
      });
    }
    if (chunk.totalSize <= 0 || chunk.totalSize > this.maxBytes) {
      throw new MlsdmError("VALIDATION_FAILED", {
        fieldViolations: [
          { field: "total_size", description: `must be 1 to ${this.maxBytes} bytes (state.maxImportMb)` },
        ],
      });
    }
    if (this.heldBytes + chunk.totalSize > this.maxBytes) {
      throw new MlsdmError("RESOURCE_EXHAUSTED", {
        detail: "other snapshot uploads in progress hold the import allowance",
        retryDelayMs: 10_000,
      });
    }
    const upload: Upload = {
      totalSize: chunk.totalSize,
      sha256: chunk.sha256,
      label: chunk.label,
      buffer: Buffer.alloc(chunk.totalSize),
      received: 0,
      lastChunkAtMs: this.now(),
    };
    this.uploads.set(randomUUID(), upload);
    return upload;
  }

  private idOf(upload: Upload): string {
    for (const [id, candidate] of this.uploads) if (candidate === upload) return id;
    throw new Error("upload vanished");
  }

  private expire(): void {
    const now = this.now();
    for (const [id, upload] of this.uploads) {
      if (now - upload.lastChunkAtMs > UPLOAD_IDLE_MS) this.uploads.delete(id);
    }
  }
}
