import { describe, expect, it } from "vitest";
import { AdminService } from "../../src/gen/mlsdm/v1/admin_pb.js";
import { EngineService } from "../../src/gen/mlsdm/v1/engine_pb.js";
import { ANONYMOUS, authorize, presentedKey, requiredRole } from "../../src/policy/authenticate.js";
import { hasRole, type Identity } from "../../src/policy/identity.js";
import { Health } from "../../src/rpc/health/health-service.js";
import { policyContext } from "./support/handler-context.js";

function contextFor(method: (typeof EngineService.methods)[number], identity?: Identity) {
  return policyContext({ method, identity });
}

const reader: Identity = { id: "r", owner: "", roles: ["read"], source: "api_key" };

describe("RBAC", () => {
  it("reads every mlsdm.v1 method's role from the contract", () => {
    for (const method of [...EngineService.methods, ...AdminService.methods]) {
      expect(requiredRole(method), method.name).toMatch(/^(read|write|admin)$/);
    }
  });

  it("denies a method that declares no role (default deny), even to an admin", () => {
    const [check] = Health.methods;
    if (!check) throw new Error("no method");
    expect(requiredRole(check)).toBeUndefined();
    expect(() => authorize(contextFor(check, ANONYMOUS), {})).toThrow(/role/);
  });

  it("orders roles read ⊂ write ⊂ admin", () => {
    expect(hasRole(reader, "read")).toBe(true);
    expect(hasRole(reader, "write")).toBe(false);
    expect(hasRole(ANONYMOUS, "write")).toBe(true);
    const getState = EngineService.method.getState;
    const processEvent = EngineService.method.processEvent;
    expect(() => authorize(contextFor(getState, reader), {})).not.toThrow();
    expect(() => authorize(contextFor(processEvent, reader), {})).toThrow();
    expect(() => authorize(contextFor(getState), {})).toThrow();
  });

  it("takes the key from a Bearer header or x-api-key", () => {
    expect(presentedKey(new Headers({ authorization: "Bearer abc" }))).toBe("abc");
    expect(presentedKey(new Headers({ authorization: "bearer  abc " }))).toBe("abc");
    expect(presentedKey(new Headers({ "x-api-key": " k " }))).toBe("k");
    expect(presentedKey(new Headers({ authorization: "Basic abc" }))).toBeUndefined();
  });
});
