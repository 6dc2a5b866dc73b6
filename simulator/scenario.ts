// The scenario file of `driftwatch simulate` (docs/simulator.md): the fleet, the policy
// revisions the aggregator learns, the rollouts GitOps starts, the links that go down and the
// failures at chosen sites, on a timeline measured from `start`. Loaded with the shared layered
// loader, so every problem is reported at once with its line and column.
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { byteSizeSchema, durationSchema } from '../common/config-schema.js';
import { parseLayeredConfig } from '../common/config-load.js';
import { errorMessage } from '../common/errors.js';
import { parseTimeParam } from '../common/rfc3339.js';
import { isValidSiteId } from '../common/site-id.js';
import { siteLabelProblems } from '../common/site-labels.js';
import { SimError, SimErrorCode } from './errors.js';

const MAX_SITES = 100_000;

const timeSchema = z.string().transform((v, ctx) => {
  const t = parseTimeParam(v);
  if (t === undefined) {
    ctx.addIssue({ code: 'custom', message: `expected an RFC 3339 time such as 2026-11-09T00:00:00Z, found ${JSON.stringify(v)}` });
    return z.NEVER;
  }
  return t;
});

const nameSchema = z.string().regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/, { error: (iss) => `expected a lowercase name of letters, digits and "-", found ${JSON.stringify(iss.input)}` });

/** `namespace/deployment`. */
const workloadRefSchema = z.string().regex(/^[a-z0-9-]+\/[a-z0-9-]+$/, { error: (iss) => `expected namespace/deployment such as shop/pos, found ${JSON.stringify(iss.input)}` });

const labelsSchema = z.record(z.string(), z.string()).default({});

const workloadSchema = z.strictObject({
  namespace: nameSchema,
  deployment: nameSchema,
  image: z.string().min(1),
  replicas: z.number().int().min(1).max(100).default(2),
});

const groupSchema = z.strictObject({
  /** Site ids are `<name>-0001`, `<name>-0002`, … */
  name: nameSchema,
  count: z.number().int().min(1).max(MAX_SITES),
  /** Labels every site of the group sends in its Hello. */
  labels: labelsSchema,
  /** Labels whose values rotate over the group's sites (site n gets values[(n-1) % length]). */
  spread: z.record(z.string(), z.array(z.string()).min(1)).default({}),
  cluster: z.strictObject({
    kubelet: z.string().default('v1.29.4+k3s1'),
    runtime: z.string().default('containerd://1.7.11-k3s2'),
    osImage: z.string().default('Ubuntu 22.04.4 LTS'),
    workloads: z.array(workloadSchema).default([]),
  }).prefault({}),
  host: z.strictObject({
    diskSize: byteSizeSchema.default(64e9),
    diskFree: byteSizeSchema.default(40e9),
    memory: byteSizeSchema.default(8 * 2 ** 30),
    memoryFree: byteSizeSchema.default(5 * 2 ** 30),
    os: z.string().default('Ubuntu 22.04.4 LTS'),
  }).prefault({}),
  /** The router beside the cluster (SNMP); `false`: none. */
  router: z.union([z.literal(false), z.strictObject({ firmware: z.string().default('17.09.04a'), model: z.string().default('ISR1100-4G') })]).prefault({}),
});

/** Which sites: named ones, or `count` sites picked with the seed (from `group` when given). */
const siteChoice = {
  sites: z.array(z.string()).optional(),
  count: z.number().int().min(1).optional(),
  group: nameSchema.optional(),
};

const failureSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('imagePullBlocked'), ...siteChoice, workload: workloadRefSchema, registryAddress: z.string().default('203.0.113.10:443') }),
  z.strictObject({ kind: z.literal('crashLoopRollback'), ...siteChoice, workload: workloadRefSchema, rollbackAfter: durationSchema.default(40 * 60_000) }),
  z.strictObject({ kind: z.literal('diskFull'), ...siteChoice, at: durationSchema, free: byteSizeSchema.default(5e8) }),
  z.strictObject({ kind: z.literal('routerFirmware'), ...siteChoice, firmware: z.string().min(1) }),
  z.strictObject({
    kind: z.literal('manualChange'), ...siteChoice, at: durationSchema, workload: workloadRefSchema,
    image: z.string().min(1).optional(), replicas: z.number().int().min(0).max(100).optional(),
  }),
]);

export const scenarioSchema = z.strictObject({
  apiVersion: z.literal('driftwatch.io/v1'),
  kind: z.literal('Scenario'),
  metadata: z.strictObject({ name: nameSchema, description: z.string().default('') }),
  /** The default seed (`--seed` overrides it). */
  seed: z.number().int().min(0).max(2 ** 31 - 1).default(1),
  start: timeSchema,
  duration: durationSchema.refine((ms) => ms > 0, { error: 'expected a positive duration' }),
  agent: z.strictObject({
    interval: durationSchema.default(15 * 60_000),
    blockDuration: durationSchema.default(60 * 60_000),
    heartbeatInterval: durationSchema.default(15 * 60_000),
    syncInterval: durationSchema.default(60 * 60_000),
    diskBudget: byteSizeSchema.default(64 * 2 ** 20),
  }).prefault({}),
  fleet: z.array(groupSchema).min(1),
  policies: z.array(z.strictObject({ at: durationSchema.default(0), files: z.record(z.string().regex(/^[A-Za-z0-9._-]+\.ya?ml$/), z.string()) })).default([]),
  rollouts: z.array(z.strictObject({
    at: durationSchema,
    workload: workloadRefSchema,
    image: z.string().min(1),
    /** Only sites with these labels; default every site running the workload. */
    matchLabels: z.record(z.string(), z.string()).default({}),
    /** Each site starts at a seeded offset within this window after `at`. */
    spread: durationSchema.default(0),
    /** How long a healthy rollout takes at a site. */
    takes: durationSchema.default(5 * 60_000),
  })).default([]),
  outages: z.array(z.strictObject({ ...siteChoice, at: durationSchema, for: durationSchema.optional() })).default([]),
  failures: z.array(failureSchema).default([]),
});

export type Scenario = z.infer<typeof scenarioSchema>;
export type FleetGroup = Scenario['fleet'][number];
export type Failure = Scenario['failures'][number];
export type Outage = Scenario['outages'][number];
export type Rollout = Scenario['rollouts'][number];

/** The sites of a group, in order. */
export function groupSiteIds(g: { readonly name: string; readonly count: number }): string[] {
  const width = Math.max(4, String(g.count).length);
  return Array.from({ length: g.count }, (_, i) => `${g.name}-${String(i + 1).padStart(width, '0')}`);
}

function crossFieldProblems(raw: unknown): { path: (string | number)[]; message: string }[] {
  const out: { path: (string | number)[]; message: string }[] = [];
  const r = raw as Partial<Record<string, unknown>>;
  const fleet = Array.isArray(r.fleet) ? (r.fleet as Record<string, unknown>[]) : [];
  const sites = new Set<string>();
  const groups = new Set<string>();
  const workloads = new Set<string>();
  let total = 0;
  fleet.forEach((g, i) => {
    if (typeof g?.name !== 'string' || typeof g.count !== 'number') return;
    if (groups.has(g.name)) out.push({ path: ['fleet', i, 'name'], message: `expected a group name used once, found ${JSON.stringify(g.name)} again` });
    groups.add(g.name);
    total += g.count;
    for (const id of groupSiteIds({ name: g.name, count: Math.min(g.count, MAX_SITES) })) sites.add(id);
    if (!isValidSiteId(`${g.name}-0001`)) out.push({ path: ['fleet', i, 'name'], message: `expected a name that makes valid site ids, found ${JSON.stringify(g.name)}` });
    const labels = { ...(g.labels as Record<string, string> | undefined) };
    for (const [k, values] of Object.entries((g.spread as Record<string, string[]> | undefined) ?? {})) if (Array.isArray(values)) labels[k] = String(values[0]);
    for (const p of siteLabelProblems(labels)) out.push({ path: ['fleet', i, 'labels'], message: p });
    const cluster = g.cluster as { workloads?: { namespace?: string; deployment?: string }[] } | undefined;
    for (const w of cluster?.workloads ?? []) workloads.add(`${w?.namespace}/${w?.deployment}`);
  });
  if (total > MAX_SITES) out.push({ path: ['fleet'], message: `expected at most ${MAX_SITES} sites in all, found ${total}` });
  const checkChoice = (path: (string | number)[], c: Record<string, unknown>): void => {
    const named = Array.isArray(c.sites);
    if (named === (c.count !== undefined)) {
      out.push({ path, message: `expected exactly one of sites (a list of site ids) or count (sites picked with the seed), found ${named ? 'both' : 'neither'}` });
    }
    if (named) (c.sites as unknown[]).forEach((s, j) => {
      if (!sites.has(String(s))) out.push({ path: [...path, 'sites', j], message: `expected a site of the fleet (such as ${[...sites][0] ?? 'none'}), found ${JSON.stringify(s)}` });
    });
    if (c.group !== undefined && !groups.has(String(c.group))) out.push({ path: [...path, 'group'], message: `expected a fleet group (${[...groups].join(', ')}), found ${JSON.stringify(c.group)}` });
  };
  for (const key of ['outages', 'failures'] as const) {
    const list = Array.isArray(r[key]) ? (r[key] as Record<string, unknown>[]) : [];
    list.forEach((c, i) => {
      if (typeof c !== 'object' || c === null) return;
      checkChoice([key, i], c);
      if (typeof c.workload === 'string' && !workloads.has(c.workload)) {
        out.push({ path: [key, i, 'workload'], message: `expected a workload of the fleet's clusters (${[...workloads].join(', ') || 'none'}), found ${JSON.stringify(c.workload)}` });
      }
      if (c.kind === 'manualChange' && c.image === undefined && c.replicas === undefined) out.push({ path: [key, i], message: 'expected image or replicas (what was changed by hand), found neither' });
    });
  }
  const rollouts = Array.isArray(r.rollouts) ? (r.rollouts as Record<string, unknown>[]) : [];
  rollouts.forEach((ro, i) => {
    if (typeof ro?.workload === 'string' && !workloads.has(ro.workload)) {
      out.push({ path: ['rollouts', i, 'workload'], message: `expected a workload of the fleet's clusters (${[...workloads].join(', ') || 'none'}), found ${JSON.stringify(ro.workload)}` });
    }
  });
  return out;
}

const spec = {
  schema: scenarioSchema,
  overrides: [],
  crossFieldProblems,
  invalid: (message: string, problems: readonly string[]) => new SimError(SimErrorCode.ScenarioInvalid, message, { problems }),
  unreadable: (message: string, cause: unknown) => new SimError(SimErrorCode.ScenarioUnreadable, message, { cause }),
};

/** Parses a scenario's text. Throws DW_SIM_SCENARIO_INVALID listing every problem. */
export function parseScenario(text: string, file = '(scenario)'): Scenario {
  return parseLayeredConfig(text, { file }, spec);
}

/** Reads and parses a scenario file. Throws DW_SIM_SCENARIO_UNREADABLE or DW_SIM_SCENARIO_INVALID. */
export async function loadScenario(file: string): Promise<Scenario> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new SimError(SimErrorCode.ScenarioUnreadable, `expected a readable scenario file, could not read ${file}: ${errorMessage(err)}`, { cause: err });
  }
  return parseScenario(text, file);
}

/** Every site id of the fleet, group by group. */
export function fleetSiteIds(s: Scenario): string[] {
  return s.fleet.flatMap((g) => groupSiteIds(g));
}
