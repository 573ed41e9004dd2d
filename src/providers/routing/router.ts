/**
 * The router contract (core.md §8): for one call, the provider ids to try in order (the chosen
 * one first, then every other configured provider as a fallback, in configuration order) and
 * the A/B arm. The gateway moves down the list only while a candidate's breaker is open.
 */
import type { RouteHints } from "../../core/engine/ports.js";

/** The router's choice for one call. */
export interface RouteChoice {
  /** Provider ids to try in order: the chosen one first, then the fallbacks. Never empty. */
  readonly candidates: readonly string[];
  /** "control" / "treatment" for an A/B router, "" otherwise. */
  readonly variant: string;
}

/** Picks the providers for a call. */
export interface Router {
  select(hints: RouteHints): RouteChoice;
}

/** `first`, then every other id of `all` in order. */
export function candidatesFrom(first: string, all: readonly string[]): readonly string[] {
  return [first, ...all.filter((id) => id !== first)];
}

/** Throws when `providers` is empty or holds a duplicate id. */
export function requireProviders(providers: readonly string[]): void {
  if (providers.length === 0) throw new Error("a router needs at least one provider");
  const duplicates = providers.filter((id, index) => providers.indexOf(id) !== index);
  if (duplicates.length > 0) throw new Error(`duplicate provider id(s): ${duplicates.join(", ")}`);
}

/** Throws an Error naming every id of `ids` that is not in `providers` (`what` says where they came from). */
export function requireKnown(what: string, ids: readonly string[], providers: readonly string[]): void {
  const unknown = [...new Set(ids.filter((id) => !providers.includes(id)))];
  if (unknown.length > 0) {
    throw new Error(
      `${what} name(s) unknown provider(s) ${unknown.join(", ")}; configured providers: ${providers.join(", ")}`,
    );
  }
}

/** Always `primary` (default: the first provider) first, the other providers as fallbacks. */
export class SingleRouter implements Router {
  private readonly choice: RouteChoice;

  constructor(providers: readonly string[], primary?: string) {
    requireProviders(providers);
    const first = primary ?? providers[0] ?? "";
    requireKnown("the single router's primary", [first], providers);
    this.choice = { candidates: candidatesFrom(first, providers), variant: "" };
  }

  select(_hints?: RouteHints): RouteChoice {
    return this.choice;
  }
}
