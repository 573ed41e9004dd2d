/**
 * The ModelGateway the engine calls (core.md §8, W9, W10, W13): the router picks the
 * candidates, each candidate runs under its own {@link ProviderPolicy} (retries, breaker,
 * deadline-bound attempts), and the gateway moves to the next candidate only while the
 * current one's breaker is open. Any other failure of the chosen provider — after its
 * retries — is thrown as it is: a failure is never turned into text (the reference's W9 bug)
 * nor hidden behind a fallback that answers something else (a "rejected" call stays rejected).
 */
import {
  ProviderFailure,
  type ModelCall,
  type ModelGateway,
  type ModelProvider,
  type ModelReply,
  type ModelStream,
  type ProviderFailureKind,
  type ServedBy,
  type TokenUsage,
} from "../core/engine/ports.js";
import {
  ProviderPolicy,
  type BreakerState,
  type ProviderPolicyOptions,
} from "./resilience/provider-policy.js";
import type { Router } from "./routing/router.js";

/** A provider and its breaker, as GetStatus shows it. */
export interface ProviderStatus {
  readonly id: string;
  readonly breaker: BreakerState;
  /** Counted failures since the provider's last success. */
  readonly consecutiveFailures?: number;
}

/** What the gateway reports (metrics). */
export interface GatewayObserver {
  attempt?(providerId: string, outcome: "ok" | ProviderFailureKind, durationMs: number): void;
  breaker?(providerId: string, state: BreakerState): void;
  /** Once per served call: after the reply, or after the stream's iteration ended. */
  tokens?(providerId: string, usage: TokenUsage): void;
}

export interface ModelGatewayOptions {
  /** Provider id → provider, in configuration order. */
  readonly providers: ReadonlyMap<string, ModelProvider>;
  readonly router: Router;
  readonly policy?: Partial<ProviderPolicyOptions>;
  /** The engine's clock (ms) on which `ModelCall.deadlineAt` is expressed; default performance.now. */
  readonly clock?: () => number;
  readonly observer?: GatewayObserver;
}

/** A gateway with a status view. */
export type StatefulModelGateway = ModelGateway & { status(): ProviderStatus[] };

interface Candidate {
  readonly provider: ModelProvider;
  readonly policy: ProviderPolicy;
}

/** Reports usage once the iteration has ended (completed, failed or abandoned). */
async function* reporting(deltas: AsyncIterable<string>, report: () => void): AsyncGenerator<string> {
  try {
    yield* deltas;
  } finally {
    report();
  }
}

function allOpen(tried: readonly ProviderFailure[], fallbackId: string): ProviderFailure {
  const waits = tried.map((failure) => failure.details.retryAfterMs ?? 0);
  const ids = tried.map((failure) => failure.details.providerId);
  return new ProviderFailure(
    "circuit_open",
    ids.length > 0
      ? `the circuit breaker of every candidate provider is open (${ids.join(", ")})`
      : "no configured provider among the router's candidates",
    { providerId: ids[0] ?? fallbackId, retryAfterMs: waits.length > 0 ? Math.min(...waits) : undefined },
  );
}

export function createModelGateway(options: ModelGatewayOptions): StatefulModelGateway {
  const observer = options.observer ?? {};
  const deps = { observer, ...(options.clock ? { clock: options.clock } : {}) };
  const candidates = new Map<string, Candidate>(
    [...options.providers].map(([id, provider]) => [
      id,
      { provider, policy: new ProviderPolicy(id, options.policy, deps) },
    ]),
  );

  async function route<T>(
    call: ModelCall,
    run: (candidate: Candidate) => Promise<T>,
  ): Promise<{ value: T; served: ServedBy }> {
    const choice = options.router.select(call.route);
    const open: ProviderFailure[] = [];
    for (const id of choice.candidates) {
      const candidate = candidates.get(id);
      if (!candidate) continue;
      if (candidate.policy.isOpen()) {
        open.push(
          new ProviderFailure("circuit_open", `${id}: circuit breaker open`, {
            providerId: id,
            retryAfterMs: candidate.policy.retryAfterMs(),
          }),
        );
        continue;
      }
      try {
        return { value: await run(candidate), served: { providerId: id, variant: choice.variant } };
      } catch (error) {
        if (error instanceof ProviderFailure && error.kind === "circuit_open") {
          open.push(error);
          continue;
        }
        throw error;
      }
    }
    throw allOpen(open, choice.candidates[0] ?? "");
  }

  return {
    async generate(call: ModelCall): Promise<ModelReply & ServedBy> {
      const { value, served } = await route(call, ({ provider, policy }) =>
        policy.execute(call, (signal) => provider.generate({ ...call, signal })),
      );
      observer.tokens?.(served.providerId, value.usage);
      call.onUsage?.(value.usage);
      return { text: value.text, usage: value.usage, ...served };
    },

    async stream(call: ModelCall): Promise<ModelStream & ServedBy> {
      const { value, served } = await route(call, ({ provider, policy }) =>
        policy.openStream(call, (signal) => provider.stream({ ...call, signal })),
      );
      return {
        deltas: reporting(value.deltas, () => {
          const usage = value.usage();
          observer.tokens?.(served.providerId, usage);
          call.onUsage?.(usage);
        }),
        usage: () => value.usage(),
        ...served,
      };
    },

    status: () =>
      [...candidates.values()].map(({ policy }) => ({
        id: policy.providerId,
        breaker: policy.breakerState(),
        consecutiveFailures: policy.consecutiveFailures(),
      })),
  };
}
