/**
 * Opening and closing the durable state at start-up and shutdown, with the log lines an
 * operator needs: what was loaded, what was skipped as corrupt (E403) and what was replayed.
 */
import path from "node:path";
import type { Config } from "../config/index.js";
import type { CognitiveController } from "../core/controller.js";
import { logger } from "../telemetry/logger.js";
import type { Metrics } from "../telemetry/metrics/registry.js";
import { DurableState } from "./durable-state.js";

/** Registers the persistence gauges (snapshot age, journal lag and throughput). */
export function registerStateMetrics(metrics: Metrics, durable: DurableState): void {
  metrics.sampledGauge(
    { name: "mlsdm_snapshot_age_seconds", help: "Seconds since the last memory snapshot was written." },
    () => durable.snapshotAgeMs() / 1000,
  );
  metrics.sampledGauge(
    {
      name: "mlsdm_journal_pending_entries",
      help: "Memory writes applied but not yet committed to the journal (the journal lag).",
    },
    () => durable.pendingEntries,
  );
  metrics.sampledCounter(
    { name: "mlsdm_journal_entries_total", help: "Memory writes committed to the journal since start." },
    () => durable.journalled,
  );
}

/** Opens the store under `config.dataDir`, loads the last good state and starts snapshots. */
export function openDurableState(controller: CognitiveController, config: Config): DurableState {
  const durable = new DurableState(controller, {
    dataDir: path.resolve(config.dataDir),
    snapshotIntervalMs: config.state.snapshotIntervalSeconds * 1000,
    keepSnapshots: config.state.keepSnapshots,
    maxDatabaseBytes: config.state.maxDatabaseMb * 2 ** 20,
  });
  const report = durable.load();
  for (const id of report.corruptSnapshots) {
    logger.warn("snapshot skipped: it fails its checksum or format", {
      event: "snapshot_corrupt",
      error_code: "E403",
      snapshot_id: id,
    });
  }
  if (report.droppedFromSeq !== undefined) {
    logger.warn("journal tail dropped: an entry fails its checksum", {
      event: "journal_corrupt",
      error_code: "E403",
      from_seq: report.droppedFromSeq,
    });
  }
  logger.info("memory state loaded", {
    event: "state_loaded",
    snapshot_id: report.snapshotId ?? "",
    replayed: report.replayed,
    pelm_used: controller.state().pelmUsed,
    data_dir: config.dataDir,
  });
  durable.start((error) => {
    logger.error("periodic snapshot failed", {
      event: "snapshot_failed",
      error_code: "E406",
      error: error instanceof Error ? error.message : String(error),
    });
  });
  return durable;
}

/** Writes the shutdown snapshot and closes the database; a failure is logged, not thrown. */
export function closeDurableState(durable: DurableState): void {
  try {
    durable.close();
    logger.info("memory state saved", { event: "state_saved" });
  } catch (error) {
    logger.error("final snapshot failed", {
      event: "snapshot_failed",
      error_code: "E406",
      error: error instanceof Error ? error.message : String(error),
    });
  }
}
