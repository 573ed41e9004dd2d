/**
 * Reads a mounted file now and again whenever it changes (polled, so a Kubernetes Secret's
 * symlink swap is seen too), handing its text to `onText`; a read or parse failure goes to
 * `onError` and leaves whatever the caller loaded before in force.
 */
import { readFileSync, unwatchFile, watchFile } from "node:fs";

/** Loads `path` now and on every change (polled every `intervalMs`). */
export function watchTextFile(
  path: string,
  onText: (text: string) => void,
  onError: (error: Error) => void,
  intervalMs = 1_000,
): { stop(): void } {
  const load = (): void => {
    try {
      // eslint-disable-next-line security/detect-non-literal-fs-filename -- path from operator configuration, never from a call
      onText(readFileSync(path, "utf8"));
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
