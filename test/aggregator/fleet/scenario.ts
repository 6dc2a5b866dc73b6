// The upgrade scenario: a policy revision at T0 moves the point-of-sale image from 2.4.x to 2.5.x
// (deadline 6 h, stale after 2 h) across ten sites, each with its own story:
//
//   shop-ok-1     converges at T0+12m (image at +10m, rollout done at +12m)
//   shop-ok-2     converges at T0+25m
//   shop-dark     last data and last contact at T0-30m: the network
//   shop-backlog  data stops reaching the center at T0-1h; heartbeats go on with a growing backlog
//   shop-pull     asks for 2.5.0 at T0+5m; ImagePullBackOff
//   shop-crash    2.5.0 at T0+5m crash-loops; rolled back to 2.4.1 at T0+40m
//   shop-disk     DiskPressure since T0-1h; 2.5.0 cannot be pulled: no space left on device
//   shop-slow     starts the rollout at T0+2h50m, done at T0+3h30m
//   shop-late     converges at T0+15m, but its blocks after T0 reach the center only at T0+3d
//   lab-1         tier lab: no policy selects it
import type { PolicyHistory } from '../../../aggregator/policy/index.js';
import { PolicyHistory as History } from '../../../aggregator/policy/index.js';
import type { ContactHistoryRecord } from '../../../aggregator/storage/index.js';
import type { SiteLabelSource } from '../../../aggregator/fleet/index.js';
import {
  addRevision, DAY, EdgeSite, heartbeat, HOUR, MIN, nodeBasics, posDeployment, posPolicy, shopLabels, T0, type Arrival, type EdgeBlock,
} from './helpers.js';

export const SITES = ['shop-ok-1', 'shop-ok-2', 'shop-dark', 'shop-backlog', 'shop-pull', 'shop-crash', 'shop-disk', 'shop-slow', 'shop-late', 'lab-1'] as const;
/** Data runs from T0-2h to T0+8h in one-hour blocks. */
export const DATA_FROM = T0 - 2 * HOUR;
export const DATA_TO = T0 + 8 * HOUR;
/** When shop-late's blocks after T0 arrive. */
export const LATE_ARRIVAL = T0 + 3 * DAY;

export interface Scenario {
  readonly arrivals: Arrival[];
  readonly contacts: ContactHistoryRecord[];
  readonly history: PolicyHistory;
  readonly labels: SiteLabelSource;
  readonly blocks: Map<string, EdgeBlock[]>;
}

const WAITING = (reason: string) => ({ namespace: 'shop', workload_kind: 'Deployment', workload: 'pos', reason });
const POS = { namespace: 'shop', workload_kind: 'Deployment', workload: 'pos' };

type Story = (t: number, s: EdgeSite) => void;

const stories: Record<string, Story> = {
  'shop-ok-1': (t, s) => {
    if (t === T0 + 10 * MIN) posDeployment(s, '2.5.0', 1, 1);
    if (t === T0 + 12 * MIN) posDeployment(s, '2.5.0', 2, 0);
  },
  'shop-ok-2': (t, s) => {
    if (t === T0 + 25 * MIN) posDeployment(s, '2.5.1');
  },
  'shop-pull': (t, s) => {
    if (t === T0 + 5 * MIN) posDeployment(s, '2.5.0', 1, 1);
    if (t === T0 + 6 * MIN) {
      s.set('kube_workload_containers_waiting', WAITING('ImagePullBackOff'), 1);
      s.warning(t, 'Failed', 'Failed to pull image "registry.example.com/shop/pos:2.5.0": manifest unknown');
      s.warning(t + 20_000, 'Failed', 'Error: ImagePullBackOff', 'shop', 'pos', 3);
    }
  },
  'shop-crash': (t, s) => {
    if (t === T0 + 5 * MIN) posDeployment(s, '2.5.0', 1, 1);
    if (t > T0 + 5 * MIN && t < T0 + 40 * MIN) s.set('kube_workload_container_restarts_total', POS, Math.floor((t - T0 - 5 * MIN) / (5 * MIN)));
    if (t === T0 + 7 * MIN) {
      s.set('kube_workload_containers_waiting', WAITING('CrashLoopBackOff'), 1);
      s.warning(t, 'BackOff', 'Back-off restarting failed container pos in pod pos-7d9f8-x2x4k', 'shop', 'pos', 5);
    }
    if (t === T0 + 40 * MIN) {
      posDeployment(s, '2.4.1', 2, 0);
      s.remove('kube_workload_containers_waiting', WAITING('CrashLoopBackOff')).set('kube_workload_container_restarts_total', POS, 0);
    }
  },
  'shop-disk': (t, s) => {
    if (t === T0 - HOUR) {
      s.set('kube_node_status_condition', { node: 'n1', condition: 'DiskPressure' }, 'True').set('node_filesystem_avail_bytes', { mountpoint: '/' }, 1.5e9);
      s.warning(t + 60_000, 'Evicted', 'The node was low on resource: ephemeral-storage.', 'shop', 'reports');
    }
    if (t === T0 + 5 * MIN) posDeployment(s, '2.5.0', 1, 1);
    if (t === T0 + 6 * MIN) {
      s.set('kube_workload_containers_waiting', WAITING('ErrImagePull'), 1);
      s.warning(t, 'Failed', 'Failed to pull image "registry.example.com/shop/pos:2.5.0": failed to register layer: write /var/lib/rancher: no space left on device');
    }
  },
  'shop-slow': (t, s) => {
    if (t === T0 + 170 * MIN) posDeployment(s, '2.5.0', 1, 1);
    if (t === T0 + 210 * MIN) posDeployment(s, '2.5.0', 2, 0);
  },
  'shop-late': (t, s) => {
    if (t === T0 + 15 * MIN) posDeployment(s, '2.5.0');
  },
};

/** Builds the scenario's blocks, their arrivals, the contacts, the policy history and the labels. */
export function scenario(): Scenario {
  const history = new History();
  addRevision(history, T0 - 7 * DAY, { 'pos.yaml': posPolicy('>=2.4.0 <2.5.0') });
  addRevision(history, T0, { 'pos.yaml': posPolicy('>=2.5.0 <2.6.0') });
  const arrivals: Arrival[] = [];
  const contacts: ContactHistoryRecord[] = [];
  const blocks = new Map<string, EdgeBlock[]>();
  SITES.forEach((name, n) => {
    const site = nodeBasics(posDeployment(new EdgeSite(name, 100 + n), '2.4.1'));
    const story = stories[name] ?? (() => {});
    const list: EdgeBlock[] = [];
    for (let from = DATA_FROM; from < DATA_TO; from += HOUR) {
      let to = from + HOUR;
      if (name === 'shop-dark' && from >= T0 - 30 * MIN) break;
      if (name === 'shop-dark' && to > T0 - 30 * MIN) to = T0 - 30 * MIN;
      const block = site.seal(from, to, story);
      list.push(block);
      if (name === 'shop-backlog' && from >= T0 - HOUR) continue; // sealed, never shipped (yet)
      const at = name === 'shop-late' && from >= T0 ? LATE_ARRIVAL : to + MIN;
      arrivals.push({ block, at });
    }
    blocks.set(name, list);
    // Contacts: a heartbeat every 5 minutes while the site is online.
    for (let t = DATA_FROM; t < DATA_TO; t += 5 * MIN) {
      if (name === 'shop-dark' && t > T0 - 30 * MIN) break;
      if (name === 'shop-late' && t >= T0 && t < LATE_ARRIVAL) continue;
      const backlog = name === 'shop-backlog' && t >= T0 - HOUR ? Math.floor((t - T0 + HOUR) / HOUR) + 1 : 0;
      contacts.push(heartbeat(name, t, backlog, t));
    }
  });
  contacts.push(heartbeat('shop-late', LATE_ARRIVAL));
  const labels = shopLabels(SITES.filter((s) => s.startsWith('shop-')), { 'shop-ok-2': { region: 'eu-north' }, 'shop-pull': { region: 'eu-north' } });
  const withLab: SiteLabelSource = { siteLabels: (site, knownAt) => (site === 'lab-1' ? { tier: 'lab', region: 'eu-west' } : labels.siteLabels(site, knownAt)) };
  return { arrivals, contacts, history, labels: withLab, blocks };
}
