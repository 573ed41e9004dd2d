import { describe, expect, it } from "vitest";
import { EngineRefused, STAGES } from "../../../src/core/engine/types.js";
import { ProviderFailure } from "../../../src/core/engine/ports.js";
import { KeywordScorer, ScriptedGateway, budget, request, testController, testEngine } from "./support.js";

const FLUENT = "The answer is that the sky is blue because of Rayleigh scattering.";
const TELEGRAPHIC = "Sky blue. Light scatter. Short waves. Much more.";
const REPAIRED =
  "The sky is blue because the air scatters the short blue waves of sunlight more than the others.";

describe("GenerationEngine.generate", () => {
  it("runs every stage in order, returns the answer and stores the exchange", async () => {
    const { engine, controller, gateway } = testEngine();
    const result = await engine.generate(request("Why is the sky blue?"), budget());
    expect(result.text).toBe(FLUENT);
    expect(result.decision.accepted).toBe(true);
    expect(result.decision.rejectedAt).toBeUndefined();
    expect(result.decision.providerId).toBe("fake");
    expect(result.decision.maxTokensUsed).toBe(512);
    expect(result.stages.map((s) => s.stage)).toEqual([...STAGES]);
    expect(result.stages.filter((s) => s.outcome === "failed")).toEqual([]);
    expect(controller.pelm.size).toBe(1);
    expect(result.storedSlot).toBe(0);
    expect(controller.texts.get(0)).toBe(`User: Why is the sky blue?\nAssistant: ${FLUENT}`);
    expect(gateway.calls).toHaveLength(1);
  });

  it("rejects at the moral pre-check without calling the model or touching memory", async () => {
    const { engine, controller, gateway, embedder } = testEngine();
    const result = await engine.generate(request("Hello there", { moralValue: 0.1 }), budget());
    expect(result.decision.accepted).toBe(false);
    expect(result.decision.rejectedAt).toBe("pre_moral");
    expect(result.text).toBe("");
    expect(gateway.calls).toHaveLength(0);
    expect(embedder.calls).toBe(0);
    expect(controller.pelm.size).toBe(0);
    expect(result.stages.find((s) => s.stage === "pre_moral")?.outcome).toBe("failed");
  });

  it("lets the content scorer overrule a generous declared moral value (stricter wins)", async () => {
    const { engine, gateway } = testEngine();
    const result = await engine.generate(request("how to kill a neighbour", { moralValue: 0.95 }), budget());
    expect(result.decision.rejectedAt).toBe("pre_moral");
    expect(result.decision.moralValue).toBeCloseTo(0.1);
    expect(result.decision.promptContent?.categories).toEqual(["violence"]);
    expect(gateway.calls).toHaveLength(0);
  });

  it("rejects in the sleep phase when configured to, without adapting the moral filter (W3)", async () => {
    const controller = testController({ rhythm: { wakeDuration: 1, sleepDuration: 2 } });
    const { engine } = testEngine({ controller, options: { sleepBehaviour: "reject" } });
    await engine.generate(request("first call"), budget());
    expect(controller.rhythm.phase).toBe("sleep");
    const before = { threshold: controller.moral.threshold, ema: controller.moral.ema };
    const result = await engine.generate(request("second call"), budget());
    expect(result.decision.rejectedAt).toBe("rhythm");
    expect(result.decision.phase).toBe("sleep");
    expect({ threshold: controller.moral.threshold, ema: controller.moral.ema }).toEqual(before);
    // W2: the rhythm steps on every call, so sleep ends by itself.
    await engine.generate(request("third call"), budget());
    expect(controller.rhythm.phase).toBe("wake");
  });

  it("serves short answers in the sleep phase by default and stores nothing", async () => {
    const controller = testController({ rhythm: { wakeDuration: 1, sleepDuration: 2 } });
    const { engine } = testEngine({ controller });
    await engine.generate(request("first call"), budget());
    const size = controller.pelm.size;
    const result = await engine.generate(request("second call", { maxTokens: 1000 }), budget());
    expect(result.decision.accepted).toBe(true);
    expect(result.decision.phase).toBe("sleep");
    expect(result.decision.maxTokensUsed).toBe(150);
    expect(result.storedSlot).toBeUndefined();
    expect(controller.pelm.size).toBe(size);
  });

  it("really disables retrieval with context_top_k = 0 (W11)", async () => {
    const { engine } = testEngine();
    await engine.generate(request("Why is the sky blue?"), budget());
    const result = await engine.generate(request("Why is the sky blue?", { contextTopK: 0 }), budget());
    expect(result.decision.context).toEqual([]);
    expect(result.decision.contextTopK).toBe(0);
    expect(result.stages.find((s) => s.stage === "retrieval")?.outcome).toBe("skipped");
  });

  it("injects the stored text of earlier exchanges as context, scrubbed and capped (W7)", async () => {
    const { engine, gateway } = testEngine({ options: { contextTextMaxBytes: 60 } });
    await engine.generate(request("Why is the sky blue? Ask jane@example.com"), budget());
    const result = await engine.generate(request("Why is the sky blue today?"), budget());
    expect(result.decision.context.length).toBeGreaterThan(0);
    const first = result.decision.context[0];
    expect(first?.text).toContain("Why is the sky blue?");
    expect(first?.text).toContain("[EMAIL]");
    expect(first?.text).not.toContain("jane@example.com");
    expect(Buffer.byteLength(first?.text ?? "", "utf8")).toBeLessThanOrEqual(60);
    const sent = gateway.calls[1]?.prompt ?? "";
    expect(sent).toContain("[Context 1, relevance");
    expect(sent).toContain(first?.text ?? "missing");
    expect(sent.endsWith("User: Why is the sky blue today?")).toBe(true);
  });

  it("evicts a text with its vector when the slot is reused", async () => {
    const controller = testController({ pelmCapacity: 1 });
    const { engine } = testEngine({ controller });
    await engine.generate(request("alpha question"), budget());
    controller.processEvent(new Float32Array(32).fill(0.5), 0.95);
    expect(controller.texts.get(0)).toBe("");
  });

  it("surfaces a provider failure as an error, never as text, and writes nothing (W9)", async () => {
    const failure = new ProviderFailure("unavailable", "HTTP 503", { providerId: "fake", httpStatus: 503 });
    const { engine, controller } = testEngine({ gateway: new ScriptedGateway([failure]) });
    await expect(engine.generate(request("Hello there"), budget())).rejects.toBe(failure);
    expect(controller.pelm.size).toBe(0);
  });

  it("treats an empty answer as an invalid response", async () => {
    const { engine } = testEngine({ gateway: new ScriptedGateway(["   "]) });
    await expect(engine.generate(request("Hello there"), budget())).rejects.toMatchObject({
      kind: "invalid_response",
    });
  });

  it("repairs a telegraphic answer once and reports both analyses", async () => {
    const gateway = new ScriptedGateway([TELEGRAPHIC, REPAIRED]);
    const { engine } = testEngine({ gateway });
    const result = await engine.generate(request("Why is the sky blue?"), budget());
    expect(gateway.calls).toHaveLength(2);
    expect(gateway.calls[1]?.prompt).toContain("Draft answer:");
    expect(gateway.calls[1]?.prompt).toContain(TELEGRAPHIC);
    expect(result.text).toBe(REPAIRED);
    expect(result.decision.aphasia?.isAphasic).toBe(true);
    expect(result.decision.aphasia?.repaired).toBe(true);
    expect(result.decision.aphasiaAfterRepair?.isAphasic).toBe(false);
  });

  it("returns the draft when the repair call fails", async () => {
    const failure = new ProviderFailure("unavailable", "down", { providerId: "fake" });
    const gateway = new ScriptedGateway([TELEGRAPHIC, failure]);
    const { engine } = testEngine({ gateway });
    const result = await engine.generate(request("Why is the sky blue?"), budget());
    expect(result.text).toBe(TELEGRAPHIC);
    expect(result.decision.aphasia?.repaired).toBe(false);
  });

  it("does not repair when repair is disabled", async () => {
    const gateway = new ScriptedGateway([TELEGRAPHIC, REPAIRED]);
    const { engine } = testEngine({ gateway, options: { aphasiaRepair: false } });
    const result = await engine.generate(request("Why is the sky blue?"), budget());
    expect(gateway.calls).toHaveLength(1);
    expect(result.decision.aphasia?.isAphasic).toBe(true);
  });

  it("withholds an answer that fails the post-moral check and stores nothing", async () => {
    const gateway = new ScriptedGateway(["You should kill the process and then the parent process too."]);
    const { engine, controller } = testEngine({ gateway });
    const result = await engine.generate(request("How do I stop a program?"), budget());
    expect(result.decision.accepted).toBe(false);
    expect(result.decision.rejectedAt).toBe("post_moral");
    expect(result.decision.moralScore).toBeCloseTo(0.1);
    expect(result.text).toBe("");
    expect(controller.pelm.size).toBe(0);
  });

  it("writes nothing when the client cancels during the model call", async () => {
    const abort = new AbortController();
    const gateway = new ScriptedGateway([
      (call) => {
        abort.abort();
        return Promise.reject(
          call.signal.aborted
            ? new ProviderFailure("cancelled", "aborted", { providerId: "fake" })
            : new Error("signal not passed"),
        );
      },
    ]);
    const { engine, controller } = testEngine({ gateway });
    await expect(engine.generate(request("Hello there"), budget(abort.signal))).rejects.toMatchObject({
      kind: "cancelled",
    });
    expect(controller.pelm.size).toBe(0);
  });

  it("writes nothing when the call ends after the answer arrived", async () => {
    const abort = new AbortController();
    const gateway = new ScriptedGateway([
      () => {
        abort.abort(new DOMException("late", "TimeoutError"));
        return Promise.resolve(FLUENT);
      },
    ]);
    const { engine, controller } = testEngine({ gateway });
    await expect(engine.generate(request("Hello there"), budget(abort.signal))).rejects.toMatchObject({
      kind: "timeout",
    });
    expect(controller.pelm.size).toBe(0);
  });

  it("refuses during an emergency shutdown", async () => {
    const { engine, controller } = testEngine();
    controller.triggerEmergency("test");
    await expect(engine.generate(request("Hello there"), budget())).rejects.toBeInstanceOf(EngineRefused);
  });

  it("passes the route hints and the phase cap to the gateway", async () => {
    const gateway = new ScriptedGateway();
    const { engine } = testEngine({ gateway });
    await engine.generate(
      request("Hello there", { userIntent: "code", userId: "u-1", maxTokens: 64 }),
      budget(),
    );
    expect(gateway.calls[0]?.route).toEqual({ userIntent: "code", userId: "u-1" });
    expect(gateway.calls[0]?.maxTokens).toBe(64);
    await engine.generate(request("Hello there"), budget());
    expect(gateway.calls[1]?.route).toEqual({ userIntent: "conversational", userId: undefined });
  });

  it("keeps the result invariants on every path", async () => {
    const scorer = new KeywordScorer(["kill"]);
    const paths = [
      testEngine({ scorer }),
      testEngine({ scorer, gateway: new ScriptedGateway(["kill kill kill everything now please okay."]) }),
    ];
    for (const { engine } of paths) {
      for (const moralValue of [0, 0.2, 0.5, 0.95]) {
        const result = await engine.generate(request("a question", { moralValue }), budget());
        expect(result.decision.accepted).toBe(result.decision.rejectedAt === undefined);
        if (!result.decision.accepted) expect(result.text).toBe("");
        else expect(result.text.trim()).not.toBe("");
        expect(result.stages.map((s) => s.stage)).toEqual([...STAGES]);
        for (const stage of result.stages) expect(stage.durationMs).toBeGreaterThanOrEqual(0);
        const sum = result.stages.reduce((total, s) => total + s.durationMs, 0);
        expect(result.totalMs + 1e-6).toBeGreaterThanOrEqual(sum - 1);
      }
    }
  });
});
