// The JSON a command prints, validated strictly, as samples and events.
//
// Two forms:
//   {"series": [{"name", "labels"?, "type"?, "value"}...], "events"?: [{"kind"?, "reason", ...}...]}
//   {"<metric name>": <number | string>, ...}            (the map form: no labels, no events)
// The document is in the full form when `series` or `events` holds an array.
import { z } from 'zod';
import { formatConfigIssues } from '../../../common/config-schema.js';
import { isValidLabelName, isValidMetricName, seriesKey, type BlockEvent, type Sample } from '../../../proto/index.js';
import { SourceError, SourceErrorCode } from '../errors.js';

const MAX_PROBLEMS = 10;
/**
 * Event kinds the agent itself records, which a command may not forge: the sampler's
 * source_error, the store's data_dropped, the agent's agent_start, agent_stop and agent_gap, and
 * reboot (the host source's boot id check). A test holds this list to the agent's own kinds.
 */
export const RESERVED_EVENT_KINDS: ReadonlySet<string> = new Set(['source_error', 'data_dropped', 'agent_start', 'agent_stop', 'agent_gap', 'reboot']);
/** JSON has no NaN or infinities: a float series may give them as these strings. */
const SPECIAL_FLOATS: Readonly<Record<string, number>> = { 'NaN': Number.NaN, '+Inf': Infinity, 'Inf': Infinity, '-Inf': -Infinity };

const metricName = z.string().refine(isValidMetricName, { error: (i) => `expected a metric name ([a-zA-Z_:][a-zA-Z0-9_:]*), found ${JSON.stringify(i.input)}` });

const seriesLabels = z.record(z.string(), z.string()).superRefine((r, ctx) => {
  for (const k of Object.keys(r)) {
    if (!isValidLabelName(k) || k.startsWith('__')) ctx.addIssue({ code: 'custom', path: [k], message: `expected a label name ([a-zA-Z_][a-zA-Z0-9_]*, not __*), found ${JSON.stringify(k)}` });
  }
});

const seriesSchema = z.strictObject({
  name: metricName,
  labels: seriesLabels.default({}),
  /** Default: float for a number, string for a string. */
  type: z.enum(['float', 'string']).optional(),
  value: z.union([z.number(), z.string()]),
}).superRefine((s, ctx) => {
  if (s.type === 'float' && typeof s.value === 'string' && !(s.value in SPECIAL_FLOATS)) {
    ctx.addIssue({ code: 'custom', path: ['value'], message: `expected a number (or "NaN", "+Inf", "-Inf") for a float series, found ${JSON.stringify(s.value)}` });
  }
  if (s.type === 'string' && typeof s.value !== 'string') {
    ctx.addIssue({ code: 'custom', path: ['value'], message: `expected a string for a string series, found ${JSON.stringify(s.value)}` });
  }
});

const eventSchema = z.strictObject({
  kind: z.string().regex(/^[a-z][a-z0-9_]*$/, 'expected a kind in snake_case').refine((k) => !RESERVED_EVENT_KINDS.has(k), { error: (i) => `expected a kind of the command's own, found ${JSON.stringify(i.input)}, which the agent records itself` }).default('exec'),
  reason: z.string().min(1, 'expected a reason such as FirmwareUpdated'),
  message: z.string().default(''),
  labels: z.record(z.string().min(1), z.string()).default({}),
  /** Event time, ms since the epoch; default the round's time. */
  t: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER).optional(),
  count: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER).default(0),
});

const documentSchema = z.strictObject({
  series: z.array(seriesSchema).default([]),
  events: z.array(eventSchema).default([]),
});

const mapSchema = z.record(z.string(), z.union([z.number(), z.string()], { error: (i) => `expected a number or a string, found ${i.input === null ? 'null' : Array.isArray(i.input) ? 'an array' : typeof i.input}` }))
  .superRefine((r, ctx) => {
    for (const k of Object.keys(r)) {
      if (!isValidMetricName(k)) ctx.addIssue({ code: 'custom', path: [k], message: `expected a metric name ([a-zA-Z_:][a-zA-Z0-9_:]*), found ${JSON.stringify(k)}` });
    }
  });

function problems(error: z.ZodError, program: string): SourceError {
  const lines = formatConfigIssues(error);
  const more = lines.length > MAX_PROBLEMS ? `; and ${lines.length - MAX_PROBLEMS} more` : '';
  return new SourceError(SourceErrorCode.BadResponse, `expected ${program} to print a valid document (docs/sources/exec.md), found ${lines.length} problem${lines.length === 1 ? '' : 's'}: ${lines.slice(0, MAX_PROBLEMS).join('; ')}${more}`, { where: program });
}

/**
 * Parses what the command printed. Throws SourceError DW_SOURCE_BAD_RESPONSE, listing the first
 * problems, for anything but a valid document: not JSON, not an object, unknown keys, invalid
 * names, a value of the wrong type, a series twice. Events without `t` get `roundTime`.
 */
export function parseOutput(stdout: Buffer, program: string, roundTime: number): { samples: Sample[]; events: BlockEvent[] } {
  const bad = (message: string): SourceError => new SourceError(SourceErrorCode.BadResponse, message, { where: program });
  const text = stdout.toString('utf8');
  if (text.trim() === '') throw bad(`expected ${program} to print a JSON document on stdout, found nothing`);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    const head = text.trim().slice(0, 80);
    throw bad(`expected ${program} to print JSON on stdout, found ${JSON.stringify(head)}${text.trim().length > 80 ? '…' : ''} (${(err as Error).message})`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw bad(`expected ${program} to print a JSON object, found ${doc === null ? 'null' : Array.isArray(doc) ? 'an array' : typeof doc}`);
  }
  const record = doc as Record<string, unknown>;
  const samples: Sample[] = [];
  const events: BlockEvent[] = [];
  if (Array.isArray(record['series']) || Array.isArray(record['events'])) {
    const r = documentSchema.safeParse(doc);
    if (!r.success) throw problems(r.error, program);
    for (const s of r.data.series) {
      const type = s.type ?? (typeof s.value === 'number' ? 'float' : 'string');
      const value = type === 'float' && typeof s.value === 'string' ? SPECIAL_FLOATS[s.value]! : s.value;
      samples.push({ name: s.name, labels: s.labels, type, value });
    }
    for (const e of r.data.events) {
      events.push({ t: e.t ?? roundTime, kind: e.kind, reason: e.reason, message: e.message, labels: e.labels, rangeMinT: 0, rangeMaxT: 0, count: e.count });
    }
  } else {
    const r = mapSchema.safeParse(doc);
    if (!r.success) throw problems(r.error, program);
    for (const [name, value] of Object.entries(r.data)) {
      samples.push({ name, labels: {}, type: typeof value === 'number' ? 'float' : 'string', value });
    }
  }
  const seen = new Map<string, number>();
  const duplicates: string[] = [];
  samples.forEach((s, i) => {
    const key = seriesKey(s.name, s.labels);
    const first = seen.get(key);
    if (first !== undefined) duplicates.push(`series.${i}: expected each series once, found ${key} again (series.${first})`);
    else seen.set(key, i);
  });
  if (duplicates.length > 0) {
    throw bad(`expected ${program} to print a valid document (docs/sources/exec.md), found ${duplicates.length} problem${duplicates.length === 1 ? '' : 's'}: ${duplicates.slice(0, MAX_PROBLEMS).join('; ')}`);
  }
  return { samples, events };
}
