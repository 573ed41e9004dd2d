/**
 * The standard `grpc.health.v1.Health` service, written once and mounted on both listeners.
 * Check and List are cheap reads of the registry; Watch streams every change.
 */
import type { ServiceImpl } from "@connectrpc/connect";
import { Health } from "../../gen/grpc/health/v1/health_pb.js";
import { MlsdmError } from "../../telemetry/errors/index.js";
import type { HealthRegistry } from "./health-registry.js";

/** Builds the Health implementation over `registry`. */
export function createHealthService(registry: HealthRegistry): ServiceImpl<typeof Health> {
  return {
    check(request) {
      const status = registry.get(request.service);
      if (status === undefined) {
        throw new MlsdmError("SERVICE_UNKNOWN", { metadata: { service: request.service.slice(0, 256) } });
      }
      return { status };
    },
    list() {
      return {
        statuses: Object.fromEntries(registry.entries().map(([name, status]) => [name, { status }])),
      };
    },
    async *watch(request, context) {
      for await (const status of registry.watch(request.service, context.signal)) {
        yield { status };
      }
    },
  };
}

export { Health };
