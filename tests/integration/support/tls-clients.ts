/**
 * TLS test support: the test PKI made by deploy/tls/make-test-certs.sh, and one call helper
 * that reaches a method through the grpc-js listener (grpc-js client) or the Connect listener
 * (connect-node over HTTP/2 with the gRPC protocol, or HTTP/1.1 with the Connect protocol),
 * presenting an optional client certificate and bearer key.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { connect as tlsConnect } from "node:tls";
import { fileURLToPath } from "node:url";
import type { DescService } from "@bufbuild/protobuf";
import { ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import { serviceDefinition } from "../../../src/transport/grpc/service-definition.js";
import { connectErrorInfo, grpcErrorInfo, grpcUnary } from "./clients.js";

const SCRIPT = fileURLToPath(new URL("../../../deploy/tls/make-test-certs.sh", import.meta.url));

/** Runs the repository's test-certificate script into a fresh directory and returns it. */
export function makeTestCerts(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "mlsdm-tls-"));
  execFileSync("bash", [SCRIPT, dir], { stdio: "pipe", timeout: 60_000 });
  return dir;
}

/** A client's TLS material: the CA that signs the server, and an optional client certificate. */
export interface ClientTls {
  readonly ca: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
}

/** The test CA plus client certificate `name` (client-<name>.pem/.key; "other-client" too). */
export function clientTls(dir: string, name?: string): ClientTls {
  const ca = readFileSync(path.join(dir, "ca.pem"));
  if (name === undefined) return { ca };
  const file = name === "other-client" ? name : `client-${name}`;
  return {
    ca,
    cert: readFileSync(path.join(dir, `${file}.pem`)),
    key: readFileSync(path.join(dir, `${file}.key`)),
  };
}

/** How a test reaches the server. */
export type Door = "grpc-js" | "connect-h2" | "connect-h1";
export const DOORS: readonly Door[] = ["grpc-js", "connect-h2", "connect-h1"];

/** The outcome of one call: status 0 and the response, or the status and catalogue code. */
export interface Outcome {
  readonly status: number;
  readonly code?: string | undefined;
  readonly message?: string;
  readonly response?: unknown;
}

/** Calls `service.method` through `door` with TLS. Ports: the listener `door` needs. */
export async function tlsCall(options: {
  door: Door;
  ports: { grpc: number; http: number };
  service: DescService;
  method: string;
  request: unknown;
  tls: ClientTls;
  bearer?: string;
}): Promise<Outcome> {
  const { door, service, method, tls } = options;
  if (door === "grpc-js") {
    const Ctor = grpc.makeGenericClientConstructor(serviceDefinition(service), service.name);
    const client = new Ctor(
      `127.0.0.1:${options.ports.grpc}`,
      grpc.credentials.createSsl(tls.ca, tls.key ?? null, tls.cert ?? null),
      { "grpc.ssl_target_name_override": "localhost", "grpc.default_authority": "localhost" },
    );
    const metadata = new grpc.Metadata();
    if (options.bearer) metadata.set("authorization", `Bearer ${options.bearer}`);
    try {
      const result = await grpcUnary(client, method, options.request, { metadata, deadlineMs: 10_000 });
      if (!result.error) return { status: 0, response: result.response };
      return {
        status: result.error.code,
        code: grpcErrorInfo(result.error)?.metadata.code,
        message: result.error.details,
      };
    } finally {
      client.close();
    }
  }
  const nodeOptions = { ca: tls.ca, ...(tls.cert ? { cert: tls.cert, key: tls.key } : {}) };
  const baseUrl = `https://127.0.0.1:${options.ports.http}`;
  const transport =
    door === "connect-h2"
      ? createGrpcTransport({ baseUrl, nodeOptions })
      : createConnectTransport({
          baseUrl,
          httpVersion: "1.1",
          nodeOptions: { ...nodeOptions, agent: false },
        });
  const client = createClient(service, transport) as unknown as Record<
    string,
    (request: unknown, options: { headers: Record<string, string>; timeoutMs: number }) => Promise<unknown>
  >;
  const call = client[method];
  if (!call) throw new Error(`no method ${method}`);
  const headers: Record<string, string> = options.bearer ? { authorization: `Bearer ${options.bearer}` } : {};
  try {
    return { status: 0, response: await call(options.request, { headers, timeoutMs: 10_000 }) };
  } catch (error) {
    const connectError = ConnectError.from(error);
    return {
      status: connectError.code,
      code: connectErrorInfo(error)?.metadata.code,
      message: connectError.message,
    };
  }
}

/** The SHA-256 fingerprint of the certificate a new TLS connection to `port` is served. */
export function servedFingerprint(port: number, tls: ClientTls, alpn: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({
      host: "127.0.0.1",
      port,
      servername: "localhost",
      ca: tls.ca,
      ...(tls.cert ? { cert: tls.cert, key: tls.key } : {}),
      ALPNProtocols: alpn,
    });
    socket.once("secureConnect", () => {
      const fingerprint = socket.getPeerCertificate().fingerprint256;
      socket.destroy();
      resolve(fingerprint);
    });
    socket.once("error", reject);
  });
}

/**
 * Opens a TLS connection offering h2 and reports how the server took it: "accepted" once the
 * server speaks (its HTTP/2 SETTINGS), or the code of the TLS alert or error it ended with.
 */
export function handshake(port: number, tls: ClientTls): Promise<string> {
  return new Promise((resolve) => {
    const socket = tlsConnect({
      host: "127.0.0.1",
      port,
      servername: "localhost",
      ca: tls.ca,
      ...(tls.cert ? { cert: tls.cert, key: tls.key } : {}),
      ALPNProtocols: ["h2"],
    });
    const done = (result: string) => {
      socket.destroy();
      resolve(result);
    };
    socket.once("data", () => {
      done("accepted");
    });
    socket.once("error", (error: NodeJS.ErrnoException) => {
      done(error.code ?? error.message);
    });
    socket.once("close", () => {
      done("closed");
    });
    socket.setTimeout(5_000, () => {
      done("timeout");
    });
  });
}
