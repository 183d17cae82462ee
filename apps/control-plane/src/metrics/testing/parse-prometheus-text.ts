/** A strict reader of the Prometheus text exposition format 0.0.4, for tests: throws on any line it cannot read. */
export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface PromExposition {
  types: Map<string, string>;
  help: Map<string, string>;
  samples: PromSample[];
  /** The one sample with exactly these labels (undefined when there is none). */
  value(name: string, labels?: Record<string, string>): number | undefined;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const HISTOGRAM_SUFFIXES = ['_bucket', '_sum', '_count'];

export function parsePrometheusText(text: string): PromExposition {
  const types = new Map<string, string>();
  const help = new Map<string, string>();
  const samples: PromSample[] = [];
  text.split('\n').forEach((line, i) => {
    const fail = (why: string) => new Error(`line ${i + 1} (${JSON.stringify(line)}): ${why}`);
    if (line === '') return;
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (meta) {
      const [, kind, name, rest] = meta as unknown as [string, string, string, string];
      if (kind === 'TYPE') {
        if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(rest)) throw fail(`unknown type ${rest}`);
        if (types.has(name)) throw fail('second TYPE line');
        types.set(name, rest);
      } else help.set(name, rest);
      return;
    }
    if (line.startsWith('#')) return;
    const name = NAME.exec(line)?.[0];
    if (!name) throw fail('no metric name');
    let rest = line.slice(name.length);
    const labels: Record<string, string> = {};
    if (rest.startsWith('{')) {
      rest = rest.slice(1);
      while (!rest.startsWith('}')) {
        const m = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/.exec(rest);
        if (!m) throw fail('bad label');
        const [all, label = '', text = ''] = m;
        if (label in labels) throw fail(`label ${label} repeated`);
        labels[label] = text.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
        rest = rest.slice(all.length);
      }
      rest = rest.slice(1);
    }
    const value = /^ (\S+)( -?\d+)?$/.exec(rest)?.[1];
    if (value === undefined) throw fail('no value');
    // Special values are case-insensitive, as in Prometheus (Go's ParseFloat): prom-client writes `Nan`.
    const special = new Map([['+inf', Infinity], ['inf', Infinity], ['-inf', -Infinity], ['nan', NaN]]);
    const number = special.get(value.toLowerCase()) ?? Number(value);
    if (Number.isNaN(number) && value.toLowerCase() !== 'nan') throw fail(`bad value ${value}`);
    const histogram = HISTOGRAM_SUFFIXES.filter((suffix) => name.endsWith(suffix))
      .map((suffix) => name.slice(0, -suffix.length))
      .find((base) => types.get(base) === 'histogram');
    if (!types.has(name) && !histogram) throw fail('sample before its TYPE line');
    samples.push({ name, labels, value: number });
  });
  return {
    types,
    help,
    samples,
    value(name, want = {}) {
      const found = samples.filter((s) => s.name === name && sameLabels(s.labels, want));
      if (found.length > 1) throw new Error(`${found.length} samples of ${name} ${JSON.stringify(want)}`);
      return found[0]?.value;
    },
  };
}

function sameLabels(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}
