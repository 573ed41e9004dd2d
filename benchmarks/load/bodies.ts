/**
 * Request bodies for h2load, built from the generated message types: a gRPC frame (1-byte
 * compression flag, 4-byte big-endian length, the serialised message) for gRPC and gRPC-Web,
 * and the canonical JSON for Connect. Written once per run into a temporary directory.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { create, toBinary, toJsonString, type DescMessage, type MessageInitShape } from "@bufbuild/protobuf";
import { GenerateRequestSchema, ProcessEventRequestSchema } from "../../src/gen/mlsdm/v1/engine_pb.js";

/** The 5-byte length prefix plus the message bytes. */
export function grpcFrame(message: Uint8Array): Buffer {
  const frame = Buffer.alloc(5 + message.length);
  frame.writeUInt8(0, 0);
  frame.writeUInt32BE(message.length, 1);
  frame.set(message, 5);
  return frame;
}

/** A deterministic vector of `dimension` values (not unit length; the server normalises). */
export function benchVector(dimension: number, seed: number): number[] {
  let x = seed | 0;
  return Array.from({ length: dimension }, () => {
    x = (Math.imul(x, 1_103_515_245) + 12_345) | 0;
    return ((x >>> 8) & 0xffff) / 0xffff - 0.5;
  });
}

/** One request kind's bodies on disk. */
export interface BodyFiles {
  /** gRPC / gRPC-Web frame. */
  readonly frame: string;
  /** Connect JSON. */
  readonly json: string;
  /** Bytes of the serialised message (the echo baseline answers with the same frame). */
  readonly messageBytes: number;
}

function write<D extends DescMessage>(
  dir: string,
  name: string,
  schema: D,
  init: MessageInitShape<D>,
): BodyFiles {
  const message = create(schema, init);
  const binary = toBinary(schema, message);
  const frame = path.join(dir, `${name}.grpc`);
  const json = path.join(dir, `${name}.json`);
  writeFileSync(frame, grpcFrame(binary));
  writeFileSync(json, toJsonString(schema, message));
  return { frame, json, messageBytes: binary.length };
}

/** The bodies of every scenario: ProcessEvent (one 384-d event) and Generate (stub, top-5 context). */
export function writeBodies(
  dir: string,
  dimension: number,
): { processEvent: BodyFiles; generate: BodyFiles } {
  return {
    processEvent: write(dir, "process-event", ProcessEventRequestSchema, {
      vector: benchVector(dimension, 20_001),
      moralValue: 0.9,
    }),
    generate: write(dir, "generate", GenerateRequestSchema, {
      prompt: "Explain the water cycle for a curious reader in two short paragraphs, please.",
      maxTokens: 128,
      moralValue: 0.9,
      contextTopK: 5,
    }),
  };
}
