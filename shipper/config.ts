// The agent config's `shipping:` section: one strict schema with its defaults, and the resolve
// step that reads the token and CA files and returns the transport's, the retry's and the run
// loop's options. The token is never written inline: a file, or DRIFTWATCH_TOKEN in the
// environment (which wins, as env wins over files everywhere in driftwatch).
import { readFile, stat } from 'node:fs/promises';
import { z } from 'zod';
import { byteSizeSchema, durationSchema, formatConfigIssues } from '../common/config-schema.js';
import { errorMessage } from '../common/errors.js';
import { formatDuration } from '../common/units.js';
import { formatBandwidth, parseBandwidth } from './bandwidth.js';
import { ShipperError, ShipperErrorCode } from './errors.js';
import { DEFAULT_CALL_TIMEOUTS, DEFAULT_CHUNK_BYTES, MAX_CHUNK_BYTES, type GrpcTransportOptions } from './grpc-transport.js';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from './retry.js';

/** The environment variable that carries the site token instead of `tokenFile`. */
export const TOKEN_ENV = 'DRIFTWATCH_TOKEN';
export const DEFAULT_SYNC_INTERVAL = 60_000;
export const DEFAULT_HEARTBEAT_INTERVAL = 30_000;
/** The shortest sync and heartbeat intervals accepted. */
export const MIN_SHIPPING_INTERVAL = 1_000;

const ADDRESS = /^(\[[0-9a-fA-F:.]+\]|[^\s:[\]/]+):(\d{1,5})$/;

function durationAtLeast(min: number, fallback: number) {
  return durationSchema
    .refine((ms) => ms >= min, { error: (iss) => `expected at least ${formatDuration(min)}, found ${formatDuration(iss.input as number)}` })
    .default(fallback);
}

const bandwidthSchema = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const bytes = parseBandwidth(v);
  if (bytes === undefined) {
    ctx.addIssue({ code: 'custom', message: `expected a bandwidth such as 1Mbit, 512kbit, 125KB/s or bytes per second as a number, found ${JSON.stringify(v)}` });
    return z.NEVER;
  }
  return bytes;
});

const tlsSchema = z.strictObject({
  /** PEM file of the CA that signed the aggregator's certificate. Default: the system's roots. */
  caFile: z.string().min(1).optional(),
  /** The name in the aggregator's certificate, when it differs from the address's host. */
  serverName: z.string().min(1).optional(),
  /** Mutual TLS (an aggregator with grpc.tls.clientCa): this agent's certificate chain, PEM. */
  certFile: z.string().min(1).optional(),
  /** ... and its private key, PEM. */
  keyFile: z.string().min(1).optional(),
  /** Plain text, token included: for tests and trusted links only. */
  insecure: z.boolean().default(false),
}).superRefine((t, ctx) => {
  if (t.insecure && (t.caFile !== undefined || t.serverName !== undefined || t.certFile !== undefined || t.keyFile !== undefined)) {
    ctx.addIssue({ code: 'custom', path: ['insecure'], message: 'expected either insecure: true or caFile/serverName/certFile/keyFile, found both' });
  }
  if ((t.certFile === undefined) !== (t.keyFile === undefined)) {
    const missing = t.certFile === undefined ? 'certFile' : 'keyFile';
    ctx.addIssue({ code: 'custom', path: [missing], message: `expected certFile and keyFile together (mutual TLS), found only ${missing === 'certFile' ? 'keyFile' : 'certFile'}` });
  }
});

/** The `shipping:` section's schema. Unknown keys are rejected. */
export const shippingConfigSchema = z.strictObject({
  /** The aggregator's gRPC address, host:port. */
  aggregator: z.string().refine((v) => {
    const m = ADDRESS.exec(v);
    return m !== null && Number(m[2]) <= 65535;
  }, { error: (iss) => `expected the aggregator's address as host:port such as aggregator.example.com:7443, found ${JSON.stringify(iss.input)}` }),
  tls: tlsSchema.prefault({}),
  /** A file holding the site's token (the DRIFTWATCH_TOKEN environment variable wins over it). */
  tokenFile: z.string().min(1).optional(),
  chunkSize: byteSizeSchema.refine((b) => b >= 1024 && b <= MAX_CHUNK_BYTES, {
    error: (iss) => `expected a chunk size from 1KiB to 4MiB less 1KiB, found ${String(iss.input)} bytes`,
  }).default(DEFAULT_CHUNK_BYTES),
  /** Upload bandwidth cap (bits such as 1Mbit, or bytes per second). Default: none. */
  bandwidth: bandwidthSchema.optional(),
  backoff: z.strictObject({
    base: durationAtLeast(1, DEFAULT_RETRY_POLICY.baseMs),
    cap: durationAtLeast(1, DEFAULT_RETRY_POLICY.capMs),
  }).prefault({}).superRefine((b, ctx) => {
    if (b.cap < b.base) ctx.addIssue({ code: 'custom', path: ['cap'], message: `expected at least backoff.base (${formatDuration(b.base)}), found ${formatDuration(b.cap)}` });
  }),
  syncInterval: durationAtLeast(MIN_SHIPPING_INTERVAL, DEFAULT_SYNC_INTERVAL),
  heartbeatInterval: durationAtLeast(MIN_SHIPPING_INTERVAL, DEFAULT_HEARTBEAT_INTERVAL),
  callTimeouts: z.strictObject({
    hello: durationAtLeast(1, DEFAULT_CALL_TIMEOUTS.helloMs),
    heartbeat: durationAtLeast(1, DEFAULT_CALL_TIMEOUTS.heartbeatMs),
    uploadIdle: durationAtLeast(1, DEFAULT_CALL_TIMEOUTS.uploadIdleMs),
  }).prefault({}),
});

/** The parsed section: durations in ms, sizes in bytes, bandwidth in bytes per second. */
export type ShippingConfig = z.output<typeof shippingConfigSchema>;

/** The environment as the agent's entry point read it (only TOKEN_ENV is used). */
export type ShippingEnv = Readonly<Record<string, string | undefined>>;

/** Problems across the section and the environment: a token must come from a file or the environment, never inline. */
export function shippingConfigProblems(raw: unknown, env: ShippingEnv): { path: string[]; message: string }[] {
  const section = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>) : {};
  const problems: { path: string[]; message: string }[] = [];
  if (section.token !== undefined) {
    problems.push({ path: ['token'], message: `expected the token in tokenFile or ${TOKEN_ENV}, never inline in the config, found one inline` });
  }
  if (section.tokenFile === undefined && (env[TOKEN_ENV] ?? '') === '') {
    problems.push({ path: ['tokenFile'], message: `expected a token file, or the token in ${TOKEN_ENV}, found neither` });
  }
  return problems;
}

/**
 * Validates a `shipping:` section on its own (the agent folds the schema and
 * shippingConfigProblems into its config instead). Throws DW_SHIP_CONFIG_INVALID listing every
 * problem as `shipping.path: expected …, found …`.
 */
export function parseShippingConfig(raw: unknown, env: ShippingEnv): ShippingConfig {
  const r = shippingConfigSchema.safeParse(raw);
  const problems = [
    ...(r.success ? [] : formatConfigIssues(r.error, 'shipping')),
    ...shippingConfigProblems(raw, env).map((p) => `shipping.${p.path.join('.')}: ${p.message}`),
  ];
  if (!r.success || problems.length > 0) {
    throw new ShipperError(ShipperErrorCode.ConfigInvalid,
      `expected a valid shipping config, found ${problems.length} problem(s):\n  ${problems.join('\n  ')}`, { problems });
  }
  return r.data;
}

/** What resolveShipping returns: options for createGrpcTransport, withRetry and Shipper.run. */
export interface ResolvedShipping {
  /** Add `clock` and `timers` (and channel options) as needed. */
  readonly transport: GrpcTransportOptions;
  readonly retry: RetryPolicy;
  readonly run: { readonly syncInterval: number; readonly heartbeatInterval: number };
  /** Where the token came from, for the log (never the token). */
  readonly tokenSource: 'env' | 'file';
  /** Things to log as warnings (a token file others can read). */
  readonly warnings: readonly string[];
  /** One line for the log: address, TLS, bandwidth. */
  readonly description: string;
}

async function readCredential(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    throw new ShipperError(ShipperErrorCode.CredentialUnreadable, `expected a readable ${what} at ${path}, found ${errorMessage(err)}`, { cause: err });
  }
}

/**
 * Reads the token (DRIFTWATCH_TOKEN, else `tokenFile`) and the CA file and returns the options.
 * Throws DW_SHIP_CREDENTIAL_UNREADABLE when a file cannot be read or the token is empty or
 * holds spaces or control characters, DW_SHIP_CONFIG_INVALID when there is no token at all.
 */
export async function resolveShipping(config: ShippingConfig, env: ShippingEnv): Promise<ResolvedShipping> {
  const warnings: string[] = [];
  let token: string;
  let tokenSource: 'env' | 'file';
  const fromEnv = env[TOKEN_ENV];
  if (fromEnv !== undefined && fromEnv !== '') {
    token = fromEnv.trim();
    tokenSource = 'env';
  } else if (config.tokenFile !== undefined) {
    token = (await readCredential(config.tokenFile, 'token file')).toString('utf8').trim();
    tokenSource = 'file';
    const mode = (await stat(config.tokenFile)).mode;
    if ((mode & 0o077) !== 0) warnings.push(`token file ${config.tokenFile} is readable by others (mode ${(mode & 0o777).toString(8)}); chmod 600 it`);
  } else {
    throw new ShipperError(ShipperErrorCode.ConfigInvalid, `expected shipping.tokenFile or the token in ${TOKEN_ENV}, found neither`,
      { problems: [`shipping.tokenFile: expected a token file, or the token in ${TOKEN_ENV}, found neither`] });
  }
  if (!/^[\x21-\x7e]+$/.test(token)) {
    const where = tokenSource === 'env' ? TOKEN_ENV : config.tokenFile!;
    throw new ShipperError(ShipperErrorCode.CredentialUnreadable,
      `expected a token of printable ASCII without spaces in ${where}, found ${token === '' ? 'nothing' : 'other characters'}`);
  }
  if (config.tls.insecure) warnings.push(`shipping.tls.insecure is set: the site token goes to ${config.aggregator} in clear text`);
  if (config.tls.keyFile !== undefined) {
    const mode = (await stat(config.tls.keyFile).catch(() => undefined))?.mode;
    if (mode !== undefined && (mode & 0o077) !== 0) warnings.push(`client key file ${config.tls.keyFile} is readable by others (mode ${(mode & 0o777).toString(8)}); chmod 600 it`);
  }
  const tls = config.tls.insecure ? 'insecure' as const : {
    ...(config.tls.caFile === undefined ? {} : { ca: await readCredential(config.tls.caFile, 'PEM CA file') }),
    ...(config.tls.serverName === undefined ? {} : { serverName: config.tls.serverName }),
    ...(config.tls.certFile === undefined ? {} : { cert: await readCredential(config.tls.certFile, 'PEM client certificate file') }),
    ...(config.tls.keyFile === undefined ? {} : { key: await readCredential(config.tls.keyFile, 'PEM client key file') }),
  };
  const transport: GrpcTransportOptions = {
    address: config.aggregator, tls, token, chunkBytes: config.chunkSize,
    ...(config.bandwidth === undefined ? {} : { bandwidthBytesPerSecond: config.bandwidth }),
    callTimeouts: { helloMs: config.callTimeouts.hello, heartbeatMs: config.callTimeouts.heartbeat, uploadIdleMs: config.callTimeouts.uploadIdle },
  };
  const description = `${config.aggregator} (${tls === 'insecure' ? 'insecure, no TLS' : `TLS${config.tls.caFile === undefined ? '' : `, CA ${config.tls.caFile}`}${config.tls.certFile === undefined ? '' : `, client certificate ${config.tls.certFile}`}`}`
    + `, bandwidth ${config.bandwidth === undefined ? 'unlimited' : formatBandwidth(config.bandwidth)})`;
  return {
    transport, retry: { baseMs: config.backoff.base, capMs: config.backoff.cap },
    run: { syncInterval: config.syncInterval, heartbeatInterval: config.heartbeatInterval },
    tokenSource, warnings, description,
  };
}
