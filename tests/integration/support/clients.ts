/**
 * The three kinds of client the integration tests call the server with: grpc-js, connect
 * (Connect, gRPC-Web and gRPC protocols), and `buf curl`.
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { fromBinary, type DescService } from "@bufbuild/protobuf";
import { anyUnpack } from "@bufbuild/protobuf/wkt";
import { ConnectError, createClient, type Client } from "@connectrpc/connect";
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import {
  ErrorInfoSchema,
  RetryInfoSchema,
  type ErrorInfo,
} from "../../../src/gen/google/rpc/error_details_pb.js";
import { StatusSchema } from "../../../src/gen/google/rpc/status_pb.js";
import { serviceDefinition } from "../../../src/transport/grpc/service-definition.js";

/** Which protocol a connect client speaks to the HTTP listener. */
export type ConnectProtocol = "connect" | "grpc-web" | "grpc";

/** A connect client for `service` on the HTTP listener. */
export function connectClient<S extends DescService>(
  service: S,
  port: number,
  protocol: ConnectProtocol,
): Client<S> {
  const baseUrl = `http://127.0.0.1:${port}`;
  const transport =
    protocol === "connect"
      ? createConnectTransport({ baseUrl, httpVersion: "1.1" })
      : protocol === "grpc-web"
        ? createGrpcWebTransport({ baseUrl, httpVersion: "1.1" })
        : createGrpcTransport({ baseUrl });
  return createClient(service, transport);
}

/** A grpc-js generic client for `service` (methods keyed by local name, callback style). */
export function grpcClient(service: DescService, port: number): grpc.Client & Record<string, unknown> {
  const Ctor = grpc.makeGenericClientConstructor(serviceDefinition(service), service.name);
  return new Ctor(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
}

/** Calls a unary method on a grpc-js client and resolves with the response or the ServiceError. */
export function grpcUnary(
  client: grpc.Client & Record<string, unknown>,
  method: string,
  request: unknown,
  options: { metadata?: grpc.Metadata; deadlineMs?: number } = {},
): Promise<{ response?: unknown; error?: grpc.ServiceError }> {
  return new Promise((resolve) => {
    const fn = client[method] as (
      req: unknown,
      md: grpc.Metadata,
      opts: grpc.CallOptions,
      cb: (err: grpc.ServiceError | null, res?: unknown) => void,
    ) => void;
    const callOptions: grpc.CallOptions = options.deadlineMs
      ? { deadline: Date.now() + options.deadlineMs }
      : {};
    fn.call(client, request, options.metadata ?? new grpc.Metadata(), callOptions, (err, res) => {
      resolve(err ? { error: err } : { response: res });
    });
  });
}

/** The ErrorInfo inside a grpc-js error's `grpc-status-details-bin` trailer. */
export function grpcErrorInfo(error: grpc.ServiceError): ErrorInfo | undefined {
  const [bin] = error.metadata.get("grpc-status-details-bin");
  if (!(bin instanceof Buffer)) return undefined;
  const status = fromBinary(StatusSchema, bin);
  for (const detail of status.details) {
    const info = anyUnpack(detail, ErrorInfoSchema);
    if (info) return info;
  }
  return undefined;
}

/** Whether a grpc-js error carries a RetryInfo detail. */
export function grpcHasRetryInfo(error: grpc.ServiceError): boolean {
  const [bin] = error.metadata.get("grpc-status-details-bin");
  if (!(bin instanceof Buffer)) return false;
  return fromBinary(StatusSchema, bin).details.some((d) => anyUnpack(d, RetryInfoSchema) !== undefined);
}

/** The ErrorInfo of a ConnectError (any protocol). */
export function connectErrorInfo(error: unknown): ErrorInfo | undefined {
  return ConnectError.from(error).findDetails(ErrorInfoSchema)[0];
}

const BUF = fileURLToPath(new URL("../../../node_modules/.bin/buf", import.meta.url));

/** Runs `buf curl` (from the @bufbuild/buf package) and returns stdout, stderr and exit code. */
export async function bufCurl(args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(BUF, ["curl", ...args], { timeout: 20_000 });
    return { stdout, stderr, code: 0 };
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; code?: number };
    return { stdout: e.stdout ?? "", stderr: e.stderr ?? "", code: typeof e.code === "number" ? e.code : 1 };
  }
}
