// Shared pieces of the fleet report tests: an edge site that seals real encoded blocks (seal
// indexes, compaction with `replaces`), policy histories from YAML, and an index built from
// blocks in a given arrival order.
import type { AggregatorLogger } from '../../../aggregator/logger.js';
import { seededRandom } from '../../../common/random.js';
import { newUlid, parseUlid, ulidToString } from '../../../common/ulid.js';
import {
  BlockBuilder, decodeBlock, decodeBlockHeader, encodeBlock, mergeBlockData, unionSealRanges,
  type BlockEvent, type BlockHeader, type Labels, type Sample,
} from '../../../proto/index.js';
import { loadPolicySet, PolicyHistory, policySetHash, type PolicyRevision } from '../../../aggregator/policy/index.js';
import {
  ContactIndex, FleetIndex, staticSiteLabels, type FleetInputs, type SiteLabelSource,
} from '../../../aggregator/fleet/index.js';
import type { ContactHistoryRecord } from '../../../aggregator/storage/index.js';

export const SEC = 1000;
export const MIN = 60 * SEC;
export const HOUR = 60 * MIN;
export const DAY = 24 * HOUR;
/** The policy change of the scenarios: Monday 2025-11-17 10:00 UTC. */
export const T0 = Date.UTC(2025, 10, 17, 10);
export const STEP = 15 * SEC;

/** A sealed (or compacted) block, encoded. */
export interface EdgeBlock {
  readonly site: string;
  readonly id: string;
  readonly bytes: Uint8Array;
  readonly header: BlockHeader;
}

/** A block with the time it reached the center. */
export interface Arrival {
  readonly block: EdgeBlock;
  readonly at: number;
}

function keyOf(name: string, labels: Labels): string {
  return `${name}${JSON.stringify(Object.entries(labels).sort())}`;
}

/**
 * An edge site: a current state (series and values) sampled every 15 s into rounds, sealed into
 * blocks numbered 1, 2, 3… (seal indexes), events, and compaction.
 */
export class EdgeSite {
  readonly #state = new Map<string, Sample>();
  readonly #events: BlockEvent[] = [];
  readonly #random;
  readonly storeId: Uint8Array;
  #sealIndex = 0;
  #sequence = 0;

  constructor(readonly site: string, seed = 1) {
    this.#random = seededRandom(seed);
    this.storeId = newUlid({ now: () => T0 - 30 * DAY }, this.#random);
  }

  /** Sets a series' value from the next round on. */
  set(name: string, labels: Labels, value: string | number): this {
    this.#state.set(keyOf(name, labels), { name, labels, type: typeof value === 'number' ? 'float' : 'string', value });
    return this;
  }

  /** Removes a series from the next round on (absent, not unchanged). */
  remove(name: string, labels: Labels): this {
    this.#state.delete(keyOf(name, labels));
    return this;
  }

  /** Records an event for the next sealed block. */
  event(t: number, kind: string, reason: string, message = '', labels: Labels = {}, extra: Partial<BlockEvent> = {}): this {
    this.#events.push({ t, kind, reason, message, labels, rangeMinT: 0, rangeMaxT: 0, count: 1, ...extra });
    return this;
  }

  /** A Kubernetes warning event about a pod of `workload` in `namespace`. */
  warning(t: number, reason: string, message: string, namespace = 'shop', workload = 'pos', count = 1): this {
    return this.event(t, 'kubernetes', reason, message, { namespace, object_kind: 'Pod', object_name: `${workload}-7d9f8-x2x4k` }, { count });
  }

  /**
   * Seals the rounds from `from` (inclusive) to `to` (exclusive), every 15 s, with the state as
   * `change` sets it before each round (called with the round time), and the events recorded.
   */
  seal(from: number, to: number, change?: (t: number, site: this) => void): EdgeBlock {
    const b = new BlockBuilder();
    for (let t = from; t < to; t += STEP) {
      change?.(t, this);
      b.append({ t, samples: [...this.#state.values()] });
    }
    for (const e of this.#events.splice(0)) b.appendEvent(e);
    this.#sealIndex++;
    return this.#encode(b.build(), to, { level: 0, replaces: [], sealRanges: [this.#sealIndex, this.#sealIndex] });
  }

  /** Skips a seal index: a block sealed that the center will never get (dropped or lost). */
  skipSeal(): number {
    return ++this.#sealIndex;
  }

  /** A compaction of `blocks` (in time order): their data merged, replacing them. */
  compact(blocks: readonly EdgeBlock[]): EdgeBlock {
    const decoded = blocks.map((x) => decodeBlock(x.bytes));
    const data = mergeBlockData(decoded.map((d) => d.data));
    const replaces = [...new Set(blocks.flatMap((x) => [x.id, ...x.header.replaces.map((r) => ulidToString(r))]))];
    return this.#encode(data, Math.max(...decoded.map((d) => d.header.maxT)) + 1, {
      level: 1 + Math.max(...decoded.map((d) => d.header.level)),
      replaces,
      sealRanges: unionSealRanges(...decoded.map((d) => d.header.sealRanges)),
    });
  }

  #encode(data: ReturnType<BlockBuilder['build']>, createdAt: number, extra: { level: number; replaces: readonly string[]; sealRanges: readonly number[] }): EdgeBlock {
    const blockId = newUlid({ now: () => createdAt }, this.#random);
    const bytes = encodeBlock(data, {
      siteId: this.site, blockId, sequence: ++this.#sequence, level: extra.level, createdAt,
      replaces: extra.replaces.map((r) => parseUlid(r)!), sealRanges: extra.sealRanges, storeId: this.storeId,
    }, { compression: 'none' });
    return { site: this.site, id: ulidToString(blockId), bytes, header: decodeBlockHeader(bytes) };
  }
}

/** An index of `arrivals` (given in any order: indexed by arrival time, then site and id), caught up through `through`. */
export function indexOf(arrivals: readonly Arrival[], through: number): FleetIndex {
  const index = new FleetIndex();
  const sorted = [...arrivals].sort((a, b) => a.at - b.at || (a.block.site < b.block.site ? -1 : a.block.site > b.block.site ? 1 : a.block.id < b.block.id ? -1 : 1));
  for (const a of sorted) {
    if (a.at > through) break;
    index.addBlockBytes({ site: a.block.site, id: a.block.id, arrivedAt: a.at }, a.block.bytes);
  }
  index.markIndexedThrough(through);
  return index;
}

/** A policy set from YAML documents, as a revision effective at `at` (learned at `loadedAt`). */
export function addRevision(history: PolicyHistory, at: number, files: Record<string, string>, loadedAt = at): PolicyRevision {
  const set = loadPolicySet(Object.entries(files).map(([path, text]) => ({ path, text })));
  return history.add({ id: policySetHash(set.files), source: { kind: 'directory', path: '/etc/driftwatch/policies' }, effectiveAt: at, loadedAt, files: set.files, policies: set.policies });
}

/** The point-of-sale policy of the scenarios. */
export function posPolicy(range: string, opts: { deadline?: string; staleAfter?: string; name?: string } = {}): string {
  return [
    'apiVersion: driftwatch.io/v1',
    'kind: Policy',
    'metadata:',
    `  name: ${opts.name ?? 'shop-pos'}`,
    'spec:',
    '  selector: { matchLabels: { tier: shop } }',
    `  staleAfter: ${opts.staleAfter ?? '2h'}`,
    `  upgradeDeadline: ${opts.deadline ?? '6h'}`,
    '  expectations:',
    '    - series: kube_deployment_container_image{namespace="shop", deployment="pos", container="pos"}',
    '      image: registry.example.com/shop/pos',
    `      semver: "${range}"`,
    '',
  ].join('\n');
}

/** A heartbeat history record. */
export function heartbeat(site: string, at: number, backlogBlocks = 0, lastRoundTime = at): ContactHistoryRecord {
  return {
    site, kind: 'heartbeat', at, agentTime: at, backlogBlocks, backlogBytes: backlogBlocks * 20_000, oldestUnshippedTime: undefined, lastRoundTime,
    lastErrorCode: '', lastErrorMessage: '', agentStartTime: T0 - 30 * DAY, clockOffsetMs: 0,
  };
}

/** Report inputs over an index. */
export function inputsOf(index: FleetIndex, policies: PolicyHistory, contacts: ContactIndex = new ContactIndex(), labels?: SiteLabelSource): FleetInputs {
  return { index, policies, contacts, labels: labels ?? staticSiteLabels({}) };
}

/** Labels `tier: shop` (plus extra) for each site. */
export function shopLabels(sites: readonly string[], extra: Record<string, Labels> = {}): SiteLabelSource {
  return staticSiteLabels(Object.fromEntries(sites.map((s) => [s, { tier: 'shop', region: 'eu-west', ...extra[s] }])));
}

/** The pos deployment's series at a site: image, desired / updated / unavailable replicas. */
export function posDeployment(site: EdgeSite, image: string, updated = 2, unavailable = 0): EdgeSite {
  const l = { namespace: 'shop', deployment: 'pos' };
  return site
    .set('kube_deployment_container_image', { ...l, container: 'pos' }, `registry.example.com/shop/pos:${image}`)
    .set('kube_deployment_spec_replicas', l, 2)
    .set('kube_deployment_status_replicas_updated', l, updated)
    .set('kube_deployment_status_replicas_unavailable', l, unavailable);
}

/** Node series every site has: Ready, DiskPressure, root file system. */
export function nodeBasics(site: EdgeSite, availBytes = 40e9): EdgeSite {
  return site
    .set('kube_node_status_condition', { node: 'n1', condition: 'Ready' }, 'True')
    .set('kube_node_status_condition', { node: 'n1', condition: 'DiskPressure' }, 'False')
    .set('node_filesystem_avail_bytes', { mountpoint: '/' }, availBytes)
    .set('node_filesystem_size_bytes', { mountpoint: '/' }, 64e9);
}

/** A logged line. */
export interface Logged {
  readonly level: string;
  readonly message: string;
  readonly fields: Record<string, unknown>;
}

/** An aggregator logger that keeps every line, for tests that check what was logged. */
export function recordingLogger(): AggregatorLogger & { lines: Logged[] } {
  const lines: Logged[] = [];
  const at = (level: string) => (fields: Record<string, unknown>, message: string): void => {
    lines.push({ level, message, fields });
  };
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
