/**
 * Request signing end to end (SEC-007), through BOTH listeners with real clients signing with
 * the helpers of src/client/signing.ts: the grpc-js interceptor on the grpc-js listener, and the
 * Connect interceptor on the Connect listener over Connect JSON, gRPC-Web and gRPC. Every refusal
 * is checked for its gRPC status and catalogue code, and the server keeps serving afterwards.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ConnectError, createClient } from "@connectrpc/connect";
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningApp } from "../../src/app.js";
import {
  connectSigningInterceptor,
  grpcSigningInterceptor,
  signRequest,
  type SigningKey,
} from "../../src/client/signing.js";
import { EngineService, RetrieveContextRequestSchema } from "../../src/gen/mlsdm/v1/engine_pb.js";
import { Health } from "../../src/rpc/health/health-service.js";
import { serviceDefinition } from "../../src/transport/grpc/service-definition.js";
import { connectErrorInfo, grpcErrorInfo } from "./support/clients.js";
import { startTestServer } from "./support/server.js";

const UNAUTHENTICATED = 16;
const WRITE = "write-key-0123456789abcdef";
const OLD = { keyId: "kid-2025-01", secret: "old-signing-secret-0123456789" };
const NEW = { keyId: "kid-2025-02", secret: "new-signing-secret-0123456789" };

/** How a client signs: a key (or none), and an optional fixed clock. */
interface Signing {
  readonly key?: SigningKey;
  readonly now?: () => number;
}

type Outcome = { ok: true } | { ok: false; status: number; code: string | undefined };

/** One kind of client: calls RetrieveContext or GenerateStream and reports the outcome. */
interface Caller {
  readonly name: string;
  retrieve(apiKey: string, signing: Signing, request?: object): Promise<Outcome>;
  stream(apiKey: string, signing: Signing): Promise<Outcome>;
}

let counter = 0;
/** A RetrieveContext request no other call sends (identical requests in one second are replays). */
function uniqueRequest(): object {
  counter += 1;
  return {
    queryVector: Array.from({ length: 384 }, (_, i) => (i === 0 ? counter : Math.sin(i) + 0.01)),
    topK: 1,
  };
}

function grpcCaller(port: () => number): Caller {
  const Ctor = grpc.makeGenericClientConstructor(serviceDefinition(EngineService), "EngineService");
  const client = (signing: Signing) =>
    new Ctor(`127.0.0.1:${port()}`, grpc.credentials.createInsecure(), {
      interceptors: signing.key
        ? [grpcSigningInterceptor(EngineService, signing.key, signing.now ? { now: signing.now } : {})]
        : [],
    }) as grpc.Client & Record<string, (...args: unknown[]) => unknown>;
  const metadata = (apiKey: string) => {
    const md = new grpc.Metadata();
    md.set("authorization", `Bearer ${apiKey}`);
    return md;
  };
  const failed = (error: grpc.ServiceError): Outcome => ({
    ok: false,
    status: error.code,
    code: grpcErrorInfo(error)?.metadata.code,
  });
  return {
    name: "grpc-js",
    retrieve: (apiKey, signing, request = uniqueRequest()) =>
      new Promise((resolve) => {
        const c = client(signing);
        c.retrieveContext?.(request, metadata(apiKey), (error: grpc.ServiceError | null) => {
          c.close();
          resolve(error ? failed(error) : { ok: true });
        });
      }),
    stream: async (apiKey, signing) => {
      const c = client(signing);
      const call = c.generateStream?.({ prompt: `stream ${++counter}`, contextTopK: 0 }, metadata(apiKey)) as
        grpc.ClientReadableStream<unknown> | undefined;
      try {
        let messages = 0;
        for await (const _ of call ?? []) messages += 1;
        return messages > 0 ? { ok: true } : { ok: false, status: -1, code: "no messages" };
      } catch (error) {
        return failed(error as grpc.ServiceError);
      } finally {
        c.close();
      }
    },
  };
}

function connectCaller(port: () => number, protocol: "connect" | "grpc-web" | "grpc"): Caller {
  const client = (signing: Signing) => {
    const baseUrl = `http://127.0.0.1:${port()}`;
    const interceptors = signing.key
      ? [connectSigningInterceptor(signing.key, signing.now ? { now: signing.now } : {})]
      : [];
    const transport =
      protocol === "connect"
        ? createConnectTransport({ baseUrl, httpVersion: "1.1", interceptors }) // JSON
        : protocol === "grpc-web"
          ? createGrpcWebTransport({ baseUrl, httpVersion: "1.1", interceptors, useBinaryFormat: false })
          : createGrpcTransport({ baseUrl, interceptors });
    return createClient(EngineService, transport);
  };
  const failed = (error: unknown): Outcome => ({
    ok: false,
    status: ConnectError.from(error).code,
    code: connectErrorInfo(error)?.metadata.code,
  });
  const headers = (apiKey: string) => ({ authorization: `Bearer ${apiKey}` });
  return {
    name: `connect (${protocol})`,
    retrieve: (apiKey, signing, request = uniqueRequest()) =>
      client(signing)
        .retrieveContext(request, { headers: headers(apiKey) })
        .then((): Outcome => ({ ok: true }), failed),
    stream: async (apiKey, signing) => {
      try {
        let messages = 0;
        const stream = client(signing).generateStream(
          { prompt: `stream ${++counter}`, contextTopK: 0 },
          { headers: headers(apiKey) },
        );
        for await (const _ of stream) messages += 1;
        return messages > 0 ? { ok: true } : { ok: false, status: -1, code: "no messages" };
      } catch (error) {
        return failed(error);
      }
    },
  };
}

function callersFor(app: () => RunningApp): Caller[] {
  return [
    grpcCaller(() => app().grpcPort),
    connectCaller(() => app().httpPort, "connect"),
    connectCaller(() => app().httpPort, "grpc-web"),
    connectCaller(() => app().httpPort, "grpc"),
  ];
}

const refused = (code: string): Outcome => ({ ok: false, status: UNAUTHENTICATED, code });
const OK: Outcome = { ok: true };

describe("request signing required for every call (MLSDM_SIGNING_REQUIRED)", () => {
  let app: RunningApp;
  beforeAll(async () => {
    app = await startTestServer({
      MLSDM_API_KEY: WRITE,
      MLSDM_SIGNING_REQUIRED: "true",
      MLSDM_SIGNING_KEYS: `${OLD.keyId}=${OLD.secret},${NEW.keyId}=${NEW.secret}`,
      MLSDM_RATE_LIMIT_RPS: "0",
      MLSDM_MAX_EVENT_LOOP_LAG_MS: "0", // the shared test machine is busy; lag shedding is not under test
    });
  });
  afterAll(async () => {
    await app.shutdown("test done");
  });
  const callers = callersFor(() => app);

  it.each(callers.map((c) => [c.name, c] as const))("%s: a signed call succeeds", async (_, caller) => {
    expect(await caller.retrieve(WRITE, { key: OLD })).toEqual(OK);
  });

  it.each(callers.map((c) => [c.name, c] as const))("%s: a signed GenerateStream succeeds", async (_, c) => {
    expect(await c.stream(WRITE, { key: NEW })).toEqual(OK);
    expect(await c.stream(WRITE, {})).toEqual(refused("E207"));
  });

  it.each(callers.map((c) => [c.name, c] as const))(
    "%s: both key ids are valid during rotation",
    async (_, caller) => {
      expect(await caller.retrieve(WRITE, { key: OLD })).toEqual(OK);
      expect(await caller.retrieve(WRITE, { key: NEW })).toEqual(OK);
    },
  );

  it.each(callers.map((c) => [c.name, c] as const))(
    "%s: unsigned, wrong secret and unknown key id answer E207",
    async (_, caller) => {
      expect(await caller.retrieve(WRITE, {})).toEqual(refused("E207"));
      expect(
        await caller.retrieve(WRITE, { key: { keyId: OLD.keyId, secret: "wrong-secret-0123456789" } }),
      ).toEqual(refused("E207"));
      expect(await caller.retrieve(WRITE, { key: { keyId: "kid-unknown", secret: OLD.secret } })).toEqual(
        refused("E207"),
      );
    },
  );

  it.each(callers.map((c) => [c.name, c] as const))(
    "%s: a stale timestamp and one too far in the future answer E208",
    async (_, caller) => {
      expect(await caller.retrieve(WRITE, { key: OLD, now: () => Date.now() - 331_000 })).toEqual(
        refused("E208"),
      );
      expect(await caller.retrieve(WRITE, { key: OLD, now: () => Date.now() + 60_000 })).toEqual(
        refused("E208"),
      );
      // Inside max age and skew: accepted.
      expect(await caller.retrieve(WRITE, { key: OLD, now: () => Date.now() - 250_000 })).toEqual(OK);
      expect(await caller.retrieve(WRITE, { key: OLD, now: () => Date.now() + 10_000 })).toEqual(OK);
    },
  );

  it.each(callers.map((c) => [c.name, c] as const))("%s: an exact replay answers E209", async (_, caller) => {
    const at = Date.now();
    const request = uniqueRequest();
    expect(await caller.retrieve(WRITE, { key: OLD, now: () => at }, request)).toEqual(OK);
    expect(await caller.retrieve(WRITE, { key: OLD, now: () => at }, request)).toEqual(refused("E209"));
  });

  it("catches a replay sent to the other listener (one cache per server)", async () => {
    const [grpcJs, connect] = callers;
    const at = Date.now();
    const request = uniqueRequest();
    expect(await connect?.retrieve(WRITE, { key: NEW, now: () => at }, request)).toEqual(OK);
    expect(await grpcJs?.retrieve(WRITE, { key: NEW, now: () => at }, request)).toEqual(refused("E209"));
  });

  it("refuses a signature taken over another message with E207", async () => {
    const signed = uniqueRequest();
    const headers = signRequest(
      OLD,
      EngineService.method.retrieveContext,
      RetrieveContextRequestSchema,
      signed as never,
    );
    const client = createClient(
      EngineService,
      createConnectTransport({ baseUrl: `http://127.0.0.1:${app.httpPort}`, httpVersion: "1.1" }),
    );
    const error = await client
      .retrieveContext(uniqueRequest(), { headers: { ...headers, authorization: `Bearer ${WRITE}` } })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(ConnectError.from(error).code).toBe(UNAUTHENTICATED);
    expect(connectErrorInfo(error)?.metadata.code).toBe("E207");
  });

  it("serves health without a signature on both listeners", async () => {
    const health = createClient(
      Health,
      createConnectTransport({ baseUrl: `http://127.0.0.1:${app.httpPort}`, httpVersion: "1.1" }),
    );
    expect((await health.check({})).status).toBeGreaterThan(0);
    const Ctor = grpc.makeGenericClientConstructor(serviceDefinition(Health), "Health");
    const g = new Ctor(`127.0.0.1:${app.grpcPort}`, grpc.credentials.createInsecure()) as grpc.Client &
      Record<string, (...args: unknown[]) => unknown>;
    const error = await new Promise((resolve) => {
      g.check?.({}, (e: unknown) => {
        resolve(e);
      });
    });
    g.close();
    expect(error).toBeNull();
  });

  it.each(callers.map((c) => [c.name, c] as const))(
    "%s: keeps serving after the refusals",
    async (_, caller) => {
      expect(await caller.retrieve(WRITE, { key: NEW })).toEqual(OK);
    },
  );
});

describe("request signing required per API key (requireSignature in the keys file)", () => {
  const STRICT = "strict-key-0123456789abcdef";
  const LAX = "lax-key-0123456789abcdef";
  const FILE_KEY = { keyId: "partner-2025-01", secret: "partner-signing-secret-0123" };
  const ROTATED = { keyId: "partner-2025-02", secret: "partner-signing-secret-0456" };
  const dir = mkdtempSync(path.join(tmpdir(), "mlsdm-signing-"));
  const apiKeys = path.join(dir, "api-keys.yaml");
  const signingKeys = path.join(dir, "signing-keys.yaml");
  const writeSigningKeys = (...keys: { keyId: string; secret: string }[]) => {
    writeFileSync(
      signingKeys,
      `keys:\n${keys.map((k) => `  - id: ${k.keyId}\n    secret: ${k.secret}\n`).join("")}`,
    );
  };
  let app: RunningApp;
  beforeAll(async () => {
    writeFileSync(
      apiKeys,
      `keys:\n  - {id: strict, owner: partner, roles: [write], secret: ${STRICT}, requireSignature: true}\n` +
        `  - {id: lax, owner: internal, roles: [write], secret: ${LAX}}\n`,
    );
    writeSigningKeys(FILE_KEY);
    app = await startTestServer({
      MLSDM_API_KEYS_FILE: apiKeys,
      MLSDM_SIGNING_KEYS_FILE: signingKeys,
      MLSDM_RATE_LIMIT_RPS: "0",
      MLSDM_MAX_EVENT_LOOP_LAG_MS: "0", // the shared test machine is busy; lag shedding is not under test
    });
  });
  afterAll(async () => {
    await app.shutdown("test done");
    rmSync(dir, { recursive: true, force: true });
  });
  const callers = callersFor(() => app);

  it.each(callers.map((c) => [c.name, c] as const))(
    "%s: the strict key must sign, the lax key need not",
    async (_, caller) => {
      expect(await caller.retrieve(STRICT, {})).toEqual(refused("E207"));
      expect(await caller.retrieve(STRICT, { key: FILE_KEY })).toEqual(OK);
      expect(await caller.retrieve(LAX, {})).toEqual(OK);
      expect(await caller.retrieve(LAX, { key: FILE_KEY })).toEqual(OK);
    },
  );

  it.each(callers.map((c) => [c.name, c] as const))(
    "%s: a signature that is sent is verified even when not required",
    async (_, caller) => {
      expect(
        await caller.retrieve(LAX, { key: { keyId: FILE_KEY.keyId, secret: "wrong-secret-0123456789" } }),
      ).toEqual(refused("E207"));
      expect(await caller.retrieve(LAX, { key: FILE_KEY, now: () => Date.now() - 600_000 })).toEqual(
        refused("E208"),
      );
    },
  );

  it("rotates keys by editing the signing keys file, without a restart", async () => {
    const [grpcJs, connect] = callers;
    writeSigningKeys(FILE_KEY, ROTATED);
    await expect
      .poll(async () => (await connect?.retrieve(STRICT, { key: ROTATED }))?.ok, { timeout: 5_000 })
      .toBe(true);
    expect(await grpcJs?.retrieve(STRICT, { key: FILE_KEY })).toEqual(OK);
    writeSigningKeys(ROTATED);
    await expect
      .poll(async () => await connect?.retrieve(STRICT, { key: FILE_KEY }), { timeout: 5_000 })
      .toEqual(refused("E207"));
    expect(await grpcJs?.retrieve(STRICT, { key: FILE_KEY })).toEqual(refused("E207"));
    expect(await grpcJs?.retrieve(STRICT, { key: ROTATED })).toEqual(OK);
  });
});
