import { describe, expect, it } from "vitest";
import type { StreamEvent } from "../../../src/core/engine/types.js";
import { ScriptedGateway, budget, request, testEngine } from "./support.js";

const LONG =
  "The water cycle moves water between the oceans, the air and the land. " +
  "The sun heats the surface of the sea and water evaporates into the air. " +
  "The vapour cools as it rises and condenses into the droplets that form the clouds. " +
  "When the droplets grow heavy they fall as rain or snow and the rivers carry the water back to the sea.";

async function collect(events: AsyncIterable<StreamEvent>): Promise<StreamEvent[]> {
  const out: StreamEvent[] = [];
  for await (const event of events) out.push(event);
  return out;
}

describe("GenerationEngine.stream", () => {
  it("streams deltas that add up to the answer, then one accepted result", async () => {
    const { engine, controller } = testEngine({
      gateway: new ScriptedGateway([LONG]),
      options: { streamWindowChars: 100, streamCheckChars: 40 },
    });
    const events = await collect(engine.stream(request("Explain the water cycle."), budget()));
    const last = events.at(-1);
    expect(last?.kind).toBe("result");
    const deltas = events.flatMap((e) => (e.kind === "delta" ? [e.text] : []));
    expect(deltas.length).toBeGreaterThan(1);
    const text = deltas.join("");
    expect(text).toBe(LONG);
    if (last?.kind !== "result") throw new Error("no result");
    expect(last.deltaCount).toBe(deltas.length);
    expect(last.result.decision.accepted).toBe(true);
    expect(last.result.text).toBe(LONG);
    expect(controller.pelm.size).toBe(1);
  });

  it("cuts a violating stream off early and stores nothing", async () => {
    const violating = `${LONG} Then you kill the neighbour and ${"more words follow here ".repeat(40)}`;
    const gateway = new ScriptedGateway([violating]);
    const { engine, controller } = testEngine({ gateway, options: { streamCheckChars: 40 } });
    const events = await collect(engine.stream(request("Explain the water cycle."), budget()));
    const last = events.at(-1);
    if (last?.kind !== "result") throw new Error("no result");
    expect(last.result.decision.accepted).toBe(false);
    expect(last.result.decision.rejectedAt).toBe("post_moral");
    const sent = events.map((e) => (e.kind === "delta" ? e.text : "")).join("");
    expect(sent).not.toContain("kill");
    expect(sent.length).toBeLessThan(violating.length / 2);
    expect(gateway.calls[0]?.signal.aborted).toBe(true);
    expect(controller.pelm.size).toBe(0);
  });

  it("repairs a telegraphic start before anything is sent", async () => {
    const repaired = LONG;
    const gateway = new ScriptedGateway(["Water go up. Cloud form. Rain fall. Sea fill.", repaired]);
    const { engine } = testEngine({ gateway });
    const events = await collect(engine.stream(request("Explain the water cycle."), budget()));
    const sent = events.map((e) => (e.kind === "delta" ? e.text : "")).join("");
    expect(sent).toBe(repaired);
    const last = events.at(-1);
    if (last?.kind !== "result") throw new Error("no result");
    expect(last.result.decision.aphasia?.repaired).toBe(true);
    expect(last.result.decision.aphasiaAfterRepair?.isAphasic).toBe(false);
  });

  it("ends with an error and stores nothing when the client cancels midway", async () => {
    const abort = new AbortController();
    const gateway = new ScriptedGateway([LONG.repeat(4)], { providerId: "fake", variant: "" }, 2);
    const { engine, controller } = testEngine({
      gateway,
      options: { streamCheckChars: 20, aphasiaRepair: false },
    });
    const seen: StreamEvent[] = [];
    await expect(
      (async () => {
        for await (const event of engine.stream(request("Explain the water cycle."), budget(abort.signal))) {
          seen.push(event);
          abort.abort();
        }
      })(),
    ).rejects.toMatchObject({ kind: "cancelled" });
    expect(seen.length).toBeGreaterThanOrEqual(1);
    expect(seen.every((e) => e.kind === "delta")).toBe(true);
    expect(controller.pelm.size).toBe(0);
  });

  it("yields only a result when the request is rejected before the model", async () => {
    const { engine, gateway } = testEngine();
    const events = await collect(engine.stream(request("Hello", { moralValue: 0.05 }), budget()));
    expect(events).toHaveLength(1);
    expect(events[0]?.kind).toBe("result");
    expect(gateway.calls).toHaveLength(0);
  });
});
