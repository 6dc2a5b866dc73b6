// The shape of a serialized policy history (JSON), checked on the way back in: a stored history
// is data from disk, so every policy is re-checked with this build's parsers before use.
import semver from 'semver';
import { z } from 'zod';
import { PolicyErrorCode } from './errors.js';
import { regexProblem } from './regex.js';
import { parseSeriesMatcher } from './series-matcher.js';
import type { Policy } from './types.js';

const time = z.number().finite();
const labels = z.record(z.string(), z.string());

const sourceSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('directory'), path: z.string() }),
  z.strictObject({
    kind: z.literal('git'), repository: z.string(), ref: z.string(), subdirectory: z.string(), commit: z.string(), committedAt: time,
  }),
]);

const expectedSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('exact'), value: z.string() }),
  z.strictObject({ kind: z.literal('oneOf'), values: z.array(z.string()).min(1) }),
  z.strictObject({ kind: z.literal('semver'), range: z.string(), image: z.string().optional(), includePrerelease: z.boolean() }),
  z.strictObject({ kind: z.literal('pattern'), regex: z.string() }),
  z.strictObject({ kind: z.literal('eq'), value: z.number().finite() }),
  z.strictObject({ kind: z.literal('range'), min: z.number().finite().optional(), max: z.number().finite().optional() }),
]);

const policySchema = z.strictObject({
  name: z.string(),
  description: z.string().optional(),
  file: z.string(),
  document: z.number().int().nonnegative(),
  selector: z.strictObject({
    matchLabels: labels,
    matchExpressions: z.array(z.strictObject({
      key: z.string(), operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist']), values: z.array(z.string()),
    })),
  }),
  staleAfter: z.number().int().positive().optional(),
  upgradeDeadline: z.number().int().positive(),
  expectations: z.array(z.strictObject({
    series: z.strictObject({
      text: z.string(),
      name: z.string().optional(),
      matchers: z.array(z.strictObject({ label: z.string(), op: z.enum(['=', '!=', '=~', '!~']), value: z.string() })),
    }),
    expected: expectedSchema,
    upgradeDeadline: z.number().int().positive(),
    description: z.string().optional(),
  })),
});

const fileSchema = z.strictObject({ path: z.string(), sha256: z.string() });
const problemSchema = z.strictObject({
  code: z.string().startsWith('DW_POLICY_'), file: z.string(), line: z.number().int().optional(), column: z.number().int().optional(),
  path: z.string(), message: z.string(),
});

export const historyDocumentSchema = z.strictObject({
  format: z.string(),
  version: z.number(),
  nextSeq: z.number().int().positive(),
  revisions: z.array(z.strictObject({
    id: z.string().min(1),
    seq: z.number().int().positive(),
    source: sourceSchema,
    effectiveAt: time,
    loadedAt: time,
    files: z.array(fileSchema),
    policies: z.array(policySchema),
  })),
  rejected: z.array(z.strictObject({
    id: z.string().min(1),
    source: sourceSchema,
    effectiveAt: time,
    loadedAt: time,
    problems: z.array(problemSchema),
  })),
});

/** Undefined when every stored policy still parses with this build; else what does not. */
export function checkPolicies(policies: readonly z.output<typeof policySchema>[] | readonly Policy[]): string | undefined {
  for (const p of policies) {
    for (const e of p.expectations) {
      const parsed = parseSeriesMatcher(e.series.text);
      if (!parsed.ok) return `policy ${p.name}: series matcher ${JSON.stringify(e.series.text)}: ${parsed.problems[0]!.message}`;
      if (JSON.stringify(parsed.matcher) !== JSON.stringify({ text: e.series.text, name: e.series.name, matchers: e.series.matchers })) {
        return `policy ${p.name}: series matcher ${JSON.stringify(e.series.text)} whose parts do not match its text`;
      }
      const x = e.expected;
      if (x.kind === 'pattern' && regexProblem(x.regex) !== undefined) return `policy ${p.name}: ${PolicyErrorCode.BadRegex}: ${regexProblem(x.regex)}`;
      if (x.kind === 'semver' && semver.validRange(x.range) === null) return `policy ${p.name}: ${PolicyErrorCode.BadSemverRange}: ${JSON.stringify(x.range)}`;
    }
  }
  return undefined;
}
