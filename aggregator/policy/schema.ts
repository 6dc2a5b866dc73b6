// The policy document schema (zod): strict (unknown keys are problems), every problem reported
// at once. Each custom issue carries its DW_POLICY_* code in `params.code` (and, for a series
// matcher, the character offset of the problem in `params.offset`); zod's own issues are
// DW_POLICY_INVALID_FIELD or DW_POLICY_UNKNOWN_FIELD and are worded by policyErrorMap.
import semver from 'semver';
import { z } from 'zod';
import { parseDuration } from '../../common/units.js';
import { isValidLabelName } from '../../proto/index.js';
import { PolicyErrorCode } from './errors.js';
import { parseImageRef } from './image-ref.js';
import { regexProblem } from './regex.js';
import { parseSeriesMatcher } from './series-matcher.js';

export const API_VERSION = 'driftwatch.io/v1';
export const KIND = 'Policy';
/** Defaults when a policy leaves them out. */
export const DEFAULT_STALE_AFTER = 60 * 60_000;
export const DEFAULT_UPGRADE_DEADLINE = 24 * 60 * 60_000;

/** How a policy file writes a value, for "found …". */
export function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v.length > 80 ? `${v.slice(0, 80)}…` : v);
  if (typeof v === 'number') return `the number ${v}`;
  if (typeof v === 'boolean') return `the boolean ${v}`;
  if (Array.isArray(v)) return v.length === 0 ? 'an empty list' : `a list of ${v.length} item${v.length === 1 ? '' : 's'}`;
  return 'a mapping';
}

const EXPECTED: Record<string, string> = {
  string: 'a string', number: 'a number', boolean: 'true or false', object: 'a mapping', array: 'a list', record: 'a mapping',
};

/** Words zod's own issues as "expected …, found …". */
export function policyErrorMap(iss: z.core.$ZodRawIssue): string | undefined {
  const found = describeValue(iss.input);
  switch (iss.code) {
    case 'invalid_type':
      return `expected ${EXPECTED[iss.expected] ?? iss.expected}, found ${found}`;
    case 'invalid_value':
      return iss.values.length === 1
        ? `expected ${JSON.stringify(iss.values[0])}, found ${found}`
        : `expected one of ${iss.values.map((v) => JSON.stringify(v)).join(', ')}, found ${found}`;
    case 'too_small':
      if (iss.origin === 'array') return `expected at least ${Number(iss.minimum)} item${Number(iss.minimum) === 1 ? '' : 's'}, found an empty list`;
      if (iss.origin === 'string') return `expected a non-empty string, found ${found}`;
      return `expected at least ${Number(iss.minimum)}, found ${found}`;
    case 'too_big':
      return `expected at most ${Number(iss.maximum)}${iss.origin === 'string' ? ' characters' : iss.origin === 'array' ? ' items' : ''}, found ${typeof iss.input === 'string' || Array.isArray(iss.input) ? iss.input.length : found}`;
    case 'unrecognized_keys': {
      const shape = (iss.inst as { shape?: Record<string, unknown> } | undefined)?.shape;
      return shape === undefined ? 'expected no other keys' : `expected one of the keys ${Object.keys(shape).join(', ')}`;
    }
    case 'invalid_key':
      return `expected a label name (letters, digits and "_", not starting with a digit), found ${found}`;
    default:
      return undefined;
  }
}

type Ctx = z.core.$RefinementCtx;


function issue(ctx: Ctx, code: string, message: string, path: (string | number)[] = [], offset?: number): void {
  ctx.addIssue({ code: 'custom', message, path, params: offset === undefined ? { code } : { code, offset }, input: undefined });
}

const durationSchema = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const ms = parseDuration(v);
  if (ms === undefined || ms === 0) {
    issue(ctx, PolicyErrorCode.BadDuration, `expected a positive duration such as 30m, 6h, 7d, found ${describeValue(v)}`);
    return z.NEVER;
  }
  return ms;
});

const NAME = /^[a-z0-9](?:[-a-z0-9.]*[a-z0-9])?$/;

const metadataSchema = z.strictObject({
  name: z.string().superRefine((v, ctx) => {
    if (v.length > 253 || !NAME.test(v)) {
      issue(ctx, PolicyErrorCode.InvalidField, `expected a name of lowercase letters, digits, "-" and "." (at most 253, starting and ending with a letter or digit), found ${describeValue(v)}`);
    }
  }),
  description: z.string().optional(),
});

const labelKey = z.string().superRefine((k, ctx) => {
  if (!isValidLabelName(k)) issue(ctx, PolicyErrorCode.BadSelector, `expected a site label name (letters, digits and "_", not starting with a digit), found ${describeValue(k)}`);
});

const OPERATORS = ['In', 'NotIn', 'Exists', 'DoesNotExist'] as const;

const requirementSchema = z.strictObject({
  key: labelKey,
  operator: z.string().superRefine((op, ctx) => {
    if (!(OPERATORS as readonly string[]).includes(op)) {
      issue(ctx, PolicyErrorCode.BadSelector, `expected one of the operators In, NotIn, Exists, DoesNotExist, found ${describeValue(op)}`);
    }
  }).transform((op) => op as (typeof OPERATORS)[number]),
  values: z.array(z.string()).optional(),
}).superRefine((r, ctx) => {
  const n = r.values?.length ?? 0;
  if ((r.operator === 'In' || r.operator === 'NotIn') && n === 0) {
    issue(ctx, PolicyErrorCode.BadSelector, `expected at least one value for ${r.operator}, found ${r.values === undefined ? 'no values' : 'an empty list'}`, ['values']);
  }
  if ((r.operator === 'Exists' || r.operator === 'DoesNotExist') && r.values !== undefined && n > 0) {
    issue(ctx, PolicyErrorCode.BadSelector, `expected no values for ${r.operator}, found ${n}`, ['values']);
  }
});

const selectorSchema = z.strictObject({
  matchLabels: z.record(z.string(), z.string()).superRefine((labels, ctx) => {
    for (const k of Object.keys(labels)) {
      if (!isValidLabelName(k)) issue(ctx, PolicyErrorCode.BadSelector, `expected a site label name (letters, digits and "_", not starting with a digit), found ${describeValue(k)}`, [k]);
    }
  }).default({}),
  matchExpressions: z.array(requirementSchema).default([]),
});

/** A string expected value: YAML turns unquoted 1.20 into the number 1.2, so say how to quote. */
const expectedString = z.unknown().transform((v, ctx) => {
  if (typeof v === 'string') return v;
  const hint = typeof v === 'number' || typeof v === 'boolean'
    ? ` (YAML reads it unquoted as a ${typeof v}: quote it, as in "${String(v)}"; for a float series use eq, min or max)`
    : '';
  issue(ctx, PolicyErrorCode.BadValue, `expected a string${hint}, found ${describeValue(v)}`);
  return z.NEVER;
});

const finite = z.number().superRefine((n, ctx) => {
  if (!Number.isFinite(n)) issue(ctx, PolicyErrorCode.BadValue, `expected a finite number, found ${n}`);
});

// Which kind of expected value an expectation has (exactly one) is checked on the raw document in
// parse.ts, beside the other problems: a zod preprocess issue would hide the rest.
const expectationSchema = z.strictObject({
  series: z.string().transform((text, ctx) => {
    const r = parseSeriesMatcher(text);
    if (r.ok) return r.matcher;
    for (const p of r.problems) issue(ctx, p.code, p.message, [], p.offset);
    return z.NEVER;
  }),
  description: z.string().optional(),
  exact: expectedString.optional(),
  oneOf: z.array(expectedString).min(1).optional(),
  semver: z.string().superRefine((range, ctx) => {
    if (range.trim() === '' || semver.validRange(range) === null) {
      issue(ctx, PolicyErrorCode.BadSemverRange, `expected an npm semver range such as ">=2.4.1 <3", "~1.29.3" or "^2.4", found ${describeValue(range)}`);
    }
  }).optional(),
  image: z.string().superRefine((image, ctx) => {
    const ref = parseImageRef(image);
    if (ref === undefined || ref.tag !== undefined || ref.digest !== undefined) {
      issue(ctx, PolicyErrorCode.BadValue, `expected an image repository without tag or digest, such as registry.example.com/shop/pos, found ${describeValue(image)}`);
    }
  }).optional(),
  includePrerelease: z.boolean().optional(),
  pattern: z.string().superRefine((re, ctx) => {
    const why = regexProblem(re);
    if (why !== undefined) issue(ctx, PolicyErrorCode.BadRegex, why);
  }).optional(),
  eq: finite.optional(),
  min: finite.optional(),
  max: finite.optional(),
  upgradeDeadline: durationSchema.optional(),
}).superRefine((e, ctx) => {
  if (e.min !== undefined && e.max !== undefined && e.min > e.max) {
    issue(ctx, PolicyErrorCode.BadValue, `expected min at most max, found min ${e.min} above max ${e.max}`, ['min']);
  }
  if (e.oneOf !== undefined) {
    const seen = new Set<string>();
    e.oneOf.forEach((v, i) => {
      if (seen.has(v)) issue(ctx, PolicyErrorCode.BadValue, `expected each value once, found ${describeValue(v)} again`, ['oneOf', i]);
      seen.add(v);
    });
  }
});

export const policyDocumentSchema = z.strictObject({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal(KIND),
  metadata: metadataSchema,
  spec: z.strictObject({
    selector: selectorSchema,
    staleAfter: durationSchema.optional(),
    upgradeDeadline: durationSchema.default(DEFAULT_UPGRADE_DEADLINE),
    expectations: z.array(expectationSchema).default([]),
  }),
});

export type PolicyDocument = z.output<typeof policyDocumentSchema>;
