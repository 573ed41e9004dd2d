/**
 * AdminService.ExportSnapshot and ImportSnapshot (issue 7 item 5): a snapshot streamed out of one
 * real server in chunks and uploaded in chunks into another, on both listeners; the import
 * leaves the live state alone until RestoreSnapshot names it, survives a restart, and every bad
 * upload answers its catalogue code.
 */
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Code, ConnectError, type Client } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningApp } from "../../src/app.js";
import { AdminService } from "../../src/gen/mlsdm/v1/admin_pb.js";
import { EngineService } from "../../src/gen/mlsdm/v1/engine_pb.js";
import { EXPORT_CHUNK_BYTES, IMPORT_CHUNK_BYTES } from "../../src/rpc/admin/snapshot-transfer.js";
import { connectClient, connectErrorInfo, type ConnectProtocol } from "./support/clients.js";
import { startTestServer } from "./support/server.js";

const EVENTS = 400; // ≈ 0.7 MB of snapshot: several export chunks and two import chunks
const vector = (i: number): number[] => Array.from({ length: 384 }, (_, j) => Math.sin(i * 7 + j / 5) + 0.02);
const sha256 = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex");

async function failure(
  promise: Promise<unknown>,
): Promise<[Code, string | undefined, Record<string, string>]> {
  try {
    await promise;
  } catch (error) {
    const info = connectErrorInfo(error);
    return [ConnectError.from(error).code, info?.metadata.code, { ...info?.metadata }];
  }
  throw new Error("expected the call to fail");
}

/** Both listeners, each through a protocol it serves: grpc-js (gRPC) and the HTTP listener (Connect). */
function admins(app: RunningApp): [string, Client<typeof AdminService>][] {
  const on = (port: number, protocol: ConnectProtocol) => connectClient(AdminService, port, protocol);
  return [
    ["grpc-js listener", on(app.grpcPort, "grpc")],
    ["HTTP listener", on(app.httpPort, "connect")],
  ];
}

describe("snapshot export and import", () => {
  const dirs = [
    mkdtempSync(path.join(tmpdir(), "mlsdm-xfer-a-")),
    mkdtempSync(path.join(tmpdir(), "mlsdm-xfer-b-")),
  ];
  let source: RunningApp;
  let target: RunningApp;
  const start = (dir: string) =>
    startTestServer({
      MLSDM_STATE: "sqlite",
      MLSDM_DATA_DIR: dir,
      MLSDM_SNAPSHOT_MAX_IMPORT_MB: "2",
    });

  beforeAll(async () => {
    [source, target] = (await Promise.all(dirs.map(start))) as [RunningApp, RunningApp];
    const engine = connectClient(EngineService, source.grpcPort, "grpc");
    for (let i = 0; i < EVENTS; i += 50) {
      await Promise.all(
        Array.from({ length: 50 }, (_, k) =>
          engine.processEvent({ vector: vector(i + k), moralValue: 0.95 }),
        ),
      );
    }
  });
  afterAll(async () => {
    await Promise.all([source.shutdown("test done"), target.shutdown("test done")]);
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it("streams a snapshot out, uploads it into another server, and restores it there after a restart", async () => {
    const [, grpcAdmin] = admins(source)[0]!;
    const created = await grpcAdmin.createSnapshot({ label: "to move" });
    const used = created.snapshot?.pelmUsed ?? 0; // events refused in the sleep phase are not stored
    expect(used).toBeGreaterThan(EVENTS / 2);
    const chunks: Uint8Array[] = [];
    let info;
    for await (const message of grpcAdmin.exportSnapshot({
      snapshotId: created.snapshot?.snapshotId ?? "",
    })) {
      if (message.part.case === "info") info = message.part.value;
      else if (message.part.case === "chunk") chunks.push(message.part.value);
    }
    const bytes = Buffer.concat(chunks);
    expect(info).toMatchObject({ snapshotId: created.snapshot?.snapshotId, pelmUsed: used });
    expect(BigInt(bytes.length)).toBe(info?.sizeBytes);
    expect(sha256(bytes)).toBe(info?.checksumSha256);
    expect(chunks.length).toBe(Math.ceil(bytes.length / EXPORT_CHUNK_BYTES));
    expect(chunks.length).toBeGreaterThan(1);

    const [, httpAdmin] = admins(target)[1]!;
    let uploadId = "";
    let stored;
    for (let offset = 0; offset < bytes.length; offset += IMPORT_CHUNK_BYTES) {
      const answer = await httpAdmin.importSnapshot({
        uploadId,
        offset: BigInt(offset),
        chunk: bytes.subarray(offset, offset + IMPORT_CHUNK_BYTES),
        totalSize: BigInt(bytes.length),
        checksumSha256: sha256(bytes),
        label: "moved",
      });
      uploadId = answer.uploadId;
      expect(answer.receivedBytes).toBe(BigInt(Math.min(bytes.length, offset + IMPORT_CHUNK_BYTES)));
      stored = answer.snapshot;
    }
    expect(stored).toMatchObject({ label: "moved", pelmUsed: used, checksumSha256: sha256(bytes) });
    const targetEngine = connectClient(EngineService, target.httpPort, "connect");
    expect((await targetEngine.getState({})).state?.pelmUsed).toBe(0); // imported, not restored

    await httpAdmin.restoreSnapshot({ snapshotId: stored?.snapshotId ?? "", reason: "move test" });
    const sourceState = (await connectClient(EngineService, source.httpPort, "connect").getState({})).state;
    expect((await targetEngine.getState({})).state).toMatchObject({
      pelmUsed: used,
      step: sourceState?.step,
      moralThreshold: sourceState?.moralThreshold,
    });

    await target.shutdown("restart");
    target = await start(dirs[1]!);
    const restarted = connectClient(EngineService, target.httpPort, "connect");
    expect((await restarted.getState({})).state?.pelmUsed).toBe(used);
  });

  it.each([0, 1])("refuses bad uploads with their codes (listener %#)", async (which) => {
    const [name, admin] = admins(target)[which]!;
    const bytes = new Uint8Array(1000).fill(7);
    const base = { totalSize: 1000n, checksumSha256: sha256(bytes), label: "", uploadId: "" };
    const first = await admin.importSnapshot({ ...base, offset: 0n, chunk: bytes.subarray(0, 400) });
    expect(first.receivedBytes, name).toBe(400n);

    const gap = admin.importSnapshot({
      ...base,
      uploadId: first.uploadId,
      offset: 600n,
      chunk: bytes.subarray(600),
    });
    expect(await failure(gap)).toEqual([
      Code.FailedPrecondition,
      "E412",
      expect.objectContaining({ received_bytes: "400" }),
    ]);
    const unknown = admin.importSnapshot({ ...base, uploadId: "no-such-upload", offset: 0n, chunk: bytes });
    expect((await failure(unknown)).slice(0, 2)).toEqual([Code.NotFound, "E411"]);

    // Right size and checksum, but not a snapshot: refused when the upload completes.
    const garbage = admin.importSnapshot({
      ...base,
      uploadId: first.uploadId,
      offset: 400n,
      chunk: bytes.subarray(400),
    });
    expect((await failure(garbage)).slice(0, 2)).toEqual([Code.InvalidArgument, "E410"]);
    const wrongSum = admin.importSnapshot({
      ...base,
      checksumSha256: "0".repeat(64),
      offset: 0n,
      chunk: bytes,
    });
    expect((await failure(wrongSum)).slice(0, 2)).toEqual([Code.InvalidArgument, "E410"]);

    const tooBig = admin.importSnapshot({ ...base, totalSize: 3n * 1024n * 1024n, offset: 0n, chunk: bytes });
    expect((await failure(tooBig)).slice(0, 2)).toEqual([Code.InvalidArgument, "E100"]);
    const missing = admin.exportSnapshot({ snapshotId: "nope" })[Symbol.asyncIterator]().next();
    expect((await failure(missing)).slice(0, 2)).toEqual([Code.NotFound, "E402"]);
  });

  it("answers E408 when the server keeps no persistent state", async () => {
    const ephemeral = await startTestServer();
    try {
      for (const [, admin] of admins(ephemeral)) {
        const call = admin.importSnapshot({ offset: 0n, chunk: new Uint8Array(1), totalSize: 1n });
        expect((await failure(call)).slice(0, 2)).toEqual([Code.FailedPrecondition, "E408"]);
      }
    } finally {
      await ephemeral.shutdown("test done");
    }
  });
});
