/**
 * An honest placeholder implementation: every method of the contract answers UNIMPLEMENTED
 * with the catalogue error NOT_IMPLEMENTED (never fake data). Later work replaces methods
 * one by one by spreading a partial implementation over this one.
 */
import type { DescService } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import { MlsdmError } from "../telemetry/errors/index.js";

function notImplemented(service: DescService, method: string): MlsdmError {
  return new MlsdmError("NOT_IMPLEMENTED", {
    detail: `${service.typeName}/${method}`,
    metadata: { method: `${service.typeName}/${method}` },
  });
}

/** A ServiceImpl of `service` whose every method rejects with NOT_IMPLEMENTED. */
export function notImplementedService<S extends DescService>(service: S): ServiceImpl<S> {
  const impl: Record<string, unknown> = {};
  for (const method of service.methods) {
    impl[method.localName] =
      method.methodKind === "unary"
        ? () => {
            throw notImplemented(service, method.name);
          }
        : // eslint-disable-next-line require-yield -- a stream that fails before its first message
          async function* () {
            await Promise.resolve();
            throw notImplemented(service, method.name);
          };
  }
  return impl as ServiceImpl<S>;
}
