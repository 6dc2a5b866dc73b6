// Durations and byte sizes as people write them in config files and flags.

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;
/** Compound, as Prometheus writes it: whole numbers of units from the largest down (`2d10h`, `1h30m`). */
const COMPOUND = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m(?!s))?(?:(\d+)s)?(?:(\d+)ms)?$/;
const DURATION_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * Parses a duration such as `500ms`, `15s`, `5m`, `24h`, `7d`, a compound such as `2d10h` or
 * `1h30m` (or a plain number of milliseconds) into whole milliseconds. Returns undefined when
 * it is not one.
 */
export function parseDuration(text: string | number): number | undefined {
  if (typeof text === 'number') return Number.isSafeInteger(text) && text >= 0 ? text : undefined;
  const m = DURATION.exec(text.trim());
  if (m === null) return parseCompound(text.trim());
  const ms = Number(m[1]) * DURATION_MS[m[2]!]!;
  return Number.isSafeInteger(Math.round(ms)) ? Math.round(ms) : undefined;
}

function parseCompound(text: string): number | undefined {
  const m = COMPOUND.exec(text);
  if (m === null || text === '') return undefined;
  const units = [86_400_000, 3_600_000, 60_000, 1000, 1];
  const ms = units.reduce((sum, size, i) => sum + Number(m[i + 1] ?? 0) * size, 0);
  return Number.isSafeInteger(ms) ? ms : undefined;
}

/** The shortest exact text form of a duration in ms: `15s`, `5m`, `1500ms`. */
export function formatDuration(ms: number): string {
  for (const unit of ['d', 'h', 'm', 's'] as const) {
    const size = DURATION_MS[unit]!;
    if (ms !== 0 && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

const SIZE = /^(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)?$/;
const SIZE_BYTES: Record<string, number> = {
  B: 1, KB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12, KiB: 2 ** 10, MiB: 2 ** 20, GiB: 2 ** 30, TiB: 2 ** 40,
};

/** Parses a byte size such as `512MiB`, `1GB`, `4096` into bytes. Returns undefined when it is not one. */
export function parseByteSize(text: string | number): number | undefined {
  if (typeof text === 'number') return Number.isSafeInteger(text) && text >= 0 ? text : undefined;
  const m = SIZE.exec(text.trim());
  if (m === null) return undefined;
  const bytes = Math.round(Number(m[1]) * SIZE_BYTES[m[2] ?? 'B']!);
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}
