/**
 * Builds the browser playground into dist/playground/ (`npm run build:playground`, part of
 * `npm run build`): app.js bundled by esbuild from src/playground/web/main.ts (connect-web and
 * the generated code, nothing from the server), index.html and style.css copied, and the API
 * reference api.html rendered from docs/api/openapi.yaml, which is copied beside it.
 */
/* eslint-disable security/detect-non-literal-fs-filename -- a build script: every path is under the repository root */
import { copyFile, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { parse } from "yaml";
import { renderApiReference, type OpenApiDocument } from "./api-reference.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** Where the playground is built by default (where the HTTP listener looks for it). */
export const PLAYGROUND_OUT = path.join(ROOT, "dist", "playground");

/** Builds the playground into `outDir`; returns the files written. */
export async function buildPlayground(outDir = PLAYGROUND_OUT): Promise<string[]> {
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  await build({
    entryPoints: [path.join(ROOT, "src", "playground", "web", "main.ts")],
    outfile: path.join(outDir, "app.js"),
    bundle: true,
    format: "esm",
    platform: "browser",
    target: ["es2022"],
    minify: true,
    legalComments: "none",
    logLevel: "warning",
    tsconfig: path.join(ROOT, "src", "playground", "web", "tsconfig.json"),
  });
  for (const name of ["index.html", "style.css"]) {
    await copyFile(path.join(ROOT, "src", "playground", "static", name), path.join(outDir, name));
  }
  const openapi = path.join(ROOT, "docs", "api", "openapi.yaml");
  const text = await readFile(openapi, "utf8");
  await writeFile(path.join(outDir, "openapi.yaml"), text);
  await writeFile(path.join(outDir, "api.html"), renderApiReference(parse(text) as OpenApiDocument));
  return ["index.html", "app.js", "style.css", "api.html", "openapi.yaml"];
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const files = await buildPlayground();
  process.stdout.write(`playground built into ${path.relative(ROOT, PLAYGROUND_OUT)}: ${files.join(", ")}\n`);
}
