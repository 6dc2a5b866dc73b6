// Writes the golden blocks of the current format version under test/fixtures/blocks/v<N>/,
// once. It refuses to overwrite: golden blocks are never regenerated, so that every later
// decoder is checked against the bytes an earlier encoder really wrote.
//   node dist/test/golden/make-golden.js
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ManualClock } from '../../common/clock.js';
import { seededRandom } from '../../common/random.js';
import { newUlid } from '../../common/ulid.js';
import { BlockBuilder, decodeBlock, encodeBlock, ENCODER_VERSION, mergeBlockData, type BlockData } from '../../proto/index.js';
import { fixturePath } from '../helpers/paths.js';
import { goldenJson } from './golden-json.js';

const dir = fixturePath('blocks', `v${ENCODER_VERSION}`);
mkdirSync(dir, { recursive: true });
const clock = new ManualClock(Date.UTC(2026, 10, 21, 4, 0, 0));
const random = seededRandom(2026);
const site = 'store-0042';

function rounds(start: number, n: number, rolloutAt: number): BlockData {
  const b = new BlockBuilder();
  for (let i = 0; i < n; i++) {
    const t = start + i * 15000;
    b.append({
      t,
      samples: [
        { name: 'kube_deployment_container_image', labels: { namespace: 'pos', deployment: 'checkout', container: 'app' }, type: 'string', value: i < rolloutAt ? 'registry.local/checkout:2.3.1' : 'registry.local/checkout:2.4.0' },
        { name: 'kube_node_info', labels: { node: 'edge-1', field: 'kubelet_version' }, type: 'string', value: 'v1.29.3+k3s1' },
        { name: 'kube_deployment_status_replicas_ready', labels: { namespace: 'pos', deployment: 'checkout' }, type: 'float', value: i === rolloutAt ? 1 : 2 },
        { name: 'node_filesystem_avail_bytes', labels: { device: '/dev/mmcblk0p2', mountpoint: '/' }, type: 'float', value: 12_884_901_888 - 4096 * Math.floor(i / 3) },
        { name: 'node_hwmon_temp_celsius', labels: { chip: 'cpu_thermal', sensor: 'temp1' }, type: 'float', value: Math.round(480 + 10 * Math.sin(i / 3)) / 10 },
        { name: 'node_load1', labels: {}, type: 'float', value: [0.25, NaN, -0, Infinity, 1 / 3][i % 5]! },
        ...(i % 4 === 0 ? [] : [{ name: 'kube_pod_container_status_waiting_reason', labels: { namespace: 'pos', deployment: 'checkout', reason: 'ImagePullBackOff' }, type: 'string' as const, value: 'ImagePullBackOff' }]),
      ],
      events: i === 2 ? [{ t: t - 1234, kind: 'kubernetes', reason: 'BackOff', message: 'Back-off pulling image "registry.local/checkout:2.4.0"', labels: { namespace: 'pos', object: 'pod/checkout-7d9f-x2' }, rangeMinT: 0, rangeMaxT: 0, count: 3 }] : [],
    });
  }
  return b.build();
}

function write(name: string, bytes: Uint8Array): void {
  const path = join(dir, `${name}.dwb`);
  if (existsSync(path)) {
    console.log(`${path} exists: kept (golden blocks are never regenerated)`);
    return;
  }
  writeFileSync(path, bytes);
  writeFileSync(join(dir, `${name}.json`), JSON.stringify(goldenJson(decodeBlock(bytes)), null, 1) + '\n');
  console.log(`wrote ${path}`);
}

const start = clock.now();
const a = rounds(start, 20, 12);
const idA = newUlid(clock, random);
write('mixed-brotli', encodeBlock(a, { siteId: site, blockId: idA, sequence: 7, createdAt: clock.advance(300_000) }));
write('mixed-uncompressed', encodeBlock(a, { siteId: site, blockId: newUlid(clock, random), sequence: 8, createdAt: clock.now() }, { compression: 'none' }));
const b = rounds(start + 20 * 15000, 20, 0);
const idB = newUlid(clock, random);
write('compacted-level1', encodeBlock(mergeBlockData([a, b]), { siteId: site, blockId: newUlid(clock, random), sequence: 9, createdAt: clock.advance(60_000), level: 1, replaces: [idA, idB] }));
const dropped = new BlockBuilder();
dropped.appendEvent({ t: clock.now(), kind: 'data_dropped', reason: 'disk_budget', message: 'dropped 5760 unshipped rounds to stay within the 64 MiB disk budget', labels: {}, rangeMinT: start - 86_400_000, rangeMaxT: start - 15_000, count: 5760 });
write('events-only', encodeBlock(dropped.build(), { siteId: site, blockId: newUlid(clock, random), sequence: 10, createdAt: clock.now() }));
