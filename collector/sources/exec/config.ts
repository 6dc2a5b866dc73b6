// The exec source's config schema, defaults beside it. Documented in docs/sources/exec.md.
import { z } from 'zod';
import { byteSizeSchema, durationSchema } from '../../../common/config-schema.js';

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export const DEFAULT_MAX_BYTES = 1024 * 1024;
export const DEFAULT_KILL_GRACE_MS = 2000;

export const execConfigSchema = z.strictObject({
  kind: z.literal('exec'),
  name: z.string().min(1),
  interval: durationSchema.optional(),
  timeout: durationSchema.optional(),
  /** argv: the program (a path, or a name looked up on PATH) and its arguments. No shell. */
  command: z.array(z.string().min(1, 'expected a non-empty argument')).min(1, 'expected the program and its arguments, e.g. ["/usr/local/bin/plc-status", "--json"]'),
  /** stdout bytes read at most; beyond that the command is killed: DW_SOURCE_TOO_LARGE. */
  maxBytes: byteSizeSchema.default(DEFAULT_MAX_BYTES),
  /** Environment variables on top of PATH, HOME, LANG, LC_ALL, TZ and TMPDIR from the agent. */
  env: z.record(z.string(), z.string()).superRefine((r, ctx) => {
    for (const k of Object.keys(r)) {
      if (!ENV_NAME.test(k)) ctx.addIssue({ code: 'custom', path: [k], message: `expected an environment variable name, found ${JSON.stringify(k)}` });
    }
  }).default({}),
  /** Working directory; default the agent's. */
  cwd: z.string().min(1).optional(),
  /** Between SIGTERM and SIGKILL to the command's process group when it must stop. */
  killGrace: durationSchema.default(DEFAULT_KILL_GRACE_MS),
});

/** The exec source's config, defaults applied, durations in ms, sizes in bytes. */
export type ExecConfig = z.output<typeof execConfigSchema>;
