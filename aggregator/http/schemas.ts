// JSON schemas of the fleet API: every route's querystring (unknown and repeated parameters are
// refused) and its answers (200 and every error), which fastify validates and serialises with.
// The schema checks the shape; fleet-params.ts checks the meaning (times, ranges, selectors).

/** The longest selector text accepted. */
export const MAX_SELECTOR_CHARS = 4096;

const time = { type: 'string', description: 'RFC 3339, UTC, milliseconds' } as const;
const nullableTime = { type: ['string', 'null'], description: 'RFC 3339, UTC, milliseconds; null: none' } as const;
const count = { type: 'integer', minimum: 0 } as const;

const TIME_PARAM = { type: 'string', maxLength: 64, description: 'an RFC 3339 time with a zone (2025-11-20T12:00:00Z) or milliseconds since the epoch' } as const;

/** Parameters every report takes. */
const reportParams = {
  at: { ...TIME_PARAM, description: `event time: the state as of then; ${TIME_PARAM.description}; default known_at` },
  known_at: { ...TIME_PARAM, description: `arrival cutoff: only data that had arrived by then; ${TIME_PARAM.description}; default now` },
} as const;

const listParams = {
  ...reportParams,
  selector: { type: 'string', maxLength: MAX_SELECTOR_CHARS, description: 'a Kubernetes label selector on site labels, such as region=eu,tier!=lab' },
  limit: { type: 'string', pattern: '^[0-9]{1,9}$', description: 'a whole number of rows from 1 to 1000' },
  offset: { type: 'string', pattern: '^[0-9]{1,15}$', description: 'a whole number of rows to skip' },
} as const;

function querystring(properties: Record<string, unknown>): Record<string, unknown> {
  return { type: 'object', additionalProperties: false, properties };
}

export const listQuerySchema = querystring(listParams);
export const upgradesQuerySchema = querystring({
  ...listParams,
  revision: { type: 'string', minLength: 1, maxLength: 128, description: 'a policy revision id or seq:N (default: the latest that changed an expected value by at)' },
  policy: { type: 'string', minLength: 1, maxLength: 256, description: 'a policy name: only its upgrades' },
});
export const siteQuerySchema = querystring(reportParams);
export const siteParamsSchema = { type: 'object', properties: { site: { type: 'string', maxLength: 256, description: 'a site id' } }, required: ['site'] } as const;

/** The names of the parameters a querystring schema takes (for messages). */
export function paramNames(schema: Record<string, unknown>): string[] {
  return Object.keys(schema.properties as Record<string, unknown>);
}

function object(properties: Record<string, unknown>): Record<string, unknown> {
  return { type: 'object', additionalProperties: false, required: Object.keys(properties), properties };
}

const freshness = { site: { type: 'string' }, lastDataT: nullableTime, completeThrough: nullableTime, lastContactAt: nullableTime };

export const driftRowSchema = object({
  ...freshness, series: { type: 'string' }, expected: { type: 'string' }, actual: { type: ['string', 'null'] }, since: time, policy: { type: 'string' },
  revision: { type: 'string' },
});

export const upgradeRowSchema = object({
  ...freshness, policy: { type: 'string' }, revision: { type: 'string' }, revisionEffectiveAt: time,
  status: { type: 'string', enum: ['converged', 'in_progress', 'failed', 'unknown'] },
  reason: {
    type: 'string',
    enum: ['converged', 'within_deadline', 'no_data_dark', 'no_data_backlogged', 'image_pull_error', 'crash_loop', 'rolled_back', 'resource_exhaustion', 'gitops_error', 'deadline_passed'],
  },
  convergedAt: nullableTime, deadline: time,
  evidence: { type: 'array', items: object({ t: time, kind: { type: 'string', enum: ['event', 'state', 'contact'] }, text: { type: 'string' } }) },
});

export const staleRowSchema = object({
  ...freshness, state: { type: 'string', enum: ['dark', 'backlogged'] }, staleAfterMs: count, backlogBlocks: { type: ['integer', 'null'] },
  backlogBytes: { type: ['integer', 'null'] },
});

export const siteRowSchema = object({ ...freshness, labels: { type: 'object', additionalProperties: { type: 'string' } }, driftCount: count });

const fleetLineSchema = object({ sites: count, sitesWithData: count, sitesCompleteThroughAt: count });

export const errorSchema = object({ error: object({ code: { type: 'string' }, message: { type: 'string' } }) });

const errors = { '4xx': errorSchema, '5xx': errorSchema } as const;

const pageFields = {
  at: time, knownAt: time, selector: { type: ['string', 'null'] }, fleet: fleetLineSchema, total: count, offset: count, limit: count,
  next: { type: ['string', 'null'] },
};

/** The answers of a report route whose rows have `row`'s schema. */
export function pageResponses(row: Record<string, unknown>): Record<string, unknown> {
  return { 200: object({ ...pageFields, rows: { type: 'array', items: row } }), ...errors };
}

export const upgradesResponses = {
  200: object({
    ...pageFields, rows: { type: 'array', items: upgradeRowSchema },
    revision: { type: ['string', 'null'] }, revisionSeq: { type: ['integer', 'null'] }, revisionEffectiveAt: nullableTime,
    summary: object({ converged: count, in_progress: count, failed: count, unknown: count }),
  }),
  ...errors,
};

const pairList = (item: Record<string, unknown>) => ({ type: 'array', items: { type: 'array', items: item, minItems: 2, maxItems: 2 } });

export const siteDetailSchema = object({
  ...(siteRowSchema.properties as Record<string, unknown>),
  coverage: pairList(time),
  seal: { type: 'array', items: object({ store: { type: 'string' }, held: pairList(count), missing: pairList(count), dropped: pairList(count) }) },
  blocks: count, supersededBlocks: count, series: count, backlogBlocks: { type: ['integer', 'null'] }, backlogBytes: { type: ['integer', 'null'] },
});

export const siteResponses = {
  200: object({ at: time, knownAt: time, site: siteDetailSchema }),
  ...errors,
};
