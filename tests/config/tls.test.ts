/**
 * The `tls` configuration (SEC-006): enabling TLS without a certificate or key stops start-up
 * naming the key, as do unreadable or mismatched files and a bad identity mapping.
 */
import { copyFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config/index.js";
import { startTestServer } from "../integration/support/server.js";
import { makeTestCerts } from "../integration/support/tls-clients.js";
import { TlsFiles } from "../../src/transport/tls/tls-files.js";
import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";

const certs = makeTestCerts();
const file = (name: string) => path.join(certs, name);
afterAll(() => {
  rmSync(certs, { recursive: true, force: true });
});

function configErrorOf(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

async function startErrorOf(env: Record<string, string>): Promise<ConfigError> {
  const error: unknown = await startTestServer(env).then(
    async (app) => {
      await app.shutdown("unexpected");
      return undefined;
    },
    (e: unknown) => e,
  );
  if (error instanceof ConfigError) return error;
  throw new Error(`expected a ConfigError, got ${String(error)}`);
}

const TLS = {
  MLSDM_TLS_ENABLED: "true",
  MLSDM_TLS_CERT_FILE: file("server.pem"),
  MLSDM_TLS_KEY_FILE: file("server.key"),
};

describe("tls configuration", () => {
  it("is off by default, and refuses enabled TLS without a certificate or key, naming the key", () => {
    expect(loadConfig({ env: {}, isTty: false }).config.tls.enabled).toBe(false);
    const noCert = configErrorOf(() => loadConfig({ env: { MLSDM_TLS_ENABLED: "true" }, isTty: false }));
    expect([noCert.code, noCert.key]).toEqual(["E801", "tls.certFile"]);
    const noKey = configErrorOf(() =>
      loadConfig({ env: { MLSDM_TLS_ENABLED: "true", MLSDM_TLS_CERT_FILE: "/x.pem" }, isTty: false }),
    );
    expect(noKey.key).toBe("tls.keyFile");
  });

  it("refuses a malformed inline identity mapping, naming tls.clientIdentities", () => {
    const error = configErrorOf(() =>
      loadConfig({ env: { MLSDM_TLS_CLIENT_IDENTITIES: "cn:billing=billing:root" }, isTty: false }),
    );
    expect(error.key).toBe("tls.clientIdentities");
  });

  it("stops start-up on an unreadable certificate, a key of another certificate, or a bad mapping file", async () => {
    expect((await startErrorOf({ ...TLS, MLSDM_TLS_CERT_FILE: file("missing.pem") })).key).toBe(
      "tls.certFile",
    );
    const mismatch = await startErrorOf({ ...TLS, MLSDM_TLS_KEY_FILE: file("server-next.key") });
    expect(mismatch.key).toBe("tls.keyFile");
    expect((await startErrorOf({ ...TLS, MLSDM_TLS_CLIENT_CA_FILE: file("server.key") })).key).toBe(
      "tls.clientCaFile",
    );
    writeFileSync(file("bad-identities.yaml"), "clients:\n  - { match: nope, id: a, roles: [read] }\n");
    const mapping = await startErrorOf({
      ...TLS,
      MLSDM_TLS_CLIENT_CA_FILE: file("client-ca-bundle.pem"),
      MLSDM_TLS_CLIENT_IDENTITIES_FILE: file("bad-identities.yaml"),
    });
    expect(mapping.key).toBe("tls.clientIdentitiesFile");
  });

  it("keeps the current files when a reload finds a bad set, and takes the next good one", async () => {
    copyFileSync(file("server.pem"), file("rot.pem"));
    copyFileSync(file("server.key"), file("rot.key"));
    const { config } = loadConfig({
      env: { ...TLS, MLSDM_TLS_CERT_FILE: file("rot.pem"), MLSDM_TLS_KEY_FILE: file("rot.key") },
      isTty: false,
    });
    const files = TlsFiles.open(config.tls);
    const changes: string[] = [];
    files.onChange((m) => changes.push(new X509Certificate(m.cert).fingerprint256));
    try {
      copyFileSync(file("server-next.pem"), file("rot.pem"));
      await files.poll();
      expect(files.current().cert).toEqual(readFileSync(file("server.pem")));
      copyFileSync(file("server-next.key"), file("rot.key"));
      await files.poll();
      expect(files.current().cert).toEqual(readFileSync(file("server-next.pem")));
      expect(changes).toEqual([new X509Certificate(readFileSync(file("server-next.pem"))).fingerprint256]);
    } finally {
      files.stop();
    }
  });
});
