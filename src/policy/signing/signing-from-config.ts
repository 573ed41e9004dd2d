/**
 * The request-signing policy built from the `signing` configuration: keys from
 * `MLSDM_SIGNING_KEYS` and the watched `signing.keysFile` (reloaded without a restart, so a new
 * key id can be added before the old one is removed), and a replay cache (in memory unless one
 * is passed, e.g. a shared Redis one).
 */
import type { Config } from "../../config/index.js";
import { logger } from "../../telemetry/logger.js";
import type { Policy } from "../policy.js";
import { MemoryReplayCache, type ReplayCache } from "./replay-cache.js";
import { parseSigningKeysEnv, watchSigningKeysFile, type SigningKeys } from "./signing-keys.js";
import { verifySignature } from "./verify-signature.js";

/** The signing policy, the keys in force, and a stop function (ends the file watch). */
export function signingFromConfig(
  config: Config,
  replayCache?: ReplayCache,
): { policy: Policy; keys: () => SigningKeys; stop(): void } {
  const settings = config.signing;
  const parsed = parseSigningKeysEnv(settings.keys);
  // The schema has already refused a malformed value; this only narrows the type.
  const fromEnv = typeof parsed === "string" ? new Map<string, Buffer>() : parsed;
  let keys: SigningKeys = fromEnv;
  let watch: { stop(): void } | undefined;
  if (settings.keysFile !== "") {
    watch = watchSigningKeysFile(
      settings.keysFile,
      (fromFile) => {
        const clash = [...fromFile.keys()].find((id) => fromEnv.has(id));
        if (clash !== undefined) {
          logger.error("signing keys file rejected; the previous keys stay in force", {
            event: "signing_keys_file_invalid",
            error_code: "E801",
            error: `key id "${clash}" is also set in MLSDM_SIGNING_KEYS`,
          });
          return;
        }
        keys = new Map([...fromEnv, ...fromFile]);
        logger.info("signing keys loaded", {
          event: "signing_keys_loaded",
          keys: keys.size,
          file: settings.keysFile,
        });
      },
      (error) => {
        logger.error("signing keys file rejected; the previous keys stay in force", {
          event: "signing_keys_file_invalid",
          error_code: "E801",
          error: error.message,
        });
      },
    );
  }
  if (settings.required) {
    logger.info("request signing is required on every authenticated call", {
      event: "signing_required",
      keys: keys.size,
    });
  }
  const policy = verifySignature({
    keys: () => keys,
    required: settings.required,
    maxAgeSeconds: settings.maxAgeSeconds,
    clockSkewSeconds: settings.clockSkewSeconds,
    replayCache: replayCache ?? new MemoryReplayCache({ maxEntries: settings.replayCacheEntries }),
  });
  return { policy, keys: () => keys, stop: () => watch?.stop() };
}
