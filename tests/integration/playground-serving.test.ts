/**
 * The playground's files on the Connect listener (DOC-004): content types, the security headers,
 * the redirect to /playground/, 404s for anything that is not a playground file (traversal,
 * encoded traversal, a symbolic link out, unknown extensions), 405 for other methods, and the
 * answers when the playground is off or not built. The browser itself is tested in
 * tests/e2e/playground.test.ts.
 */
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import http from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { playgroundEnabled } from "../../src/config/schema-http.js";
import { startConnectListener, type ConnectListener } from "../../src/transport/connect/server.js";
import { startTestServer } from "./support/server.js";

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A raw HTTP/1.1 request: the path is sent as given (no URL normalisation). */
function request(port: number, rawPath: string, method = "GET"): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, path: rawPath, method }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => {
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString(),
        });
      });
    });
    req.on("error", reject);
    req.end();
  });
}

const probes = { live: () => true, ready: () => ({ ready: true }) };
let root: string;
let listener: ConnectListener;
let unbuilt: ConnectListener;
let off: ConnectListener;

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), "mlsdm-playground-"));
  const dir = path.join(root, "playground");
  await mkdir(dir);
  await writeFile(path.join(dir, "index.html"), "<!doctype html><title>fixture</title>");
  await writeFile(path.join(dir, "app.js"), "export {};\n");
  await writeFile(path.join(dir, "style.css"), "body{}\n");
  await writeFile(path.join(dir, "openapi.yaml"), "openapi: 3.1.0\n");
  await writeFile(path.join(dir, "notes.txt"), "not a playground file type\n");
  await writeFile(path.join(root, "secret.css"), "outside the playground directory\n");
  await symlink(path.join(root, "secret.css"), path.join(dir, "link.css"));
  const common = { host: "127.0.0.1", port: 0, services: [], maxMessageBytes: 1 << 20, probes };
  listener = await startConnectListener({ ...common, playground: { enabled: true, dir } });
  unbuilt = await startConnectListener({
    ...common,
    playground: { enabled: true, dir: path.join(root, "missing") },
  });
  off = await startConnectListener({ ...common, playground: { enabled: false, dir } });
});

afterAll(async () => {
  await Promise.all([listener.close(0), unbuilt.close(0), off.close(0)]);
  await rm(root, { recursive: true, force: true });
});

describe("serving the playground", () => {
  it("redirects /playground to /playground/ and serves index.html with the security headers", async () => {
    const redirect = await request(listener.port, "/playground");
    expect(redirect.status).toBe(308);
    expect(redirect.headers.location).toBe("/playground/");
    const index = await request(listener.port, "/playground/");
    expect(index.status).toBe(200);
    expect(index.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(index.headers["content-security-policy"]).toBe("default-src 'self'");
    expect(index.headers["x-content-type-options"]).toBe("nosniff");
    expect(index.body).toContain("fixture");
  });

  it.each([
    ["app.js", "text/javascript; charset=utf-8"],
    ["style.css", "text/css; charset=utf-8"],
    ["openapi.yaml", "application/yaml; charset=utf-8"],
    ["index.html", "text/html; charset=utf-8"],
  ])("serves %s as %s (and HEAD without a body)", async (name, type) => {
    const answer = await request(listener.port, `/playground/${name}`);
    expect(answer.status).toBe(200);
    expect(answer.headers["content-type"]).toBe(type);
    const head = await request(listener.port, `/playground/${name}`, "HEAD");
    expect(head.status).toBe(200);
    expect(head.headers["content-length"]).toBe(String(Buffer.byteLength(answer.body)));
    expect(head.body).toBe("");
  });

  it.each([
    "/playground/../package.json",
    "/playground/..%2f..%2fpackage.json",
    "/playground/%2e%2e%2fsecret.css",
    "/playground/..%5csecret.css",
    "/playground/sub/../../secret.css",
    "/playground/link.css",
    "/playground/notes.txt",
    "/playground/missing.js",
    "/playground/%E0%A4%A.js",
  ])("answers 404 for %s and never leaks a file outside", async (rawPath) => {
    const answer = await request(listener.port, rawPath);
    expect(answer.status).toBe(404);
    expect(answer.body).not.toContain("outside the playground directory");
    expect(answer.body).not.toContain('"name"');
  });

  it("answers 405 to other methods", async () => {
    const answer = await request(listener.port, "/playground/app.js", "POST");
    expect(answer.status).toBe(405);
    expect(answer.headers.allow).toBe("GET, HEAD");
  });

  it("says to run npm run build when the bundle is missing", async () => {
    const answer = await request(unbuilt.port, "/playground/");
    expect(answer.status).toBe(404);
    expect(answer.body).toContain("npm run build");
  });

  it("answers 404 naming the setting when the playground is off", async () => {
    const answer = await request(off.port, "/playground/app.js");
    expect(answer.status).toBe(404);
    expect(answer.body).toContain("MLSDM_PLAYGROUND");
    // Other endpoints are unaffected.
    expect((await request(off.port, "/healthz")).status).toBe(200);
  });
});

describe("http.playground", () => {
  it("is on by default, off in secure mode unless set to on", () => {
    expect(playgroundEnabled("auto", false)).toBe(true);
    expect(playgroundEnabled("auto", true)).toBe(false);
    expect(playgroundEnabled("on", true)).toBe(true);
    expect(playgroundEnabled("off", false)).toBe(false);
  });

  it("MLSDM_PLAYGROUND=off turns it off on the real server", async () => {
    const app = await startTestServer({ MLSDM_PLAYGROUND: "off", MLSDM_RATE_LIMIT_RPS: "0" });
    try {
      const answer = await request(app.httpPort, "/playground/");
      expect(answer.status).toBe(404);
      expect(answer.body).toContain("The playground is off");
    } finally {
      await app.shutdown("test done");
    }
  });

  it("the real server routes /playground to the built files by default", async () => {
    const app = await startTestServer({ MLSDM_RATE_LIMIT_RPS: "0" });
    try {
      const answer = await request(app.httpPort, "/playground");
      expect(answer.status).toBe(308);
    } finally {
      await app.shutdown("test done");
    }
  });
});
