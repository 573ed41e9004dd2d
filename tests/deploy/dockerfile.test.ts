// The container image cannot be built here (no docker engine), so the Dockerfile is checked
// statically: dockerfile-utils' validator (the one behind VS Code's Dockerfile support) must find
// nothing, and a small parser asserts the properties the image promises: multi-stage, production
// dependencies only, no shell or build tools in the runtime stage, non-root, both listeners exposed
// and bound to 0.0.0.0, an environment the configuration loader accepts, an allow-list context.
import { readFileSync } from "node:fs";
import { validate } from "dockerfile-utils";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/index.js";

const root = new URL("../../", import.meta.url);
const dockerfileText = readFileSync(new URL("Dockerfile", root), "utf8");
const dockerignoreText = readFileSync(new URL(".dockerignore", root), "utf8");
const packageJson = JSON.parse(readFileSync(new URL("package.json", root), "utf8")) as {
  scripts: Record<string, string>;
};

interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

interface Stage {
  image: string;
  name: string | undefined;
  instructions: Instruction[];
}

/** Instructions with continuation lines joined and comments (also inside continuations) dropped. */
function parseInstructions(text: string): Instruction[] {
  const instructions: Instruction[] = [];
  let buffer = "";
  let start = 0;
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line.startsWith("#") || (buffer === "" && line === "")) return;
    if (buffer === "") start = index + 1;
    if (line.endsWith("\\")) {
      buffer += `${line.slice(0, -1)} `;
      return;
    }
    buffer += line;
    const match = /^(\S+)\s*(.*)$/s.exec(buffer);
    if (match?.[1] !== undefined) {
      instructions.push({ keyword: match[1].toUpperCase(), args: (match[2] ?? "").trim(), line: start });
    }
    buffer = "";
  });
  return instructions;
}

function parseStages(instructions: Instruction[]): Stage[] {
  const stages: Stage[] = [];
  for (const instruction of instructions) {
    if (instruction.keyword === "FROM") {
      const words = instruction.args.split(/\s+/).filter((word) => !word.startsWith("--"));
      const asIndex = words.findIndex((word) => word.toUpperCase() === "AS");
      stages.push({
        image: words[0] ?? "",
        name: asIndex >= 0 ? words[asIndex + 1] : undefined,
        instructions: [],
      });
    } else {
      stages.at(-1)?.instructions.push(instruction);
    }
  }
  return stages;
}

/** `ENV A=1 B=2` (or the legacy `ENV A 1`) as a map; surrounding quotes are removed. */
function parseEnv(args: string): Record<string, string> {
  const unquote = (value: string): string => value.replace(/^(["'])(.*)\1$/, "$2");
  const words = args.split(/\s+/);
  if (!words[0]?.includes("=")) return { [words[0] ?? ""]: unquote(words.slice(1).join(" ")) };
  const env: Record<string, string> = {};
  for (const word of words) {
    const eq = word.indexOf("=");
    env[word.slice(0, eq)] = unquote(word.slice(eq + 1));
  }
  return env;
}

/** Flags (`--from=deps`) and plain words of a COPY/ADD instruction. */
function splitCopy(args: string): { flags: Record<string, string>; paths: string[] } {
  const flags: Record<string, string> = {};
  const paths: string[] = [];
  for (const word of args.split(/\s+/)) {
    const flag = /^--([^=]+)=(.*)$/.exec(word);
    if (flag?.[1] !== undefined) flags[flag[1]] = flag[2] ?? "";
    else paths.push(word);
  }
  return { flags, paths };
}

const instructions = parseInstructions(dockerfileText);
const stages = parseStages(instructions);
const finalStage = stages.at(-1);
const stageNamed = (name: string): Stage | undefined => stages.find((stage) => stage.name === name);
const runs = (stage: Stage | undefined): string[] =>
  (stage?.instructions ?? []).filter((i) => i.keyword === "RUN").map((i) => i.args);
const finalOf = (keyword: string): Instruction[] =>
  (finalStage?.instructions ?? []).filter((i) => i.keyword === keyword);
const imageEnv: Record<string, string> = Object.assign(
  {},
  ...finalOf("ENV").map((instruction) => parseEnv(instruction.args)),
) as Record<string, string>;
const exposed = finalOf("EXPOSE").flatMap((instruction) =>
  instruction.args.split(/\s+/).map((port) => Number(port.replace(/\/tcp$/, ""))),
);

describe("Dockerfile", () => {
  it("passes dockerfile-utils' validator without errors or warnings", () => {
    const problems = validate(dockerfileText).map(
      (diagnostic) =>
        `line ${diagnostic.range.start.line + 1}: ${
          typeof diagnostic.message === "string" ? diagnostic.message : diagnostic.message.value
        }`,
    );
    expect(problems).toEqual([]);
  });

  it("is multi-stage: build and deps on node:20-bookworm-slim, a separate runtime stage last", () => {
    expect(stages.length).toBeGreaterThanOrEqual(3);
    expect(stageNamed("build")?.image).toBe("node:20-bookworm-slim");
    expect(stageNamed("deps")?.image).toBe("node:20-bookworm-slim");
    expect(finalStage?.name).not.toBe("build");
    expect(finalStage?.name).not.toBe("deps");
    expect(finalStage?.image).toMatch(
      /^(gcr\.io\/distroless\/nodejs20-debian12:nonroot|node:20-bookworm-slim)$/,
    );
  });

  it("builds with the full install and installs production dependencies with npm ci --omit=dev", () => {
    const build = runs(stageNamed("build")).join("\n");
    expect(build).toMatch(/\bnpm ci\b/);
    expect(build).toMatch(/\bnpm run build\b/);
    expect(runs(stageNamed("deps")).join("\n")).toMatch(/\bnpm ci --omit=dev\b/);
  });

  it("runs nothing in the runtime stage and carries no build tools into it", () => {
    expect(finalOf("RUN")).toEqual([]);
    expect(finalOf("ADD")).toEqual([]);
    const copies = finalOf("COPY").map((instruction) => splitCopy(instruction.args));
    const copied = (path: string): string | undefined =>
      copies.find((copy) =>
        copy.paths.slice(0, -1).some((source) => source.replace(/\/$/, "").endsWith(path)),
      )?.flags.from;
    expect(copied("node_modules")).toBe("deps"); // production modules, never the build stage's dev install
    expect(copied("dist")).toBe("build");
    const everything = (finalStage?.instructions ?? []).map((i) => i.args).join("\n");
    expect(everything).not.toMatch(/\b(apt-get|apt|python3?|make|g\+\+|gcc|build-essential|npm)\b/);
  });

  it("runs as a non-root user in the runtime stage", () => {
    const user = finalOf("USER").at(-1)?.args;
    const fromNonrootImage = finalStage?.image.endsWith(":nonroot") === true;
    expect(user !== undefined || fromNonrootImage).toBe(true);
    if (user !== undefined) expect(user.split(":")[0]).not.toMatch(/^(root|0)$/);
  });

  it("exposes both listeners and binds all interfaces in production mode", () => {
    expect(new Set(exposed)).toEqual(new Set([50051, 8080]));
    expect(imageEnv.NODE_ENV).toBe("production");
    expect(imageEnv.MLSDM_HOST).toBe("0.0.0.0");
  });

  it("sets an environment the configuration loader accepts, with the exposed ports", () => {
    const loaded = loadConfig({ env: imageEnv, isTty: false });
    expect(loaded.warnings).toEqual([]);
    expect(loaded.config.server.host).toBe("0.0.0.0");
    expect(exposed).toContain(loaded.config.server.grpcPort);
    expect(exposed).toContain(loaded.config.server.httpPort);
  });

  it("starts the same entry point as npm start, in exec form, with no HEALTHCHECK in distroless", () => {
    const cmd = finalOf("CMD").at(-1)?.args ?? "";
    const argv = JSON.parse(cmd) as string[];
    const entry = argv.find((arg) => arg.endsWith(".js"));
    expect(entry).toBeDefined();
    expect(packageJson.scripts.start).toBe(`node ${entry ?? ""}`);
    if (finalStage?.image.includes("distroless") === true) expect(finalOf("HEALTHCHECK")).toEqual([]);
  });

  it("keeps the build context to an allow-list that covers every file the Dockerfile copies", () => {
    const patterns = dockerignoreText
      .split(/\r?\n/)
      .map((line) => line.trim())
      .filter((line) => line !== "" && !line.startsWith("#"));
    expect(patterns[0]).toBe("*");
    const allowed = new Set(
      patterns
        .filter((p) => p.startsWith("!"))
        .map((p) =>
          p
            .slice(1)
            .replace(/^\.?\//, "")
            .replace(/\/$/, ""),
        ),
    );
    const contextSources = instructions
      .filter((i) => i.keyword === "COPY" || i.keyword === "ADD")
      .map((i) => splitCopy(i.args))
      .filter((copy) => copy.flags.from === undefined)
      .flatMap((copy) => copy.paths.slice(0, -1))
      .map((source) => source.replace(/^\.?\//, "").replace(/\/$/, ""));
    expect(contextSources.length).toBeGreaterThan(0);
    for (const source of contextSources) expect(allowed, source).toContain(source);
  });
});
