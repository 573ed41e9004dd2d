/**
 * The `signing` section (SEC-007): HMAC request signing. Keys by id come from a secret
 * environment string and/or a watched file; several ids may be valid at once (rotation).
 * docs/security/signing.md describes the protocol.
 */
import { z } from "zod";
import { flag, integer, key, optionalText, secret } from "./meta.js";

/** Allowed key ids: what a metadata value can carry without escaping. */
export const KEY_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;
/** Shortest accepted secret, in UTF-8 bytes (use 32 random bytes, e.g. `openssl rand -base64 32`). */
export const MIN_SECRET_BYTES = 16;

/** A problem with one key (id syntax, secret length), naming the key but never its secret. */
export function checkSigningKey(id: string, secret: string, where: string): string | undefined {
  if (!KEY_ID_PATTERN.test(id)) return `${where}: key id "${id}" must match ${KEY_ID_PATTERN.source}`;
  if (Buffer.byteLength(secret, "utf8") < MIN_SECRET_BYTES) {
    return `${where}: the secret of key "${id}" is shorter than ${MIN_SECRET_BYTES} bytes`;
  }
  return undefined;
}

/**
 * Parses `kid1=secret1,kid2=secret2` (the id ends at the first "="; secrets may contain "=" but
 * not ","). Returns the keys, or a message that names the key at fault but never a secret.
 */
export function parseSigningKeysEnv(text: string): Map<string, Buffer> | string {
  const keys = new Map<string, Buffer>();
  const parts = text
    .split(",")
    .map((part) => part.trim())
    .filter((part) => part !== "");
  for (const [index, part] of parts.entries()) {
    const eq = part.indexOf("=");
    if (eq <= 0) return `entry ${index + 1} is not id=secret`;
    const id = part.slice(0, eq).trim();
    const secret = part.slice(eq + 1);
    const problem = checkSigningKey(id, secret, `entry ${index + 1}`);
    if (problem) return problem;
    if (keys.has(id)) return `key id "${id}" is given twice`;
    keys.set(id, Buffer.from(secret, "utf8"));
  }
  return keys;
}

/** The `signing` section. */
export const signingSection = z
  .strictObject({
    required: key(flag(false), {
      env: "MLSDM_SIGNING_REQUIRED",
      description:
        "Require a request signature (x-mlsdm-signature) on every authenticated call; health is exempt. Off: only keys marked requireSignature must sign; a sent signature is always checked.",
    }),
    keys: key(secret(), {
      env: "MLSDM_SIGNING_KEYS",
      description:
        "HMAC signing keys as id=secret pairs, comma-separated (kid1=s1,kid2=s2); secrets of 16 bytes or more. Several ids are valid at once (rotation). Never logged.",
      secret: true,
    }),
    keysFile: key(optionalText(), {
      env: "MLSDM_SIGNING_KEYS_FILE",
      description:
        "YAML/JSON file of signing keys ({keys: [{id, secret}]}), reloaded within a second of a change; used together with signing.keys.",
    }),
    maxAgeSeconds: key(integer(1, 86_400, 300), {
      env: "MLSDM_SIGNING_MAX_AGE_SECONDS",
      description:
        "Oldest accepted signature timestamp, in seconds before now (plus the clock skew); older ones answer E208. Also the replay window.",
    }),
    clockSkewSeconds: key(integer(0, 3_600, 30), {
      env: "MLSDM_SIGNING_CLOCK_SKEW_SECONDS",
      description:
        "Tolerated clock difference between client and server, in seconds: timestamps up to this far in the future are accepted, and it widens the max age.",
    }),
    replayCacheEntries: key(integer(1_000, 10_000_000, 100_000), {
      env: "MLSDM_SIGNING_REPLAY_CACHE_ENTRIES",
      description:
        "Signatures the in-memory replay cache holds (about 150 bytes each); when full, new signed calls are refused with E702 until entries expire.",
    }),
  })
  .superRefine((signing, context) => {
    const parsed = parseSigningKeysEnv(signing.keys);
    if (typeof parsed === "string") {
      context.addIssue({
        code: "custom",
        path: ["keys"],
        input: signing.keys,
        message: `id=secret pairs: ${parsed}`,
      });
    } else if (signing.required && parsed.size === 0 && signing.keysFile === "") {
      context.addIssue({
        code: "custom",
        path: ["required"],
        input: true,
        message: "false unless signing.keys or signing.keysFile is set (no call could be signed)",
      });
    }
  })
  .prefault({});
