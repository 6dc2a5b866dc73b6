// The prometheus source: one scrape of a Prometheus text / OpenMetrics endpoint per collection,
// filtered by an allow list (docs/sources/prometheus.md).
import { readFile } from 'node:fs/promises';
import { SourceError, SourceErrorCode, collectionBudget } from '../errors.js';
import type { Source, SourceDeps } from '../source.js';
import type { PrometheusConfig } from './config.js';
import { nameFilter } from './filter.js';
import { parseExposition } from './parse.js';
import { scrape } from './scrape.js';

export { prometheusConfigSchema, type PrometheusConfig } from './config.js';

async function bearerToken(path: string, url: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new SourceError(SourceErrorCode.Failed, `expected a readable bearerTokenFile at ${path}, found ${(err as NodeJS.ErrnoException).code ?? 'an error'}`, { where: url, cause: err });
  }
  const token = text.trim();
  if (token === '') throw new SourceError(SourceErrorCode.Failed, `expected a token in ${path}, found an empty file`, { where: url });
  return token;
}

/**
 * A prometheus source for a config parsed by `prometheusConfigSchema`. Each `collect` makes one
 * GET within `min(ctx.deadline, now + timeout)` and returns the allowed samples as float series
 * with the static labels (`instance` = the URL's host:port unless set); it never returns events.
 * Rejects with a SourceError (see scrape.ts and parse.ts for which code when). Holds no state
 * between collections; `close` is not needed.
 */
export function createPrometheusSource(config: PrometheusConfig, deps: SourceDeps): Source {
  const url = new URL(config.url);
  // A label configured as "" is left out, so `instance: ""` drops the default instance label.
  const labels = Object.fromEntries(Object.entries({ instance: url.host, ...config.labels }).filter(([, v]) => v !== ''));
  const accept = nameFilter(config.allow, config.deny);
  return {
    name: config.name,
    kind: 'prometheus',
    async collect(ctx) {
      const { deadline, budgetMs } = collectionBudget(ctx, config.timeout, `scrape ${config.url}`, config.url);
      const headers: Record<string, string> = { ...config.headers };
      if (config.bearerTokenFile !== undefined) headers['authorization'] = `Bearer ${await bearerToken(config.bearerTokenFile, config.url)}`;
      const { text, contentType } = await scrape({
        url: config.url,
        headers,
        maxBytes: config.maxBytes,
        budgetMs,
        signal: ctx.signal,
        deadlinePassed: () => ctx.now() >= deadline,
      });
      const openMetrics = contentType.toLowerCase().startsWith('application/openmetrics-text');
      const { samples, duplicates } = parseExposition(text, { accept, openMetrics, labels, maxSeries: config.maxSeries, where: config.url });
      if (duplicates > 0) {
        deps.logger.warn({ source: config.name, url: config.url, duplicates }, 'exporter repeated series in one scrape; kept the first of each');
      }
      return { samples, events: [] };
    },
  };
}
