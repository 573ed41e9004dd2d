/**
 * The deprecation trailer of DOC-002: set for an RPC deprecated on the method, the service or the
 * file, and never for the live mlsdm.v1 contract (nothing is deprecated there yet).
 */
import { create, createFileRegistry, type DescMethod } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema, FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { createHandlerContext } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { AdminService } from "../../src/gen/mlsdm/v1/admin_pb.js";
import { EngineService } from "../../src/gen/mlsdm/v1/engine_pb.js";
import { DEPRECATION_TRAILER, deprecation, deprecationNotice } from "../../src/policy/deprecation.js";

/** A one-service file `old.v1.OldService` with methods `Live` and `Gone` (deprecated as asked). */
function oldMethod(where: "method" | "service" | "file" | "none", name = "Gone"): DescMethod {
  const file = create(FileDescriptorProtoSchema, {
    name: `old/v1/${where}.proto`,
    package: "old.v1",
    syntax: "proto3",
    options: { deprecated: where === "file" },
    messageType: [{ name: "Empty" }],
    service: [
      {
        name: "OldService",
        options: { deprecated: where === "service" },
        method: [
          { name: "Live", inputType: ".old.v1.Empty", outputType: ".old.v1.Empty" },
          {
            name: "Gone",
            inputType: ".old.v1.Empty",
            outputType: ".old.v1.Empty",
            options: { deprecated: where === "method" },
          },
        ],
      },
    ],
  });
  const registry = createFileRegistry(create(FileDescriptorSetSchema, { file: [file] }));
  const service = registry.getService("old.v1.OldService");
  const method = service?.methods.find((m) => m.name === name);
  if (method === undefined) throw new Error("no method");
  return method;
}

function trailerAfter(method: DescMethod): string | null {
  const context = createHandlerContext({
    service: method.parent,
    method,
    protocolName: "test",
    requestMethod: "POST",
    url: "http://test/",
  });
  void deprecation(context, {});
  return context.responseTrailer.get(DEPRECATION_TRAILER);
}

describe("deprecation trailer", () => {
  it("is set when the method, its service or its file is deprecated", () => {
    for (const where of ["method", "service", "file"] as const) {
      expect(trailerAfter(oldMethod(where)), where).toMatch(/^old\.v1\.OldService\/Gone is deprecated; see /);
    }
    expect(trailerAfter(oldMethod("method", "Live"))).toBeNull();
    expect(trailerAfter(oldMethod("none"))).toBeNull();
  });

  it("is not set for any RPC of mlsdm.v1 today", () => {
    for (const service of [EngineService, AdminService]) {
      for (const method of service.methods) expect(deprecationNotice(method), method.name).toBeUndefined();
    }
  });
});
