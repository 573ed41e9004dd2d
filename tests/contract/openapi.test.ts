/**
 * The exported contract (DOC-003): docs/api/openapi.yaml (OpenAPI 3.1 of the Connect JSON
 * surface, from the local protoplugin) and docs/api/mlsdm.binpb (the `buf build` image) are
 * fresh (regenerated here and compared byte for byte), lint clean with Redocly, and say what the
 * contract says: a path per RPC, the role of each from `(mlsdm.v1.required_role)`, and the proto3
 * JSON mapping of the fields.
 */
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { getOption, type DescService } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { Health } from "../../src/gen/grpc/health/v1/health_pb.js";
import { AdminService } from "../../src/gen/mlsdm/v1/admin_pb.js";
import { EngineService } from "../../src/gen/mlsdm/v1/engine_pb.js";
import { Role, required_role } from "../../src/gen/mlsdm/v1/options_pb.js";

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const BIN = join(ROOT, "node_modules", ".bin");
const OPENAPI = join(ROOT, "docs", "api", "openapi.yaml");
const IMAGE = join(ROOT, "docs", "api", "mlsdm.binpb");
const SERVICES: readonly DescService[] = [EngineService, AdminService, Health];

interface Doc {
  openapi: string;
  paths: Record<string, { post: Record<string, unknown> }>;
  components: {
    schemas: Record<
      string,
      { properties?: Record<string, Record<string, unknown>> } & Record<string, unknown>
    >;
  };
}

let out: string;
let doc: Doc;

beforeAll(async () => {
  out = await mkdtemp(join(tmpdir(), "mlsdm-openapi-"));
  await run(join(BIN, "buf"), ["generate", "--template", "buf.gen.openapi.yaml", "-o", out], { cwd: ROOT });
  await run(join(BIN, "buf"), ["build", "-o", join(out, "mlsdm.binpb")], { cwd: ROOT });
  doc = parse(await readFile(OPENAPI, "utf8")) as Doc;
}, 60_000);

afterAll(async () => {
  await rm(out, { recursive: true, force: true });
});

describe("the exported contract", () => {
  it("is fresh: regenerating gives the committed openapi.yaml and mlsdm.binpb byte for byte", async () => {
    expect(await readFile(join(out, "docs", "api", "openapi.yaml"), "utf8")).toBe(
      await readFile(OPENAPI, "utf8"),
    );
    expect(Buffer.compare(await readFile(join(out, "mlsdm.binpb")), await readFile(IMAGE))).toBe(0);
  });

  it("lints clean with redocly (recommended-strict)", async () => {
    const { stdout, stderr } = await run(
      join(BIN, "redocly"),
      ["lint", "--config", "docs/api/redocly.yaml", "--format", "stylish", "docs/api/openapi.yaml"],
      {
        cwd: ROOT,
        env: { ...process.env, REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true" },
      },
    ).catch((caught: unknown) => {
      const error = caught as { stdout: string; stderr: string };
      throw new Error(`redocly lint failed:\n${error.stdout}\n${error.stderr}`);
    });
    expect(`${stdout}${stderr}`).toContain("valid");
  }, 60_000);

  it("is OpenAPI 3.1 with one POST path per RPC and the role of each from the contract", () => {
    expect(doc.openapi).toBe("3.1.0");
    const expected = SERVICES.flatMap((service) =>
      service.methods.map((m) => `/${service.typeName}/${m.name}`),
    );
    expect(Object.keys(doc.paths).sort()).toEqual([...expected].sort());
    for (const service of [EngineService, AdminService]) {
      for (const method of service.methods) {
        const op = doc.paths[`/${service.typeName}/${method.name}`]!.post;
        const role = Role[getOption(method, required_role)].toLowerCase();
        expect(op["x-mlsdm-role"], method.name).toBe(role);
        expect(op["x-mlsdm-streaming"] !== undefined, method.name).toBe(method.methodKind !== "unary");
      }
    }
    expect(doc.paths["/grpc.health.v1.Health/Check"]!.post["x-mlsdm-role"]).toBe("public");
    expect(doc.paths["/mlsdm.v1.EngineService/GenerateStream"]!.post.description).toContain("envelope");
  });

  it("follows the proto3 JSON mapping: lowerCamel names, int64 as string, enums as names, WKTs, oneofs", () => {
    const { schemas } = doc.components;
    const state = schemas["mlsdm.v1.CognitiveState"]!.properties!;
    expect(state.step).toMatchObject({ type: "string", format: "uint64" });
    expect(state.moralThreshold).toMatchObject({ type: "number" });
    expect(state.pelmUsed).toMatchObject({ type: "integer" });
    expect(state.phase).toMatchObject({ $ref: "#/components/schemas/mlsdm.v1.Phase" });
    expect(schemas["mlsdm.v1.Phase"]).toMatchObject({
      type: "string",
      enum: ["PHASE_UNSPECIFIED", "PHASE_WAKE", "PHASE_SLEEP"],
    });
    const emergency = schemas["mlsdm.v1.EmergencyState"]!.properties!;
    expect(emergency.enteredAt).toMatchObject({ type: "string", format: "date-time" });
    const stream = schemas["mlsdm.v1.GenerateStreamResponse"]!;
    expect(stream["x-mlsdm-oneofs"]).toEqual({ event: ["delta", "summary"] });
    expect(stream.properties!.delta!.description).toContain("oneof `event`");
    expect(schemas["mlsdm.v1.ProcessEventRequest"]!.properties!.vector).toMatchObject({ type: "array" });
    expect(schemas["connect.error"]).toMatchObject({ required: ["code"] });
    // Descriptions come from the proto comments.
    expect(schemas["mlsdm.v1.GenerateRequest"]!.properties!.prompt!.description).toContain(
      "10,000 characters",
    );
  });
});
