/**
 * The decision of `.ci/audit` (SEC-003): reads `npm audit --omit=dev --json` on stdin and the
 * committed allow-list `.ci/audit-allowlist.json`, prints what it found and exits
 *   0  no high/critical advisory in production dependencies, or each one is allow-listed;
 *   1  a high/critical advisory is not allow-listed, or the allow-list is invalid or has an expired
 *      entry (an exception must be renewed on purpose, never silently);
 *   2  the registry's audit endpoint did not answer (network, proxy or mirror without the audit
 *      API): nothing was checked. With --skip-if-unreachable this exits 0 after saying so (the
 *      local .ci/run on a machine without the endpoint); GitHub CI runs it without the flag.
 * The logic is `decide()`, unit-tested on fixture reports in tests/ci/audit.test.ts.
 */
import { readFileSync } from "node:fs";

/** Severities that fail the check. */
export const BLOCKING = new Set(["high", "critical"]);
/** An exception may not be granted for longer than this (days from today). */
export const MAX_EXCEPTION_DAYS = 90;

export interface AllowEntry {
  /** GitHub advisory id (GHSA-xxxx-xxxx-xxxx) or the npm advisory number. */
  id: string;
  /** The affected package, for the reader. */
  package: string;
  reason: string;
  /** Last day the exception holds, YYYY-MM-DD (UTC). */
  expires: string;
}

export interface Advisory {
  id: string;
  package: string;
  severity: string;
  title: string;
  url: string;
}

export interface Decision {
  outcome: "pass" | "fail" | "unavailable";
  blocking: Advisory[];
  allowed: Advisory[];
  problems: string[];
  notes: string[];
}

interface ViaObject {
  source?: number;
  name?: string;
  title?: string;
  url?: string;
  severity?: string;
}

/** The advisories of an npm audit v2 report (`vulnerabilities[*].via` objects), deduplicated. */
export function advisoriesOf(report: unknown): Advisory[] | undefined {
  if (typeof report !== "object" || report === null) return undefined;
  const vulnerabilities = (report as { vulnerabilities?: unknown }).vulnerabilities;
  if (typeof vulnerabilities !== "object" || vulnerabilities === null) return undefined;
  const found = new Map<string, Advisory>();
  for (const entry of Object.values(vulnerabilities as Record<string, { via?: unknown }>)) {
    const via = Array.isArray(entry.via) ? (entry.via as unknown[]) : [];
    for (const item of via) {
      if (typeof item !== "object" || item === null) continue; // a string names another vulnerable package
      const v = item as ViaObject;
      const ghsa = /GHSA(?:-[0-9a-z]{4}){3}/i.exec(v.url ?? "")?.[0];
      const id = ghsa ?? (v.source === undefined ? "" : String(v.source));
      if (id === "") continue;
      found.set(id, {
        id,
        package: v.name ?? "?",
        severity: v.severity ?? "unknown",
        title: v.title ?? "",
        url: v.url ?? "",
      });
    }
  }
  return [...found.values()];
}

/** Checks the allow-list's shape and expiry; returns the problems (empty = valid). */
export function allowListProblems(entries: unknown, today: string): string[] {
  if (!Array.isArray(entries)) return ["the allow-list must be a JSON object with an `entries` array"];
  const problems: string[] = [];
  const horizon = addDays(today, MAX_EXCEPTION_DAYS);
  for (const [index, raw] of (entries as unknown[]).entries()) {
    const e = (typeof raw === "object" && raw !== null ? raw : {}) as Partial<
      Record<keyof AllowEntry, unknown>
    >;
    const label = typeof e.id === "string" ? e.id : `entry ${index}`;
    for (const field of ["id", "package", "reason", "expires"] as const) {
      const value = e[field];
      if (typeof value !== "string" || value.trim() === "") problems.push(`${label}: missing ${field}`);
    }
    if (typeof e.expires !== "string") continue;
    if (!/^\d{4}-\d{2}-\d{2}$/.test(e.expires) || Number.isNaN(Date.parse(e.expires))) {
      problems.push(`${label}: expires must be a date YYYY-MM-DD, got "${e.expires}"`);
    } else if (e.expires < today) {
      problems.push(
        `${label}: the exception expired on ${e.expires}; fix the dependency or renew it on purpose`,
      );
    } else if (e.expires > horizon) {
      problems.push(
        `${label}: expires ${e.expires} is more than ${MAX_EXCEPTION_DAYS} days ahead (limit ${horizon})`,
      );
    }
  }
  return problems;
}

/** The whole decision: report (parsed npm audit JSON), allow-list file content, today (YYYY-MM-DD). */
export function decide(report: unknown, allowList: unknown, today: string): Decision {
  const entries = (allowList as { entries?: unknown } | null)?.entries;
  const problems = allowListProblems(entries, today);
  const allowedIds = new Set(
    Array.isArray(entries)
      ? (entries as { id?: unknown }[]).map((e) => (typeof e.id === "string" ? e.id.toUpperCase() : ""))
      : [],
  );
  const advisories = advisoriesOf(report);
  if (advisories === undefined) {
    const r = (report ?? {}) as { message?: unknown; error?: { summary?: unknown; code?: unknown } };
    const why = [r.message, r.error?.code, r.error?.summary].filter((x) => typeof x === "string" && x !== "");
    return {
      outcome: problems.length > 0 ? "fail" : "unavailable",
      blocking: [],
      allowed: [],
      problems,
      notes: [`the audit endpoint gave no report (${why.join("; ") || "no JSON"}): no advisory was checked`],
    };
  }
  const high = advisories.filter((a) => BLOCKING.has(a.severity));
  const allowed = high.filter((a) => allowedIds.has(a.id.toUpperCase()));
  const blocking = high.filter((a) => !allowedIds.has(a.id.toUpperCase()));
  const seen = new Set(advisories.map((a) => a.id.toUpperCase()));
  const notes = [...allowedIds]
    .filter((id) => !seen.has(id))
    .map((id) => `${id} is allow-listed but no longer reported: remove the entry`);
  const outcome = blocking.length > 0 || problems.length > 0 ? "fail" : "pass";
  return { outcome, blocking, allowed, problems, notes };
}

function addDays(day: string, days: number): string {
  return new Date(Date.parse(day) + days * 86_400_000).toISOString().slice(0, 10);
}

function main(): number {
  const skipIfUnreachable = process.argv.includes("--skip-if-unreachable");
  const allowPath = new URL("./audit-allowlist.json", import.meta.url);
  const allowList = JSON.parse(readFileSync(allowPath, "utf8")) as unknown;
  const input = readFileSync(0, "utf8");
  let report: unknown;
  try {
    report = JSON.parse(input);
  } catch {
    report = undefined;
  }
  const d = decide(report, allowList, new Date().toISOString().slice(0, 10));
  const out = (line: string) => process.stdout.write(`npm audit: ${line}\n`);
  for (const a of d.allowed) out(`allowed by the allow-list: ${a.id} ${a.severity} ${a.package} ${a.title}`);
  for (const a of d.blocking) out(`BLOCKING ${a.severity}: ${a.id} ${a.package} ${a.title} ${a.url}`);
  for (const p of d.problems) out(`allow-list problem: ${p}`);
  for (const n of d.notes) out(n);
  if (d.outcome === "unavailable") {
    if (skipIfUnreachable) {
      out("SKIPPED: the registry's audit endpoint is unreachable from this machine (allow-list checked)");
      return 0;
    }
    out("FAILED: cannot audit without the registry's audit endpoint");
    return 2;
  }
  out(d.outcome === "pass" ? "passed (no high or critical advisory outside the allow-list)" : "FAILED");
  return d.outcome === "pass" ? 0 : 1;
}

if (import.meta.url === `file://${process.argv[1] ?? ""}`) process.exitCode = main();
