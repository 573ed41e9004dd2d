/**
 * A connect `HandlerContext` for policy unit tests: the call's method (GetState by default),
 * request headers, the caller's identity and any other context values, without a network.
 */
import type { DescMethod } from "@bufbuild/protobuf";
import { createContextValues, createHandlerContext, type ContextValues } from "@connectrpc/connect";
import { EngineService } from "../../../src/gen/mlsdm/v1/engine_pb.js";
import { IDENTITY, type Identity } from "../../../src/policy/identity.js";

export interface PolicyContextOptions {
  readonly method?: DescMethod;
  readonly headers?: Record<string, string>;
  readonly identity?: Identity | undefined;
  /** Sets further context values (peer certificate, listener, ...). */
  readonly values?: (values: ContextValues) => void;
}

/** A handler context as the policy chain sees it before the handler runs. */
export function policyContext(options: PolicyContextOptions = {}) {
  const method = options.method ?? EngineService.method.getState;
  const values = createContextValues();
  if (options.identity) values.set(IDENTITY, options.identity);
  options.values?.(values);
  return createHandlerContext({
    service: method.parent,
    method,
    protocolName: "test",
    requestMethod: "POST",
    url: "http://test/",
    contextValues: values,
    ...(options.headers ? { requestHeader: options.headers } : {}),
  });
}
