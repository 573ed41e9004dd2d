/**
 * The TLS material both listeners serve (SEC-006): server certificate chain, private key and the
 * client CA bundle, read from files at start-up (a missing or bad file stops start-up, naming the
 * key) and re-read every `reloadIntervalMs`. A changed set that is valid replaces the current one
 * for new connections; a bad set (half-written, key not matching the certificate) is logged and
 * the previous one stays in force, so a botched rotation never takes the listeners down.
 *
 * Polling the file contents (not fs.watch) is deliberate: Kubernetes Secret volumes and
 * cert-manager swap a `..data` symlink, which inotify-based watching misses on the files.
 *
 * `TlsFiles` is also a grpc-js `CertificateProvider`, so the grpc-js listener hot-reloads through
 * grpc-js's own certificate-provider credentials; the Connect listener subscribes with `onChange`.
 */
import { createHash, createPrivateKey, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createSecureContext } from "node:tls";
import type { experimental } from "@grpc/grpc-js";
import { invalidValue, type ConfigError } from "../../config/errors.js";
import type { TlsConfig } from "../../config/schema-tls.js";
import { logger } from "../../telemetry/logger.js";

type CertificateProvider = experimental.CertificateProvider;
type CaListener = experimental.CaCertificateUpdateListener;
type IdentityListener = experimental.IdentityCertificateUpdateListener;

/** One consistent set of TLS files. */
export interface TlsMaterial {
  /** Server certificate chain (PEM), leaf first. */
  readonly cert: Buffer;
  readonly key: Buffer;
  /** Client CA bundle (PEM); undefined when client certificates are not asked for. */
  readonly ca: Buffer | undefined;
}

type FileKey = "certFile" | "keyFile" | "clientCaFile";
const ENV: Record<FileKey, `MLSDM_${string}`> = {
  certFile: "MLSDM_TLS_CERT_FILE",
  keyFile: "MLSDM_TLS_KEY_FILE",
  clientCaFile: "MLSDM_TLS_CLIENT_CA_FILE",
};

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** The certificates of a PEM bundle. */
export function certificatesOf(pem: Buffer): X509Certificate[] {
  return (pem.toString("utf8").match(PEM_CERTIFICATE) ?? []).map((block) => new X509Certificate(block));
}

/** What is wrong with a set of files, naming the file at fault; undefined when it is usable. */
export function problemOf(material: TlsMaterial): { file: FileKey; problem: string } | undefined {
  const attempt = (file: FileKey, check: () => void) => {
    try {
      check();
      return undefined;
    } catch (error) {
      return { file, problem: error instanceof Error ? error.message : String(error) };
    }
  };
  const count = (file: FileKey, pem: Buffer) => () => {
    if (certificatesOf(pem).length === 0) throw new Error(`no PEM certificate in the ${file}`);
  };
  return (
    attempt("certFile", count("certFile", material.cert)) ??
    attempt("keyFile", () => createPrivateKey(material.key)) ??
    (material.ca ? attempt("clientCaFile", count("clientCaFile", material.ca)) : undefined) ??
    attempt("keyFile", () =>
      createSecureContext({
        cert: material.cert,
        key: material.key,
        ...(material.ca ? { ca: material.ca } : {}),
      }),
    )
  );
}

function digest(material: TlsMaterial): string {
  const hash = createHash("sha256");
  for (const part of [material.cert, material.key, material.ca ?? Buffer.alloc(0)]) {
    hash.update(String(part.length)).update(":").update(part);
  }
  return hash.digest("hex");
}

/** The server certificate's fingerprint and expiry, for logs. */
function describe(material: TlsMaterial): Record<string, string> {
  const [leaf] = certificatesOf(material.cert);
  return { fingerprint256: leaf?.fingerprint256 ?? "", not_after: leaf?.validTo ?? "" };
}

/** TLS settings shared by both listeners. */
export interface ListenerTls {
  readonly files: TlsFiles;
  /** With a client CA: refuse the handshake without a verified client certificate. */
  readonly requireClientCert: boolean;
}

/** The listeners' TLS from the `tls` section: undefined when TLS is off; throws E801 on bad files. */
export function listenerTlsFromConfig(config: TlsConfig): ListenerTls | undefined {
  if (!config.enabled) return undefined;
  return { files: TlsFiles.open(config), requireClientCert: config.requireClientCert };
}

/** The configured files of the `tls` section, loaded and watched. */
export class TlsFiles implements CertificateProvider {
  private material: TlsMaterial;
  private materialDigest: string;
  private rejectedDigest = "";
  private anchorList: X509Certificate[];
  private readonly caListeners = new Set<CaListener>();
  private readonly identityListeners = new Set<IdentityListener>();
  private readonly changeListeners = new Set<(material: TlsMaterial) => void>();
  private readonly timer: NodeJS.Timeout;
  private polling = false;

  private constructor(
    private readonly config: TlsConfig,
    material: TlsMaterial,
  ) {
    this.material = material;
    this.materialDigest = digest(material);
    this.anchorList = material.ca ? certificatesOf(material.ca) : [];
    this.timer = setInterval(() => void this.poll(), config.reloadIntervalMs);
    this.timer.unref();
  }

  /** Reads and checks the files now; throws a ConfigError (E801) naming the key at fault. */
  static open(config: TlsConfig): TlsFiles {
    const read = (file: FileKey): Buffer => {
      try {
        // eslint-disable-next-line security/detect-non-literal-fs-filename -- TLS file paths from operator configuration, never from a call
        return readFileSync(config[file]);
      } catch (error) {
        throw fileError(config, file, `cannot be read (${(error as NodeJS.ErrnoException).code ?? "error"})`);
      }
    };
    const material: TlsMaterial = {
      cert: read("certFile"),
      key: read("keyFile"),
      ca: config.clientCaFile === "" ? undefined : read("clientCaFile"),
    };
    const problem = problemOf(material);
    if (problem) throw fileError(config, problem.file, `is not usable: ${problem.problem}`);
    logger.info("TLS certificate loaded", { event: "tls_loaded", ...describe(material) });
    return new TlsFiles(config, material);
  }

  /** The material in force now. */
  current(): TlsMaterial {
    return this.material;
  }

  /** The certificates of the client CA bundle in force now. */
  anchors(): readonly X509Certificate[] {
    return this.anchorList;
  }

  /** Calls `listener` whenever a new valid set of files takes effect; returns an unsubscribe. */
  onChange(listener: (material: TlsMaterial) => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  /** Stops polling the files. */
  stop(): void {
    clearInterval(this.timer);
  }

  /** Re-reads the files once (also what the timer does); resolves when done. */
  async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const { certFile, keyFile, clientCaFile } = this.config;
      const [cert, key, ca] = await Promise.all([
        // eslint-disable-next-line security/detect-non-literal-fs-filename -- TLS file paths from operator configuration, never from a call
        readFile(certFile),
        // eslint-disable-next-line security/detect-non-literal-fs-filename -- TLS file paths from operator configuration, never from a call
        readFile(keyFile),
        // eslint-disable-next-line security/detect-non-literal-fs-filename -- TLS file paths from operator configuration, never from a call
        clientCaFile === "" ? undefined : readFile(clientCaFile),
      ]);
      const next: TlsMaterial = { cert, key, ca };
      const nextDigest = digest(next);
      if (nextDigest === this.materialDigest || nextDigest === this.rejectedDigest) return;
      const problem = problemOf(next);
      if (problem) {
        this.rejectedDigest = nextDigest;
        logger.error("TLS files rejected; the previous certificate stays in force", {
          event: "tls_reload_failed",
          error_code: "E801",
          key: `tls.${problem.file}`,
          error: problem.problem,
        });
        return;
      }
      this.material = next;
      this.materialDigest = nextDigest;
      this.anchorList = ca ? certificatesOf(ca) : [];
      logger.info("TLS certificate reloaded", { event: "tls_reloaded", ...describe(next) });
      this.publish();
    } catch (error) {
      // A file missing for a moment (mid-rotation): keep serving the current set, try again.
      logger.warn("TLS files could not be read; the current certificate stays in force", {
        event: "tls_reload_unreadable",
        error: error instanceof Error ? error.message : String(error),
      });
    } finally {
      this.polling = false;
    }
  }

  private publish(): void {
    for (const listener of this.identityListeners) listener(this.identityUpdate());
    for (const listener of this.caListeners) listener(this.caUpdate());
    for (const listener of this.changeListeners) listener(this.material);
  }

  private identityUpdate(): experimental.IdentityCertificateUpdate {
    return { certificate: this.material.cert, privateKey: this.material.key };
  }

  private caUpdate(): experimental.CaCertificateUpdate | null {
    return this.material.ca ? { caCertificate: this.material.ca } : null;
  }

  // grpc-js CertificateProvider: listeners get the current value at once (asynchronously, as
  // grpc-js's own FileWatcherCertificateProvider does) and every later change.
  addCaCertificateListener(listener: CaListener): void {
    this.caListeners.add(listener);
    process.nextTick(() => {
      if (this.caListeners.has(listener)) listener(this.caUpdate());
    });
  }
  removeCaCertificateListener(listener: CaListener): void {
    this.caListeners.delete(listener);
  }
  addIdentityCertificateListener(listener: IdentityListener): void {
    this.identityListeners.add(listener);
    process.nextTick(() => {
      if (this.identityListeners.has(listener)) listener(this.identityUpdate());
    });
  }
  removeIdentityCertificateListener(listener: IdentityListener): void {
    this.identityListeners.delete(listener);
  }
}

function fileError(config: TlsConfig, file: FileKey, problem: string): ConfigError {
  return invalidValue({
    key: `tls.${file}`,
    source: ENV[file],
    value: config[file],
    allowed: file === "keyFile" ? "a readable PEM private key file" : "a readable PEM certificate file",
    problem,
  });
}
