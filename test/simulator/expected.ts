// What a scenario's upgrade answer must be, read from the scenario file alone by rules a person
// would apply — not by the simulator's or the aggregator's code: for the latest rollout, a site
// whose link went down before it and never came back is dark; a blocked registry is an image
// pull error; a crash loop that is rolled back is rolled_back; a disk full before the rollout
// is resource exhaustion. Every other site that runs the workload converges.
import { groupSiteIds, type Scenario } from '../../simulator/scenario.js';

export interface ExpectedAnswer {
  /** Sites that run the rolled-out workload. */
  readonly sites: readonly string[];
  /** Site → the reason it did not update. */
  readonly broken: ReadonlyMap<string, string>;
  /** Sites whose outage covered the rollout and ended before the end: unknown at the deadline, converged later. */
  readonly late: readonly string[];
  /** Sites dark at the end (an outage that never ends). */
  readonly dark: readonly string[];
}

/** Only for scenarios whose failures and outages name their sites (count-picked ones must not break the rollout). */
export function expectedAnswer(s: Scenario): ExpectedAnswer {
  const rollout = s.rollouts[s.rollouts.length - 1]!;
  const from = rollout.at;
  const to = rollout.at + rollout.spread + rollout.takes;
  const sites = s.fleet.filter((g) => g.cluster.workloads.some((w) => `${w.namespace}/${w.deployment}` === rollout.workload)).flatMap((g) => groupSiteIds(g));
  const broken = new Map<string, string>();
  const late: string[] = [];
  const dark: string[] = [];
  for (const o of s.outages) {
    for (const site of o.sites ?? []) {
      if (o.for === undefined) dark.push(site);
      if (o.at <= from && o.for === undefined) broken.set(site, 'no_data_dark');
      else if (o.at <= from && o.for !== undefined && o.at + o.for > to && o.at + o.for < s.duration) late.push(site);
    }
  }
  for (const f of s.failures) {
    for (const site of f.sites ?? []) {
      if (f.kind === 'imagePullBlocked' && f.workload === rollout.workload) broken.set(site, 'image_pull_error');
      if (f.kind === 'crashLoopRollback' && f.workload === rollout.workload) broken.set(site, 'rolled_back');
      if (f.kind === 'diskFull' && f.at <= from) broken.set(site, 'resource_exhaustion');
    }
  }
  return { sites, broken, late: late.sort(), dark: dark.sort() };
}
