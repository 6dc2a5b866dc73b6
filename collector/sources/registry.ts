// Every source kind the agent knows: its config schema (one member of a union discriminated on
// `kind`) and its factory. Adding a kind is one schema in the union and one case below.
import { z } from 'zod';
import { createExecSource, execConfigSchema } from './exec/index.js';
import { createHostSource, hostConfigSchema } from './host/index.js';
import { createKubernetesSource, kubernetesConfigSchema } from './kubernetes/index.js';
import { createPrometheusSource, prometheusConfigSchema } from './prometheus/index.js';
import { createSnmpSource, snmpConfigSchema } from './snmp/index.js';
import type { Source, SourceDeps } from './source.js';

/** One entry of the agent config's `sources` list: strict, discriminated on `kind`. */
export const sourceConfigSchema = z.discriminatedUnion('kind', [
  kubernetesConfigSchema, hostConfigSchema, snmpConfigSchema, prometheusConfigSchema, execConfigSchema,
]);

/** A validated source config (durations in ms, defaults filled in). */
export type SourceConfig = z.infer<typeof sourceConfigSchema>;

/** The source kinds, in the order the union lists them. */
export const SOURCE_KINDS: readonly string[] = sourceConfigSchema.options.map((o) => o.shape.kind.value);

/**
 * Creates the source `config` describes. Factories only build: nothing connects or reads until
 * the first `collect`, so this throws only on a bug.
 */
export function createSource(config: SourceConfig, deps: SourceDeps): Source {
  switch (config.kind) {
    case 'kubernetes':
      return createKubernetesSource(config, deps);
    case 'host':
      return createHostSource(config, deps);
    case 'snmp':
      return createSnmpSource(config, deps);
    case 'prometheus':
      return createPrometheusSource(config, deps);
    case 'exec':
      return createExecSource(config, deps);
  }
}
