// The configured sources, created through the registry, with their schedules.
import type { ScheduledSource } from '../round/index.js';
import { createSource } from '../sources/registry.js';
import type { SourceDeps } from '../sources/source.js';
import type { AgentConfig } from './config-schema.js';

/**
 * Creates every source of `config`, in config order (the order that decides which source's
 * value is kept when two emit the same series). Factories connect nothing; this throws only on a bug.
 */
export function createScheduledSources(config: AgentConfig, deps: SourceDeps): ScheduledSource[] {
  return config.sources.map((c) => ({ source: createSource(c, deps), interval: c.interval, timeout: c.timeout }));
}
