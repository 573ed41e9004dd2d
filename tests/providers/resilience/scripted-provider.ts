/**
 * An in-process ModelProvider for the resilience tests: it plays a script of outcomes (reply,
 * failure, hang), honours the signal it is given (an abort ends the current step at once, as
 * "timeout" for a TimeoutError reason and "cancelled" otherwise), and records what the policy
 * did to it: how many calls, how many at once, and the signals it received.
 */
import {
  ProviderFailure,
  type ModelCall,
  type ModelProvider,
  type ModelReply,
  type ModelStream,
  type ProviderFailureKind,
} from "../../../src/core/engine/ports.js";

export type Step =
  /** Answer `reply` after `afterMs`; a stream yields its words, then fails with `failMidStream` if set. */
  | { readonly reply: string; readonly afterMs?: number; readonly failMidStream?: ProviderFailureKind }
  /** Fail with `fail` after `afterMs`. */
  | { readonly fail: ProviderFailureKind; readonly afterMs?: number; readonly retryAfterMs?: number }
  /** Never answer; with `ignoreSignal`, not even when the signal fires. */
  | { readonly hang: true; readonly ignoreSignal?: boolean };

export const USAGE = { inputTokens: 7, outputTokens: 3 } as const;

function abortFailure(id: string, signal: AbortSignal): ProviderFailure {
  const reason: unknown = signal.reason;
  const timeout = reason instanceof Error && reason.name === "TimeoutError";
  return new ProviderFailure(timeout ? "timeout" : "cancelled", `${id}: aborted`, { providerId: id });
}

/** Resolves after `ms`, or rejects as soon as `signal` fires. */
function wait(id: string, ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(abortFailure(id, signal));
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortFailure(id, signal));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

export class ScriptedProvider implements ModelProvider {
  calls = 0;
  active = 0;
  maxActive = 0;
  readonly signals: AbortSignal[] = [];
  private script: Step[] = [];
  private repeat: Step | undefined;

  /** Plays `steps` in order, then repeats `repeat` (default: the last step) forever. */
  constructor(
    readonly id: string,
    steps: readonly Step[],
    repeat?: Step,
  ) {
    this.play(steps, repeat);
  }

  /** Replaces what is left of the script. */
  play(steps: readonly Step[], repeat: Step | undefined = steps.at(-1)): void {
    this.script = [...steps];
    this.repeat = repeat;
  }

  async generate(call: ModelCall): Promise<ModelReply> {
    const step = await this.begin(call);
    return { text: step.reply, usage: USAGE };
  }

  async stream(call: ModelCall): Promise<ModelStream> {
    const step = await this.begin(call);
    const { id } = this;
    async function* deltas(): AsyncGenerator<string> {
      for (const word of step.reply.split(" ")) {
        await wait(id, 1, call.signal);
        yield word;
      }
      if (step.failMidStream)
        throw new ProviderFailure(step.failMidStream, `${id}: mid-stream`, { providerId: id });
    }
    return { deltas: deltas(), usage: () => USAGE };
  }

  /** Runs the next step up to its reply (failures and hangs end here). */
  private async begin(call: ModelCall): Promise<Extract<Step, { reply: string }>> {
    const step = this.script.shift() ?? this.repeat;
    if (!step) throw new Error(`${this.id}: script exhausted`);
    this.calls += 1;
    this.signals.push(call.signal);
    this.active += 1;
    this.maxActive = Math.max(this.maxActive, this.active);
    try {
      if ("hang" in step) {
        await (step.ignoreSignal
          ? new Promise<never>(() => undefined)
          : wait(this.id, 2 ** 31 - 1, call.signal));
        throw new Error("unreachable");
      }
      await wait(this.id, step.afterMs ?? 0, call.signal);
      if ("fail" in step) {
        throw new ProviderFailure(step.fail, `${this.id}: scripted ${step.fail}`, {
          providerId: this.id,
          retryAfterMs: step.retryAfterMs,
        });
      }
      return step;
    } finally {
      this.active -= 1;
    }
  }
}
