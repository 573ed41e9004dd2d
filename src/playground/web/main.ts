/**
 * The MLSDM browser playground (DOC-004): send Generate (streamed as it arrives) and
 * ProcessEvent, watch the cognitive state (GetState every 500 ms) as a live chart, trigger and
 * reset an emergency, try an API key, over the Connect protocol or gRPC-Web. Errors show their
 * code, message, catalogue code and retry hint.
 *
 * The server defaults to the page's own origin; `?server=http://host:port` points the page at
 * another one (cross-origin, allowed only when that server lists this page's origin in
 * MLSDM_CORS_ORIGINS).
 */
import { EmergencyReason, Phase, type CognitiveState } from "../../gen/mlsdm/v1/state_pb.js";
import { RejectionStage } from "../../gen/mlsdm/v1/engine_pb.js";
import { StateChart } from "./chart.js";
import { clientsFor, type Clients, type Protocol } from "./client.js";
import { errorLine, showError } from "./errors.js";
import { randomUnitVector } from "./vector.js";

const POLL_MS = 500;

function byId<T extends Element>(id: string, kind: abstract new () => T): T {
  const node = document.getElementById(id);
  if (!(node instanceof kind)) throw new Error(`playground: #${id} is missing from index.html`);
  return node;
}

const ui = {
  server: byId("server", HTMLInputElement),
  protocol: byId("protocol", HTMLSelectElement),
  apiKey: byId("api-key", HTMLInputElement),
  prompt: byId("prompt", HTMLTextAreaElement),
  maxTokens: byId("max-tokens", HTMLInputElement),
  stream: byId("stream", HTMLInputElement),
  generate: byId("generate", HTMLButtonElement),
  output: byId("output", HTMLElement),
  decision: byId("decision", HTMLElement),
  eventMoral: byId("event-moral", HTMLInputElement),
  dimension: byId("dimension", HTMLInputElement),
  processEvent: byId("process-event", HTMLButtonElement),
  eventResult: byId("event-result", HTMLElement),
  reason: byId("reason", HTMLInputElement),
  trigger: byId("trigger-emergency", HTMLButtonElement),
  reset: byId("reset-emergency", HTMLButtonElement),
  adminResult: byId("admin-result", HTMLElement),
  phase: byId("phase", HTMLElement),
  step: byId("step", HTMLElement),
  threshold: byId("threshold", HTMLElement),
  ema: byId("ema", HTMLElement),
  pelm: byId("pelm", HTMLElement),
  norms: byId("norms", HTMLElement),
  emergency: byId("emergency", HTMLElement),
  pollStatus: byId("poll-status", HTMLElement),
  error: byId("error", HTMLElement),
  errorCode: byId("error-code", HTMLElement),
  errorMessage: byId("error-message", HTMLElement),
  errorRetry: byId("error-retry", HTMLElement),
};

const chart = new StateChart(byId("chart", SVGSVGElement));

const requested = new URLSearchParams(location.search).get("server");
ui.server.value = requested ?? location.origin;

function clients(): Clients {
  return clientsFor({
    baseUrl: ui.server.value.trim().replace(/\/+$/, ""),
    protocol: ui.protocol.value === "grpc-web" ? "grpc-web" : ("connect" satisfies Protocol),
    apiKey: ui.apiKey.value,
  });
}

function clearError(): void {
  ui.error.hidden = true;
  delete ui.error.dataset.code;
}

function reportError(what: string, error: unknown): void {
  const shown = showError(error);
  ui.error.hidden = false;
  ui.error.dataset.code = shown.code;
  ui.error.dataset.catalogueCode = shown.catalogueCode ?? "";
  ui.errorCode.textContent = [shown.code, shown.catalogueCode, shown.reason].filter((p) => p).join(" · ");
  ui.errorMessage.textContent = `${what}: ${shown.message}`;
  ui.errorRetry.textContent =
    shown.retryAfterMs === undefined
      ? "No retry hint: retrying the same call will not help."
      : `Retry hint: try again in ${(shown.retryAfterMs / 1000).toFixed(1)} s.`;
}

async function run(button: HTMLButtonElement, what: string, action: () => Promise<void>): Promise<void> {
  button.disabled = true;
  clearError();
  try {
    await action();
  } catch (error) {
    reportError(what, error);
  } finally {
    button.disabled = false;
  }
}

function optionalInt(input: HTMLInputElement): number | undefined {
  const value = Number.parseInt(input.value, 10);
  return Number.isFinite(value) ? value : undefined;
}

function decisionText(
  decision: { accepted: boolean; rejectionStage: RejectionStage; note: string } | undefined,
) {
  if (!decision) return "";
  return decision.accepted
    ? `accepted · ${decision.note}`
    : `rejected at ${RejectionStage[decision.rejectionStage]} · ${decision.note}`;
}

async function generate(): Promise<void> {
  const request = { prompt: ui.prompt.value, maxTokens: optionalInt(ui.maxTokens) };
  ui.output.textContent = "";
  ui.decision.textContent = "";
  ui.output.dataset.deltas = "0";
  ui.output.dataset.done = "false";
  const { engine } = clients();
  if (!ui.stream.checked) {
    const response = await engine.generate(request);
    ui.output.textContent = response.text;
    ui.decision.textContent = decisionText(response.decision);
  } else {
    let deltas = 0;
    for await (const message of engine.generateStream(request)) {
      if (message.event.case === "delta") {
        ui.output.textContent += message.event.value.text;
        ui.output.dataset.deltas = String(++deltas);
      } else if (message.event.case === "summary") {
        ui.decision.textContent = `${decisionText(message.event.value.decision)} · ${deltas} ${deltas === 1 ? "delta" : "deltas"}`;
      }
    }
  }
  ui.output.dataset.done = "true";
}

async function processEvent(): Promise<void> {
  const dimension = optionalInt(ui.dimension) ?? 384;
  const moralValue = Number.parseFloat(ui.eventMoral.value);
  const response = await clients().engine.processEvent({
    vector: randomUnitVector(dimension),
    moralValue: Number.isFinite(moralValue) ? moralValue : 0.8,
  });
  ui.eventResult.textContent = `${response.accepted ? "accepted" : "rejected"} · ${response.note}`;
  if (response.state) showState(response.state);
}

function reasonText(): string {
  return ui.reason.value.trim() || "from the playground";
}

async function trigger(): Promise<void> {
  const response = await clients().admin.triggerEmergencyShutdown({ reason: reasonText() });
  ui.adminResult.textContent = response.alreadyActive
    ? "already in emergency shutdown"
    : "emergency shutdown on";
}

async function reset(): Promise<void> {
  const response = await clients().admin.resetEmergency({ reason: reasonText() });
  ui.adminResult.textContent = response.wasActive ? "emergency cleared" : "no emergency was active";
}

function showState(state: CognitiveState): void {
  const norms = state.synapticNorms ?? { l1: 0, l2: 0, l3: 0 };
  const emergency = state.emergency;
  const active = emergency?.active ?? false;
  ui.phase.textContent = Phase[state.phase].replace("PHASE_", "");
  ui.step.textContent = state.step.toString();
  ui.threshold.textContent = state.moralThreshold.toFixed(4);
  ui.ema.textContent = state.moralEma.toFixed(4);
  ui.pelm.textContent = `${state.pelmUsed} / ${state.pelmCapacity}`;
  ui.norms.textContent = [norms.l1, norms.l2, norms.l3].map((n) => n.toFixed(2)).join(" · ");
  ui.emergency.dataset.active = String(active);
  const reason = (EmergencyReason[emergency?.reason ?? 0] ?? "").replace("EMERGENCY_REASON_", "");
  ui.emergency.textContent = active
    ? `EMERGENCY SHUTDOWN · ${reason} · ${emergency?.message ?? ""}`
    : "no emergency";
  chart.push({
    threshold: state.moralThreshold,
    ema: state.moralEma,
    pelmFill: state.pelmCapacity > 0 ? state.pelmUsed / state.pelmCapacity : 0,
    l1: norms.l1,
    l2: norms.l2,
    l3: norms.l3,
    emergency: active,
  });
}

async function poll(): Promise<void> {
  try {
    const { state } = await clients().engine.getState({});
    if (state) showState(state);
    ui.pollStatus.textContent = `GetState ok · ${new Date().toLocaleTimeString()}`;
    ui.pollStatus.dataset.ok = "true";
  } catch (error) {
    ui.pollStatus.textContent = `GetState failed: ${errorLine(showError(error))}`;
    ui.pollStatus.dataset.ok = "false";
  } finally {
    setTimeout(() => void poll(), POLL_MS);
  }
}

ui.generate.addEventListener("click", () => void run(ui.generate, "Generate", generate));
ui.processEvent.addEventListener("click", () => void run(ui.processEvent, "ProcessEvent", processEvent));
ui.trigger.addEventListener("click", () => void run(ui.trigger, "TriggerEmergencyShutdown", trigger));
ui.reset.addEventListener("click", () => void run(ui.reset, "ResetEmergency", reset));
void poll();
