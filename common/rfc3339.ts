// Points in time as query parameters and flags take them: RFC 3339 (`2025-11-20T12:00:00Z`,
// `2025-11-20T13:00:00.250+01:00`) or milliseconds since the epoch (`1763640000000`). Shared by the
// aggregator's HTTP API and the command line, so both accept exactly the same texts.

/** The latest time accepted: JavaScript's Date range (year 275760). */
export const MAX_TIME_MS = 8.64e15;

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;
const EPOCH_MS = /^\d{1,16}$/;

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/**
 * Parses an RFC 3339 date-time with a zone (`Z` or `±hh:mm`; fractions below a millisecond are
 * cut) or a whole number of milliseconds since the epoch. Returns undefined for anything else:
 * no zone, an impossible date (Feb 30), hours past 23, leap seconds, a time before 1970 or past
 * MAX_TIME_MS.
 */
export function parseTimeParam(text: string): number | undefined {
  if (EPOCH_MS.test(text)) {
    const ms = Number(text);
    return ms <= MAX_TIME_MS ? ms : undefined;
  }
  const m = RFC3339.exec(text);
  if (m === null) return undefined;
  const [year, month, day, hour, minute, second] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i]));
  if (month! < 1 || month! > 12 || day! < 1 || day! > daysIn(year!, month!) || hour! > 23 || minute! > 59 || second! > 59) return undefined;
  const ms = m[7] === undefined ? 0 : Number(m[7].padEnd(3, '0').slice(0, 3));
  let offset = 0;
  if (m[8] === undefined) {
    const oh = Number(m[10]);
    const om = Number(m[11]);
    if (oh > 23 || om > 59) return undefined;
    offset = (m[9] === '-' ? -1 : 1) * (oh * 60 + om) * 60_000;
  }
  const t = Date.UTC(year!, month! - 1, day!, hour!, minute!, second!, ms) - offset;
  return t >= 0 && t <= MAX_TIME_MS ? t : undefined;
}

/** What parseTimeParam accepts, for `expected …` messages. */
export const TIME_PARAM_EXPECTED = 'an RFC 3339 time with a zone (2025-11-20T12:00:00Z) or milliseconds since the epoch';

/** A time as RFC 3339 in UTC with milliseconds: `2025-11-20T12:00:00.000Z`. */
export function formatRfc3339(ms: number): string {
  return new Date(ms).toISOString();
}
