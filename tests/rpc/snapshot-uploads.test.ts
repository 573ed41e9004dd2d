/**
 * Snapshot uploads held in memory: in-order chunks only, bounded in total, dropped when idle.
 */
import { describe, expect, it } from "vitest";
import { SnapshotUploads, UPLOAD_IDLE_MS } from "../../src/rpc/admin/snapshot-uploads.js";
import { MlsdmError } from "../../src/telemetry/errors/index.js";

const SUM = "a".repeat(64);
const chunk = (uploadId: string, offset: number, length: number, totalSize = 10) => ({
  uploadId,
  offset,
  chunk: new Uint8Array(length).fill(offset + 1),
  totalSize,
  sha256: SUM,
  label: "",
});
const codeOf = (f: () => unknown): string | undefined => {
  try {
    f();
  } catch (error) {
    return error instanceof MlsdmError ? error.entry.code : "not a catalogue error";
  }
  return undefined;
};

describe("snapshot uploads", () => {
  it("assembles in-order chunks and returns the content once complete", () => {
    const uploads = new SnapshotUploads(100);
    const first = uploads.add(chunk("", 0, 4));
    expect(first).toMatchObject({ received: 4 });
    expect(first.complete).toBeUndefined();
    expect(uploads.heldBytes).toBe(10);
    const last = uploads.add(chunk(first.uploadId, 4, 6));
    expect(Array.from(last.complete?.bytes ?? [])).toEqual([1, 1, 1, 1, 5, 5, 5, 5, 5, 5]);
    expect(uploads.heldBytes).toBe(0);
    expect(codeOf(() => uploads.add(chunk(first.uploadId, 10, 1)))).toBe("E411"); // gone once complete
  });

  it("refuses a chunk that does not continue the upload, or overruns it", () => {
    const uploads = new SnapshotUploads(100);
    const { uploadId } = uploads.add(chunk("", 0, 4));
    expect(codeOf(() => uploads.add(chunk(uploadId, 5, 1)))).toBe("E412");
    expect(codeOf(() => uploads.add(chunk(uploadId, 4, 7)))).toBe("E412");
    expect(codeOf(() => uploads.add(chunk(uploadId, 4, 2, 11)))).toBe("E412");
    expect(uploads.add(chunk(uploadId, 4, 2)).received).toBe(6); // still resumable
  });

  it("bounds what all uploads together hold, and drops an upload idle for 5 minutes", () => {
    let now = 0;
    const uploads = new SnapshotUploads(15, () => now);
    const { uploadId } = uploads.add(chunk("", 0, 1));
    expect(codeOf(() => uploads.add(chunk("", 0, 1)))).toBe("E702");
    expect(codeOf(() => uploads.add(chunk("", 0, 1, 16)))).toBe("E100");
    now += UPLOAD_IDLE_MS + 1;
    expect(codeOf(() => uploads.add(chunk(uploadId, 1, 1)))).toBe("E411");
    expect(uploads.add(chunk("", 0, 1)).received).toBe(1); // the allowance is free again
  });
});
