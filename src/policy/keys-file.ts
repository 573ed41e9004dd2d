/**
 * API keys from a mounted file (a Kubernetes Secret), watched and reloaded (SEC-002): a YAML or
 * JSON document `{ keys: [{ id, owner, roles, sha256 | secret, expiresAt?, requireSignature? }] }`
 * (`requireSignature: true`: calls with the key must be signed, SEC-007). A file that
 * fails to parse keeps the previous keys (and is reported), so a bad edit never locks clients out.
 */
import { readFileSync, unwatchFile, watchFile } from "node:fs";
import { parse } from "yaml";
import { z } from "zod";
import { ApiKeyRing, digestOf, type ApiKeyEntry } from "./api-key-ring.js";
import { ROLE_ORDER } from "./identity.js";

const entrySchema = z
  .strictObject({
    id: z.string().min(1).max(128),
    owner: z.string().max(256).default(""),
    roles: z.array(z.enum(ROLE_ORDER)).min(1),
    sha256: z
      .string()
      .regex(/^[0-9a-fA-F]{64}$/)
      .optional(),
    secret: z.string().min(16).optional(),
    expiresAt: z.iso.datetime({ offset: true }).optional(),
    requireSignature: z.boolean().optional(),
  })
  .refine((e) => (e.sha256 === undefined) !== (e.secret === undefined), {
    message: "give exactly one of sha256 and secret",
  });

const fileSchema = z.strictObject({ keys: z.array(entrySchema) });

/** Parses a keys document into entries; throws an Error naming the problem. */
export function parseKeysFile(text: string): ApiKeyEntry[] {
  const parsed = fileSchema.safeParse(parse(text));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`keys file: ${issue?.path.join(".") ?? ""} ${issue?.message ?? "is invalid"}`);
  }
  return parsed.data.keys.map((key) => ({
    id: key.id,
    owner: key.owner,
    roles: key.roles,
    sha256: (key.sha256 ?? digestOf(key.secret ?? "")).toLowerCase(),
    expiresAtMs: key.expiresAt === undefined ? undefined : Date.parse(key.expiresAt),
    ...(key.requireSignature === true ? { requireSignature: true } : {}),
  }));
}

/** Loads `path` now and on every change (polled every `intervalMs`), calling `onKeys` with the ring. */
export function watchKeysFile(
  path: string,
  onKeys: (entries: ApiKeyEntry[]) => void,
  onError: (error: Error) => void,
  intervalMs = 1_000,
): { stop(): void } {
  const load = (): void => {
    try {
      // eslint-disable-next-line security/detect-non-literal-fs-filename -- path from operator configuration, never from a call
      const entries = parseKeysFile(readFileSync(path, "utf8"));
      new ApiKeyRing(entries); // validates ids and digests before anything is replaced
      onKeys(entries);
    } catch (error) {
      onError(error instanceof Error ? error : new Error(String(error)));
    }
  };
  load();
  // eslint-disable-next-line security/detect-non-literal-fs-filename -- path from operator configuration, never from a call
  watchFile(path, { interval: intervalMs, persistent: false }, load);
  return {
    stop: () => {
      // eslint-disable-next-line security/detect-non-literal-fs-filename -- path from operator configuration, never from a call
      unwatchFile(path, load);
    },
  };
}
