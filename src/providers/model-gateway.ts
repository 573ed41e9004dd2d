/**
 * The ModelGateway the engine calls: the router picks the candidates, each candidate runs in
 * its resilience policy, and the gateway moves to the next candidate only while the current
 * one's breaker is open. Any other failure is thrown as it is: a provider failure is never
 * turned into text (W9) nor silently hidden by a fallback that answers something else.
 */
import {
  ProviderFailure,
  type ModelCall,
  type ModelGateway,
  type ModelProvider,
  type ModelReply,
  type ModelStream,
  type ServedBy,
  type TokenUsage,
} from "../core/engine/ports.js";
import {
  PROVIDER_POLICY_DEFAULTS,
  ResilientProvider,
  type BreakerState,
  type ProviderObserver,
  type ProviderPolicyOptions,
} from "./resilience/resilient-provider.js";
import type { Router } from "./routing/routers.js";

/** A provider and its breaker, as GetStatus shows it. */
export interface ProviderStatus {
  readonly id: string;
  readonly breaker: BreakerState;
}

/** What the gateway reports (metrics). */
export interface GatewayObserver extends ProviderObserver {
  tokens?(providerId: string, usage: TokenUsage): void;
}

/** A gateway with a status view. */
export interface StatefulGateway extends ModelGateway {
  status(): ProviderStatus[];
}

/** Reports usage once the stream's iteration has ended. */
async function* observed(stream: ModelStream, report: () => void): AsyncGenerator<string> {
  try {
    yield* stream.deltas;
  } finally {
    report();
  }
}

/** Builds the gateway over `providers` (in configuration order). */
export function createModelGateway(options: {
  readonly providers: readonly ModelProvider[];
  readonly router: Router;
  readonly policy?: Partial<ProviderPolicyOptions>;
  readonly observer?: GatewayObserver;
}): StatefulGateway {
  const observer = options.observer ?? {};
  const policy = { ...PROVIDER_POLICY_DEFAULTS, ...options.policy };
  const wrapped = new Map(
    options.providers.map((provider) => [provider.id, new ResilientProvider(provider, policy, observer)]),
  );

  async function route<T>(
    call: ModelCall,
    run: (provider: ResilientProvider) => Promise<T>,
  ): Promise<{ value: T; served: ServedBy }> {
    const choice = options.router.select(call.route);
    let lastOpen: ProviderFailure | undefined;
    for (const id of choice.candidates) {
      const provider = wrapped.get(id);
      if (!provider) continue;
      if (provider.isOpen()) {
        lastOpen ??= new ProviderFailure("circuit_open", `the circuit breaker of ${id} is open`, {
          providerId: id,
          retryAfterMs: policy.halfOpenAfterMs,
        });
        continue;
      }
      try {
        return { value: await run(provider), served: { providerId: id, variant: choice.variant } };
      } catch (error) {
        if (error instanceof ProviderFailure && error.kind === "circuit_open") {
          lastOpen = error;
          continue;
        }
        throw error;
      }
    }
    throw (
      lastOpen ??
      new ProviderFailure("circuit_open", "no provider is available", {
        providerId: choice.candidates[0] ?? "",
      })
    );
  }

  return {
    async generate(call): Promise<ModelReply & ServedBy> {
      const { value, served } = await route(call, (provider) => provider.generate(call));
      observer.tokens?.(served.providerId, value.usage);
      return { ...value, ...served };
    },
    async stream(call): Promise<ModelStream & ServedBy> {
      const { value, served } = await route(call, (provider) => provider.stream(call));
      return {
        deltas: observed(value, () => observer.tokens?.(served.providerId, value.usage())),
        usage: () => value.usage(),
        ...served,
      };
    },
    status: () =>
      [...wrapped.values()].map((provider) => ({ id: provider.id, breaker: provider.breakerState() })),
  };
}
