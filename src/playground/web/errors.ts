/**
 * What the playground shows of a failed call: the Connect code, the message, and the details
 * MLSDM attaches (google.rpc.ErrorInfo with the catalogue code, google.rpc.RetryInfo), read with
 * `ConnectError.findDetails` and the generated schemas. The same for Connect and gRPC-Web.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { ErrorInfoSchema, RetryInfoSchema } from "../../gen/google/rpc/error_details_pb.js";

/** A failed call, ready to display. */
export interface ShownError {
  /** Connect code name in snake_case, for example "unavailable". */
  readonly code: string;
  /** The server's message (without the "[code]" prefix). */
  readonly message: string;
  /** ErrorInfo.reason, for example "EMERGENCY_SHUTDOWN". */
  readonly reason?: string;
  /** ErrorInfo.metadata.code: the catalogue code, for example "E701". */
  readonly catalogueCode?: string;
  /** RetryInfo.retry_delay in milliseconds, when the server says a retry helps. */
  readonly retryAfterMs?: number;
}

function snakeCase(code: Code): string {
  return Code[code].replace(/([a-z])([A-Z])/g, "$1_$2").toLowerCase();
}

/** Turns anything a call threw into what the page shows. */
export function showError(error: unknown): ShownError {
  const connect = ConnectError.from(error);
  const info = connect.findDetails(ErrorInfoSchema)[0];
  const retry = connect.findDetails(RetryInfoSchema)[0];
  const delay = retry?.retryDelay;
  return {
    code: snakeCase(connect.code),
    message: connect.rawMessage,
    ...(info ? { reason: info.reason, catalogueCode: info.metadata.code } : {}),
    ...(delay ? { retryAfterMs: Number(delay.seconds) * 1000 + Math.round(delay.nanos / 1e6) } : {}),
  };
}

/** One line for the page: "unavailable E701 EMERGENCY_SHUTDOWN: message (retry in 5 s)". */
export function errorLine(shown: ShownError): string {
  const head = [shown.code, shown.catalogueCode, shown.reason].filter((part) => part).join(" ");
  const retry =
    shown.retryAfterMs === undefined ? "" : ` (retry in ${(shown.retryAfterMs / 1000).toFixed(1)} s)`;
  return `${head}: ${shown.message}${retry}`;
}
