/**
 * Server reflection for the grpc-js listener (grpcurl, buf curl, Postman). @grpc/reflection
 * expects a proto-loader package definition; it only reads `fileDescriptorProtos`, so we
 * hand it the serialised file descriptors embedded in the protobuf-es generated code.
 */
import { toBinary, type DescFile, type DescService } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import type { Server } from "@grpc/grpc-js";
import { ReflectionService } from "@grpc/reflection";

function collectFiles(file: DescFile, into: Map<string, DescFile>): void {
  if (into.has(file.name)) return;
  into.set(file.name, file);
  for (const dependency of file.dependencies) collectFiles(dependency, into);
}

/** Adds the reflection service (v1 and v1alpha) describing `services` to `server`. */
export function addReflection(server: Server, services: readonly DescService[]): void {
  const files = new Map<string, DescFile>();
  for (const service of services) collectFiles(service.file, files);
  const fileDescriptorProtos = [...files.values()].map((file) =>
    Buffer.from(toBinary(FileDescriptorProtoSchema, file.proto)),
  );
  const packageDefinition = Object.fromEntries(
    services.map((service) => [
      service.typeName,
      {
        format: "Protocol Buffer 3 DescriptorProto",
        type: {},
        fileDescriptorProtos,
      },
    ]),
  );
  new ReflectionService(packageDefinition as never, {
    services: services.map((service) => service.typeName),
  }).addToServer(server);
}
