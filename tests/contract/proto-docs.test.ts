/**
 * Every element of the `mlsdm.v1` contract is documented (DOC-004, BASE-DOC-a): each message,
 * field, oneof, enum, enum value, service, RPC and extension in a file under `mlsdm/v1/` has a
 * leading comment. The API reference is generated from these comments, so a missing one is a
 * hole in the published docs.
 *
 * The check reads the source info of a `buf build` image rather than parsing .proto text.
 */
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { clone, fromBinary } from "@bufbuild/protobuf";
import {
  FileDescriptorSetSchema,
  type DescriptorProto,
  type EnumDescriptorProto,
  type FileDescriptorProto,
  type FileDescriptorSet,
} from "@bufbuild/protobuf/wkt";
import { beforeAll, describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const BUF = join(ROOT, "node_modules", ".bin", "buf");
const CONTRACT_DIR = "mlsdm/v1/";

// Field numbers of descriptor.proto, which make up SourceCodeInfo.Location paths.
const FILE_MESSAGE = 4;
const FILE_ENUM = 5;
const FILE_SERVICE = 6;
const FILE_EXTENSION = 7;
const MESSAGE_FIELD = 2;
const MESSAGE_NESTED = 3;
const MESSAGE_ENUM = 4;
const MESSAGE_EXTENSION = 6;
const MESSAGE_ONEOF = 8;
const ENUM_VALUE = 2;
const SERVICE_METHOD = 2;

/** An element of a .proto file that must carry a leading comment. */
interface Element {
  readonly kind: string;
  readonly name: string;
  readonly path: readonly number[];
}

function elementsOfEnum(e: EnumDescriptorProto, prefix: string, at: number[]): Element[] {
  const name = `${prefix}${e.name}`;
  return [
    { kind: "enum", name, path: at },
    ...e.value.map((v, i) => ({
      kind: "enum value",
      name: `${name}.${v.name}`,
      path: [...at, ENUM_VALUE, i],
    })),
  ];
}

function elementsOfMessage(m: DescriptorProto, prefix: string, at: number[]): Element[] {
  // Map fields get a synthetic nested *Entry message that has no source of its own.
  if (m.options?.mapEntry) return [];
  const name = `${prefix}${m.name}`;
  const out: Element[] = [{ kind: "message", name, path: at }];
  m.field.forEach((f, i) =>
    out.push({ kind: "field", name: `${name}.${f.name}`, path: [...at, MESSAGE_FIELD, i] }),
  );
  m.oneofDecl.forEach((o, i) => {
    // proto3 `optional` creates a synthetic oneof with no source of its own.
    const synthetic = m.field.some((f) => f.oneofIndex === i && f.proto3Optional);
    if (!synthetic) out.push({ kind: "oneof", name: `${name}.${o.name}`, path: [...at, MESSAGE_ONEOF, i] });
  });
  m.nestedType.forEach((n, i) => out.push(...elementsOfMessage(n, `${name}.`, [...at, MESSAGE_NESTED, i])));
  m.enumType.forEach((e, i) => out.push(...elementsOfEnum(e, `${name}.`, [...at, MESSAGE_ENUM, i])));
  m.extension.forEach((x, i) =>
    out.push({ kind: "extension", name: `${name}.${x.name}`, path: [...at, MESSAGE_EXTENSION, i] }),
  );
  return out;
}

/** All documentable elements of one file, with their source-info paths. */
function elementsOfFile(file: FileDescriptorProto): Element[] {
  const prefix = file.package ? `${file.package}.` : "";
  const out: Element[] = [];
  file.messageType.forEach((m, i) => out.push(...elementsOfMessage(m, prefix, [FILE_MESSAGE, i])));
  file.enumType.forEach((e, i) => out.push(...elementsOfEnum(e, prefix, [FILE_ENUM, i])));
  file.service.forEach((s, i) => {
    const name = `${prefix}${s.name}`;
    out.push({ kind: "service", name, path: [FILE_SERVICE, i] });
    s.method.forEach((m, j) =>
      out.push({ kind: "rpc", name: `${name}.${m.name}`, path: [FILE_SERVICE, i, SERVICE_METHOD, j] }),
    );
  });
  file.extension.forEach((x, i) =>
    out.push({ kind: "extension", name: `${prefix}${x.name}`, path: [FILE_EXTENSION, i] }),
  );
  return out;
}

/** "file: kind name" for every element of the contract files without a non-blank leading comment. */
function undocumented(set: FileDescriptorSet): string[] {
  const missing: string[] = [];
  for (const file of set.file) {
    if (!file.name.startsWith(CONTRACT_DIR)) continue;
    const comments = new Map<string, string>();
    for (const location of file.sourceCodeInfo?.location ?? []) {
      comments.set(location.path.join("."), location.leadingComments);
    }
    for (const element of elementsOfFile(file)) {
      if (!comments.get(element.path.join("."))?.trim()) {
        missing.push(`${file.name}: ${element.kind} ${element.name}`);
      }
    }
  }
  return missing;
}

/** Builds the contract with buf (source info kept) and decodes the image. */
async function buildImage(): Promise<FileDescriptorSet> {
  const dir = await mkdtemp(join(tmpdir(), "mlsdm-proto-docs-"));
  try {
    const out = join(dir, "image.binpb");
    await promisify(execFile)(BUF, ["build", "-o", out], { cwd: ROOT, timeout: 60_000 });
    return fromBinary(FileDescriptorSetSchema, await readFile(out));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe("contract documentation", () => {
  let image: FileDescriptorSet;
  beforeAll(async () => {
    image = await buildImage();
  });

  it("covers the contract files with source info", () => {
    const names = image.file.map((f) => f.name).filter((n) => n.startsWith(CONTRACT_DIR));
    expect(names).toEqual(
      expect.arrayContaining(["mlsdm/v1/engine.proto", "mlsdm/v1/admin.proto", "mlsdm/v1/options.proto"]),
    );
    for (const file of image.file.filter((f) => f.name.startsWith(CONTRACT_DIR))) {
      expect(file.sourceCodeInfo?.location.length ?? 0, file.name).toBeGreaterThan(0);
    }
  });

  it("every message, field, enum, enum value, service and RPC under mlsdm/v1/ has a leading comment", () => {
    const missing = undocumented(image);
    expect(missing, `elements without a leading comment:\n  ${missing.join("\n  ")}`).toEqual([]);
  });

  it("the check notices a missing comment (guards the checker itself)", () => {
    const stripped = clone(FileDescriptorSetSchema, image);
    const engine = stripped.file.find((f) => f.name === "mlsdm/v1/engine.proto");
    expect(engine).toBeDefined();
    const service = engine!.service.findIndex((s) => s.name === "EngineService");
    const method = engine!.service[service]!.method.findIndex((m) => m.name === "GetState");
    const field = engine!.messageType.findIndex((m) => m.name === "ProcessEventRequest");
    const targets = [
      `${FILE_SERVICE}.${service}.${SERVICE_METHOD}.${method}`,
      `${FILE_MESSAGE}.${field}.${MESSAGE_FIELD}.1`,
    ];
    for (const location of engine!.sourceCodeInfo!.location) {
      if (targets.includes(location.path.join("."))) location.leadingComments = "";
    }
    const before = new Set(undocumented(image));
    expect(undocumented(stripped).filter((entry) => !before.has(entry))).toEqual([
      "mlsdm/v1/engine.proto: field mlsdm.v1.ProcessEventRequest.moral_value",
      "mlsdm/v1/engine.proto: rpc mlsdm.v1.EngineService.GetState",
    ]);
  });
});
