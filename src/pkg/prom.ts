// The Prometheus families of metrics.ts: counters, gauges and histograms in a registry that renders
// the text exposition format (0.0.4). The subset of prom-client 15 the member uses, with the same
// output byte for byte (series in the order they were first counted, labels in the order of the
// object that created the series, histograms' `le` first, values as JavaScript prints them), so the
// member does not load prom-client and its dependencies at every start (~7 MB of RSS, ~40 ms of CPU)
// for a page it renders only when scraped. test/unit/pkg/prom.test.ts holds it to prom-client.

export type LabelValues<T extends string> = Partial<Record<T, string | number>>;

interface Series {
  labels: Record<string, string | number>;
  value: number;
}

interface HistogramSeries {
  labels: Record<string, string | number>;
  bucketValues: number[];
  sum: number;
  count: number;
}

/** One printed line's pieces: its name ('' for the family's), labels, value. */
type Line = [name: string, labels: Record<string, string | number>, value: number];

interface MetricConfig<T extends string> {
  name: string;
  help: string;
  labelNames?: readonly T[];
  registers?: Registry[];
  /** Called before the family is read (a scrape), with `this` the metric. */
  collect?: (this: never) => void;
}

/** The key of a series: its label values in the order of the sorted label names (prom-client's hash). */
function seriesKey(sortedNames: readonly string[], labels: Record<string, unknown>): string {
  let key = '';
  for (const name of sortedNames) {
    const v = labels[name];
    if (v !== undefined) key += `${name}:${String(v)},`;
  }
  return key;
}

const isLabels = (x: unknown): x is Record<string, string | number> => x !== null && typeof x === 'object';

function checkLabels(names: readonly string[], labels: Record<string, unknown>): void {
  for (const k of Object.keys(labels)) {
    if (!names.includes(k)) throw new Error(`Added label "${k}" is not included in initial labelset: ${JSON.stringify(names)}`);
  }
}

abstract class Metric<T extends string> {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly T[];
  protected readonly sortedNames: readonly string[];
  private readonly collectFn: (() => void) | undefined;
  abstract readonly type: 'counter' | 'gauge' | 'histogram';

  constructor(c: MetricConfig<T>) {
    this.name = c.name;
    this.help = c.help;
    this.labelNames = [...(c.labelNames ?? [])];
    this.sortedNames = [...this.labelNames].sort();
    this.collectFn = c.collect as (() => void) | undefined;
    for (const r of c.registers ?? []) r.register(this);
  }

  /** Runs the collect hook, then returns the lines to print (without the family's name). */
  lines(): Line[] {
    this.collectFn?.call(this);
    return this.values();
  }

  protected abstract values(): Line[];
}

/** A counter's or gauge's values, one per label set (an unlabelled one starts at 0). */
abstract class ValueMetric<T extends string> extends Metric<T> {
  protected series = new Map<string, Series>();

  constructor(c: MetricConfig<T>) {
    super(c);
    this.reset();
  }

  /** Adds v to the series of this key, made with these labels if new. */
  protected add(key: string, labels: Record<string, string | number>, v: number): void {
    const s = this.series.get(key);
    if (s) s.value += v;
    else this.series.set(key, { value: v, labels });
  }

  reset(): void {
    this.series = new Map();
    if (this.labelNames.length === 0) this.series.set('', { value: 0, labels: {} });
  }

  protected values(): Line[] {
    return [...this.series.values()].map((s) => ['', s.labels, s.value]);
  }
}

/** A counter: only goes up (reset() aside), by label set. */
export class Counter<T extends string = string> extends ValueMetric<T> {
  readonly type = 'counter';

  inc(labels?: LabelValues<T> | number, value?: number): void {
    let key = '';
    let l: Record<string, string | number> = {};
    if (isLabels(labels)) {
      key = seriesKey(this.sortedNames, labels);
      checkLabels(this.labelNames, labels);
      l = labels as Record<string, string | number>;
    } else {
      value = labels as number | undefined;
    }
    if (value && !Number.isFinite(value)) throw new TypeError(`Value is not a valid number: ${value}`);
    if (value !== undefined && value < 0) throw new Error('It is not possible to decrease a counter');
    this.add(key, l, value ?? 1);
  }
}

/** A gauge: a value set, raised or lowered, by label set. */
export class Gauge<T extends string = string> extends ValueMetric<T> {
  readonly type = 'gauge';

  set(labels: LabelValues<T> | number, value?: number): void {
    const l = isLabels(labels) ? (labels as Record<string, string | number>) : {};
    const v = isLabels(labels) ? value : (labels as number);
    if (typeof v !== 'number') throw new TypeError(`Value is not a valid number: ${String(v)}`);
    checkLabels(this.labelNames, l);
    this.series.set(seriesKey([...Object.keys(l)].sort(), l), { value: v, labels: l });
  }

  inc(labels?: LabelValues<T> | number, value?: number): void {
    this.delta(labels, value, 1);
  }

  dec(labels?: LabelValues<T> | number, value?: number): void {
    this.delta(labels, value, -1);
  }

  private delta(labels: LabelValues<T> | number | undefined, value: number | undefined, sign: number): void {
    const l = isLabels(labels) ? (labels as Record<string, string | number>) : {};
    const v = (isLabels(labels) ? value : (labels as number | undefined)) ?? 1;
    checkLabels(this.labelNames, l);
    this.add(seriesKey(this.sortedNames, l), l, sign * v);
  }
}

/** A histogram with fixed upper bounds (cumulative buckets, +Inf, _sum and _count printed). */
export class Histogram<T extends string = string> extends Metric<T> {
  readonly type = 'histogram';
  readonly upperBounds: readonly number[];
  private series = new Map<string, HistogramSeries>();

  constructor(c: MetricConfig<T> & { buckets: readonly number[] }) {
    super(c);
    this.upperBounds = [...c.buckets];
    if (this.labelNames.includes('le' as T)) throw new Error('le is a reserved label keyword');
    if (this.labelNames.length === 0) this.series.set('', this.base({}));
  }

  private base(labels: Record<string, string | number>): HistogramSeries {
    return { labels, bucketValues: new Array<number>(this.upperBounds.length).fill(0), sum: 0, count: 0 };
  }

  observe(labels: LabelValues<T> | number, value?: number): void {
    const l = isLabels(labels) ? (labels as Record<string, string | number>) : {};
    const v = isLabels(labels) ? value : (labels as number);
    checkLabels(this.labelNames, l);
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new TypeError(`Value is not a valid number: ${String(v)}`);
    const key = seriesKey(this.sortedNames, l);
    let s = this.series.get(key);
    if (!s) {
      s = this.base(l);
      this.series.set(key, s);
    }
    const b = this.upperBounds.findIndex((bound) => v <= bound);
    s.sum += v;
    s.count += 1;
    if (b >= 0) s.bucketValues[b]! += 1;
  }

  reset(): void {
    this.series = new Map();
  }

  protected values(): Line[] {
    const out: Line[] = [];
    const bucket = `${this.name}_bucket`;
    for (const s of this.series.values()) {
      let acc = 0;
      this.upperBounds.forEach((le, i) => {
        acc += s.bucketValues[i]!;
        out.push([bucket, { le, ...s.labels }, acc]);
      });
      out.push([bucket, { le: '+Inf', ...s.labels }, s.count]);
      out.push([`${this.name}_sum`, s.labels, s.sum]);
      out.push([`${this.name}_count`, s.labels, s.count]);
    }
    return out;
  }
}

const escapeString = (s: string): string => s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
const escapeLabelValue = (v: string | number): string => (typeof v === 'string' ? escapeString(v).replace(/"/g, '\\"') : String(v));

/** How prom-client prints a sample value. */
function valueText(v: number): string {
  if (Number.isNaN(v)) return 'Nan';
  if (!Number.isFinite(v)) return v < 0 ? '-Inf' : '+Inf';
  return String(v);
}

type AnyMetric = Counter | Gauge | Histogram;

/** The families of one member, printed in the order they were registered. */
export class Registry {
  readonly contentType = 'text/plain; version=0.0.4; charset=utf-8';
  private readonly families = new Map<string, Metric<string>>();

  register(m: Metric<string>): void {
    const had = this.families.get(m.name);
    if (had && had !== m) throw new Error(`A metric with the name ${m.name} has already been registered.`);
    this.families.set(m.name, m);
  }

  getSingleMetric(name: string): AnyMetric | undefined {
    return this.families.get(name) as AnyMetric | undefined;
  }

  /** The text exposition of every family (a promise, as prom-client's). */
  async metrics(): Promise<string> {
    const blocks: string[] = [];
    for (const m of this.families.values()) {
      const name = escapeString(m.name);
      const out = [`# HELP ${name} ${escapeString(m.help)}`, `# TYPE ${name} ${m.type}`];
      for (const [metricName, labels, value] of m.lines()) {
        const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabelValue(v)}"`);
        out.push(`${metricName || name}${parts.length ? `{${parts.join(',')}}` : ''} ${valueText(value)}`);
      }
      blocks.push(out.join('\n'));
    }
    return `${blocks.join('\n\n')}\n`;
  }
}
