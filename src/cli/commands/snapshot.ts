/**
 * `mlsdm admin snapshot create|export|import|restore`: snapshots made on the server, streamed to
 * a file (checked against the SHA-256 the server announced, re-read from disk), uploaded from a
 * file in chunks (resumed once from the server's `received_bytes` when it answers E412), and
 * restored into the live state.
 */
import { createHash } from "node:crypto";
import { openSync, closeSync, readFileSync, renameSync, rmSync, writeSync } from "node:fs";
import type { Command } from "commander";
import { MlsdmError, type MlsdmClient } from "../../client/index.js";
import {
  CreateSnapshotResponseSchema,
  RestoreSnapshotResponseSchema,
  SnapshotInfoSchema,
  type SnapshotInfo,
} from "../../gen/mlsdm/v1/admin_pb.js";
import { contextOf, withClient, type CommandContext, type RunState } from "../context.js";
import { CliError, EXIT, usageError } from "../exit-codes.js";
import { flatten, keyValues, messageJson, print, printMessage } from "../output.js";
import { startProgress } from "../progress.js";

/** Largest chunk ImportSnapshot accepts. */
export const IMPORT_CHUNK_BYTES = 512 * 1024;
/** The catalogue code of an upload that does not continue where the server is. */
const OUT_OF_ORDER = "E412";

const sha256 = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex");

function printInfo(
  context: CommandContext,
  info: SnapshotInfo | undefined,
  extra: Record<string, unknown> = {},
) {
  const json = { ...(info ? (messageJson(SnapshotInfoSchema, info) as object) : {}), ...extra };
  print(context.output, json, () => keyValues(flatten(json)));
}

async function exportSnapshot(context: CommandContext, client: MlsdmClient, id: string, file: string) {
  const partial = `${file}.part`;
  let fd: number;
  try {
    fd = openSync(partial, "w", 0o600);
  } catch (error) {
    throw usageError(`cannot write ${partial}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  let info: SnapshotInfo | undefined;
  let written = 0;
  let progress: ReturnType<typeof startProgress> | undefined;
  try {
    for await (const message of client.admin.exportSnapshot({ snapshotId: id }, { timeoutMs: 0 })) {
      if (message.part.case === "info") {
        info = message.part.value;
        progress = startProgress(context.progressMode, "export", Number(info.sizeBytes), "bytes");
      } else if (message.part.case === "chunk") {
        writeSync(fd, message.part.value);
        written += message.part.value.length;
        progress?.update(written);
      }
    }
  } catch (error) {
    closeSync(fd);
    rmSync(partial, { force: true });
    throw error;
  } finally {
    progress?.stop();
  }
  closeSync(fd);
  const onDisk = sha256(readFileSync(partial));
  if (info?.sizeBytes !== BigInt(written) || info.checksumSha256 !== onDisk) {
    rmSync(partial, { force: true });
    throw new CliError(
      `the exported file fails its check: ${written} bytes with SHA-256 ${onDisk}, the server announced ${String(info?.sizeBytes)} bytes with ${info?.checksumSha256 ?? "nothing"}`,
      EXIT.CHECK_FAILED,
    );
  }
  renameSync(partial, file);
  printInfo(context, info, { file, verified: true });
}

async function importSnapshot(
  context: CommandContext,
  client: MlsdmClient,
  file: string,
  options: { label?: string; resume?: string },
) {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    throw usageError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  if (bytes.length === 0) throw usageError(`${file} is empty`);
  const checksum = sha256(bytes);
  const progress = startProgress(context.progressMode, "import", bytes.length, "bytes");
  let uploadId = options.resume ?? "";
  let offset = 0;
  let resumed = false;
  try {
    for (;;) {
      const chunk = bytes.subarray(offset, offset + IMPORT_CHUNK_BYTES);
      let answer;
      try {
        answer = await client.admin.importSnapshot({
          uploadId,
          offset: BigInt(offset),
          chunk,
          totalSize: BigInt(bytes.length),
          checksumSha256: checksum,
          label: options.label ?? "",
        });
      } catch (error) {
        const received = error instanceof MlsdmError ? error.metadata.received_bytes : undefined;
        if (
          !(error instanceof MlsdmError) ||
          error.code !== OUT_OF_ORDER ||
          resumed ||
          received === undefined
        ) {
          throw error;
        }
        // Resume once from where the server is (a chunk it took whose answer was lost, or --resume).
        resumed = true;
        uploadId = error.metadata.upload_id ?? uploadId;
        offset = Number(received);
        progress.update(offset, "(resumed)");
        continue;
      }
      uploadId = answer.uploadId;
      offset = Number(answer.receivedBytes);
      progress.update(offset);
      if (answer.snapshot !== undefined) {
        progress.stop();
        printInfo(context, answer.snapshot, { file, uploadId, resumed });
        return;
      }
    }
  } finally {
    progress.stop();
  }
}

/** `admin snapshot ...` and `admin restore`. */
export function addSnapshotCommands(admin: Command, run: RunState): void {
  const snapshot = admin
    .command("snapshot")
    .description("create, export, import and restore memory snapshots");
  snapshot
    .command("create", { isDefault: true })
    .description("snapshot the live state on the server")
    .option("--label <text>", "a label for the snapshot", "")
    .action(async (options: { label: string }, command: Command) => {
      const context = contextOf(command, run);
      await withClient(context, async (client) => {
        printMessage(
          context.output,
          CreateSnapshotResponseSchema,
          await client.admin.createSnapshot(options),
        );
      });
    });
  snapshot
    .command("export")
    .description("stream a stored snapshot to a file, checked by SHA-256")
    .argument("<snapshot-id>")
    .argument("<file>")
    .action(async (id: string, file: string, _options: unknown, command: Command) => {
      const context = contextOf(command, run);
      await withClient(context, (client) => exportSnapshot(context, client, id, file));
    });
  snapshot
    .command("import")
    .description("upload a snapshot file (stored on the server, not restored)")
    .argument("<file>")
    .option("--label <text>", 'label of the stored snapshot (default "imported")')
    .option("--resume <upload-id>", "continue an interrupted upload from where the server is")
    .action(async (file: string, options: { label?: string; resume?: string }, command: Command) => {
      const context = contextOf(command, run);
      await withClient(context, (client) => importSnapshot(context, client, file, options));
    });
  const restore = (name: string, target: Command) =>
    target
      .command(name)
      .description("restore a stored snapshot into the live state")
      .argument("<snapshot-id>")
      .option("--reason <text>", "why (audit log)", "")
      .action(async (id: string, options: { reason: string }, command: Command) => {
        const context = contextOf(command, run);
        await withClient(context, async (client) => {
          const answer = await client.admin.restoreSnapshot({ snapshotId: id, reason: options.reason });
          printMessage(context.output, RestoreSnapshotResponseSchema, answer);
        });
      });
  restore("restore", snapshot);
  restore("restore", admin);
}
