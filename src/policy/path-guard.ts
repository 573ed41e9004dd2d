/**
 * Path restriction (BASE-SEC-h): a file the service loads on behalf of a request or a setting
 * must resolve under an allowed base directory. `..` escapes, absolute paths elsewhere and
 * symbolic links that lead out of the base (checked on the real path) are refused with
 * INVALID_ARGUMENT E407 PATH_NOT_ALLOWED and a security event.
 */
import { lstatSync, realpathSync } from "node:fs";
import path from "node:path";
import { MlsdmError } from "../telemetry/errors/index.js";
import { security } from "./authenticate.js";

/** Whether `target` is `base` or lies below it (both absolute and normalised). */
function inside(base: string, target: string): boolean {
  const relative = path.relative(base, target);
  return relative === "" || (!relative.startsWith("..") && !path.isAbsolute(relative));
}

function present(target: string): boolean {
  try {
    // eslint-disable-next-line security/detect-non-literal-fs-filename -- this is the guard: it resolves the candidate path to compare it with the allowed roots
    lstatSync(target); // does not follow a final symbolic link: a dangling one is present
    return true;
  } catch {
    return false;
  }
}

/**
 * The real path of `target`, which need not exist yet: the deepest present ancestor is
 * resolved through its symbolic links and the rest appended unchanged. Undefined when a link
 * on the way cannot be resolved (dangling or a loop), since where it leads is unknown.
 */
function realPathOf(target: string): string | undefined {
  let existing = target;
  const rest: string[] = [];
  while (!present(existing)) {
    const parent = path.dirname(existing);
    if (parent === existing) break;
    rest.unshift(path.basename(existing));
    existing = parent;
  }
  try {
    // eslint-disable-next-line security/detect-non-literal-fs-filename -- this is the guard: it resolves the candidate path to compare it with the allowed roots
    return path.join(realpathSync(existing), ...rest);
  } catch {
    return undefined;
  }
}

function refuse(candidate: string, why: string): MlsdmError {
  security("path_not_allowed", { path: candidate.slice(0, 200), why, error_code: "E407" });
  return new MlsdmError("PATH_NOT_ALLOWED", { detail: why });
}

/**
 * Resolves `candidate` (relative to `baseDir`, or absolute) and returns its real absolute path
 * when it lies under the real `baseDir`; throws E407 otherwise. `baseDir` itself is allowed.
 */
export function resolveUnder(baseDir: string, candidate: string): string {
  if (candidate === "" || candidate.includes("\0"))
    throw refuse(candidate, "the path is empty or has a NUL byte");
  const lexicalBase = path.resolve(baseDir);
  const base = realPathOf(lexicalBase) ?? lexicalBase;
  const lexical = path.resolve(lexicalBase, candidate);
  if (!inside(lexicalBase, lexical) && !inside(base, lexical))
    throw refuse(candidate, "the path leads outside the base directory");
  const real = realPathOf(lexical);
  if (real === undefined) throw refuse(candidate, "a symbolic link on the path cannot be resolved");
  if (!inside(base, real)) throw refuse(candidate, "a symbolic link leads outside the base directory");
  return real;
}
