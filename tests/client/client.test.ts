/**
 * The typed client (issue 10 item 4) against real servers: every transport on the listener it
 * names, retries of RESOURCE_EXHAUSTED after the RetryInfo delay and none of INVALID_ARGUMENT,
 * the overall deadline, request signing across retries, x-request-id, TLS and connection errors.
 */
import path from "node:path";
import { rmSync } from "node:fs";
import { Code, type Interceptor } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningApp } from "../../src/app.js";
import { createMlsdmClient, MlsdmError, retryInfoDelayMs, type MlsdmClient } from "../../src/client/index.js";
import { HealthCheckResponse_ServingStatus } from "../../src/gen/grpc/health/v1/health_pb.js";
import { startTestServer } from "../integration/support/server.js";
import { clientTls, makeTestCerts } from "../integration/support/tls-clients.js";
import { freePort } from "../support/free-port.js";

const QUIET = { MLSDM_RATE_LIMIT_RPS: "0" };
const KEY = "client-test-key-0123456789";
const VECTOR = Array.from({ length: 384 }, (_, i) => Math.sin(i) + 0.01);

async function rejection(promise: Promise<unknown>): Promise<MlsdmError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(MlsdmError);
    return error as MlsdmError;
  }
  throw new Error("expected the call to fail");
}

/** An interceptor that records each attempt's outcome (status 0 or the error's, and its RetryInfo). */
function recorder() {
  const attempts: { atMs: number; status: Code | 0; delayMs?: number | undefined }[] = [];
  const interceptor: Interceptor = (next) => async (req) => {
    const atMs = Date.now();
    try {
      const res = await next(req);
      attempts.push({ atMs, status: 0 });
      return res;
    } catch (error) {
      attempts.push({ atMs, status: (error as { code: Code }).code, delayMs: retryInfoDelayMs(error) });
      throw error;
    }
  };
  return { attempts, interceptor };
}

describe("createMlsdmClient on both listeners", () => {
  let app: RunningApp;
  const clients: MlsdmClient[] = [];
  beforeAll(async () => {
    app = await startTestServer(QUIET);
  });
  afterAll(async () => {
    for (const client of clients) client.close();
    await app.shutdown("test done");
  });

  const transports = [
    ["grpc on the grpc-js listener", () => `grpc://127.0.0.1:${app.grpcPort}`, undefined],
    ["connect on the HTTP listener", () => `http://127.0.0.1:${app.httpPort}`, undefined],
    ["grpc-web on the HTTP listener", () => `http://127.0.0.1:${app.httpPort}`, "grpc-web"],
    ["grpc on the HTTP listener", () => `http://127.0.0.1:${app.httpPort}`, "grpc"],
  ] as const;

  it.each(transports)("serves unary, streaming, health and admin calls: %s", async (_, url, transport) => {
    const client = createMlsdmClient({ url: url(), ...(transport ? { transport } : {}) });
    clients.push(client);
    expect((await client.health.check({})).status).toBe(HealthCheckResponse_ServingStatus.SERVING);
    const state = (await client.engine.getState({})).state;
    expect(state?.pelmCapacity).toBeGreaterThan(0);
    let text = "";
    let accepted: boolean | undefined;
    for await (const message of client.engine.generateStream({ prompt: "Tell me about the tides." })) {
      if (message.event.case === "delta") text += message.event.value.text;
      else if (message.event.case === "summary") accepted = message.event.value.decision?.accepted;
    }
    expect(accepted).toBe(true);
    expect(text.length).toBeGreaterThan(0);
    expect((await client.admin.getStatus({})).version).toMatch(/\d+\.\d+/);
  });

  it.each(transports)(
    "does not retry INVALID_ARGUMENT and surfaces code, status and field violations: %s",
    async (_, url, transport) => {
      const { attempts, interceptor } = recorder();
      const client = createMlsdmClient({
        url: url(),
        ...(transport ? { transport } : {}),
        interceptors: [interceptor],
      });
      clients.push(client);
      const error = await rejection(client.engine.generate({ prompt: "" }));
      expect(error).toMatchObject({
        status: Code.InvalidArgument,
        statusName: "INVALID_ARGUMENT",
        retryable: false,
        connection: false,
        attempts: 1,
      });
      expect(error.code).toMatch(/^E1\d\d$/);
      expect(error.fieldViolations.map((v) => v.field)).toContain("prompt");
      expect(attempts).toHaveLength(1);
      expect((await client.engine.getState({})).state).toBeDefined(); // the server keeps serving
    },
  );

  it("sends one x-request-id per call and reports it on errors", async () => {
    const client = createMlsdmClient({ url: `grpc://127.0.0.1:${app.grpcPort}` });
    clients.push(client);
    const mine = await rejection(
      client.engine.generate({ prompt: " " }, { headers: { "x-request-id": "my-request-42" } }),
    );
    expect(mine.requestId).toBe("my-request-42");
    const generated = await rejection(client.engine.generate({ prompt: "" }));
    expect(generated.requestId).toMatch(/^[0-9a-f-]{36}$/);
    let echoed: string | null = null;
    await client.engine.getState({}, { onHeader: (headers) => (echoed = headers.get("x-request-id")) });
    expect(echoed).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe("retries against a tight rate limit (1 per second, burst 1)", () => {
  let app: RunningApp;
  const clients: MlsdmClient[] = [];
  beforeAll(async () => {
    app = await startTestServer({
      MLSDM_API_KEY: KEY,
      MLSDM_RATE_LIMIT_RPS: "1",
      MLSDM_RATE_LIMIT_BURST: "1",
      MLSDM_SIGNING_KEYS: "kid-1=signing-secret-0123456789",
    });
  });
  afterAll(async () => {
    for (const client of clients) client.close();
    await app.shutdown("test done");
  });

  it.each([
    ["grpc", () => `grpc://127.0.0.1:${app.grpcPort}`],
    ["connect", () => `http://127.0.0.1:${app.httpPort}`],
    ["grpc signed", () => `grpc://127.0.0.1:${app.grpcPort}`],
  ] as const)(
    "retries RESOURCE_EXHAUSTED (E602) after the RetryInfo delay, then succeeds: %s",
    async (name, url) => {
      const { attempts, interceptor } = recorder();
      const client = createMlsdmClient({
        url: url(),
        apiKey: KEY,
        interceptors: [interceptor],
        ...(name.endsWith("signed")
          ? { signingKey: { keyId: "kid-1", secret: "signing-secret-0123456789" } }
          : {}),
      });
      clients.push(client);
      // Takes the one token (itself retried if need be). Another method than the one measured:
      // two identical signed requests in one second share a signature, and the second is a replay.
      await client.engine.retrieveContext({ queryVector: VECTOR, topK: 1 });
      attempts.length = 0;
      const startedAt = Date.now();
      const state = await client.engine.getState({});
      const elapsed = Date.now() - startedAt;
      expect(state.state).toBeDefined();
      const [first, ...rest] = attempts;
      expect(first?.status).toBe(Code.ResourceExhausted);
      expect(first?.delayMs).toBeGreaterThan(0);
      expect(rest.at(-1)?.status).toBe(0);
      expect(rest.slice(0, -1).every((a) => a.status === Code.ResourceExhausted)).toBe(true);
      expect(attempts[1]!.atMs - first!.atMs).toBeGreaterThanOrEqual(first!.delayMs!);
      expect(elapsed).toBeGreaterThanOrEqual(first!.delayMs!);
    },
  );

  it("gives up within the overall deadline and reports E602 as retryable", async () => {
    const { attempts, interceptor } = recorder();
    const client = createMlsdmClient({
      url: `grpc://127.0.0.1:${app.grpcPort}`,
      apiKey: KEY,
      interceptors: [interceptor],
    });
    clients.push(client);
    await client.engine.getState({});
    attempts.length = 0;
    const startedAt = Date.now();
    const error = await rejection(client.engine.getState({}, { timeoutMs: 150 }));
    expect(Date.now() - startedAt).toBeLessThan(1_000);
    expect(error).toMatchObject({ code: "E602", status: Code.ResourceExhausted, retryable: true });
    expect(error.retryDelayMs).toBeGreaterThan(0);
    expect(error.describe()).toMatch(/^E602 \w+: .+\(retry after \d+\.\d s\)$/);
    expect(attempts).toHaveLength(1);
  });

  it("does not retry when retries are off", async () => {
    const { attempts, interceptor } = recorder();
    const client = createMlsdmClient({
      url: `http://127.0.0.1:${app.httpPort}`,
      apiKey: KEY,
      retry: false,
      interceptors: [interceptor],
    });
    clients.push(client);
    await client.engine.getState({}).catch(() => undefined);
    attempts.length = 0;
    const error = await rejection(client.engine.getState({}));
    expect(error.code).toBe("E602");
    expect(attempts).toHaveLength(1);
  });

  it("refuses a call without the key with E2xx UNAUTHENTICATED, not retried", async () => {
    const client = createMlsdmClient({ url: `grpc://127.0.0.1:${app.grpcPort}` });
    clients.push(client);
    const error = await rejection(client.engine.getState({}));
    expect(error).toMatchObject({ status: Code.Unauthenticated, retryable: false, attempts: 1 });
    expect(error.code).toMatch(/^E2\d\d$/);
  });
});

describe("connection failures and TLS", () => {
  const certs = makeTestCerts();
  let app: RunningApp;
  beforeAll(async () => {
    app = await startTestServer({
      MLSDM_TLS_ENABLED: "true",
      MLSDM_TLS_CERT_FILE: path.join(certs, "server.pem"),
      MLSDM_TLS_KEY_FILE: path.join(certs, "server.key"),
      MLSDM_TLS_CLIENT_CA_FILE: path.join(certs, "client-ca-bundle.pem"),
      MLSDM_TLS_CLIENT_IDENTITIES: "cn:reader=reader:read",
      MLSDM_API_KEY: KEY,
      ...QUIET,
    });
  });
  afterAll(async () => {
    await app.shutdown("test done");
    rmSync(certs, { recursive: true, force: true });
  });

  it.each(["grpc", "http"] as const)(
    "reports a refused connection as a connection error: %s",
    async (scheme) => {
      const client = createMlsdmClient({ url: `${scheme}://127.0.0.1:${await freePort()}` });
      const error = await rejection(client.engine.getState({}));
      client.close();
      expect(error).toMatchObject({ connection: true, code: undefined, retryable: false, attempts: 1 });
    },
  );

  it.each(["grpcs", "https"] as const)("speaks mTLS with a client certificate: %s", async (scheme) => {
    const port = scheme === "grpcs" ? app.grpcPort : app.httpPort;
    const tls = clientTls(certs, "reader");
    const client = createMlsdmClient({ url: `${scheme}://127.0.0.1:${port}`, tls });
    try {
      expect((await client.engine.getState({})).state).toBeDefined();
      const denied = await rejection(client.admin.getStatus({}));
      expect(denied).toMatchObject({ status: Code.PermissionDenied, connection: false });
      expect(denied.code).toMatch(/^E2\d\d$/);
    } finally {
      client.close();
    }
  });

  it.each(["grpcs", "https"] as const)(
    "reports an untrusted server certificate as a connection error: %s",
    async (scheme) => {
      const port = scheme === "grpcs" ? app.grpcPort : app.httpPort;
      const client = createMlsdmClient({ url: `${scheme}://127.0.0.1:${port}`, apiKey: KEY });
      const error = await rejection(client.engine.getState({}));
      client.close();
      expect(error.connection).toBe(true);
      expect(error.code).toBeUndefined();
    },
  );
});
