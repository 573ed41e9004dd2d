/**
 * Deprecation notice (DOC-002, docs/api-versioning.md): a call to an RPC the contract marks
 * `deprecated` (on the method, its service or its file) carries the response trailer
 * `x-mlsdm-deprecated` on both listeners (a gRPC trailer on grpc-js; a trailer on Connect
 * streaming and gRPC-Web, a `trailer-` header on Connect unary), so clients and proxies can log
 * it. Nothing in `mlsdm.v1` is deprecated today: the trailer appears with the first deprecation.
 */
import type { DescMethod } from "@bufbuild/protobuf";
import type { Policy } from "./policy.js";

/** The trailer that names a deprecated RPC. */
export const DEPRECATION_TRAILER = "x-mlsdm-deprecated";

/** The notice for a method, or undefined when neither it, its service nor its file is deprecated. */
export function deprecationNotice(method: DescMethod): string | undefined {
  const service = method.parent;
  if (!method.deprecated && !service.deprecated && !service.file.deprecated) return undefined;
  return `${service.typeName}/${method.name} is deprecated; see docs/api-versioning.md for its replacement and removal date`;
}

/** Sets the deprecation trailer on calls to deprecated RPCs; never refuses a call. */
export const deprecation: Policy = (context) => {
  const notice = deprecationNotice(context.method);
  if (notice !== undefined) context.responseTrailer.set(DEPRECATION_TRAILER, notice);
};
