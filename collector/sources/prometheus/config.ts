// The prometheus source's config schema, defaults beside it. Documented in docs/sources/prometheus.md.
import { z } from 'zod';
import { byteSizeSchema, durationSchema } from '../../../common/config-schema.js';
import { isValidLabelName } from '../../../proto/index.js';

/** A metric name, or a glob of one with `*` (any run of characters) and `?` (one character). */
const NAME_PATTERN = /^[a-zA-Z_:*?][a-zA-Z0-9_:*?]*$/;
const patternSchema = z.string().regex(NAME_PATTERN, 'expected a metric name or a glob such as node_filesystem_* (letters, digits, _, :, * and ?)');

/** A record whose keys must pass `valid`; zod's own record key issue does not say what it expected. */
function keyedRecord(valid: (k: string) => boolean, what: string) {
  return z.record(z.string(), z.string()).superRefine((r, ctx) => {
    for (const k of Object.keys(r)) {
      if (!valid(k)) ctx.addIssue({ code: 'custom', path: [k], message: `expected ${what}, found ${JSON.stringify(k)}` });
    }
  });
}

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

export const DEFAULT_MAX_BYTES = 10 * 1024 * 1024;

export const prometheusConfigSchema = z.strictObject({
  kind: z.literal('prometheus'),
  name: z.string().min(1),
  interval: durationSchema.optional(),
  timeout: durationSchema.optional(),
  /** The exposition endpoint, e.g. http://127.0.0.1:9100/metrics. */
  url: z.string().refine((u) => {
    try {
      const p = new URL(u).protocol;
      return p === 'http:' || p === 'https:';
    } catch {
      return false;
    }
  }, 'expected an http:// or https:// URL'),
  /** Metric names (or globs) to keep; required: an exporter exposes thousands of series. */
  allow: z.array(patternSchema).min(1, 'expected at least one metric name or glob to allow'),
  /** Metric names (or globs) to drop even when allowed. */
  deny: z.array(patternSchema).default([]),
  /** Response bytes read at most (after decompression); beyond that the scrape stops: DW_SOURCE_TOO_LARGE. */
  maxBytes: byteSizeSchema.default(DEFAULT_MAX_BYTES),
  /** Series kept at most after filtering; more is DW_SOURCE_TOO_LARGE. */
  maxSeries: z.number().int().min(1).default(10_000),
  /** Extra request headers. */
  headers: keyedRecord((k) => HEADER_NAME.test(k), 'an HTTP header name').default({}),
  /** A file holding a bearer token (trailing newline ignored), read at every scrape. */
  bearerTokenFile: z.string().min(1).optional(),
  /**
   * Labels added to every series. `instance` defaults to the URL's host:port. An exporter label
   * of the same name is kept as `exported_<name>`.
   */
  labels: keyedRecord(isValidLabelName, 'a valid label name').default({}),
}).superRefine((c, ctx) => {
  if (c.bearerTokenFile !== undefined && Object.keys(c.headers).some((h) => h.toLowerCase() === 'authorization')) {
    ctx.addIssue({ code: 'custom', path: ['headers'], message: 'expected either an Authorization header or bearerTokenFile, found both' });
  }
});

/** The prometheus source's config, defaults applied, durations in ms, sizes in bytes. */
export type PrometheusConfig = z.output<typeof prometheusConfigSchema>;
