/**
 * docs/api/reference.md is generated from the .proto comments (BASE-DOC-a): the committed file must
 * equal a fresh rendering, cover every RPC with the role the server enforces (read here from the
 * generated runtime descriptors, an independent source), and its internal links must land on
 * headings that exist.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { getOption } from "@bufbuild/protobuf";
import { beforeAll, describe, expect, it } from "vitest";
import {
  API_REFERENCE_PATH,
  REGENERATE_COMMAND,
  anchorOf,
  loadContract,
  renderApiReference,
} from "../../src/contract/api-reference.js";
import { AdminService } from "../../src/gen/mlsdm/v1/admin_pb.js";
import { EngineService } from "../../src/gen/mlsdm/v1/engine_pb.js";
import { RoleSchema, required_role } from "../../src/gen/mlsdm/v1/options_pb.js";

const docPath = fileURLToPath(new URL(`../../${API_REFERENCE_PATH}`, import.meta.url));

let rendered = "";
beforeAll(async () => {
  rendered = await renderApiReference(loadContract());
}, 30_000);

/** The lines of the section under a `#### Service.Method` heading. */
function methodSection(doc: string, heading: string): string {
  return doc.split(`#### ${heading}\n`)[1]?.split("\n#### ")[0] ?? "";
}

describe("docs/api/reference.md", () => {
  it("matches a fresh rendering of the contract", () => {
    expect(
      readFileSync(docPath, "utf8"),
      `${API_REFERENCE_PATH} is stale; regenerate it with \`${REGENERATE_COMMAND}\``,
    ).toBe(rendered);
  });

  it("documents every RPC with the role the server enforces and its comment", () => {
    for (const service of [EngineService, AdminService]) {
      for (const method of service.methods) {
        const section = methodSection(rendered, `${service.name}.${method.name}`);
        const role = RoleSchema.value[getOption(method, required_role)].name;
        expect(role, method.name).toMatch(/^ROLE_(READ|WRITE|ADMIN)$/);
        expect(section, method.name).toContain(`- Required role: ${role}\n`);
        expect(section).toContain(`- Path: \`/${service.typeName}/${method.name}\``);
        // Prose from the .proto comment follows the bullet list.
        expect(section.split("\n\n")[1]?.length ?? 0, method.name).toBeGreaterThan(20);
      }
    }
    expect(methodSection(rendered, "AdminService.GetStatus")).toContain("- Idempotency: NO_SIDE_EFFECTS");
  });

  it("lists every field of every message with its number and JSON name", () => {
    for (const service of [EngineService, AdminService]) {
      for (const method of service.methods) {
        for (const message of [method.input, method.output]) {
          const section = rendered.split(`### ${message.typeName}\n`)[1]?.split("\n### ")[0] ?? "";
          expect(section, message.typeName).not.toBe("");
          for (const field of message.fields) {
            expect(section, `${message.typeName}.${field.name}`).toMatch(
              new RegExp(`\\| \`${field.name}\` +\\| ${field.number} +\\| \`${field.jsonName}\``),
            );
          }
        }
      }
    }
  });

  it("has a heading for every internal link", () => {
    const anchors = new Set([...rendered.matchAll(/^#+ (.+)$/gm)].map((m) => anchorOf(m[1] ?? "")));
    const targets = [...rendered.matchAll(/\]\(#([^)]+)\)/g)].map((m) => m[1] ?? "");
    expect(targets.length).toBeGreaterThan(50);
    expect(targets.filter((t) => !anchors.has(t))).toEqual([]);
  });
});
