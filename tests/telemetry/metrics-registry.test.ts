import { describe, expect, it } from "vitest";
import { MetricDefinitionError, Metrics } from "../../src/telemetry/metrics/registry.js";

describe("metric registration helper", () => {
  it("refuses names without the mlsdm_ prefix", () => {
    const metrics = new Metrics(false);
    expect(() => metrics.counter({ name: "requests_total", help: "x" })).toThrow(MetricDefinitionError);
    expect(() => metrics.counter({ name: "mlsdm_Bad-Name", help: "x" })).toThrow(MetricDefinitionError);
  });

  it("refuses a label that takes more distinct values than allowed", () => {
    const metrics = new Metrics(false);
    const count = metrics.counter({
      name: "mlsdm_test_total",
      help: "x",
      labels: ["user"],
      maxLabelValues: 3,
    });
    for (const user of ["a", "b", "c", "a", "b"]) count({ user });
    expect(() => {
      count({ user: "d" });
    }).toThrow(/exceeds 3 distinct values/);
  });

  it("a sampled counter follows a monotonic source at scrape time", async () => {
    const metrics = new Metrics(false);
    let total = 0;
    metrics.sampledCounter({ name: "mlsdm_sampled_total", help: "x" }, () => total);
    total = 2;
    expect((await metrics.exposition()).text).toContain("mlsdm_sampled_total 2");
    total = 5;
    expect((await metrics.exposition()).text).toContain("mlsdm_sampled_total 5");
  });

  it("exposes what was recorded", async () => {
    const metrics = new Metrics(false);
    metrics.counter({ name: "mlsdm_things_total", help: "x", labels: ["kind"] })({ kind: "a" }, 2);
    metrics.sampledGauge({ name: "mlsdm_level", help: "y" }, () => 7);
    const { text } = await metrics.exposition();
    expect(text).toContain('mlsdm_things_total{kind="a"} 2');
    expect(text).toContain("mlsdm_level 7");
  });
});
