/**
 * A grpc-js service definition built from a protobuf-es service descriptor: one code
 * generator serves both listeners, grpc-js (de)serialises with protobuf-es
 * `toBinary`/`fromBinary`. Serialisers accept message init shapes (plain objects) too, so
 * handlers and test clients need not call `create` themselves.
 */
import { create, fromBinary, toBinary, type DescMethod, type DescService } from "@bufbuild/protobuf";
import type { MethodDefinition, ServiceDefinition } from "@grpc/grpc-js";

/**
 * What the request deserialiser returns for bytes that are not a valid message. grpc-js
 * answers INTERNAL when a deserialiser throws; returning a marker instead lets the handler
 * answer INVALID_ARGUMENT (MALFORMED_REQUEST) like the Connect listener does.
 */
export class MalformedRequest {
  constructor(
    readonly reason: string,
    /** Whether the bytes were refused for their size rather than their content. */
    readonly tooLarge = false,
  ) {}
}

function methodDefinition(
  service: DescService,
  method: DescMethod,
  maxMessageBytes: number,
): MethodDefinition<unknown, unknown> {
  return {
    path: `/${service.typeName}/${method.name}`,
    requestStream: method.methodKind === "client_streaming" || method.methodKind === "bidi_streaming",
    responseStream: method.methodKind === "server_streaming" || method.methodKind === "bidi_streaming",
    originalName: method.localName,
    requestSerialize: (message) =>
      Buffer.from(toBinary(method.input, create(method.input, message as never))),
    requestDeserialize: (bytes: Buffer) => {
      if (bytes.length > maxMessageBytes) {
        return new MalformedRequest(
          `request of ${bytes.length} bytes exceeds the limit of ${maxMessageBytes} bytes`,
          true,
        );
      }
      try {
        return fromBinary(method.input, bytes);
      } catch (error) {
        return new MalformedRequest(error instanceof Error ? error.message : "undecodable message");
      }
    },
    responseSerialize: (message) =>
      Buffer.from(toBinary(method.output, create(method.output, message as never))),
    responseDeserialize: (bytes: Buffer) => fromBinary(method.output, bytes),
  };
}

/**
 * The grpc-js definition of `service`, keyed by each method's local (camelCase) name.
 * Requests over `maxMessageBytes` become a too-large marker (answered INVALID_ARGUMENT E107);
 * the transport's own hard cap sits above it (see server.ts).
 */
export function serviceDefinition(
  service: DescService,
  maxMessageBytes = Number.MAX_SAFE_INTEGER,
): ServiceDefinition {
  const definition: Record<string, MethodDefinition<unknown, unknown>> = {};
  for (const method of service.methods) {
    definition[method.localName] = methodDefinition(service, method, maxMessageBytes);
  }
  return definition;
}
