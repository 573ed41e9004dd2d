/**
 * TLS and mTLS on both listeners (SEC-006), with real clients: grpc-js on the grpc-js listener,
 * connect-node over HTTP/2 (gRPC protocol) and HTTP/1.1 (Connect protocol) on the Connect
 * listener. The certificates come from deploy/tls/make-test-certs.sh.
 */
import { copyFileSync, rmSync, writeFileSync } from "node:fs";
import { request as httpsRequest } from "node:https";
import path from "node:path";
import { create } from "@bufbuild/protobuf";
import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningApp } from "../../src/app.js";
import { AdminService, GetStatusRequestSchema } from "../../src/gen/mlsdm/v1/admin_pb.js";
import {
  EngineService,
  GetStateRequestSchema,
  ProcessEventRequestSchema,
} from "../../src/gen/mlsdm/v1/engine_pb.js";
import { HealthCheckRequestSchema } from "../../src/gen/grpc/health/v1/health_pb.js";
import { Health } from "../../src/rpc/health/health-service.js";
import { startTestServer } from "./support/server.js";
import {
  clientTls,
  DOORS,
  handshake,
  makeTestCerts,
  servedFingerprint,
  tlsCall,
  type ClientTls,
  type Door,
  type Outcome,
} from "./support/tls-clients.js";

const OK = 0;
const PERMISSION_DENIED = 7;
const UNAUTHENTICATED = 16;
const UNAVAILABLE = 14;
const INTERNAL = 13;
const CANCELED = 1;
const ABORTED = 10;
const UNKNOWN = 2;
const WRITE_KEY = "write-key-0123456789abcdef";
/** Rate limits and load shedding off: these tests are about identity, on a busy machine. */
const QUIET = { MLSDM_RATE_LIMIT_RPS: "0", MLSDM_MAX_EVENT_LOOP_LAG_MS: "0" };
const vector = Array.from({ length: 384 }, (_, i) => Math.cos(i) + 0.01);

const certs = makeTestCerts();
const file = (name: string) => path.join(certs, name);

function ports(app: RunningApp) {
  return { grpc: app.grpcPort, http: app.httpPort };
}

function getState(app: RunningApp, door: Door, tls: ClientTls, bearer?: string): Promise<Outcome> {
  return tlsCall({
    door,
    ports: ports(app),
    service: EngineService,
    method: "getState",
    request: create(GetStateRequestSchema),
    tls,
    ...(bearer ? { bearer } : {}),
  });
}

function processEvent(app: RunningApp, door: Door, tls: ClientTls, bearer?: string): Promise<Outcome> {
  return tlsCall({
    door,
    ports: ports(app),
    service: EngineService,
    method: "processEvent",
    request: create(ProcessEventRequestSchema, { vector, moralValue: 0.95 }),
    tls,
    ...(bearer ? { bearer } : {}),
  });
}

function brief(outcome: Outcome): [number, string | undefined] {
  return [outcome.status, outcome.code];
}

/**
 * A refused handshake as each client reports it: grpc-js as UNAVAILABLE; connect-node by how far
 * it got before the server's TLS alert arrived (TLS 1.3 lets the client send first), so one of
 * the connection-failure codes. Never a server answer: no catalogue code.
 */
function expectRefusedAtConnect(door: Door, outcome: Outcome): void {
  expect(outcome.code).toBeUndefined();
  if (door === "grpc-js") expect(outcome.status).toBe(UNAVAILABLE);
  else expect([UNAVAILABLE, INTERNAL, CANCELED, ABORTED, UNKNOWN]).toContain(outcome.status);
}

afterAll(() => {
  rmSync(certs, { recursive: true, force: true });
});

describe("mTLS required, certificates mapped to identities", () => {
  let app: RunningApp;
  beforeAll(async () => {
    writeFileSync(
      file("identities.yaml"),
      [
        "clients:",
        '  - { match: "CN=reader", id: reader, roles: [read] }',
        '  - { match: "uri:spiffe://mlsdm.test/ns/default/sa/billing", id: billing, roles: [write] }',
        '  - { match: "email:ops@mlsdm.test", id: ops, roles: [admin], owner: "platform team" }',
        "",
      ].join("\n"),
    );
    app = await startTestServer({
      MLSDM_TLS_ENABLED: "true",
      MLSDM_TLS_CERT_FILE: file("server.pem"),
      MLSDM_TLS_KEY_FILE: file("server.key"),
      MLSDM_TLS_CLIENT_CA_FILE: file("client-ca-bundle.pem"),
      MLSDM_TLS_CLIENT_IDENTITIES_FILE: file("identities.yaml"),
      MLSDM_TLS_CLIENT_IDENTITIES: "cn:deep=deep:read",
      MLSDM_API_KEY: WRITE_KEY,
      ...QUIET,
    });
  });
  afterAll(async () => {
    await app.shutdown("test done");
  });

  it.each(DOORS)(
    "maps a CN to its roles: read may GetState but not ProcessEvent (E203), via %s",
    async (door) => {
      const reader = clientTls(certs, "reader");
      expect(brief(await getState(app, door, reader))).toEqual([OK, undefined]);
      expect(brief(await processEvent(app, door, reader))).toEqual([PERMISSION_DENIED, "E203"]);
    },
  );

  it.each(DOORS)(
    "maps URI and email SANs: write may ProcessEvent, admin may GetStatus, via %s",
    async (door) => {
      expect(brief(await processEvent(app, door, clientTls(certs, "billing")))).toEqual([OK, undefined]);
      const status = (name: string) =>
        tlsCall({
          door,
          ports: ports(app),
          service: AdminService,
          method: "getStatus",
          request: create(GetStatusRequestSchema),
          tls: clientTls(certs, name),
        });
      expect(brief(await status("billing"))).toEqual([PERMISSION_DENIED, "E203"]);
      expect(brief(await status("ops"))).toEqual([OK, undefined]);
    },
  );

  it("fails the TLS handshake on both ports without a client certificate or with one from another CA", async () => {
    for (const port of [app.grpcPort, app.httpPort]) {
      expect(await handshake(port, clientTls(certs))).toBe("ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED");
      // The server aborts the handshake; Node's client sees the connection end (or the alert).
      expect(["closed", "ECONNRESET", "ERR_SSL_TLSV1_ALERT_UNKNOWN_CA"]).toContain(
        await handshake(port, clientTls(certs, "other-client")),
      );
      expect(await handshake(port, clientTls(certs, "reader"))).toBe("accepted");
    }
  });

  it.each(DOORS)("fails the call without a client certificate, then keeps serving, via %s", async (door) => {
    expectRefusedAtConnect(door, await getState(app, door, clientTls(certs), WRITE_KEY));
    expect(brief(await getState(app, door, clientTls(certs, "reader")))).toEqual([OK, undefined]);
  });

  it.each(DOORS)(
    "fails the call with a certificate from another CA (even with a mapped CN), via %s",
    async (door) => {
      expectRefusedAtConnect(door, await getState(app, door, clientTls(certs, "other-client"), WRITE_KEY));
      expect(brief(await getState(app, door, clientTls(certs, "billing")))).toEqual([OK, undefined]);
    },
  );

  it.each(DOORS)(
    "gives a verified but unmapped certificate no identity: E206, or the API key's, via %s",
    async (door) => {
      const stranger = clientTls(certs, "stranger");
      expect(brief(await getState(app, door, stranger))).toEqual([UNAUTHENTICATED, "E206"]);
      expect(brief(await processEvent(app, door, stranger, WRITE_KEY))).toEqual([OK, undefined]);
    },
  );

  it.each(DOORS)(
    "tries mTLS before the API key: a read certificate with a write key stays read, via %s",
    async (door) => {
      expect(brief(await processEvent(app, door, clientTls(certs, "reader"), WRITE_KEY))).toEqual([
        PERMISSION_DENIED,
        "E203",
      ]);
    },
  );

  it.each(DOORS)("accepts a chain through an intermediate within verifyDepth 3, via %s", async (door) => {
    expect(brief(await getState(app, door, clientTls(certs, "deep")))).toEqual([OK, undefined]);
  });

  it("answers health over TLS on both listeners", async () => {
    for (const door of DOORS) {
      const health = await tlsCall({
        door,
        ports: ports(app),
        service: Health,
        method: "check",
        request: create(HealthCheckRequestSchema, { service: "" }),
        tls: clientTls(certs, "stranger"),
      });
      expect(health.status, door).toBe(OK);
      expect((health.response as { status: number }).status, door).toBe(1);
    }
    const tls = clientTls(certs, "stranger");
    const status = await new Promise<number | undefined>((resolve, reject) => {
      const req = httpsRequest(
        {
          host: "127.0.0.1",
          port: app.httpPort,
          path: "/healthz",
          servername: "localhost",
          agent: false,
          ...tls,
        },
        (res) => {
          res.resume();
          resolve(res.statusCode);
        },
      );
      req.once("error", reject);
      req.end();
    });
    expect(status).toBe(200);
  });
});

describe("TLS with optional client certificates and API keys", () => {
  let app: RunningApp;
  beforeAll(async () => {
    app = await startTestServer({
      MLSDM_TLS_ENABLED: "true",
      MLSDM_TLS_CERT_FILE: file("server.pem"),
      MLSDM_TLS_KEY_FILE: file("server.key"),
      MLSDM_TLS_CLIENT_CA_FILE: file("client-ca-bundle.pem"),
      MLSDM_TLS_REQUIRE_CLIENT_CERT: "false",
      MLSDM_TLS_VERIFY_DEPTH: "0",
      MLSDM_TLS_CLIENT_IDENTITIES: "cn:reader=reader:read,cn:deep=deep:admin",
      MLSDM_API_KEY: WRITE_KEY,
      ...QUIET,
    });
  });
  afterAll(async () => {
    await app.shutdown("test done");
  });

  it.each(DOORS)(
    "serves a client without a certificate by its API key, and E206 without one, via %s",
    async (door) => {
      expect(brief(await processEvent(app, door, clientTls(certs), WRITE_KEY))).toEqual([OK, undefined]);
      expect(brief(await getState(app, door, clientTls(certs)))).toEqual([UNAUTHENTICATED, "E206"]);
    },
  );

  it.each(DOORS)(
    "ignores an unverified certificate from another CA; the API key decides, via %s",
    async (door) => {
      const other = clientTls(certs, "other-client");
      expect(brief(await getState(app, door, other))).toEqual([UNAUTHENTICATED, "E206"]);
      expect(brief(await processEvent(app, door, other, WRITE_KEY))).toEqual([OK, undefined]);
    },
  );

  it.each(DOORS)(
    "refuses a chain deeper than verifyDepth with E201, still mapping direct ones, via %s",
    async (door) => {
      expect(brief(await getState(app, door, clientTls(certs, "deep")))).toEqual([UNAUTHENTICATED, "E201"]);
      expect(brief(await getState(app, door, clientTls(certs, "reader")))).toEqual([OK, undefined]);
    },
  );
});

describe("certificate hot reload", () => {
  let app: RunningApp;
  const live = { cert: file("live.pem"), key: file("live.key") };
  const fingerprintOf = (name: string) => new X509Certificate(readFileSync(file(name))).fingerprint256;
  beforeAll(async () => {
    copyFileSync(file("server.pem"), live.cert);
    copyFileSync(file("server.key"), live.key);
    app = await startTestServer({
      MLSDM_TLS_ENABLED: "true",
      MLSDM_TLS_CERT_FILE: live.cert,
      MLSDM_TLS_KEY_FILE: live.key,
      MLSDM_TLS_RELOAD_INTERVAL_MS: "200",
      MLSDM_API_KEY: WRITE_KEY,
      ...QUIET,
    });
  });
  afterAll(async () => {
    await app.shutdown("test done");
  });

  async function served(): Promise<[string, string]> {
    const tls = clientTls(certs);
    return [
      await servedFingerprint(app.grpcPort, tls, ["h2"]),
      await servedFingerprint(app.httpPort, tls, ["h2", "http/1.1"]),
    ];
  }

  it("serves a replaced certificate to new connections on both listeners without a restart", async () => {
    const before = fingerprintOf("server.pem");
    const after = fingerprintOf("server-next.pem");
    expect(after).not.toBe(before);
    expect(await served()).toEqual([before, before]);
    for (const door of DOORS)
      expect(brief(await getState(app, door, clientTls(certs), WRITE_KEY))).toEqual([OK, undefined]);

    // A half-finished rotation (new certificate, old key) is refused and the old pair kept.
    copyFileSync(file("server-next.pem"), live.cert);
    await new Promise((resolve) => setTimeout(resolve, 800));
    expect(await served()).toEqual([before, before]);

    copyFileSync(file("server-next.key"), live.key);
    const deadline = Date.now() + 10_000;
    let now = await served();
    while ((now[0] !== after || now[1] !== after) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      now = await served();
    }
    expect(now).toEqual([after, after]);
    for (const door of DOORS)
      expect(brief(await getState(app, door, clientTls(certs), WRITE_KEY))).toEqual([OK, undefined]);
  });
});
