/**
 * `mlsdm health`, `generate`, `event` and `state`: the EngineService and Health calls.
 */
import { readFileSync } from "node:fs";
import { create } from "@bufbuild/protobuf";
import { Option, type Command } from "commander";
import {
  HealthCheckResponse_ServingStatus as ServingStatus,
  HealthCheckResponseSchema,
} from "../../gen/grpc/health/v1/health_pb.js";
import {
  GenerateResponseSchema,
  GenerationDecisionSchema,
  GetStateResponseSchema,
  ProcessEventResponseSchema,
  RejectionStage,
  type GenerationDecision,
} from "../../gen/mlsdm/v1/engine_pb.js";
import { Phase } from "../../gen/mlsdm/v1/state_pb.js";
import { contextOf, numberIn, withClient, type RunState } from "../context.js";
import { EXIT, usageError } from "../exit-codes.js";
import { enumName, flatten, keyValues, messageJson, print, printMessage } from "../output.js";

function statusName(status: ServingStatus): string {
  return enumName(ServingStatus, status);
}

function readStdin(): string {
  return readFileSync(0, "utf8");
}

/** A deterministic pseudo-random vector (for smoke tests): values in [-1, 1). */
function seededVector(seed: number, dimension: number): number[] {
  let x = seed >>> 0 || 1;
  return Array.from({ length: dimension }, () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return ((x >>> 0) / 2 ** 32) * 2 - 1;
  });
}

function parseVector(text: string): number[] {
  const trimmed = text.trim();
  const values = trimmed.startsWith("[")
    ? (JSON.parse(trimmed) as unknown[])
    : trimmed.split(/[\s,]+/).filter((part) => part !== "");
  const vector = values.map(Number);
  if (vector.length === 0 || vector.some((v, i) => !Number.isFinite(v) || String(values[i]).trim() === "")) {
    throw usageError("the vector must be a list of finite numbers (comma/space separated or a JSON array)");
  }
  return vector;
}

function decisionSummary(decision: GenerationDecision | undefined): string {
  if (decision === undefined) return "no decision";
  if (decision.accepted)
    return `accepted (moral ${decision.moralValue.toFixed(2)} ≥ ${decision.moralThreshold.toFixed(2)}, phase ${enumName(Phase, decision.phase)})`;
  const stage = enumName(RejectionStage, decision.rejectionStage);
  return `rejected at ${stage}${decision.note ? `: ${decision.note}` : ""}`;
}

/** Adds the engine commands to `program`. */
export function addEngineCommands(program: Command, run: RunState): void {
  program
    .command("health")
    .description("check the server's health (exit 5 when not SERVING); --watch streams changes")
    .option("--service <name>", 'service to check: "" (the server), mlsdm.v1.EngineService, ...', "")
    .option("--watch", "stream status changes until interrupted")
    .action(async (options: { service: string; watch?: boolean }, command: Command) => {
      const context = contextOf(command, run);
      await withClient(context, async (client) => {
        const report = (status: ServingStatus) => {
          run.exitCode = status === ServingStatus.SERVING ? EXIT.OK : EXIT.NOT_SERVING;
          const json = messageJson(HealthCheckResponseSchema, create(HealthCheckResponseSchema, { status }));
          const stamp = options.watch ? `${new Date().toISOString()}  ` : "";
          context.output.out(
            context.output.json ? `${JSON.stringify(json)}\n` : `${stamp}${statusName(status)}\n`,
          );
        };
        if (!options.watch) {
          report((await client.health.check({ service: options.service })).status);
          return;
        }
        for await (const answer of client.health.watch({ service: options.service }, { timeoutMs: 0 })) {
          report(answer.status);
        }
      });
    });

  program
    .command("generate")
    .description("generate text through the governance pipeline; streams the answer to the terminal")
    .argument("<prompt...>", 'the prompt ("-" reads it from stdin)')
    .option("--max-tokens <n>", "token budget of the answer", numberIn(1, 4096, true))
    .option("--moral-value <x>", "the request's moral value, 0 to 1", numberIn(0, 1))
    .option("--top-k <n>", "context items to retrieve", numberIn(0, 100, true))
    .option("--intent <text>", "user intent label")
    .option("--diagnostics", "include per-stage diagnostics in the decision")
    .option("--no-stream", "wait for the whole answer (EngineService.Generate)")
    .action(
      async (
        words: string[],
        options: {
          maxTokens?: number;
          moralValue?: number;
          topK?: number;
          intent?: string;
          diagnostics?: boolean;
          stream: boolean;
        },
        command: Command,
      ) => {
        const context = contextOf(command, run);
        const prompt = words.length === 1 && words[0] === "-" ? readStdin() : words.join(" ");
        const request = {
          prompt,
          ...(options.maxTokens === undefined ? {} : { maxTokens: options.maxTokens }),
          ...(options.moralValue === undefined ? {} : { moralValue: options.moralValue }),
          ...(options.topK === undefined ? {} : { contextTopK: options.topK }),
          ...(options.intent === undefined ? {} : { userIntent: options.intent }),
          enableDiagnostics: options.diagnostics === true,
        };
        await withClient(context, async (client) => {
          const { output } = context;
          if (!options.stream) {
            const answer = await client.engine.generate(request);
            if (output.json) print(output, messageJson(GenerateResponseSchema, answer), () => "");
            else {
              output.out(answer.text === "" ? "" : `${answer.text}\n`);
              output.err(`${decisionSummary(answer.decision)}\n`);
            }
            return;
          }
          let text = "";
          let decision: GenerationDecision | undefined;
          for await (const message of client.engine.generateStream(request)) {
            if (message.event.case === "delta") {
              text += message.event.value.text;
              if (!output.json) output.out(message.event.value.text);
            } else if (message.event.case === "summary") {
              decision = message.event.value.decision;
            }
          }
          if (output.json) {
            const json = {
              text,
              decision: decision ? messageJson(GenerationDecisionSchema, decision) : null,
            };
            print(output, json, () => "");
          } else {
            if (text !== "") output.out("\n");
            output.err(`${decisionSummary(decision)}\n`);
          }
        });
      },
    );

  program
    .command("event")
    .description("process one event vector (EngineService.ProcessEvent)")
    .requiredOption("--moral-value <x>", "the event's moral value, 0 to 1", numberIn(0, 1))
    .addOption(
      new Option("--vector <numbers>", "the vector, comma separated or a JSON array").conflicts([
        "vectorFile",
        "seed",
      ]),
    )
    .addOption(
      new Option("--vector-file <file>", 'a file holding the vector ("-" for stdin)').conflicts("seed"),
    )
    .option(
      "--seed <n>",
      "a pseudo-random vector from this seed (smoke tests)",
      numberIn(0, 2 ** 32 - 1, true),
    )
    .option("--dimension <n>", "length of the --seed vector", numberIn(1, 65_536, true), 384)
    .action(
      async (
        options: {
          moralValue: number;
          vector?: string;
          vectorFile?: string;
          seed?: number;
          dimension: number;
        },
        command: Command,
      ) => {
        const context = contextOf(command, run);
        let vector: number[];
        if (options.vector !== undefined) vector = parseVector(options.vector);
        else if (options.vectorFile !== undefined) {
          let text: string;
          try {
            text = options.vectorFile === "-" ? readStdin() : readFileSync(options.vectorFile, "utf8");
          } catch (error) {
            throw usageError(
              `cannot read ${options.vectorFile}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
            );
          }
          vector = parseVector(text);
        } else if (options.seed !== undefined) vector = seededVector(options.seed, options.dimension);
        else throw usageError("give the vector: --vector, --vector-file or --seed");
        await withClient(context, async (client) => {
          const answer = await client.engine.processEvent({ vector, moralValue: options.moralValue });
          printMessage(context.output, ProcessEventResponseSchema, answer);
        });
      },
    );

  program
    .command("state")
    .description("show the cognitive state (EngineService.GetState)")
    .action(async (_options: unknown, command: Command) => {
      const context = contextOf(command, run);
      await withClient(context, async (client) => {
        const answer = await client.engine.getState({});
        const json = messageJson(GetStateResponseSchema, answer) as { state?: unknown };
        print(context.output, json, () => keyValues(flatten(json.state ?? {})));
      });
    });
}
