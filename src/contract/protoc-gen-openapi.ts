/**
 * protoc plugin (run by `buf generate --template buf.gen.openapi.yaml`): writes `openapi.yaml`,
 * the OpenAPI 3.1 document of the Connect JSON surface, for the files buf asks it to generate.
 * Built on `@bufbuild/protoplugin`'s plain `Plugin` interface, since the output is YAML, not code.
 */
import { create, createFileRegistry } from "@bufbuild/protobuf";
import {
  CodeGeneratorResponse_Feature,
  CodeGeneratorResponseSchema,
  FileDescriptorSetSchema,
} from "@bufbuild/protobuf/wkt";
import { runNodeJs, type Plugin } from "@bufbuild/protoplugin";
import { stringify } from "yaml";
import { VERSION } from "../version.js";
import { buildOpenApi } from "./openapi.js";

const HEADER =
  "# The OpenAPI 3.1 document of MLSDM's Connect JSON surface. Generated from proto/ by\n" +
  "# src/contract/protoc-gen-openapi.ts: do not edit, run `npm run generate`.\n";

const plugin: Plugin = {
  name: "protoc-gen-mlsdm-openapi",
  version: VERSION,
  run(request) {
    const registry = createFileRegistry(create(FileDescriptorSetSchema, { file: request.protoFile }));
    const files = request.fileToGenerate.map((name) => {
      const file = registry.getFile(name);
      if (!file) throw new Error(`protoc-gen-mlsdm-openapi: ${name} is not in the request`);
      return file;
    });
    const document = buildOpenApi(files, {
      title: "MLSDM Connect API",
      version: VERSION,
      serverUrl: "http://127.0.0.1:8080",
    });
    const content = HEADER + stringify(document, { lineWidth: 0, aliasDuplicateObjects: false });
    return create(CodeGeneratorResponseSchema, {
      supportedFeatures: BigInt(CodeGeneratorResponse_Feature.PROTO3_OPTIONAL),
      file: [{ name: "openapi.yaml", content }],
    });
  },
};

runNodeJs(plugin);
