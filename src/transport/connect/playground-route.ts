/**
 * The browser playground (DOC-004) on the Connect listener: `GET /playground/` and the files
 * `npm run build` writes to `dist/playground/` (index.html, app.js, style.css, the API reference
 * and the OpenAPI document). Only files directly in that directory with a known extension are
 * served, each resolved with `resolveUnder` (no traversal, no symbolic link out). When the
 * playground is off (`http.playground`), or not built, `/playground` answers 404 saying why.
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { ConnectNodeAdapterOptions } from "@connectrpc/connect-node";
import { resolveUnder } from "../../policy/path-guard.js";

type NodeHandler = NonNullable<ConnectNodeAdapterOptions["fallback"]>;
type Request = Parameters<NodeHandler>[0];
type Response = Parameters<NodeHandler>[1];

/** The URL prefix of the playground. */
export const PLAYGROUND_PATH = "/playground";

/** Content types of the files the playground is made of. */
const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".yaml": "application/yaml; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".map": "application/json; charset=utf-8",
};

/** How the playground is served. */
export interface PlaygroundOptions {
  /** Served at all (`http.playground` resolved against secure mode). */
  readonly enabled: boolean;
  /** The directory of the built files (`dist/playground`). */
  readonly dir: string;
}

/** `dist/playground` of the package this module belongs to (from src/ under tsx or dist/src/). */
export function defaultPlaygroundDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    // eslint-disable-next-line security/detect-non-literal-fs-filename -- walks up from this module to the package root
    if (existsSync(path.join(dir, "package.json"))) return path.join(dir, "dist", "playground");
    const parent = path.dirname(dir);
    if (parent === dir) return path.resolve("dist", "playground");
    dir = parent;
  }
}

function sendText(
  response: Response,
  status: number,
  text: string,
  extra: Record<string, string> = {},
): void {
  response.writeHead(status, {
    "content-type": "text/plain; charset=utf-8",
    "cache-control": "no-store",
    ...extra,
  });
  response.end(text);
}

/** The file name a request path names under /playground/, or undefined when it names none. */
function fileNameOf(urlPath: string): string | undefined {
  const rest = urlPath.slice(PLAYGROUND_PATH.length + 1);
  if (rest === "") return "index.html";
  try {
    return decodeURIComponent(rest);
  } catch {
    return undefined;
  }
}

/**
 * Serves the playground: returns true when the request was for it (and is answered), false when
 * the path is not under /playground.
 */
export function servePlayground(
  options: PlaygroundOptions,
  request: Request,
  response: Response,
  urlPath: string,
): boolean {
  if (urlPath !== PLAYGROUND_PATH && !urlPath.startsWith(`${PLAYGROUND_PATH}/`)) return false;
  const method = request.method ?? "GET";
  if (!options.enabled) {
    sendText(
      response,
      404,
      "The playground is off (http.playground, MLSDM_PLAYGROUND; off by default in secure mode).\n",
    );
    return true;
  }
  if (method !== "GET" && method !== "HEAD") {
    sendText(response, 405, "GET or HEAD only.\n", { allow: "GET, HEAD" });
    return true;
  }
  if (urlPath === PLAYGROUND_PATH) {
    response.writeHead(308, { location: `${PLAYGROUND_PATH}/`, "cache-control": "no-store" });
    response.end();
    return true;
  }
  // eslint-disable-next-line security/detect-non-literal-fs-filename -- the configured playground directory
  if (!existsSync(path.join(options.dir, "index.html"))) {
    sendText(
      response,
      404,
      "The playground is not built: run `npm run build` (or `npm run build:playground`).\n",
    );
    return true;
  }
  const name = fileNameOf(urlPath);
  const type = name === undefined ? undefined : CONTENT_TYPES[path.extname(name).toLowerCase()];
  if (name === undefined || type === undefined || name.includes("/") || name.includes("\\")) {
    sendText(response, 404, "No such playground file.\n");
    return true;
  }
  let file: string;
  try {
    file = resolveUnder(options.dir, name);
  } catch {
    sendText(response, 404, "No such playground file.\n");
    return true;
  }
  // eslint-disable-next-line security/detect-non-literal-fs-filename -- resolveUnder keeps it inside the playground directory
  readFile(file).then(
    (body) => {
      response.writeHead(200, {
        "content-type": type,
        "content-length": String(body.length),
        "cache-control": "no-cache",
      });
      if (method === "HEAD") response.end();
      else response.end(body);
    },
    () => {
      sendText(response, 404, "No such playground file.\n");
    },
  );
  return true;
}
