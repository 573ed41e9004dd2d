/**
 * The mTLS identity source and its pieces (SEC-006), without a network: the mapping syntax,
 * rule matching on CN and SANs, chain depth against tls.verifyDepth, and the certificate facts
 * built from certificates made by deploy/tls/make-test-certs.sh.
 */
import { X509Certificate } from "node:crypto";
import { readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { CLIENT_ROLES, parseClientIdentities, parseMatch } from "../../src/config/schema-tls.js";
import { PEER_CERTIFICATE, type PeerCertificateFacts } from "../../src/policy/call-context.js";
import { identityRuleFor, parseClientIdentitiesFile } from "../../src/policy/client-identities.js";
import { ROLE_ORDER } from "../../src/policy/identity.js";
import { mtlsResolver } from "../../src/policy/mtls-resolver.js";
import { MlsdmError } from "../../src/telemetry/errors/index.js";
import { certificatesOf } from "../../src/transport/tls/tls-files.js";
import { chainDepthOf, parseSubjectAltName, PeerFacts } from "../../src/transport/tls/peer-facts.js";
import { makeTestCerts } from "../integration/support/tls-clients.js";
import { policyContext } from "./support/handler-context.js";

const certs = makeTestCerts();
afterAll(() => {
  rmSync(certs, { recursive: true, force: true });
});
const pem = (name: string) => readFileSync(path.join(certs, name));
const x509 = (name: string) => new X509Certificate(pem(name));

function peer(overrides: Partial<PeerCertificateFacts> = {}): PeerCertificateFacts {
  return {
    subject: "O=MLSDM Test, CN=billing",
    commonName: "billing",
    dns: [],
    uri: [],
    email: [],
    ip: [],
    issuer: "O=MLSDM Test, CN=MLSDM Test Root CA",
    serialNumber: "01",
    fingerprint256: "AA:BB",
    validTo: "Dec  1 00:00:00 2030 GMT",
    chainDepth: 0,
    ...overrides,
  };
}

function contextWith(facts?: PeerCertificateFacts) {
  return policyContext({
    values: (values) => {
      if (facts) values.set(PEER_CERTIFICATE, facts);
    },
  });
}

describe("client identity mapping syntax", () => {
  it("parses match expressions of every kind", () => {
    expect(parseMatch("CN=billing")).toEqual({ kind: "cn", value: "billing" });
    expect(parseMatch("cn:billing")).toEqual({ kind: "cn", value: "billing" });
    expect(parseMatch("DNS:api.svc")).toEqual({ kind: "dns", value: "api.svc" });
    expect(parseMatch("uri:spiffe://prod/ns/a/sa/b")).toEqual({
      kind: "uri",
      value: "spiffe://prod/ns/a/sa/b",
    });
    expect(parseMatch("email:ops@example.com")).toEqual({ kind: "email", value: "ops@example.com" });
    expect(parseMatch("ip:10.0.0.1")).toMatch(/not cn:, dns:, uri: or email:/);
    expect(parseMatch("billing")).toMatch(/not cn:/);
  });

  it("parses the inline form match=id:role, splitting at the last =", () => {
    expect(parseClientIdentities("")).toEqual([]);
    expect(parseClientIdentities("cn:billing=billing:write, uri:spiffe://prod/sa/ops=ops:admin")).toEqual([
      { kind: "cn", value: "billing", id: "billing", roles: ["write"] },
      { kind: "uri", value: "spiffe://prod/sa/ops", id: "ops", roles: ["admin"] },
    ]);
    expect(parseClientIdentities("cn:billing=billing")).toMatch(/not match=id:role/);
    expect(parseClientIdentities("cn:billing=billing:root")).toMatch(/not match=id:role/);
    expect(parseClientIdentities("=billing:read")).toMatch(/not match=id:role/);
  });

  it("uses the policy layer's role names", () => {
    expect([...CLIENT_ROLES]).toEqual([...ROLE_ORDER]);
  });

  it("parses the file form and names the bad entry", () => {
    expect(
      parseClientIdentitiesFile('clients:\n  - { match: "dns:a.svc", id: a, roles: [read], owner: team }\n'),
    ).toEqual([{ kind: "dns", value: "a.svc", id: "a", roles: ["read"], owner: "team" }]);
    expect(() => parseClientIdentitiesFile('clients:\n  - { match: "x", id: a, roles: [read] }\n')).toThrow(
      /clients\.0\.match/,
    );
    expect(() => parseClientIdentitiesFile("clients:\n  - { match: cn:a, id: a, roles: [root] }\n")).toThrow(
      /roles/,
    );
    expect(() => parseClientIdentitiesFile("keys: []\n")).toThrow();
  });

  it("matches CN exactly, DNS names and emails case-insensitively, URIs exactly; first rule wins", () => {
    const rules = [
      ...(parseClientIdentities("dns:API.svc=api:read,uri:spiffe://p/sa/x=x:write,cn:billing=b:admin") as []),
    ];
    expect(identityRuleFor(rules, peer({ dns: ["api.SVC"] }))?.id).toBe("api");
    expect(identityRuleFor(rules, peer({ uri: ["spiffe://p/sa/x"] }))?.id).toBe("x");
    expect(identityRuleFor(rules, peer({ uri: ["SPIFFE://p/sa/x"], commonName: "other" }))).toBeUndefined();
    expect(identityRuleFor(rules, peer({ commonName: "Billing" }))).toBeUndefined();
    expect(identityRuleFor(rules, peer({ dns: ["api.svc"], commonName: "billing" }))?.id).toBe("api");
  });
});

describe("the mTLS resolver", () => {
  const rules = parseClientIdentities("cn:billing=billing:write") as [];
  const resolver = mtlsResolver({ rules, verifyDepth: 1 });

  it("gives no identity without a verified certificate or without a matching rule", () => {
    expect(resolver.resolve(contextWith())).toBeUndefined();
    expect(resolver.resolve(contextWith(peer({ commonName: "stranger" })))).toBeUndefined();
  });

  it("maps a matching certificate to an identity from source mtls", () => {
    expect(resolver.resolve(contextWith(peer({ chainDepth: 1 })))).toEqual({
      id: "billing",
      owner: "O=MLSDM Test, CN=billing",
      roles: ["write"],
      source: "mtls",
    });
  });

  it("refuses a chain deeper than verifyDepth, or one it cannot follow, with E201 (mapped or not)", () => {
    for (const facts of [peer({ chainDepth: 2 }), peer({ chainDepth: undefined, commonName: "stranger" })]) {
      expect(() => resolver.resolve(contextWith(facts))).toThrow(MlsdmError);
      expect(() => resolver.resolve(contextWith(facts))).toThrow(/tls\.verifyDepth|could not be followed/);
    }
    try {
      void resolver.resolve(contextWith(peer({ chainDepth: 2 })));
    } catch (error) {
      expect((error as MlsdmError).entry.code).toBe("E201");
    }
    expect.assertions(5);
  });
});

describe("certificate facts", () => {
  it("parses Node's subjectAltName text, quoted values included", () => {
    expect(
      parseSubjectAltName('DNS:a.svc, URI:spiffe://x/y, email:o@x.test, IP Address:127.0.0.1, DNS:"b, c"'),
    ).toEqual({ dns: ["a.svc", "b, c"], uri: ["spiffe://x/y"], email: ["o@x.test"], ip: ["127.0.0.1"] });
    expect(parseSubjectAltName(undefined)).toEqual({ dns: [], uri: [], email: [], ip: [] });
  });

  it("counts intermediates to the root through the presented chain and the CA bundle", () => {
    const bundle = certificatesOf(pem("client-ca-bundle.pem"));
    const root = [x509("ca.pem")];
    const [deep, intermediate] = certificatesOf(pem("client-deep.pem"));
    if (!deep || !intermediate) throw new Error("client-deep.pem should hold leaf + intermediate");
    expect(chainDepthOf(x509("client-reader.pem"), [], root)).toBe(0);
    expect(chainDepthOf(deep, [], bundle)).toBe(1);
    expect(chainDepthOf(deep, [intermediate], root)).toBe(1);
    expect(chainDepthOf(deep, [], root)).toBeUndefined();
    expect(chainDepthOf(x509("other-client.pem"), [], bundle)).toBeUndefined();
  });

  it("builds the facts of a peer certificate as Node reports it", () => {
    const cert = x509("client-billing.pem");
    const anchors = certificatesOf(pem("client-ca-bundle.pem"));
    const facts = new PeerFacts(() => anchors).of({
      raw: cert.raw,
      fingerprint256: cert.fingerprint256,
      subject: { CN: "billing", O: "MLSDM Test" },
    } as never);
    expect(facts).toMatchObject({
      commonName: "billing",
      subject: "O=MLSDM Test, CN=billing",
      uri: ["spiffe://mlsdm.test/ns/default/sa/billing"],
      issuer: "O=MLSDM Test, CN=MLSDM Test Root CA",
      fingerprint256: cert.fingerprint256,
      chainDepth: 0,
    });
    expect(new PeerFacts(() => anchors).of(undefined)).toBeUndefined();
  });
});
