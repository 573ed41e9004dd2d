/**
 * Fakes for engine tests: a scripted model gateway, a word-bag embedder and a keyword scorer,
 * all honouring the call's AbortSignal like the real adapters do.
 */
import { CognitiveController, type ControllerOptions } from "../../../src/core/controller.js";
import { GenerationEngine } from "../../../src/core/engine/engine.js";
import { ENGINE_DEFAULTS, type EngineOptions } from "../../../src/core/engine/options.js";
import {
  ProviderFailure,
  type ContentScore,
  type ContentScorer,
  type Embedder,
  type ModelCall,
  type ModelGateway,
  type ModelReply,
  type ModelStream,
  type ServedBy,
} from "../../../src/core/engine/ports.js";
import type { GenerationRequest } from "../../../src/core/engine/types.js";

export const DIMENSION = 32;

/** A controller with a tiny dimension and a fake clock/memory. */
export function testController(overrides: Partial<ControllerOptions> = {}): CognitiveController {
  return new CognitiveController({
    dimension: DIMENSION,
    pelmCapacity: 64,
    phaseTolerance: 0.15,
    clock: () => performance.now(),
    memory: () => ({ rssBytes: 100 * 2 ** 20, heapUsedBytes: 50 * 2 ** 20 }),
    ...overrides,
  });
}

/** Bag-of-words embedder: each word adds 1 to a hashed bucket (similar texts → similar vectors). */
export class WordEmbedder implements Embedder {
  readonly dimension = DIMENSION;
  calls = 0;
  embed(text: string, signal: AbortSignal): Promise<Float32Array> {
    this.calls += 1;
    if (signal.aborted)
      return Promise.reject(new ProviderFailure("cancelled", "aborted", { providerId: "embedder" }));
    const vector = new Float32Array(DIMENSION);
    vector[0] = 0.01;
    for (const word of text.toLowerCase().split(/\W+/).filter(Boolean)) {
      let h = 7;
      for (const char of word) h = (h * 31 + char.charCodeAt(0)) % 1_000_003;
      const i = h % DIMENSION;
      vector[i] = (vector[i] ?? 0) + 1;
    }
    return Promise.resolve(vector);
  }
}

/** Scores 0.1 any text containing a banned word, else 1. */
export class KeywordScorer implements ContentScorer {
  readonly id = "keywords";
  readonly seen: string[] = [];
  constructor(private readonly banned: readonly string[] = ["kill"]) {}
  score(text: string): Promise<ContentScore> {
    this.seen.push(text);
    const hit = this.banned.filter((word) => text.toLowerCase().includes(word));
    return Promise.resolve(
      hit.length > 0 ? { score: 0.1, categories: ["violence"] } : { score: 1, categories: [] },
    );
  }
}

type Step = string | ProviderFailure | ((call: ModelCall) => Promise<string>);

/** A gateway that answers from a script (the last step repeats) and records its calls. */
export class ScriptedGateway implements ModelGateway {
  readonly calls: ModelCall[] = [];
  constructor(
    private readonly steps: Step[] = ["The answer is that the sky is blue because of Rayleigh scattering."],
    private readonly served: ServedBy = { providerId: "fake", variant: "" },
    private readonly deltaDelayMs = 0,
  ) {}

  private next(call: ModelCall): Promise<string> {
    this.calls.push(call);
    const step = this.steps.length > 1 ? this.steps.shift() : this.steps[0];
    if (step === undefined) return Promise.resolve("");
    if (step instanceof ProviderFailure) return Promise.reject(step);
    if (typeof step === "function") return step(call);
    return Promise.resolve(step);
  }

  async generate(call: ModelCall): Promise<ModelReply & ServedBy> {
    const text = await this.next(call);
    return { text, usage: { inputTokens: 1, outputTokens: 1 }, ...this.served };
  }

  async stream(call: ModelCall): Promise<ModelStream & ServedBy> {
    const text = await this.next(call);
    const delay = this.deltaDelayMs;
    async function* deltas(): AsyncGenerator<string> {
      for (const word of text.match(/\S+\s*/g) ?? []) {
        if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
        if (call.signal.aborted) throw new ProviderFailure("cancelled", "aborted", { providerId: "fake" });
        yield word;
      }
    }
    return { deltas: deltas(), usage: () => ({ inputTokens: 1, outputTokens: 1 }), ...this.served };
  }
}

/** An engine over fakes. */
export function testEngine(
  parts: {
    controller?: CognitiveController;
    gateway?: ScriptedGateway;
    embedder?: WordEmbedder;
    scorer?: ContentScorer;
    options?: Partial<EngineOptions>;
  } = {},
) {
  const controller = parts.controller ?? testController();
  const gateway = parts.gateway ?? new ScriptedGateway();
  const embedder = parts.embedder ?? new WordEmbedder();
  const scorer = parts.scorer ?? new KeywordScorer();
  const engine = new GenerationEngine(
    {
      controller,
      gateway,
      embedder,
      scorer,
      scrub: (text) => text.replace(/[\w.]+@[\w.]+/g, "[EMAIL]"),
      clock: () => performance.now(),
    },
    { ...ENGINE_DEFAULTS, ...parts.options },
  );
  return { engine, controller, gateway, embedder, scorer };
}

/** A request with defaults. */
export function request(prompt: string, fields: Partial<GenerationRequest> = {}): GenerationRequest {
  return {
    prompt,
    maxTokens: undefined,
    moralValue: 0.8,
    contextTopK: undefined,
    userIntent: "",
    userId: "",
    ...fields,
  };
}

/** A budget that never expires. */
export function budget(signal: AbortSignal = new AbortController().signal) {
  return { signal, deadlineAt: undefined };
}
