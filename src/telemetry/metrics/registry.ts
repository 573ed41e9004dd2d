/**
 * The metrics registry and the one way modules add metrics to it (OBS-006): every name must
 * start with `mlsdm_`, labels are declared up front, and each label accepts a bounded number
 * of distinct values, so no caller can blow up cardinality with request data.
 */
import client from "prom-client";

/** Prefix every MLSDM metric carries. */
export const METRIC_PREFIX = "mlsdm_";
/** Distinct values a label may take before the helper refuses more (a bug, not traffic). */
export const DEFAULT_MAX_LABEL_VALUES = 100;

/** Latency buckets in seconds, 1 ms to 10 s (BASE-OBS-a, issue 8). */
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Thrown when a metric breaks the naming or cardinality rules. */
export class MetricDefinitionError extends Error {
  override readonly name = "MetricDefinitionError";
}

/** Options of one metric. */
export interface MetricOptions<L extends string> {
  readonly name: string;
  readonly help: string;
  readonly labels?: readonly L[];
  /** Distinct values allowed per label (default 100). */
  readonly maxLabelValues?: number;
}

/** A registry plus the guarded constructors. */
export class Metrics {
  readonly registry = new client.Registry();

  constructor(defaultMetrics = true) {
    if (defaultMetrics) client.collectDefaultMetrics({ register: this.registry, prefix: METRIC_PREFIX });
  }

  private guard<L extends string>(options: MetricOptions<L>): (labels: Partial<Record<L, string>>) => void {
    if (!options.name.startsWith(METRIC_PREFIX) || !/^[a-z_][a-z0-9_]*$/.test(options.name)) {
      throw new MetricDefinitionError(
        `metric name must be snake_case and start with ${METRIC_PREFIX}: ${options.name}`,
      );
    }
    const max = options.maxLabelValues ?? DEFAULT_MAX_LABEL_VALUES;
    const seen = new Map<string, Set<string>>();
    return (labels) => {
      for (const [label, value] of Object.entries(labels)) {
        if (typeof value !== "string") continue;
        let values = seen.get(label);
        if (!values) {
          values = new Set();
          seen.set(label, values);
        }
        if (values.has(value)) continue;
        if (values.size >= max) {
          throw new MetricDefinitionError(`${options.name}: label ${label} exceeds ${max} distinct values`);
        }
        values.add(value);
      }
    };
  }

  /** A counter whose label values are checked against the cardinality bound. */
  counter<L extends string>(
    options: MetricOptions<L>,
  ): (labels: Partial<Record<L, string>>, by?: number) => void {
    const check = this.guard(options);
    const metric = new client.Counter({
      name: options.name,
      help: options.help,
      labelNames: [...(options.labels ?? [])],
      registers: [this.registry],
    });
    return (labels, by = 1) => {
      check(labels);
      metric.inc(labels, by);
    };
  }

  /** A histogram (seconds) with the standard latency buckets unless others are given. */
  histogram<L extends string>(
    options: MetricOptions<L> & { buckets?: number[] },
  ): (labels: Partial<Record<L, string>>, value: number) => void {
    const check = this.guard(options);
    const metric = new client.Histogram({
      name: options.name,
      help: options.help,
      labelNames: [...(options.labels ?? [])],
      buckets: options.buckets ?? LATENCY_BUCKETS,
      registers: [this.registry],
    });
    return (labels, value) => {
      check(labels);
      metric.observe(labels, value);
    };
  }

  /** A gauge that is set directly. */
  gauge<L extends string>(
    options: MetricOptions<L>,
  ): (labels: Partial<Record<L, string>>, value: number) => void {
    const check = this.guard(options);
    const metric = new client.Gauge({
      name: options.name,
      help: options.help,
      labelNames: [...(options.labels ?? [])],
      registers: [this.registry],
    });
    return (labels, value) => {
      check(labels);
      metric.set(labels, value);
    };
  }

  /** A gauge read at scrape time (no labels): `read` returns its current value. */
  sampledGauge(options: MetricOptions<never>, read: () => number): void {
    this.guard(options);
    new client.Gauge({
      name: options.name,
      help: options.help,
      registers: [this.registry],
      collect() {
        this.set(read());
      },
    });
  }

  /** A labelled gauge read at scrape time: `read` returns [label values, value] pairs. */
  sampledLabelledGauge<L extends string>(
    options: MetricOptions<L>,
    read: () => readonly (readonly [Partial<Record<L, string>>, number])[],
  ): void {
    const check = this.guard(options);
    new client.Gauge({
      name: options.name,
      help: options.help,
      labelNames: [...(options.labels ?? [])],
      registers: [this.registry],
      collect() {
        for (const [labels, value] of read()) {
          check(labels);
          this.set(labels, value);
        }
      },
    });
  }

  /**
   * A counter whose total is read at scrape time from a monotonic source (`read` must never
   * decrease): the metric is increased by the difference since the last scrape.
   */
  sampledCounter(options: MetricOptions<never>, read: () => number): void {
    this.guard(options);
    let last = 0;
    new client.Counter({
      name: options.name,
      help: options.help,
      registers: [this.registry],
      collect() {
        const now = read();
        if (now > last) this.inc(now - last);
        last = now;
      },
    });
  }

  /** The exposition text and its content type. */
  async exposition(): Promise<{ contentType: string; text: string }> {
    return { contentType: this.registry.contentType, text: await this.registry.metrics() };
  }
}
