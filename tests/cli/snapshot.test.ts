/**
 * `mlsdm admin snapshot create|export|import|restore` (issue 7 item 5) with the real command
 * against two real servers: export to a file checked by SHA-256 with progress, import into the
 * other server (resuming an interrupted upload from `received_bytes` on E412), restore there.
 */
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningApp } from "../../src/app.js";
import { createMlsdmClient } from "../../src/client/index.js";
import { startTestServer } from "../integration/support/server.js";
import { runCli } from "./support.js";

const EVENTS = 400; // about half a megabyte of snapshot: several export chunks
const vector = (i: number): number[] => Array.from({ length: 384 }, (_, j) => Math.sin(i * 7 + j / 5) + 0.02);
const sha256 = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex");

describe("snapshot export and import through the mlsdm command", { timeout: 120_000 }, () => {
  const dirs = [0, 1, 2].map(() => mkdtempSync(path.join(tmpdir(), "mlsdm-cli-snap-")));
  const work = dirs[2]!;
  let source: RunningApp;
  let target: RunningApp;
  let snapshotId = "";
  const start = (dir: string) =>
    startTestServer({ MLSDM_STATE: "sqlite", MLSDM_DATA_DIR: dir, MLSDM_RATE_LIMIT_RPS: "0" });

  beforeAll(async () => {
    source = await start(dirs[0]!);
    target = await start(dirs[1]!);
    const client = createMlsdmClient({ url: `grpc://127.0.0.1:${source.grpcPort}` });
    for (let i = 0; i < EVENTS; i += 50) {
      await Promise.all(
        Array.from({ length: 50 }, (_, k) =>
          client.engine.processEvent({ vector: vector(i + k), moralValue: 0.95 }),
        ),
      );
    }
    client.close();
  });
  afterAll(async () => {
    await Promise.all([source.shutdown("test done"), target.shutdown("test done")]);
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it("creates a snapshot and exports it to a file, verified, with plain progress lines", async () => {
    const created = await runCli([
      "--url",
      `grpc://127.0.0.1:${source.grpcPort}`,
      "--json",
      "admin",
      "snapshot",
      "create",
      "--label",
      "cli",
    ]);
    expect(created.code).toBe(0);
    snapshotId = (JSON.parse(created.stdout) as { snapshot: { snapshotId: string } }).snapshot.snapshotId;
    const file = path.join(work, "snap.bin");
    const exported = await runCli([
      "--url",
      `http://127.0.0.1:${source.httpPort}`,
      "admin",
      "snapshot",
      "export",
      snapshotId,
      file,
    ]);
    expect(exported.code).toBe(0);
    expect(exported.stderr).toMatch(/^export: \d+\/\d+ bytes \(100%\)$/m);
    const size = Number(/^sizeBytes\s+(\d+)$/m.exec(exported.stdout)?.[1]);
    const bytes = readFileSync(file);
    expect(bytes.length).toBe(size);
    expect(size).toBeGreaterThan(256 * 1024); // more than one export chunk
    expect(exported.stdout).toContain(`checksumSha256  ${sha256(bytes)}`);
    expect(exported.stdout).toMatch(/^verified\s+true$/m);
    expect(existsSync(`${file}.part`)).toBe(false);
  });

  it("draws a cli-progress bar when asked, and exports nothing for an unknown id (exit 4)", async () => {
    const file = path.join(work, "bar.bin");
    const bar = await runCli([
      "--url",
      `grpc://127.0.0.1:${source.grpcPort}`,
      "--progress",
      "bar",
      "admin",
      "snapshot",
      "export",
      snapshotId,
      file,
    ]);
    expect(bar.code).toBe(0);
    expect(bar.stderr).toMatch(/export \[[█░]+\] 100% \| \d+\/\d+ bytes/);
    const missing = await runCli([
      "--url",
      `grpc://127.0.0.1:${source.grpcPort}`,
      "admin",
      "snapshot",
      "export",
      "no-such-snapshot",
      path.join(work, "x.bin"),
    ]);
    expect(missing.code).toBe(4);
    expect(missing.stderr).toMatch(/^E4\d\d SNAPSHOT_NOT_FOUND: /);
    expect(existsSync(path.join(work, "x.bin"))).toBe(false);
    expect(existsSync(path.join(work, "x.bin.part"))).toBe(false);
  });

  it("imports the file into another server and restores it there", async () => {
    const file = path.join(work, "snap.bin");
    const imported = await runCli([
      "--url",
      `grpc://127.0.0.1:${target.grpcPort}`,
      "--json",
      "admin",
      "snapshot",
      "import",
      file,
      "--label",
      "moved",
    ]);
    expect(imported.code).toBe(0);
    const info = JSON.parse(imported.stdout) as {
      snapshotId: string;
      label: string;
      checksumSha256: string;
      resumed: boolean;
    };
    expect(info).toMatchObject({
      label: "moved",
      checksumSha256: sha256(readFileSync(file)),
      resumed: false,
    });
    expect(imported.stderr).toBe(""); // --json: no progress
    const restored = await runCli([
      "--url",
      `http://127.0.0.1:${target.httpPort}`,
      "admin",
      "restore",
      info.snapshotId,
      "--reason",
      "cli move",
    ]);
    expect(restored.code).toBe(0);
    const client = createMlsdmClient({ url: `grpc://127.0.0.1:${target.grpcPort}` });
    const sourceClient = createMlsdmClient({ url: `grpc://127.0.0.1:${source.grpcPort}` });
    try {
      const [mine, theirs] = await Promise.all([
        client.engine.getState({}),
        sourceClient.engine.getState({}),
      ]);
      expect(mine.state?.pelmUsed).toBe(theirs.state?.pelmUsed);
      expect(mine.state?.pelmUsed).toBeGreaterThan(EVENTS / 2);
    } finally {
      client.close();
      sourceClient.close();
    }
  });

  it("resumes an interrupted upload from received_bytes after E412", async () => {
    const file = path.join(work, "snap.bin");
    const bytes = readFileSync(file);
    const client = createMlsdmClient({ url: `grpc://127.0.0.1:${target.grpcPort}` });
    let uploadId: string;
    try {
      const first = await client.admin.importSnapshot({
        uploadId: "",
        offset: 0n,
        chunk: bytes.subarray(0, 128 * 1024),
        totalSize: BigInt(bytes.length),
        checksumSha256: sha256(bytes),
        label: "resumed",
      });
      uploadId = first.uploadId;
      expect(first.receivedBytes).toBe(BigInt(128 * 1024));
    } finally {
      client.close();
    }
    const resumed = await runCli([
      "--url",
      `http://127.0.0.1:${target.httpPort}`,
      "admin",
      "snapshot",
      "import",
      file,
      "--label",
      "resumed",
      "--resume",
      uploadId,
    ]);
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).toMatch(/^import: 131072\/\d+ bytes \(\d+%\) \(resumed\)$/m);
    expect(resumed.stdout).toMatch(/^resumed\s+true$/m);
    expect(resumed.stdout).toMatch(/^label\s+resumed$/m);
    const unknown = await runCli([
      "--url",
      `http://127.0.0.1:${target.httpPort}`,
      "admin",
      "snapshot",
      "import",
      file,
      "--resume",
      "no-such-upload",
    ]);
    expect(unknown.code).toBe(4);
    expect(unknown.stderr).toMatch(/^E411 SNAPSHOT_UPLOAD_UNKNOWN: /);
    const missing = await runCli([
      "--url",
      `http://127.0.0.1:${target.httpPort}`,
      "admin",
      "snapshot",
      "import",
      path.join(work, "none.bin"),
    ]);
    expect(missing.code).toBe(2);
  });
});
