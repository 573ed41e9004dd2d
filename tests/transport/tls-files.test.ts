/**
 * TlsFiles (src/transport/tls/tls-files.ts) as the grpc-js CertificateProvider and the Connect
 * listener's source, on real certificate files: listeners get the material in force at once
 * and each valid reload, removed ones nothing; the client CA bundle's anchors follow the file;
 * a file missing mid-rotation is a warning (the current set stays), a bad set is logged once,
 * not at every poll. tests/config/tls.test.ts covers start-up and the basic reload.
 */
import { copyFileSync, rmSync } from "node:fs";
import { readFileSync } from "node:fs";
import path from "node:path";
import type { experimental } from "@grpc/grpc-js";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { loadConfig } from "../../src/config/index.js";
import { logger } from "../../src/telemetry/logger.js";
import { TlsFiles } from "../../src/transport/tls/tls-files.js";
import { makeTestCerts } from "../integration/support/tls-clients.js";

const certs = makeTestCerts();
const file = (name: string) => path.join(certs, name);
afterAll(() => {
  rmSync(certs, { recursive: true, force: true });
});
afterEach(() => {
  vi.restoreAllMocks();
});

/** Files under rotation, starting as the server's certificate with the client CA `ca`. */
function rotating(ca: string) {
  copyFileSync(file("server.pem"), file("live.pem"));
  copyFileSync(file("server.key"), file("live.key"));
  copyFileSync(file(ca), file("live-ca.pem"));
  const { config } = loadConfig({
    env: {
      MLSDM_TLS_ENABLED: "true",
      MLSDM_TLS_CERT_FILE: file("live.pem"),
      MLSDM_TLS_KEY_FILE: file("live.key"),
      MLSDM_TLS_CLIENT_CA_FILE: file("live-ca.pem"),
    },
    isTty: false,
  });
  return TlsFiles.open(config.tls);
}
const tick = () =>
  new Promise((resolve) => {
    process.nextTick(resolve);
  });

describe("TlsFiles as a certificate provider", () => {
  it("gives identity and CA listeners the current material at once, then each valid reload", async () => {
    const files = rotating("ca.pem");
    try {
      const identities: experimental.IdentityCertificateUpdate[] = [];
      const cas: (experimental.CaCertificateUpdate | null)[] = [];
      const identity = (update: experimental.IdentityCertificateUpdate | null) => {
        if (update) identities.push(update);
      };
      const ca = (update: experimental.CaCertificateUpdate | null) => cas.push(update);
      files.addIdentityCertificateListener(identity);
      files.addCaCertificateListener(ca);
      // Added and removed before the next tick: never called.
      const removed = vi.fn();
      files.addIdentityCertificateListener(removed);
      files.removeIdentityCertificateListener(removed);
      const removedCa = vi.fn();
      files.addCaCertificateListener(removedCa);
      files.removeCaCertificateListener(removedCa);
      await tick();
      expect(identities.map((u) => u.certificate)).toEqual([readFileSync(file("server.pem"))]);
      expect(cas.map((u) => u?.caCertificate)).toEqual([readFileSync(file("ca.pem"))]);
      const anchorsBefore = files.anchors().map((c) => c.fingerprint256);
      expect(anchorsBefore).toHaveLength(1);

      const onChange = vi.fn();
      const unsubscribe = files.onChange(onChange);
      copyFileSync(file("server-next.pem"), file("live.pem"));
      copyFileSync(file("server-next.key"), file("live.key"));
      copyFileSync(file("client-ca-bundle.pem"), file("live-ca.pem"));
      await files.poll();
      expect(identities.map((u) => u.certificate).at(-1)).toEqual(readFileSync(file("server-next.pem")));
      expect(identities.at(-1)?.privateKey).toEqual(readFileSync(file("server-next.key")));
      expect(cas.at(-1)?.caCertificate).toEqual(readFileSync(file("client-ca-bundle.pem")));
      expect(files.anchors().length).toBeGreaterThan(1);
      expect(onChange).toHaveBeenCalledTimes(1);
      expect(removed).not.toHaveBeenCalled();
      expect(removedCa).not.toHaveBeenCalled();

      // Unchanged files: no new update; unsubscribed listeners hear nothing more.
      unsubscribe();
      await files.poll();
      expect(identities).toHaveLength(2);
      files.removeIdentityCertificateListener(identity);
      files.removeCaCertificateListener(ca);
      copyFileSync(file("server.pem"), file("live.pem"));
      copyFileSync(file("server.key"), file("live.key"));
      await files.poll();
      expect(files.current().cert).toEqual(readFileSync(file("server.pem")));
      expect(identities).toHaveLength(2);
      expect(onChange).toHaveBeenCalledTimes(1);
    } finally {
      files.stop();
    }
  });

  it("keeps the current set while a file is missing, and logs a bad set once", async () => {
    const files = rotating("ca.pem");
    const warn = vi.spyOn(logger, "warn");
    const error = vi.spyOn(logger, "error");
    try {
      rmSync(file("live.key"));
      await files.poll();
      expect(warn).toHaveBeenCalledWith(
        "TLS files could not be read; the current certificate stays in force",
        expect.objectContaining({ event: "tls_reload_unreadable", error: expect.stringMatching(/ENOENT/) }),
      );
      expect(files.current().key).toEqual(readFileSync(file("server.key")));

      // A key that does not match the certificate: rejected, logged once however often polled.
      copyFileSync(file("server-next.key"), file("live.key"));
      await files.poll();
      await files.poll();
      const rejections = (error.mock.calls as unknown as [unknown, unknown][]).filter(
        ([message]) => typeof message === "string" && message.startsWith("TLS files rejected"),
      );
      expect(rejections).toHaveLength(1);
      expect(rejections[0]?.[1]).toMatchObject({ event: "tls_reload_failed", error_code: "E801" });
      expect(files.current().key).toEqual(readFileSync(file("server.key")));
    } finally {
      files.stop();
    }
  });
});
