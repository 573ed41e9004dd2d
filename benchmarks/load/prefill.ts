/**
 * Fills a running server's PELM to capacity through its public API: ProcessEvent calls over
 * the grpc-js listener with distinct deterministic vectors, 64 in flight. With a moral value
 * below moral.minThreshold the same calls are refused by the moral filter and store nothing
 * (the harness uses that to warm the process up before it reads the "empty" RSS). No test-only path in
 * the server; works with persistence on and off. Resolves with the number of calls made.
 */
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { ProcessEventRequestSchema, ProcessEventResponseSchema } from "../../src/gen/mlsdm/v1/engine_pb.js";
import { benchVector } from "./bodies.js";

const PATH = "/mlsdm.v1.EngineService/ProcessEvent";

/** Sends `count` distinct events (phase comes from the server's rhythm). */
export async function prefill(
  port: number,
  dimension: number,
  count: number,
  moralValue = 0.9,
): Promise<number> {
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const call = (i: number): Promise<void> =>
    new Promise((resolve, reject) => {
      const request = toBinary(
        ProcessEventRequestSchema,
        create(ProcessEventRequestSchema, { vector: benchVector(dimension, i + 1), moralValue }),
      );
      client.makeUnaryRequest(
        PATH,
        (bytes: Uint8Array) => Buffer.from(bytes),
        (bytes: Buffer) => fromBinary(ProcessEventResponseSchema, bytes),
        request,
        new grpc.Metadata(),
        { deadline: Date.now() + 30_000 },
        (error) => {
          if (error) reject(error);
          else resolve();
        },
      );
    });
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) await call(next++);
  };
  try {
    await Promise.all(Array.from({ length: 64 }, worker));
  } finally {
    client.close();
  }
  return count;
}
