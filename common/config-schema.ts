// zod pieces shared by every component's config schema. Schemas are strict: unknown keys are
// rejected, and every problem is reported at once (see formatConfigIssues).
import { z } from 'zod';
import { parseByteSize, parseDuration } from './units.js';

/** A duration (`15s`, `5m`, or ms as a number), parsed to whole milliseconds. */
export const durationSchema = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const ms = parseDuration(v);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `expected a duration such as 500ms, 15s, 5m, 24h, found ${JSON.stringify(v)}` });
    return z.NEVER;
  }
  return ms;
});

/** A byte size (`512MiB`, `1GB`, or bytes as a number), parsed to bytes. */
export const byteSizeSchema = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const bytes = parseByteSize(v);
  if (bytes === undefined) {
    ctx.addIssue({ code: 'custom', message: `expected a size such as 4096, 64KiB, 512MiB, 1GB, found ${JSON.stringify(v)}` });
    return z.NEVER;
  }
  return bytes;
});

/** Every issue as `path: message`, one per line, for a DW_*_CONFIG_INVALID error. */
export function formatConfigIssues(error: z.ZodError, prefix = ''): string[] {
  return error.issues.map((i) => {
    const path = [prefix, ...i.path.map(String)].filter((p) => p !== '').join('.');
    return `${path === '' ? '(top level)' : path}: ${i.message}`;
  });
}
