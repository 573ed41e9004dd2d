/**
 * Interceptors that add headers: `x-request-id` (one id per call, kept across retries, so the
 * server's logs and the client's error name the same call) and the API key
 * (`authorization: Bearer <key>`), unless the caller set them already.
 */
import { randomUUID } from "node:crypto";
import type { Interceptor } from "@connectrpc/connect";
import { callState } from "./call-state.js";

/** The request-id header both listeners read and echo. */
export const REQUEST_ID_HEADER = "x-request-id";

/** Sets `x-request-id` (a UUID, or the caller's) and records it in the call state. */
export function requestIdInterceptor(newId: () => string = randomUUID): Interceptor {
  return (next) => (req) => {
    const state = callState(req.contextValues);
    const id = req.header.get(REQUEST_ID_HEADER) ?? state.requestId ?? newId();
    req.header.set(REQUEST_ID_HEADER, id);
    state.requestId = id;
    return next(req);
  };
}

/** Presents `apiKey` as a bearer token unless the call carries its own credential. */
export function apiKeyInterceptor(apiKey: string | (() => string)): Interceptor {
  return (next) => (req) => {
    if (!req.header.has("authorization") && !req.header.has("x-api-key")) {
      req.header.set("authorization", `Bearer ${typeof apiKey === "function" ? apiKey() : apiKey}`);
    }
    return next(req);
  };
}
