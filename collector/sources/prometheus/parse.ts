// Prometheus text exposition (0.0.4) and OpenMetrics text → float samples, with the guards the
// parser needs around it.
//
// parse-prometheus-text-format parses sample lines well (label escapes included) but is lax
// elsewhere, so driftwatch feeds it only sample lines and checks what comes back:
// - it throws on some malformed lines and accepts others (`<html>` is a sample named `<html>`
//   with the value ""), so names, label names and values are validated here;
// - given `# TYPE x histogram|summary` it folds the samples of a family into one object and loses
//   the labels of labelled histograms and summaries, so comment lines (HELP, TYPE, UNIT, EOF)
//   never reach it: every sample stays a sample with its own name (`x_bucket{le=..}`, `x_sum`,
//   `x_count`, `x{quantile=..}`), matched against the allow list by that name;
// - it drops the last sample when the text does not end in a newline, so one is appended;
// - it ignores `# EOF`, so OpenMetrics' end marker is checked here (a body cut short has none).
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import type { ParsedFamily } from 'parse-prometheus-text-format';
import { isValidLabelName, isValidMetricName, seriesKey, type Labels, type Sample } from '../../../proto/index.js';
import { SourceError, SourceErrorCode } from '../errors.js';

export interface ExpositionOptions {
  /** Keep a sample with this metric name? */
  readonly accept: (name: string) => boolean;
  /** The body is OpenMetrics: it must end with `# EOF`. */
  readonly openMetrics: boolean;
  /** Labels set on every sample (no empty values); an exporter label of the same name becomes `exported_<name>`. */
  readonly labels: Labels;
  readonly maxSeries: number;
  /** The URL, for messages. */
  readonly where: string;
}

export interface ParsedExposition {
  readonly samples: Sample[];
  /** Samples dropped because the same series came earlier in the body. */
  readonly duplicates: number;
}

const FLOAT = /^[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf(?:inity)?|nan)$/i;
const NAME_AT_START = /^[^\s{]*/;

/** A sample value as Prometheus writes it (Go's ParseFloat forms, without hex), or undefined. */
export function parseSampleValue(text: string): number | undefined {
  if (!FLOAT.test(text)) return undefined;
  const lower = text.toLowerCase();
  if (lower.endsWith('nan')) return Number.NaN;
  if (lower.includes('inf')) return lower.startsWith('-') ? -Infinity : Infinity;
  return Number(text);
}

function show(text: string): string {
  return JSON.stringify(text.length > 120 ? `${text.slice(0, 120)}…` : text);
}

/**
 * Parses an exposition body into float samples of the accepted names. Throws SourceError
 * DW_SOURCE_BAD_RESPONSE for a line that is not a sample or comment, an invalid name, label or
 * value, or an OpenMetrics body without `# EOF` (or with lines after it); DW_SOURCE_TOO_LARGE
 * for more than `maxSeries` accepted series. Lines of names not accepted are checked only for a
 * valid name. A series repeated in the body is kept once (the first) and counted.
 */
export function parseExposition(text: string, o: ExpositionOptions): ParsedExposition {
  const bad = (message: string): SourceError => new SourceError(SourceErrorCode.BadResponse, message, { where: o.where });
  const lines = text.split('\n');
  const kept: string[] = [];
  let eofAt = -1;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    if (eofAt >= 0) throw bad(`expected nothing after "# EOF" (line ${eofAt + 1}), found line ${i + 1}: ${show(line)}`);
    if (line.startsWith('#')) {
      if (line === '# EOF') eofAt = i;
      continue;
    }
    const name = NAME_AT_START.exec(line)![0];
    if (!isValidMetricName(name)) throw bad(`expected a sample line (metric name, labels, value) at line ${i + 1}, found ${show(line)}`);
    if (o.accept(name)) kept.push(line);
  }
  if (o.openMetrics && eofAt < 0) throw bad('expected an OpenMetrics body ending with "# EOF", found none (cut short?)');
  if (kept.length === 0) return { samples: [], duplicates: 0 };

  let families: unknown;
  try {
    families = parsePrometheusTextFormat(kept.join('\n') + '\n');
  } catch (err) {
    throw bad(`expected sample lines, found: ${(err as Error).message.slice(0, 200)}`);
  }
  if (!Array.isArray(families)) throw bad(`expected the parser to return families, found ${typeof families}`);

  const samples: Sample[] = [];
  const seen = new Set<string>();
  let duplicates = 0;
  for (const family of families as ParsedFamily[]) {
    const name = family?.name;
    if (typeof name !== 'string' || !isValidMetricName(name) || !Array.isArray(family.metrics)) {
      throw bad(`expected the parser to return named families of samples, found ${show(JSON.stringify(family) ?? '')}`);
    }
    for (const m of family.metrics) {
      if (typeof m?.value !== 'string') throw bad(`expected a value for each ${name} sample, found ${show(JSON.stringify(m) ?? '')}`);
      const labels = sampleLabels(name, m.labels, o, bad);
      const value = parseSampleValue(m.value);
      if (value === undefined) throw bad(`expected a number, NaN or ±Inf as the value of ${seriesKey(name, labels)}, found ${show(m.value)}`);
      const key = seriesKey(name, labels);
      if (seen.has(key)) {
        duplicates++;
        continue;
      }
      seen.add(key);
      if (samples.length >= o.maxSeries) {
        throw new SourceError(SourceErrorCode.TooLarge, `expected at most ${o.maxSeries} allowed series (maxSeries) from ${o.where}, found more: narrow allow or raise maxSeries`, { where: o.where });
      }
      samples.push({ name, labels, type: 'float', value });
    }
  }
  return { samples, duplicates };
}

/** The exporter's labels (empty values dropped, as Prometheus does) with the static labels on top. */
function sampleLabels(name: string, raw: unknown, o: ExpositionOptions, bad: (m: string) => SourceError): Labels {
  const out: Record<string, string> = {};
  if (raw !== undefined) {
    if (typeof raw !== 'object' || raw === null) throw bad(`expected labels of ${name} as an object, found ${typeof raw}`);
    for (const [k, v] of Object.entries(raw)) {
      if (!isValidLabelName(k)) throw bad(`expected a valid label name in ${name}{...}, found ${show(k)}`);
      if (typeof v !== 'string') throw bad(`expected a string value of label ${k} of ${name}, found ${typeof v}`);
      if (v === '') continue;
      let as = k;
      while (as in o.labels || (as !== k && as in raw)) as = `exported_${as}`;
      out[as] = v;
    }
  }
  for (const [k, v] of Object.entries(o.labels)) out[k] = v;
  return out;
}
