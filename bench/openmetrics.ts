// Renders rounds as OpenMetrics text exposition, the baseline the block format is compared with.
// One exposition per round, ending in `# EOF`; every sample carries the round's timestamp (in
// seconds, as promtool's OpenMetrics backfill input does) so the text holds the same data as a
// block. A string series becomes an info-style sample: `name{labels...,value="..."} 1`.
import type { Labels, Round, Sample } from '../proto/block/types.js';

function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function labelText(labels: Labels, extra?: string): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(labels)) parts.push(`${k}="${escapeLabelValue(v)}"`);
  if (extra !== undefined) parts.push(`value="${escapeLabelValue(extra)}"`);
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}

/** The metric family of a sample name and its OpenMetrics type. */
function family(name: string, type: Sample['type']): { family: string; type: string } {
  if (type === 'string') return { family: name, type: 'gauge' };
  if (name.endsWith('_total')) return { family: name.slice(0, -'_total'.length), type: 'counter' };
  return { family: name, type: 'gauge' };
}

/**
 * One round as an OpenMetrics exposition: samples grouped by metric family (families in order of
 * first appearance), `# TYPE` per family, timestamps in seconds, `# EOF` at the end. Events are
 * not part of an exposition and are left out.
 */
export function roundToOpenMetrics(round: Round): string {
  const families = new Map<string, { type: string; lines: string[] }>();
  const ts = String(round.t / 1000);
  for (const s of round.samples) {
    const f = family(s.name, s.type);
    let entry = families.get(f.family);
    if (entry === undefined) {
      entry = { type: f.type, lines: [] };
      families.set(f.family, entry);
    }
    const line = s.type === 'string'
      ? `${s.name}${labelText(s.labels, String(s.value))} 1 ${ts}`
      : `${s.name}${labelText(s.labels)} ${formatFloat(s.value as number)} ${ts}`;
    entry.lines.push(line);
  }
  let out = '';
  for (const [name, f] of families) {
    out += `# TYPE ${name} ${f.type}\n`;
    out += f.lines.join('\n');
    out += '\n';
  }
  return `${out}# EOF\n`;
}

function formatFloat(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}
