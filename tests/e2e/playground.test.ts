/**
 * The browser playground (DOC-004) in headless Chromium against a real server: Generate streamed
 * over Connect and gRPC-Web, the state chart moving, ProcessEvent, an emergency triggered through
 * the Admin RPC shown on the page, errors with code, message and retry hint, the API key field,
 * and CORS (a page from another origin works only when that origin is configured).
 * Screenshot: tests/artifacts/playground.png.
 */
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createClient, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningApp } from "../../src/app.js";
import { AdminService } from "../../src/gen/mlsdm/v1/admin_pb.js";
import { buildPlayground, PLAYGROUND_OUT } from "../../src/playground/build.js";
import { startTestServer } from "../integration/support/server.js";
import { launchBrowser, startStaticServer } from "./support.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const SCREENSHOT = path.join(ROOT, "tests", "artifacts", "playground.png");
const WRITE_KEY = "playground-write-key-0123456789abcdef";
const ADMIN_KEY = "playground-admin-key-0123456789abcdef";
const ENV = {
  MLSDM_RATE_LIMIT_RPS: "0",
  MLSDM_API_KEY: WRITE_KEY,
  MLSDM_ADMIN_API_KEY: ADMIN_KEY,
  // A small PELM, so each stored memory moves the chart's fill line visibly.
  MLSDM_PELM_CAPACITY: "16",
};

let app: RunningApp;
let browser: { context: BrowserContext; close(): Promise<void> };

function adminClient(port: number) {
  const bearer: Interceptor = (next) => (request) => {
    request.header.set("authorization", `Bearer ${ADMIN_KEY}`);
    return next(request);
  };
  return createClient(
    AdminService,
    createConnectTransport({
      baseUrl: `http://127.0.0.1:${port}`,
      httpVersion: "1.1",
      interceptors: [bearer],
    }),
  );
}

async function openPlayground(url: string, apiKey: string, protocol: "connect" | "grpc-web"): Promise<Page> {
  const page = await browser.context.newPage();
  const problems: string[] = [];
  page.on("pageerror", (error) => problems.push(error.message));
  await page.goto(url);
  await page.fill("#api-key", apiKey);
  await page.selectOption("#protocol", protocol);
  expect(problems).toEqual([]);
  return page;
}

/** The y coordinate of the newest point of a chart series. */
async function lastPoint(page: Page, series: string): Promise<string> {
  const points = (await page.getAttribute(`#chart polyline[data-series="${series}"]`, "points")) ?? "";
  return points.split(" ").at(-1) ?? "";
}

async function pollOk(page: Page): Promise<void> {
  await page.waitForSelector('#poll-status[data-ok="true"]', { timeout: 5_000 });
}

beforeAll(async () => {
  await buildPlayground();
  app = await startTestServer(ENV);
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser.close();
  await app.shutdown("test done");
});

describe("the playground in Chromium", () => {
  for (const protocol of ["connect", "grpc-web"] as const) {
    it(`streams Generate and moves the state chart over ${protocol}`, async () => {
      const page = await openPlayground(`http://127.0.0.1:${app.httpPort}/playground`, WRITE_KEY, protocol);
      await pollOk(page);
      const pelmBefore = await page.textContent("#pelm");
      const fillBefore = await lastPoint(page, "pelmFill");

      await page.click("#generate");
      await page.waitForSelector('#output[data-done="true"]', { timeout: 10_000 });
      expect(Number(await page.getAttribute("#output", "data-deltas"))).toBeGreaterThan(0);
      expect((await page.textContent("#output"))?.trim().length).toBeGreaterThan(0);
      expect(await page.textContent("#decision")).toContain("accepted");
      await expect.poll(() => page.textContent("#pelm"), { timeout: 5_000 }).not.toBe(pelmBefore);
      await expect.poll(() => lastPoint(page, "pelmFill"), { timeout: 5_000 }).not.toBe(fillBefore);

      const stepBefore = await page.textContent("#step");
      await page.click("#process-event");
      await expect.poll(() => page.textContent("#event-result"), { timeout: 5_000 }).not.toBe("");
      expect(await page.textContent("#event-result")).toMatch(/^(accepted|rejected) · /);
      await expect.poll(() => page.textContent("#step"), { timeout: 5_000 }).not.toBe(stepBefore);
      expect(await page.isHidden("#error")).toBe(true);
      await page.close();
    });
  }

  it("shows an error's code, catalogue code and message; the API key field fixes it", async () => {
    const page = await openPlayground(`http://127.0.0.1:${app.httpPort}/playground/`, "", "connect");
    await page.click("#generate");
    await page.waitForSelector("#error:not([hidden])");
    expect(await page.getAttribute("#error", "data-code")).toBe("unauthenticated");
    expect(await page.getAttribute("#error", "data-catalogue-code")).toBe("E206");
    expect(await page.textContent("#error-message")).toContain("Generate:");
    expect(await page.textContent("#error-retry")).toContain("No retry hint");
    expect(await page.textContent("#poll-status")).toContain("E206");

    await page.fill("#api-key", WRITE_KEY);
    await page.click("#generate");
    await page.waitForSelector('#output[data-done="true"]');
    expect(await page.isHidden("#error")).toBe(true);
    await page.close();
  });

  it("reports an emergency triggered through the Admin RPC, with the retry hint of E701", async () => {
    const page = await openPlayground(`http://127.0.0.1:${app.httpPort}/playground/`, ADMIN_KEY, "grpc-web");
    await pollOk(page);
    for (let i = 0; i < 4; i++) {
      await page.click("#process-event");
      await page.waitForSelector("#process-event:not([disabled])");
      await page.waitForTimeout(300);
    }
    await page.click("#generate");
    await page.waitForSelector('#output[data-done="true"]');

    await adminClient(app.httpPort).triggerEmergencyShutdown({ reason: "browser test" });
    await page.waitForSelector('#emergency[data-active="true"]', { timeout: 5_000 });
    expect(await page.textContent("#emergency")).toContain("MANUAL");

    // The streamed answer stays on the page; the next engine call fails with E701.
    await page.click("#process-event");
    await page.waitForSelector("#error:not([hidden])");
    expect(await page.textContent("#error-message")).toContain("ProcessEvent:");
    expect(await page.getAttribute("#error", "data-code")).toBe("unavailable");
    expect(await page.getAttribute("#error", "data-catalogue-code")).toBe("E701");
    expect(await page.textContent("#error-retry")).toMatch(/Retry hint: try again in \d/);
    await page.waitForTimeout(600); // one more poll, so the shaded emergency shows in the chart
    await mkdir(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });

    await page.click("#reset-emergency");
    await page.waitForSelector('#emergency[data-active="false"]', { timeout: 5_000 });
    expect(await page.textContent("#admin-result")).toBe("emergency cleared");
    await page.close();
  });

  it("links the API reference rendered from the OpenAPI document", async () => {
    const page = await openPlayground(`http://127.0.0.1:${app.httpPort}/playground/`, "", "connect");
    await page.click("text=API reference");
    await page.waitForURL(/api\.html$/);
    expect(await page.textContent("h1")).toContain("MLSDM Connect API");
    expect(await page.textContent("#EngineService_GenerateStream")).toContain("role: write");
    await page.close();
  });
});

describe("the playground from another origin (CORS)", () => {
  it("fails without MLSDM_CORS_ORIGINS and works with that origin configured", async () => {
    const site = await startStaticServer(PLAYGROUND_OUT);
    const allowed = await startTestServer({ ...ENV, MLSDM_CORS_ORIGINS: site.origin });
    try {
      for (const [server, works] of [
        [app, false],
        [allowed, true],
      ] as const) {
        const page = await openPlayground(
          `${site.origin}/playground/?server=http://127.0.0.1:${server.httpPort}`,
          WRITE_KEY,
          "connect",
        );
        const console: string[] = [];
        page.on("console", (message) => console.push(message.text()));
        expect(await page.inputValue("#server")).toBe(`http://127.0.0.1:${server.httpPort}`);
        if (works) {
          await pollOk(page);
        } else {
          await page.waitForTimeout(1_500); // three polls after the key was filled in
          expect(await page.getAttribute("#poll-status", "data-ok")).toBe("false");
          expect(await page.textContent("#poll-status")).toMatch(/GetState failed: unknown/);
        }
        await page.click("#generate");
        if (works) {
          await page.waitForSelector('#output[data-done="true"]');
        } else {
          await page.waitForSelector("#error:not([hidden])");
          expect(await page.getAttribute("#error", "data-code")).toBe("unknown");
          expect(console.join("\n")).toMatch(/blocked by CORS policy/);
        }
        await page.close();
      }
    } finally {
      await allowed.shutdown("test done");
      await site.close();
    }
  });
});
