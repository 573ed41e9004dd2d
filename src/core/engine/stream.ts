/**
 * GenerateStream's model stage: text is released to the client only after the output checks
 * that guard it have passed, on a sliding window of the stream as it flows (issue 5 §6).
 *
 * - Every `streamCheckChars` new characters, the content scorer judges the latest
 *   `streamWindowChars` characters; a window below the bar cuts the stream off at once (the
 *   provider request is aborted) and the result is a post-moral rejection.
 * - With aphasia repair on, the first release waits for a full window (or the end of the
 *   answer): a telegraphic start is repaired before anything was sent, and the repaired text
 *   is then streamed through the same checks. Telegraphic text after the first window is only
 *   reported: text already sent cannot be rewritten.
 * - A cancellation or a deadline ends the stream with an error and writes nothing.
 */
import { analyzeAphasia, shouldRepair } from "../aphasia/detector.js";
import type { CallBudget, GenerationEngine, Prepared } from "./engine.js";
import { ProviderFailure, type ServedBy } from "./ports.js";
import type { ContentVerdict, StreamEvent } from "./types.js";

/** Splits `text` into pieces of about `size` characters (for streaming a repaired answer). */
function* chunks(text: string, size: number): Generator<string> {
  for (let i = 0; i < text.length; i += size) yield text.slice(i, i + size);
}

/** Runs the model stage of a stream and the stages after it. */
export async function* runStream(
  engine: GenerationEngine,
  p: Prepared,
  budget: CallBudget,
): AsyncGenerator<StreamEvent> {
  const { options, deps } = engine;
  const cut = new AbortController();
  const signal = AbortSignal.any([budget.signal, cut.signal]);
  const bar = Math.max(0, p.moralValue - options.postMoralTolerance);
  const started = deps.clock();
  let sent = "";
  let pending = "";
  let deltaCount = 0;
  let worst: ContentVerdict | undefined;
  let repaired: { draft: string; text: string } | undefined;
  const waitForWindow = options.aphasiaDetect && options.aphasiaRepair;

  /** Judges the window ending with `pending`; returns false when the stream must be cut off. */
  const windowPasses = async (): Promise<boolean> => {
    const window = (sent + pending).slice(-options.streamWindowChars);
    const score = await deps.scorer.score(window, budget.signal);
    if (worst === undefined || score.score < worst.score) worst = { ...score, scorerId: deps.scorer.id };
    return score.score >= bar;
  };

  let served: ServedBy = { providerId: "", variant: "" };
  let cutOff = false;
  try {
    const stream = await engine.tracer.span("mlsdm.stage.generation", async (span) => {
      const opened = await deps.gateway.stream(engine.modelCall(p, p.modelPrompt, budget, signal));
      span.set("mlsdm.provider.id", opened.providerId);
      return opened;
    });
    served = stream;
    const source: AsyncIterable<string> = stream.deltas;
    for await (const delta of source) {
      pending += delta;
      const firstRelease = deltaCount === 0 && sent === "";
      const needed = firstRelease && waitForWindow ? options.streamWindowChars : options.streamCheckChars;
      if (pending.length < needed) continue;
      if (firstRelease && waitForWindow && needsRepair(engine, pending)) break;
      if (!(await windowPasses())) {
        cutOff = true;
        break;
      }
      yield { kind: "delta", text: pending };
      deltaCount += 1;
      sent += pending;
      pending = "";
    }
    // The loop ends with the answer complete, a telegraphic start to repair, or a cut-off.
    if (!cutOff && sent === "" && waitForWindow && pending.trim() !== "" && needsRepair(engine, pending)) {
      cut.abort(new Error("replaced by a repaired answer"));
      const text = await engine.repair(p, pending, budget);
      if (text !== undefined) {
        repaired = { draft: pending, text };
        pending = "";
        for (const piece of chunks(text, options.streamCheckChars)) {
          pending += piece;
          if (!(await windowPasses())) {
            cutOff = true;
            break;
          }
          yield { kind: "delta", text: pending };
          deltaCount += 1;
          sent += pending;
          pending = "";
        }
      }
    }
    if (!cutOff && pending !== "") {
      if (await windowPasses()) {
        yield { kind: "delta", text: pending };
        deltaCount += 1;
        sent += pending;
        pending = "";
      } else {
        cutOff = true;
      }
    }
  } finally {
    cut.abort();
  }
  p.rec.record("generation", started, { detail: `${served.providerId}, ${deltaCount} deltas` });
  if (!cutOff && sent.trim() === "") {
    throw new ProviderFailure("invalid_response", "the model returned an empty answer", {
      providerId: served.providerId,
    });
  }
  const aphasiaStarted = deps.clock();
  const draft = repaired?.draft ?? sent;
  const report = options.aphasiaDetect ? analyzeAphasia(draft) : undefined;
  const after = repaired ? analyzeAphasia(repaired.text) : undefined;
  if (report) {
    p.rec.record("aphasia", aphasiaStarted, {
      score: report.severity,
      threshold: options.aphasiaSeverityThreshold,
      detail: repaired ? "repaired before streaming" : report.isAphasic ? "detected (already streamed)" : "",
    });
  } else {
    p.rec.skip("aphasia", "aphasia detection disabled");
  }
  const aphasia = {
    text: sent,
    aphasia: report ? { ...report, repaired: repaired !== undefined } : undefined,
    after,
  };
  p.rec.record("post_moral", started, {
    outcome: cutOff ? "failed" : "passed",
    ...(worst ? { score: worst.score } : {}),
    threshold: bar,
    detail: cutOff ? "stream cut off by the output check" : "every window passed",
  });
  if (cutOff) {
    const score = worst?.score ?? 0;
    const note = `answer moral score ${score.toFixed(2)} below the required ${bar.toFixed(2)}; stream cut off after ${deltaCount} deltas`;
    const result = engine.finish(p, served, "", {
      accepted: false,
      rejectedAt: "post_moral",
      note,
      aphasia,
      answerContent: worst,
    });
    yield { kind: "result", result, deltaCount };
    return;
  }
  const slot = await engine.tracer.span("mlsdm.stage.memory_update", (span) => {
    const written = engine.memoryStage(p, sent, budget);
    span.set("mlsdm.memory.stored", written !== undefined);
    return written;
  });
  const result = engine.finish(p, served, sent, {
    accepted: true,
    note: "processed",
    aphasia,
    answerContent: worst,
    slot,
  });
  yield { kind: "result", result, deltaCount };
}

function needsRepair(engine: GenerationEngine, text: string): boolean {
  return shouldRepair(analyzeAphasia(text), {
    repairEnabled: engine.options.aphasiaRepair,
    severityThreshold: engine.options.aphasiaSeverityThreshold,
  });
}
