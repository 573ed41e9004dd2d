/**
 * RPC metrics, identical for both listeners (OBS-002 names): requests by method, gRPC code
 * and listener; latency; calls in flight.
 */
import type { Metrics } from "./registry.js";

/** Which door a call came through. */
export type ListenerName = "grpc" | "connect";

/** Records one finished call and tracks calls in flight. */
export interface RpcMetrics {
  started(method: string, listener: ListenerName): void;
  finished(method: string, listener: ListenerName, code: string, seconds: number): void;
}

/** Registers the RPC metrics on `metrics`. */
export function createRpcMetrics(metrics: Metrics): RpcMetrics {
  const requests = metrics.counter({
    name: "mlsdm_rpc_requests_total",
    help: "RPCs finished, by method, gRPC status code name and listener.",
    labels: ["method", "code", "listener"],
  });
  const duration = metrics.histogram({
    name: "mlsdm_rpc_duration_seconds",
    help: "RPC latency from the handler's start to its result, seconds.",
    labels: ["method", "listener"],
  });
  const inFlight = new Map<string, number>();
  const gauge = metrics.gauge({
    name: "mlsdm_rpc_in_flight",
    help: "RPCs running now, by listener.",
    labels: ["listener"],
  });
  const move = (listener: ListenerName, by: number): void => {
    const next = (inFlight.get(listener) ?? 0) + by;
    inFlight.set(listener, next);
    gauge({ listener }, next);
  };
  return {
    started(_method, listener) {
      move(listener, 1);
    },
    finished(method, listener, code, seconds) {
      move(listener, -1);
      requests({ method, code, listener }, 1);
      duration({ method, listener }, seconds);
    },
  };
}
