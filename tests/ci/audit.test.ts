/**
 * SEC-003: the decision of .ci/audit on fixture `npm audit --omit=dev --json` reports, and the
 * committed allow-list itself (valid, nothing expired), and the script's exit codes end to end.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { advisoriesOf, allowListProblems, decide } from "../../.ci/audit.js";

const fixture = (name: string): unknown =>
  JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8"));
const report = fixture("audit-report.json");
const TODAY = "2026-12-01";
const entry = (id: string, expires = "2027-01-15") => ({ id, package: "x", reason: "no fix yet", expires });

describe("npm audit decision", () => {
  it("reads each advisory once, with its GHSA id and severity", () => {
    const ids = advisoriesOf(report)?.map((a) => `${a.id}:${a.severity}`);
    expect(ids?.sort()).toEqual([
      "GHSA-3h5v-q93c-6h6q:critical",
      "GHSA-c2qf-rxjj-qqgw:high",
      "GHSA-gxpj-cx7g-858c:moderate",
    ]);
  });

  it("fails on high and critical advisories that are not allow-listed, ignores moderate", () => {
    const d = decide(report, { entries: [] }, TODAY);
    expect(d.outcome).toBe("fail");
    expect(d.blocking.map((a) => a.id).sort()).toEqual(["GHSA-3h5v-q93c-6h6q", "GHSA-c2qf-rxjj-qqgw"]);
  });

  it("passes when every high/critical advisory has an unexpired entry", () => {
    const d = decide(
      report,
      { entries: [entry("GHSA-3h5v-q93c-6h6q"), entry("ghsa-c2qf-rxjj-qqgw")] },
      TODAY,
    );
    expect(d).toMatchObject({ outcome: "pass", blocking: [], problems: [] });
    expect(d.allowed).toHaveLength(2);
  });

  it("still fails when one of them is missing from the allow-list", () => {
    const d = decide(report, { entries: [entry("GHSA-3h5v-q93c-6h6q")] }, TODAY);
    expect(d.outcome).toBe("fail");
    expect(d.blocking.map((a) => a.id)).toEqual(["GHSA-c2qf-rxjj-qqgw"]);
  });

  it("fails on an expired entry even when it matches the advisory", () => {
    const d = decide(
      report,
      { entries: [entry("GHSA-3h5v-q93c-6h6q", "2026-11-30"), entry("GHSA-c2qf-rxjj-qqgw")] },
      TODAY,
    );
    expect(d.outcome).toBe("fail");
    expect(d.problems.join()).toMatch(/GHSA-3h5v-q93c-6h6q: the exception expired on 2026-11-30/);
  });

  it("an entry is valid through its expiry day and not longer than 90 days ahead", () => {
    expect(allowListProblems([entry("A", TODAY)], TODAY)).toEqual([]);
    expect(allowListProblems([entry("A", "2027-03-01")], TODAY)).toEqual([]);
    expect(allowListProblems([entry("A", "2027-03-02")], TODAY).join()).toMatch(/more than 90 days/);
  });

  it("rejects entries without id, reason or a real date", () => {
    const problems = allowListProblems([{ id: "A", package: "p", expires: "soon" }, {}], TODAY).join("\n");
    expect(problems).toMatch(/A: missing reason/);
    expect(problems).toMatch(/expires must be a date/);
    expect(problems).toMatch(/entry 1: missing id/);
    expect(allowListProblems(undefined, TODAY)).toHaveLength(1);
  });

  it("says an allow-listed advisory that is no longer reported should be removed", () => {
    const d = decide(fixture("audit-clean.json"), { entries: [entry("GHSA-aaaa-bbbb-cccc")] }, TODAY);
    expect(d.outcome).toBe("pass");
    expect(d.notes.join()).toMatch(/GHSA-AAAA-BBBB-CCCC is allow-listed but no longer reported/);
  });

  it("reports an unreachable audit endpoint as unavailable, not as a pass", () => {
    const d = decide(fixture("audit-unreachable.json"), { entries: [] }, TODAY);
    expect(d.outcome).toBe("unavailable");
    expect(d.notes.join()).toMatch(/405 Method Not Allowed/);
    expect(decide(undefined, { entries: [] }, TODAY).outcome).toBe("unavailable");
    // ... and an invalid allow-list fails even then.
    expect(decide(undefined, { entries: [{ id: "A" }] }, TODAY).outcome).toBe("fail");
  });

  it("the committed allow-list is valid and has no expired entry", () => {
    const committed = JSON.parse(readFileSync(".ci/audit-allowlist.json", "utf8")) as { entries: unknown };
    expect(allowListProblems(committed.entries, new Date().toISOString().slice(0, 10))).toEqual([]);
  });

  it("the script exits 1 on a blocking report, 0 on a clean one, 2 when the endpoint is unreachable", () => {
    const run = (name: string, ...args: string[]) =>
      spawnSync("node", ["--import", "tsx", ".ci/audit.ts", ...args], {
        input: readFileSync(`tests/ci/fixtures/${name}`),
        encoding: "utf8",
      });
    const blocking = run("audit-report.json");
    expect(blocking.status).toBe(1);
    expect(blocking.stdout).toMatch(/BLOCKING critical: GHSA-3h5v-q93c-6h6q ws/);
    expect(run("audit-clean.json").status).toBe(0);
    expect(run("audit-unreachable.json").status).toBe(2);
    const skipped = run("audit-unreachable.json", "--skip-if-unreachable");
    expect(skipped.status).toBe(0);
    expect(skipped.stdout).toMatch(/SKIPPED: the registry's audit endpoint is unreachable/);
  });

  it(".ci/audit runs npm audit on production dependencies at level high", () => {
    const script = readFileSync(".ci/audit", "utf8");
    expect(script).toContain("npm audit --omit=dev --audit-level=high --json");
    expect(execFileSync("bash", ["-n", ".ci/audit"]).toString()).toBe("");
  });
});
