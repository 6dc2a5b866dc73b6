// Helpers for the sampler and agent tests: a logger that records, in-test sources with seeded
// outputs, temporary directories, and reading every round and event back out of a store.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openEdgeStore } from '../../../collector/store/index.js';
import type { CollectContext, Source, SourceResult } from '../../../collector/sources/source.js';
import { ManualClock } from '../../../common/clock.js';
import { randomInt, type Random } from '../../../common/random.js';
import type { BlockEvent, Round, Sample } from '../../../proto/index.js';
import { blockToRounds, decodeBlock, seriesKey } from '../../../proto/index.js';

export interface LogLine {
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly fields: Record<string, unknown>;
  readonly message: string;
}

/** A logger (pino's shape) that keeps every line. */
export function recordingLogger(): {
  lines: LogLine[];
  debug(f: Record<string, unknown>, m: string): void;
  info(f: Record<string, unknown>, m: string): void;
  warn(f: Record<string, unknown>, m: string): void;
  error(f: Record<string, unknown>, m: string): void;
  messages(level?: LogLine['level']): string[];
} {
  const lines: LogLine[] = [];
  const at = (level: LogLine['level']) => (fields: Record<string, unknown>, message: string): void => {
    lines.push({ level, fields, message });
  };
  return {
    lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'),
    messages: (level) => lines.filter((l) => level === undefined || l.level === level).map((l) => l.message),
  };
}

/** A temporary directory and its cleanup. */
export async function tempDir(prefix = 'dw-agent-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** A day boundary (UTC) for tests: every interval divides it. */
export const T0 = 1_763_700_000_000 - (1_763_700_000_000 % 86_400_000);

/** A source whose collect is a function of the test's choosing; counts calls and aborts. */
export class ScriptedSource implements Source {
  readonly name: string;
  readonly kind: string;
  calls = 0;
  aborted = 0;
  closed = false;
  readonly contexts: CollectContext[] = [];
  readonly #collect: (ctx: CollectContext, call: number) => Promise<SourceResult>;

  constructor(name: string, kind: string, collect: (ctx: CollectContext, call: number) => Promise<SourceResult>) {
    this.name = name;
    this.kind = kind;
    this.#collect = collect;
  }

  collect(ctx: CollectContext): Promise<SourceResult> {
    this.calls++;
    this.contexts.push(ctx);
    ctx.signal.addEventListener('abort', () => this.aborted++, { once: true });
    return this.#collect(ctx, this.calls);
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

/** A source that answers `result` at once. */
export function okSource(name: string, samples: Sample[], events: BlockEvent[] = [], kind = 'test'): ScriptedSource {
  return new ScriptedSource(name, kind, async () => ({ samples, events }));
}

/** A source that never settles (and ignores its signal, the worst case). */
export function hangingSource(name: string, kind = 'test'): ScriptedSource {
  return new ScriptedSource(name, kind, () => new Promise<SourceResult>(() => {}));
}

/** A source that rejects with `err`. */
export function failingSource(name: string, err: unknown, kind = 'test'): ScriptedSource {
  return new ScriptedSource(name, kind, async () => {
    throw err;
  });
}

/**
 * A source with seeded outputs: `strings` string series that rarely change and `floats` float
 * series that move every round, sometimes a series absent, sometimes an event. Every result it
 * returned is kept in `returned`, by round time.
 */
export function seededSource(name: string, random: Random, shape: { strings: number; floats: number }): ScriptedSource & { returned: Map<number, SourceResult> } {
  const returned = new Map<number, SourceResult>();
  const strings = Array.from({ length: shape.strings }, (_, i) => `v${randomInt(random, 1, 3)}.${i}`);
  const floats = Array.from({ length: shape.floats }, () => randomInt(random, 0, 1000));
  const source = new ScriptedSource(name, 'seeded', async (ctx) => {
    const samples: Sample[] = [];
    strings.forEach((_, i) => {
      if (random() < 0.05) strings[i] = `v${randomInt(random, 1, 9)}.${i}`;
      if (random() < 0.03) return; // absent this round
      samples.push({ name: 'test_app_version', labels: { source: name, app: `app-${i}` }, type: 'string', value: strings[i]! });
    });
    floats.forEach((_, i) => {
      floats[i] = floats[i]! + randomInt(random, -50, 50) / 10;
      samples.push({ name: 'test_temperature_celsius', labels: { source: name, sensor: `s${i}` }, type: 'float', value: Math.round(floats[i]! * 10) / 10 });
    });
    const events: BlockEvent[] = random() < 0.3
      ? [{ t: ctx.roundTime, kind: 'test', reason: 'Seeded', message: `event of ${name}`, labels: { source: name }, rangeMinT: 0, rangeMaxT: 0, count: randomInt(random, 1, 5) }]
      : [];
    const result = { samples, events };
    returned.set(ctx.roundTime, result);
    return result;
  });
  return Object.assign(source, { returned });
}

/** A ManualClock at T0 plus `offset` ms. */
export function clockAt(offset = 0): ManualClock {
  return new ManualClock(T0 + offset);
}

/** Every sealed block of the store in `dir`, decoded, oldest first: rounds (row form) and events. */
export async function readStoreBlocks(dir: string): Promise<{ rounds: Round[]; events: BlockEvent[]; blocks: number }> {
  const store = await openEdgeStore({ dir, clock: new ManualClock(T0) });
  try {
    const rounds: Round[] = [];
    const events: BlockEvent[] = [];
    const infos = await store.listBlocks();
    for (const info of infos) {
      const read = await store.readBlock(info.id);
      if (read.status !== 'ok') throw new Error(`block ${info.id}: ${read.status}`);
      const block = decodeBlock(read.bytes);
      rounds.push(...blockToRounds(block.data));
      events.push(...block.data.events);
    }
    return { rounds, events, blocks: infos.length };
  } finally {
    await store.close();
  }
}

/** Samples as sorted `key = value` lines, for order-free comparison. */
export function sampleLines(samples: readonly Sample[]): string[] {
  return samples.map((s) => `${seriesKey(s.name, s.labels)} ${s.type} ${JSON.stringify(s.value)}`).sort();
}
