/**
 * Values each transport adapter puts on a call's context for the transport-neutral layers:
 * which listener the call came through (the protocol name alone cannot tell: both listeners
 * speak gRPC).
 */
import { createContextKey } from "@connectrpc/connect";
import type { ListenerName } from "../telemetry/metrics/rpc-metrics.js";

/** The listener a call arrived on. */
export const LISTENER = createContextKey<ListenerName>("connect", { description: "mlsdm listener" });
