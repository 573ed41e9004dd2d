/**
 * The role table of SEC-001 comes from the contract: every RPC of `mlsdm.v1` declares
 * `(mlsdm.v1.required_role)`, and the table below is what the contract must say. The test
 * enumerates every service in the generated code (src/gen/mlsdm/v1/*_pb.ts), so an RPC or a
 * service added later without a role fails here before it can be served unguarded.
 */
import { readdir } from "node:fs/promises";
import { fileURLToPath, pathToFileURL } from "node:url";
import { getOption, hasOption, type DescService } from "@bufbuild/protobuf";
import { MethodOptions_IdempotencyLevel } from "@bufbuild/protobuf/wkt";
import { beforeAll, describe, expect, it } from "vitest";
import { Role, required_role } from "../../src/gen/mlsdm/v1/options_pb.js";

const GEN_DIR = new URL("../../src/gen/mlsdm/v1/", import.meta.url);

/** Required role of every RPC, by "Service/Method". */
const EXPECTED_ROLES: Readonly<Record<string, Role>> = {
  "EngineService/Generate": Role.WRITE,
  "EngineService/GenerateStream": Role.WRITE,
  "EngineService/ProcessEvent": Role.WRITE,
  "EngineService/RetrieveContext": Role.READ,
  "EngineService/GetState": Role.READ,
  "AdminService/GetStatus": Role.ADMIN,
  "AdminService/TriggerEmergencyShutdown": Role.ADMIN,
  "AdminService/ResetEmergency": Role.ADMIN,
  "AdminService/SetMoralThreshold": Role.ADMIN,
  "AdminService/CreateSnapshot": Role.ADMIN,
  "AdminService/RestoreSnapshot": Role.ADMIN,
  "AdminService/ExportSnapshot": Role.ADMIN,
  "AdminService/ImportSnapshot": Role.ADMIN,
  "AdminService/CreateApiKey": Role.ADMIN,
  "AdminService/ListApiKeys": Role.ADMIN,
  "AdminService/RotateApiKey": Role.ADMIN,
  "AdminService/RevokeApiKey": Role.ADMIN,
};

/** RPCs without side effects (Connect serves them over HTTP GET too). */
const READ_ONLY = [
  "AdminService/ExportSnapshot",
  "AdminService/GetStatus",
  "AdminService/ListApiKeys",
  "EngineService/GetState",
  "EngineService/RetrieveContext",
];

function isService(value: unknown): value is DescService {
  return typeof value === "object" && value !== null && (value as { kind?: unknown }).kind === "service";
}

/** Every service descriptor exported by the generated files of mlsdm.v1. */
async function generatedServices(): Promise<DescService[]> {
  const files = (await readdir(fileURLToPath(GEN_DIR))).filter((f) => f.endsWith("_pb.ts")).sort();
  const services: DescService[] = [];
  for (const file of files) {
    const module = (await import(pathToFileURL(fileURLToPath(new URL(file, GEN_DIR))).href)) as Record<
      string,
      unknown
    >;
    services.push(...Object.values(module).filter(isService));
  }
  return services;
}

describe("RPC roles from the contract (SEC-001)", () => {
  let services: DescService[];
  beforeAll(async () => {
    services = await generatedServices();
  });

  const methods = () => services.flatMap((s) => s.methods.map((m) => ({ key: `${s.name}/${m.name}`, m })));

  it("finds the mlsdm.v1 services in the generated code", () => {
    expect(services.map((s) => s.typeName).sort()).toEqual(
      expect.arrayContaining(["mlsdm.v1.AdminService", "mlsdm.v1.EngineService"]),
    );
    expect(services.every((s) => s.typeName.startsWith("mlsdm.v1."))).toBe(true);
  });

  it("every RPC declares (mlsdm.v1.required_role), and not ROLE_UNSPECIFIED", () => {
    const unmapped = methods()
      .filter(({ m }) => !hasOption(m, required_role) || getOption(m, required_role) === Role.UNSPECIFIED)
      .map(({ key }) => key);
    expect(unmapped, `RPCs without a required role: ${unmapped.join(", ")}`).toEqual([]);
  });

  it("the roles are exactly the expected table", () => {
    const actual = Object.fromEntries(
      methods().map(({ key, m }) => [key, Role[getOption(m, required_role)]] as const),
    );
    const expected = Object.fromEntries(Object.entries(EXPECTED_ROLES).map(([k, r]) => [k, Role[r]]));
    expect(actual).toEqual(expected);
  });

  it("read-only RPCs, and only those, are marked NO_SIDE_EFFECTS", () => {
    const noSideEffects = methods()
      .filter(({ m }) => m.idempotency === MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS)
      .map(({ key }) => key)
      .sort();
    expect(noSideEffects).toEqual(READ_ONLY);
  });
});
