/**
 * The MLSDM client library (`mlsdm/client`): typed clients over gRPC, Connect and gRPC-Web,
 * the one error class, and the request-signing helpers. docs/client.md shows how to use it.
 * Imports only the generated code and libraries, never the server's layers.
 */
export { createMlsdmClient, type MlsdmClient, type MlsdmClientOptions } from "./create-client.js";
export {
  ERROR_DOMAIN,
  MlsdmError,
  statusName,
  type MlsdmErrorContext,
  type MlsdmErrorDetails,
  type MlsdmFieldViolation,
} from "./errors.js";
export { retryInfoDelayMs, retryWaitMs, type RetryPolicy } from "./retry.js";
export {
  parseServerUrl,
  ServerUrlError,
  type ClientTlsOptions,
  type ServerAddress,
  type TransportKind,
} from "./transport.js";
export { REQUEST_ID_HEADER } from "./headers.js";
export {
  connectSigningInterceptor,
  grpcSigningInterceptor,
  signRequest,
  type KeySource,
  type SigningKey,
} from "./signing.js";
export { Health } from "../gen/grpc/health/v1/health_pb.js";
export { AdminService } from "../gen/mlsdm/v1/admin_pb.js";
export { EngineService } from "../gen/mlsdm/v1/engine_pb.js";
