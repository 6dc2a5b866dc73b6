// A scenario turned into one plan per site, for a seed: its labels, its starting state, what
// happens to it and when (rollouts with their seeded start, failures), and when its link is
// down. Everything random is drawn here, in a fixed order, so a seed gives the same fleet.
import { seededRandom, type Random } from '../common/random.js';
import { groupSiteIds, type Failure, type FleetGroup, type Scenario } from './scenario.js';

/** A rollout of one workload as it reaches one site. */
export interface SiteRollout {
  /** Scenario time (ms since the epoch) GitOps starts applying it at this site. */
  readonly startAt: number;
  readonly workload: string;
  readonly image: string;
  readonly takes: number;
}

/** What a scenario does to one site. */
export interface SitePlan {
  readonly id: string;
  readonly group: FleetGroup;
  /** 1-based position in its group. */
  readonly n: number;
  readonly labels: Readonly<Record<string, string>>;
  /** A seed of the site's own (block ids, retry jitter, pod names). */
  readonly seed: number;
  readonly rollouts: readonly SiteRollout[];
  /** The failures set up at this site (absolute times). */
  readonly failures: readonly Failure[];
  /** Link down over [from, to) (to: Infinity for "until the end"). */
  readonly outages: readonly { readonly from: number; readonly to: number }[];
}

/** The plans of every site, and the failures and outages by site. */
export interface FleetPlan {
  readonly sites: readonly SitePlan[];
  readonly start: number;
  readonly end: number;
  readonly seed: number;
}

function pick(random: Random, from: readonly string[], count: number, taken: ReadonlySet<string>): string[] {
  const pool = from.filter((s) => !taken.has(s));
  const out: string[] = [];
  for (let i = 0; i < count && pool.length > 0; i++) {
    const j = Math.floor(random() * pool.length);
    out.push(pool[j]!);
    pool[j] = pool[pool.length - 1]!;
    pool.pop();
  }
  return out.sort();
}

/**
 * Plans the fleet for `seed`. Sites named in the scenario are never picked for a `count`
 * choice, so that a site the file names keeps exactly the story the file gives it.
 */
export function planFleet(scenario: Scenario, seed: number): FleetPlan {
  const random = seededRandom(seed);
  const start = scenario.start;
  const groups = scenario.fleet.map((g) => ({ g, ids: groupSiteIds(g) }));
  const all = groups.flatMap((x) => x.ids);
  const named = new Set<string>();
  for (const c of [...scenario.outages, ...scenario.failures]) for (const s of c.sites ?? []) named.add(s);
  const choose = (c: { sites?: string[] | undefined; count?: number | undefined; group?: string | undefined }): string[] => {
    if (c.sites !== undefined) return c.sites;
    const from = c.group === undefined ? all : groups.find((x) => x.g.name === c.group)!.ids;
    const chosen = pick(random, from, c.count ?? 0, named);
    for (const s of chosen) named.add(s);
    return chosen;
  };
  const failures = new Map<string, Failure[]>();
  for (const f of scenario.failures) {
    const abs: Failure = 'at' in f ? { ...f, at: start + f.at } : f;
    for (const s of choose(f)) failures.set(s, [...(failures.get(s) ?? []), abs]);
  }
  const outages = new Map<string, { from: number; to: number }[]>();
  for (const o of scenario.outages) {
    const w = { from: start + o.at, to: o.for === undefined ? Infinity : start + o.at + o.for };
    for (const s of choose(o)) outages.set(s, [...(outages.get(s) ?? []), w]);
  }
  const sites: SitePlan[] = [];
  let index = 0;
  for (const { g, ids } of groups) {
    ids.forEach((id, i) => {
      const labels: Record<string, string> = { ...g.labels };
      for (const [k, values] of Object.entries(g.spread)) labels[k] = values[i % values.length]!;
      const workloads = new Set(g.cluster.workloads.map((w) => `${w.namespace}/${w.deployment}`));
      const rollouts: SiteRollout[] = [];
      for (const r of scenario.rollouts) {
        // Drawn for every site and rollout, so one site's labels do not shift another's offsets.
        const offset = Math.floor(random() * r.spread);
        if (!workloads.has(r.workload)) continue;
        if (Object.entries(r.matchLabels).some(([k, v]) => labels[k] !== v)) continue;
        rollouts.push({ startAt: start + r.at + offset, workload: r.workload, image: r.image, takes: r.takes });
      }
      rollouts.sort((a, b) => a.startAt - b.startAt);
      sites.push({
        id, group: g, n: i + 1, labels, seed: (seed * 1_000_003 + ++index) % 2_147_483_647, rollouts,
        failures: failures.get(id) ?? [], outages: (outages.get(id) ?? []).sort((a, b) => a.from - b.from),
      });
    });
  }
  return { sites, start, end: start + scenario.duration, seed };
}
