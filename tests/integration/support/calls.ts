/**
 * One way to call a unary RPC on either listener with a bearer secret, and get back the response
 * or the status and catalogue code (ErrorInfo metadata `code`). gRPC status numbers and Connect
 * codes are the same numbers, so outcomes compare across listeners.
 */
import type { DescService } from "@bufbuild/protobuf";
import { ConnectError } from "@connectrpc/connect";
import * as grpc from "@grpc/grpc-js";
import type { RunningApp } from "../../../src/app.js";
import { connectClient, connectErrorInfo, grpcClient, grpcErrorInfo, grpcUnary } from "./clients.js";

/** The two listeners. */
export type Listener = "grpc-js" | "connect";
export const LISTENERS: readonly Listener[] = ["grpc-js", "connect"];

/** The result of one call. */
export interface Outcome<T> {
  readonly response?: T;
  /** gRPC status / Connect code; undefined on success. */
  readonly status?: number;
  /** Catalogue code (E###) from ErrorInfo; undefined on success. */
  readonly code?: string;
}

/** Calls unary RPCs on one server; grpc-js channels are reused until `close`. */
export class Caller {
  private readonly grpcClients = new Map<DescService, grpc.Client & Record<string, unknown>>();

  constructor(private readonly app: RunningApp) {}

  async call<T = Record<string, unknown>>(
    listener: Listener,
    service: DescService,
    method: string,
    request: object,
    secret?: string,
  ): Promise<Outcome<T>> {
    if (listener === "grpc-js") {
      let client = this.grpcClients.get(service);
      if (!client) {
        client = grpcClient(service, this.app.grpcPort);
        this.grpcClients.set(service, client);
      }
      const metadata = new grpc.Metadata();
      if (secret !== undefined) metadata.set("authorization", `Bearer ${secret}`);
      const { response, error } = await grpcUnary(client, method, request, { metadata });
      if (!error) return { response: response as T };
      return { status: error.code, code: grpcErrorInfo(error)?.metadata.code ?? "missing" };
    }
    const client = connectClient(service, this.app.httpPort, "connect") as unknown as Record<
      string,
      (req: object, options: object) => Promise<unknown>
    >;
    const fn = client[method];
    if (!fn) throw new Error(`no method ${method}`);
    try {
      const response = await fn(request, {
        headers: secret === undefined ? {} : { authorization: `Bearer ${secret}` },
      });
      return { response: response as T };
    } catch (error) {
      return {
        status: ConnectError.from(error).code,
        code: connectErrorInfo(error)?.metadata.code ?? "missing",
      };
    }
  }

  close(): void {
    for (const client of this.grpcClients.values()) client.close();
    this.grpcClients.clear();
  }
}
