/**
 * The playground's clients: EngineService and AdminService over the Connect protocol (JSON) or
 * gRPC-Web (binary), built with connect-web from the generated descriptors, with the API key
 * from the page sent as `authorization: Bearer <key>`.
 */
import { createClient, type Client, type Interceptor, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-web";
import { AdminService } from "../../gen/mlsdm/v1/admin_pb.js";
import { EngineService } from "../../gen/mlsdm/v1/engine_pb.js";

/** The wire protocols the page offers. */
export type Protocol = "connect" | "grpc-web";

/** The clients of one protocol, server and key. */
export interface Clients {
  readonly engine: Client<typeof EngineService>;
  readonly admin: Client<typeof AdminService>;
}

/** Where and how to call. */
export interface ClientSettings {
  readonly baseUrl: string;
  readonly protocol: Protocol;
  /** Empty: no credential (a loopback server without identity sources serves that as admin). */
  readonly apiKey: string;
}

function bearer(apiKey: string): Interceptor {
  return (next) => async (request) => {
    // eslint-disable-next-line security/detect-possible-timing-attacks -- an emptiness check, not a secret comparison
    if (apiKey !== "") request.header.set("authorization", `Bearer ${apiKey}`);
    return next(request);
  };
}

function transportFor(settings: ClientSettings): Transport {
  const interceptors = [bearer(settings.apiKey.trim())];
  return settings.protocol === "grpc-web"
    ? createGrpcWebTransport({ baseUrl: settings.baseUrl, interceptors })
    : createConnectTransport({ baseUrl: settings.baseUrl, interceptors });
}

/** Clients for the settings. */
export function clientsFor(settings: ClientSettings): Clients {
  const transport = transportFor(settings);
  return { engine: createClient(EngineService, transport), admin: createClient(AdminService, transport) };
}
