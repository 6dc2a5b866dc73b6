// The host source's config: one entry of the agent's `sources` list with `kind: host`.
import { z } from 'zod';
import { durationSchema } from '../../../common/config-schema.js';

/** The host source's config (strict: unknown keys are rejected). Defaults are filled in here. */
export const hostConfigSchema = z.strictObject({
  kind: z.literal('host'),
  /** The `source` label. */
  name: z.string().min(1),
  /** Default: the agent's interval. */
  interval: durationSchema.optional(),
  /** Default: 80% of the interval, at most 10 s. */
  timeout: durationSchema.optional(),
  /** Prefixed to every path read (`/host` when the host's filesystem is mounted there in a container). */
  root: z.string().min(1).default('/'),
  /** Mount points to report free and total space of, as seen on the host (under `root`). */
  filesystems: z.array(z.string().startsWith('/', { error: 'expected an absolute mount point such as /var' })).default(['/']),
  /** One node_cpu_seconds_total per CPU and mode (`cpu` label) instead of summed over CPUs. */
  perCpu: z.boolean().default(false),
  /**
   * A file where the last seen boot id is kept, so that a reboot is recognised across agent
   * restarts (not prefixed by `root`; it belongs to the agent). Without it, only a change seen
   * while the agent runs raises a reboot event.
   */
  bootIdFile: z.string().min(1).optional(),
});

/** A validated host source config, defaults filled in; durations in ms. */
export type HostConfig = z.infer<typeof hostConfigSchema>;
