/**
 * Routing by the caller's intent (core.md §8 RuleBasedRouter): `rules` map a user intent to a
 * provider id, unmatched intents go to the default provider. Every id is checked when the
 * router is built, so a misconfiguration fails at start-up rather than on some request.
 */
import type { RouteHints } from "../../core/engine/ports.js";
import { candidatesFrom, requireKnown, requireProviders, type RouteChoice, type Router } from "./router.js";

export interface RuleBasedRouterOptions {
  /** Configured provider ids, in configuration order (the fallback order). */
  readonly providers: readonly string[];
  /** User intent → provider id. */
  readonly rules: ReadonlyMap<string, string> | Readonly<Record<string, string>>;
  /** The provider for intents no rule matches; must be configured. */
  readonly defaultProvider: string;
}

type Rules = RuleBasedRouterOptions["rules"];

function isMap(rules: Rules): rules is ReadonlyMap<string, string> {
  return rules instanceof Map;
}

export class RuleBasedRouter implements Router {
  private readonly byIntent: ReadonlyMap<string, RouteChoice>;
  private readonly fallback: RouteChoice;

  constructor(options: RuleBasedRouterOptions) {
    const { providers, defaultProvider } = options;
    requireProviders(providers);
    const rules = isMap(options.rules) ? [...options.rules] : Object.entries(options.rules);
    requireKnown(
      "the routing rules",
      rules.map(([, id]) => id),
      providers,
    );
    requireKnown("the default route", [defaultProvider], providers);
    // Precomputed: a request only looks its intent up.
    this.byIntent = new Map(
      rules.map(([intent, id]) => [intent, { candidates: candidatesFrom(id, providers), variant: "" }]),
    );
    this.fallback = { candidates: candidatesFrom(defaultProvider, providers), variant: "" };
  }

  select(hints: RouteHints): RouteChoice {
    return this.byIntent.get(hints.userIntent) ?? this.fallback;
  }
}
