/**
 * The HMAC secrets the server accepts (SEC-007), by key id: from `MLSDM_SIGNING_KEYS`
 * (`kid1=secret1,kid2=secret2`) and/or a watched file `{ keys: [{ id, secret }] }` (YAML or
 * JSON). Several ids are valid at once, so a client can move to a new key before the old one is
 * removed (rotation). A file that fails to parse keeps the previous keys and is reported.
 */
import { readFileSync, unwatchFile, watchFile } from "node:fs";
import { parse } from "yaml";
import { z } from "zod";
import { checkSigningKey } from "../../config/schema-signing.js";

export { parseSigningKeysEnv } from "../../config/schema-signing.js";

/** Signing secrets by key id. */
export type SigningKeys = ReadonlyMap<string, Buffer>;

const fileSchema = z.strictObject({
  keys: z.array(z.strictObject({ id: z.string(), secret: z.string() })),
});

/** Parses a signing keys document; throws an Error naming the problem (never a secret). */
export function parseSigningKeysFile(text: string): Map<string, Buffer> {
  const parsed = fileSchema.safeParse(parse(text));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`signing keys file: ${issue?.path.join(".") ?? ""} ${issue?.message ?? "is invalid"}`);
  }
  const keys = new Map<string, Buffer>();
  for (const [index, key] of parsed.data.keys.entries()) {
    const problem = checkSigningKey(key.id, key.secret, `signing keys file: keys.${index}`);
    if (problem) throw new Error(problem);
    if (keys.has(key.id)) throw new Error(`signing keys file: key id "${key.id}" is given twice`);
    keys.set(key.id, Buffer.from(key.secret, "utf8"));
  }
  return keys;
}

/** Loads `path` now and on every change (polled every `intervalMs`). */
export function watchSigningKeysFile(
  path: string,
  onKeys: (keys: Map<string, Buffer>) => void,
  onError: (error: Error) => void,
  intervalMs = 1_000,
): { stop(): void } {
  const load = (): void => {
    try {
      // eslint-disable-next-line security/detect-non-literal-fs-filename -- path from operator configuration, never from a call
      onKeys(parseSigningKeysFile(readFileSync(path, "utf8")));
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
