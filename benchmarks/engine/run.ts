/**
 * `npm run bench:engine`: Generate in process on the default stub provider with a full
 * 20,000 × 384 PELM (every slot holding an exchange text) and retrieval on (top-5). Records
 * end-to-end p50/p99 and each stage's median and p99, and, measured in the same run as the
 * baseline, the bare stub provider call through the same gateway, so the table shows what
 * the governance pipeline costs on top of the model call. Writes
 * benchmarks/results/engine.json and prints a table. A recorded benchmark, not a timed test.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { CognitiveController } from "../../src/core/controller.js";
import { HashingEmbedder } from "../../src/core/embedding/hashing-embedder.js";
import { GenerationEngine } from "../../src/core/engine/engine.js";
import { ENGINE_DEFAULTS } from "../../src/core/engine/options.js";
import type { ModelCall } from "../../src/core/engine/ports.js";
import { STAGES, type Stage } from "../../src/core/engine/types.js";
import { LexiconScorer } from "../../src/core/scoring/lexicon-scorer.js";
import { createStubProvider } from "../../src/providers/llm/stub-provider.js";
import { createModelGateway } from "../../src/providers/gateway.js";
import { SingleRouter } from "../../src/providers/routing/router.js";
import { scrubPii } from "../../src/telemetry/pii/index.js";

const DIM = 384;
const CAPACITY = 20_000;
const CALLS = Number(process.env.MLSDM_BENCH_CALLS ?? 3_000);
const WARMUP = 300;
const clock = (): number => performance.now();

const TOPICS = ["photosynthesis", "the water cycle", "plate tectonics", "black holes", "vaccines", "tides"];
const prompt = (i: number): string =>
  `Explain ${TOPICS[i % TOPICS.length] ?? "science"} for reader ${i % 97} in two short paragraphs, please.`;

function quantile(sorted: Float64Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] ?? 0;
}

function summary(samples: number[]): { p50: number; p99: number; mean: number } {
  const sorted = Float64Array.from(samples).sort();
  const mean = samples.reduce((a, b) => a + b, 0) / Math.max(1, samples.length);
  return { p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99), mean };
}

// A controller that never sleeps (the benchmark measures the wake path) with a full store.
const controller = new CognitiveController({
  dimension: DIM,
  pelmCapacity: CAPACITY,
  phaseTolerance: 0.15,
  rhythm: { wakeDuration: 1_000_000, sleepDuration: 1 },
  clock,
  memory: () => ({ rssBytes: 0, heapUsedBytes: 0 }),
});
const embedder = new HashingEmbedder(DIM);
process.stdout.write(`filling PELM with ${CAPACITY} exchanges...\n`);
for (let i = 0; i < CAPACITY; i++) {
  const text = `${prompt(i)} answer number ${i}`;
  controller.recordExchange(embedder.embedSync(text), `User: ${prompt(i)}\nAssistant: answer ${i}`, "wake");
}
const stub = createStubProvider();
const gateway = createModelGateway({
  providers: new Map([[stub.id, stub]]),
  router: new SingleRouter([stub.id]),
});
const engine = new GenerationEngine(
  { controller, gateway, embedder, scorer: new LexiconScorer(), scrub: scrubPii, clock },
  ENGINE_DEFAULTS,
);
const budget = { signal: new AbortController().signal, deadlineAt: undefined };

// Baseline: the same stub model call through the same gateway, without the pipeline.
const call = (i: number): ModelCall => ({
  prompt: prompt(i),
  maxTokens: 512,
  signal: budget.signal,
  deadlineAt: undefined,
  route: { userIntent: "conversational", userId: undefined },
});
for (let i = 0; i < WARMUP; i++) await gateway.generate(call(i));
const bare: number[] = [];
for (let i = 0; i < CALLS; i++) {
  const start = clock();
  await gateway.generate(call(i));
  bare.push(clock() - start);
}

for (let i = 0; i < WARMUP; i++) await engine.generate({ ...request(i) }, budget);
const total: number[] = [];
const perStage = new Map<Stage, number[]>(STAGES.map((stage) => [stage, []]));
let accepted = 0;
let contextItems = 0;
for (let i = 0; i < CALLS; i++) {
  const start = clock();
  const result = await engine.generate(request(i), budget);
  total.push(clock() - start);
  if (result.decision.accepted) accepted += 1;
  contextItems += result.decision.context.length;
  for (const stage of result.stages)
    if (stage.outcome !== "skipped") perStage.get(stage.stage)?.push(stage.durationMs);
}

function request(i: number) {
  return {
    prompt: prompt(i),
    maxTokens: undefined,
    moralValue: 0.95,
    contextTopK: 5,
    userIntent: "",
    userId: "",
  };
}

const engineSummary = summary(total);
const bareSummary = summary(bare);
const stages = STAGES.map((stage) => ({ stage, ...summary(perStage.get(stage) ?? []) }));
const dominant = [...stages].sort((a, b) => b.mean - a.mean)[0];
const result = {
  date: new Date().toISOString(),
  node: process.version,
  dimension: DIM,
  capacity: CAPACITY,
  calls: CALLS,
  acceptedShare: accepted / CALLS,
  meanContextItems: contextItems / CALLS,
  generateMs: engineSummary,
  baselineStubCallMs: bareSummary,
  ratioP50: engineSummary.p50 / Math.max(bareSummary.p50, 1e-9),
  throughputPerSecond: 1000 / engineSummary.mean,
  stagesMs: stages,
  dominantStage: dominant?.stage,
};
const out = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "results", "engine.json");
mkdirSync(path.dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);

const fmt = (ms: number): string => `${(ms * 1000).toFixed(1)} µs`;
process.stdout.write(
  `\nGenerate, stub provider, full PELM (${CAPACITY} × ${DIM}), top-5 retrieval, ${CALLS} calls\n`,
);
process.stdout.write(`  end to end      p50 ${fmt(engineSummary.p50)}  p99 ${fmt(engineSummary.p99)}\n`);
process.stdout.write(
  `  bare stub call  p50 ${fmt(bareSummary.p50)}  p99 ${fmt(bareSummary.p99)}  (baseline)\n`,
);
process.stdout.write(`  ratio p50 engine / bare call: ${result.ratioP50.toFixed(1)}×\n`);
for (const s of stages) {
  process.stdout.write(
    `  ${s.stage.padEnd(14)} p50 ${fmt(s.p50).padStart(10)}  p99 ${fmt(s.p99).padStart(10)}\n`,
  );
}
process.stdout.write(
  `  dominant stage: ${result.dominantStage ?? "?"}; accepted ${(result.acceptedShare * 100).toFixed(0)} %\n`,
);
process.stdout.write(`wrote ${path.relative(process.cwd(), out)}\n`);
