/**
 * Security headers and CORS on the Connect listener (BASE-SEC-e): a header snapshot on the
 * probes, /metrics, a Connect RPC (success and error) and an unknown path; CORS preflight from
 * a listed origin (allowed) and from another (refused, no ACAO); a cross-origin POST from a
 * listed origin exposes the gRPC status headers.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningApp } from "../../src/app.js";
import { loadConfig } from "../../src/config/index.js";
import {
  CORS_ALLOWED_HEADERS,
  CORS_EXPOSED_HEADERS,
  securityHeaders,
  withHttpSecurity,
} from "../../src/transport/connect/http-security.js";
import { startTestServer } from "./support/server.js";

const ALLOWED = "https://app.example.com";
const OTHER = "https://evil.example.net";
const ADMIN = "admin-key-headers-0123456789";

const SNAPSHOT = {
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "content-security-policy": "default-src 'self'",
  "referrer-policy": "no-referrer",
};

function securityOf(headers: Headers): Record<string, string | null> {
  return {
    "x-content-type-options": headers.get("x-content-type-options"),
    "x-frame-options": headers.get("x-frame-options"),
    "content-security-policy": headers.get("content-security-policy"),
    "referrer-policy": headers.get("referrer-policy"),
  };
}

describe("security headers and CORS on the Connect listener", () => {
  let app: RunningApp;
  let base = "";
  beforeAll(async () => {
    app = await startTestServer({
      MLSDM_ADMIN_API_KEY: ADMIN,
      MLSDM_CORS_ORIGINS: `${ALLOWED}, http://localhost:5173`,
    });
    base = `http://127.0.0.1:${app.httpPort}`;
  });
  afterAll(async () => {
    await app.shutdown("test done");
  });

  const rpc = (method: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${base}/mlsdm.v1.EngineService/${method}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify(body),
    });

  it.each([
    ["GET /healthz", () => fetch(`${base}/healthz`), 200],
    ["GET /readyz", () => fetch(`${base}/readyz`), 200],
    ["GET /metrics", () => fetch(`${base}/metrics`), 200],
    ["a Connect RPC that succeeds", () => rpc("GetState", {}, { authorization: `Bearer ${ADMIN}` }), 200],
    ["a Connect RPC that fails (E206)", () => rpc("GetState", {}), 401],
    [
      "a Connect RPC with a bad key (E204)",
      () => rpc("GetState", {}, { authorization: "Bearer nope-nope" }),
      401,
    ],
    ["an unknown path (UNIMPLEMENTED)", () => fetch(`${base}/no/such/thing`), 501],
  ])("%s carries the security headers, and no HSTS without TLS", async (_name, call, status) => {
    const response = await call();
    await response.arrayBuffer();
    expect(response.status).toBe(status);
    expect(securityOf(response.headers)).toEqual(SNAPSHOT);
    expect(response.headers.get("strict-transport-security")).toBeNull();
    expect(response.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("answers a preflight from a listed origin with 204 and the CORS grant", async () => {
    const response = await fetch(`${base}/mlsdm.v1.EngineService/GetState`, {
      method: "OPTIONS",
      headers: {
        origin: ALLOWED,
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type, authorization, connect-protocol-version",
      },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get("access-control-allow-origin")).toBe(ALLOWED);
    expect(response.headers.get("vary")).toBe("Origin");
    expect(response.headers.get("access-control-allow-methods")).toBe("POST, GET");
    const allowed = (response.headers.get("access-control-allow-headers") ?? "").split(", ");
    for (const name of [
      "content-type",
      "connect-protocol-version",
      "connect-timeout-ms",
      "x-grpc-web",
      "x-user-agent",
      "grpc-timeout",
      "authorization",
      "x-api-key",
      "x-request-id",
      "x-mlsdm-priority",
      "x-mlsdm-signature",
      "x-mlsdm-key-id",
      "traceparent",
    ]) {
      expect(allowed.map((h) => h.toLowerCase())).toContain(name);
    }
    expect(Number(response.headers.get("access-control-max-age"))).toBeGreaterThan(0);
    expect(securityOf(response.headers)).toEqual(SNAPSHOT);
  });

  it("refuses a preflight from a non-listed origin with 403 and no ACAO", async () => {
    for (const origin of [OTHER, "null", `${ALLOWED}.evil.net`, "http://app.example.com"]) {
      const response = await fetch(`${base}/mlsdm.v1.EngineService/GetState`, {
        method: "OPTIONS",
        headers: { origin, "access-control-request-method": "POST" },
      });
      await response.arrayBuffer();
      expect(response.status, origin).toBe(403);
      expect(response.headers.get("access-control-allow-origin")).toBeNull();
      expect(response.headers.get("access-control-allow-methods")).toBeNull();
      expect(securityOf(response.headers)).toEqual(SNAPSHOT);
    }
  });

  it("a cross-origin POST from a listed origin carries ACAO and the expose headers, on success and on error", async () => {
    for (const [headers, status] of [
      [{ origin: ALLOWED, authorization: `Bearer ${ADMIN}` }, 200],
      [{ origin: ALLOWED }, 401],
    ] as const) {
      const response = await rpc("GetState", {}, headers);
      await response.arrayBuffer();
      expect(response.status).toBe(status);
      expect(response.headers.get("access-control-allow-origin")).toBe(ALLOWED);
      expect(response.headers.get("vary")).toBe("Origin");
      const exposed = (response.headers.get("access-control-expose-headers") ?? "").split(", ");
      expect(exposed).toEqual(
        expect.arrayContaining(["Grpc-Status", "Grpc-Message", "Grpc-Status-Details-Bin", "x-request-id"]),
      );
      expect(securityOf(response.headers)).toEqual(SNAPSHOT);
    }
  });

  it("a gRPC-Web error from a listed origin exposes grpc-status to the page", async () => {
    const response = await fetch(`${base}/mlsdm.v1.EngineService/GetState`, {
      method: "POST",
      headers: { origin: ALLOWED, "content-type": "application/grpc-web+proto", "x-grpc-web": "1" },
      body: new Uint8Array([0, 0, 0, 0, 0]),
    });
    await response.arrayBuffer();
    expect(response.headers.get("access-control-allow-origin")).toBe(ALLOWED);
    expect(response.headers.get("access-control-expose-headers")?.toLowerCase()).toContain("grpc-status");
    expect(securityOf(response.headers)).toEqual(SNAPSHOT);
  });

  it("a cross-origin POST from a non-listed origin gets no CORS grant (the page cannot read it)", async () => {
    const response = await rpc("GetState", {}, { origin: OTHER, authorization: `Bearer ${ADMIN}` });
    await response.arrayBuffer();
    expect(response.headers.get("access-control-allow-origin")).toBeNull();
    expect(response.headers.get("access-control-expose-headers")).toBeNull();
    expect(securityOf(response.headers)).toEqual(SNAPSHOT);
  });
});

describe("CORS default: no cross-origin browser access", () => {
  let app: RunningApp;
  beforeAll(async () => {
    app = await startTestServer();
  });
  afterAll(async () => {
    await app.shutdown("test done");
  });

  it("refuses every preflight when http.corsOrigins is empty", async () => {
    const response = await fetch(`http://127.0.0.1:${app.httpPort}/mlsdm.v1.EngineService/GetState`, {
      method: "OPTIONS",
      headers: { origin: ALLOWED, "access-control-request-method": "POST" },
    });
    await response.arrayBuffer();
    expect(response.status).toBe(403);
    expect(response.headers.get("access-control-allow-origin")).toBeNull();
  });
});

describe("HSTS over TLS", () => {
  it("securityHeaders adds Strict-Transport-Security only when TLS is on", () => {
    expect(securityHeaders(false)).toEqual(SNAPSHOT);
    expect(securityHeaders(true)).toEqual({
      ...SNAPSHOT,
      "strict-transport-security": "max-age=31536000; includeSubDomains",
    });
  });

  it("a listener wrapped with tls: true sends HSTS on every response", async () => {
    const server = http.createServer(
      withHttpSecurity(
        (_request, response) => {
          response.writeHead(500, { "content-type": "text/plain" });
          response.end("boom");
        },
        { tls: true, corsOrigins: [] },
      ),
    );
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    const response = await fetch(`http://127.0.0.1:${port}/`);
    await response.arrayBuffer();
    await new Promise((resolve) => server.close(resolve));
    expect(response.status).toBe(500);
    expect(response.headers.get("strict-transport-security")).toBe("max-age=31536000; includeSubDomains");
    expect(securityOf(response.headers)).toEqual(SNAPSHOT);
  });
});

describe("CORS configuration", () => {
  it("exposes the gRPC status headers and allows MLSDM's request headers", () => {
    expect(CORS_EXPOSED_HEADERS.map((h) => h.toLowerCase())).toEqual(
      expect.arrayContaining(["grpc-status", "grpc-message", "grpc-status-details-bin", "x-request-id"]),
    );
    expect(CORS_ALLOWED_HEADERS).toEqual(expect.arrayContaining(["authorization", "x-mlsdm-signature"]));
  });

  it.each([
    "*",
    "https://app.example.com/",
    "app.example.com",
    "ftp://files.example.com",
    "https://a.example.com/path",
  ])("refuses %s as an origin, naming http.corsOrigins", (origin) => {
    expect(() => loadConfig({ env: { MLSDM_CORS_ORIGINS: origin } })).toThrow(
      /E801 CONFIG_INVALID: http\.corsOrigins \(MLSDM_CORS_ORIGINS\)/,
    );
  });

  it("accepts a comma-separated list of exact origins", () => {
    expect(
      loadConfig({ env: { MLSDM_CORS_ORIGINS: "https://a.example.com, http://localhost:5173" } }).config.http
        .corsOrigins,
    ).toBe("https://a.example.com, http://localhost:5173");
  });
});
