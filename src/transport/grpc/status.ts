/**
 * ConnectError → grpc-js status. Uses connect's own `setTrailerStatus`, the function its
 * gRPC protocol handler uses, so `grpc-status-details-bin` (a google.rpc.Status with
 * ErrorInfo, RetryInfo, ...) is byte-for-byte what the Connect listener sends for gRPC.
 */
import { ConnectError, decodeBinaryHeader } from "@connectrpc/connect";
import { setTrailerStatus } from "@connectrpc/connect/protocol-grpc";
import { Metadata, type ServerErrorResponse, type status as Status, type StatusObject } from "@grpc/grpc-js";

/** Copies HTTP-style headers into grpc-js metadata (binary `-bin` values are base64 in Headers). */
export function headersToMetadata(headers: Headers, target = new Metadata()): Metadata {
  headers.forEach((value, key) => {
    if (key === "grpc-status" || key === "grpc-message") return;
    if (key.endsWith("-bin")) {
      for (const part of value.split(/,\s*/)) target.add(key, Buffer.from(decodeBinaryHeader(part)));
    } else {
      target.add(key, value);
    }
  });
  return target;
}

/** The grpc-js error for `error` (expected to be a ConnectError already), with extra trailers. */
export function toGrpcError(error: unknown, extraTrailers?: Headers): ServerErrorResponse & StatusObject {
  const connectError = ConnectError.from(error);
  const trailers = setTrailerStatus(new Headers(connectError.metadata), connectError);
  const metadata = headersToMetadata(trailers);
  if (extraTrailers) headersToMetadata(extraTrailers, metadata);
  return Object.assign(new Error(connectError.rawMessage), {
    // Connect's Code values are gRPC's status numbers by definition (both follow the gRPC spec).
    // eslint-disable-next-line @typescript-eslint/no-unsafe-enum-assignment, @typescript-eslint/no-unnecessary-type-assertion
    code: connectError.code as number as Status,
    details: connectError.rawMessage,
    metadata,
  });
}
