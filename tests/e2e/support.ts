/**
 * Helpers of the browser tests: headless Debian Chromium driven by playwright-core (no browser
 * download), and a second-origin static server for the CORS checks.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { chromium, type BrowserContext } from "playwright-core";

/** The Debian `chromium` package's binary (installed by .ci/system-packages). */
export const CHROMIUM = "/usr/bin/chromium";

/** A headless Chromium with a fresh profile; `close()` removes the profile. */
export async function launchBrowser(): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const profile = await mkdtemp(path.join(tmpdir(), "mlsdm-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
    viewport: { width: 1280, height: 900 },
  });
  return {
    context,
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

const TYPES: Record<string, string> = {
  ".html": "text/html",
  ".js": "text/javascript",
  ".css": "text/css",
  ".yaml": "application/yaml",
};

/**
 * A static server of the built playground on another loopback port: another origin. It serves
 * `/playground/<file>` from `dir`, nothing else.
 */
export async function startStaticServer(dir: string): Promise<{ origin: string; close(): Promise<void> }> {
  const server = http.createServer((request, response) => {
    const rest = (request.url ?? "/").split("?")[0]?.replace(/^\/playground\/?/, "") ?? "";
    const name = rest === "" ? "index.html" : rest;
    const type = TYPES[path.extname(name)];
    if (type === undefined || name.includes("/")) {
      response.writeHead(404).end();
      return;
    }
    readFile(path.join(dir, name)).then(
      (body) => response.writeHead(200, { "content-type": type }).end(body),
      () => response.writeHead(404).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      }),
  };
}
