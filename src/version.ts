/**
 * The service version, read once from package.json (found by walking up from this file, so
 * it works from `src/` under tsx and from `dist/src/` after a build).
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

function readVersion(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = path.join(dir, "package.json");
    // eslint-disable-next-line security/detect-non-literal-fs-filename -- package.json located from import.meta.url, not from input
    if (existsSync(candidate)) {
      // eslint-disable-next-line security/detect-non-literal-fs-filename -- package.json located from import.meta.url, not from input
      const pkg = JSON.parse(readFileSync(candidate, "utf8")) as { name?: string; version?: string };
      if (pkg.name === "mlsdm" && pkg.version) return pkg.version;
    }
    const parent = path.dirname(dir);
    if (parent === dir) return "0.0.0-unknown";
    dir = parent;
  }
}

/** Version of this build of MLSDM (semver from package.json). */
export const VERSION = readVersion();
