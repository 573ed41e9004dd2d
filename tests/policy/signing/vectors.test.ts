/**
 * The published test vectors of docs/security/signing.md, read from the page itself and checked
 * against the client helper (bytes, digest, canonical string, header) and the server policy (it
 * accepts each vector at its timestamp), so the page and the code cannot drift apart.
 */
import { readFileSync } from "node:fs";
import { createHash, createHmac } from "node:crypto";
import { fromJson, toBinary, type JsonValue } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { canonicalString, messageDigest, methodPath, signRequest } from "../../../src/client/signing.js";
import { EngineService } from "../../../src/gen/mlsdm/v1/engine_pb.js";
import { MemoryReplayCache } from "../../../src/policy/signing/replay-cache.js";
import { verifySignature } from "../../../src/policy/signing/verify-signature.js";
import { policyContext } from "../support/handler-context.js";

interface Vector {
  keyId: string;
  secret: string;
  method: string;
  timestamp: number;
  request: JsonValue;
  requestBytesHex: string;
  requestSha256: string;
  canonical: string;
  signature: string;
  header: string;
}

function vectorsFromDoc(): Vector[] {
  const page = readFileSync(new URL("../../../docs/security/signing.md", import.meta.url), "utf8");
  const block =
    /<!-- signing-test-vectors:begin -->\s*```json\n([\s\S]*?)```\s*<!-- signing-test-vectors:end -->/.exec(
      page,
    );
  if (!block?.[1]) throw new Error("docs/security/signing.md has no test vector block");
  return JSON.parse(block[1]) as Vector[];
}

const vectors = vectorsFromDoc();

function methodFor(path: string) {
  const method = EngineService.methods.find((m) => methodPath(m) === path);
  if (!method) throw new Error(`no method ${path}`);
  return method;
}

describe("published signing test vectors (docs/security/signing.md)", () => {
  it("has vectors for an empty message, scalars and a packed float vector", () => {
    expect(vectors.map((v) => v.method)).toEqual([
      "/mlsdm.v1.EngineService/GetState",
      "/mlsdm.v1.EngineService/Generate",
      "/mlsdm.v1.EngineService/RetrieveContext",
    ]);
  });

  it.each(vectors.map((v) => [v.method, v] as const))("%s matches the implementation", async (_, v) => {
    const method = methodFor(v.method);
    const message = fromJson(method.input, v.request);
    const bytes = toBinary(method.input, message);
    expect(Buffer.from(bytes).toString("hex")).toBe(v.requestBytesHex);
    expect(createHash("sha256").update(bytes).digest("hex")).toBe(v.requestSha256);
    expect(messageDigest(method.input, message)).toBe(v.requestSha256);
    expect(canonicalString(v.method, v.timestamp, v.requestSha256)).toBe(v.canonical);
    // The HMAC by hand, independent of the helper.
    expect(createHmac("sha256", v.secret).update(v.canonical).digest("base64")).toBe(v.signature);
    const signed = signRequest({ keyId: v.keyId, secret: v.secret }, method, method.input, message, {
      now: () => v.timestamp * 1000 + 999,
    });
    expect(signed).toEqual({ "x-mlsdm-key-id": v.keyId, "x-mlsdm-signature": v.header });
    expect(v.header).toBe(`timestamp=${v.timestamp},signature=${v.signature}`);

    const policy = verifySignature({
      keys: () => new Map([[v.keyId, Buffer.from(v.secret)]]),
      required: true,
      maxAgeSeconds: 300,
      clockSkewSeconds: 30,
      replayCache: new MemoryReplayCache(),
      now: () => v.timestamp * 1000,
    });
    const context = policyContext({
      method,
      headers: { "x-mlsdm-key-id": v.keyId, "x-mlsdm-signature": v.header },
    });
    await expect(policy(context, message)).resolves.toBeUndefined();
  });
});
