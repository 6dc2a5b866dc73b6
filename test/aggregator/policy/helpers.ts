// Shared pieces of the policy tests: temporary directories, policy YAML builders, a logger that
// records, and the example policy set.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PolicyFile } from '../../../aggregator/policy/index.js';
import { repoRoot } from '../../helpers/paths.js';

/** A fresh directory under the system's temp dir; `cleanup` removes it. */
export async function tempDir(prefix = 'dw-policy-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** A one-policy YAML document: `expectations` are YAML list items written as given. */
export function policyYaml(name: string, opts: { selector?: string; expectations?: string[]; extra?: string } = {}): string {
  const lines = [
    'apiVersion: driftwatch.io/v1',
    'kind: Policy',
    'metadata:',
    `  name: ${name}`,
    'spec:',
    `  selector: ${opts.selector ?? '{}'}`,
  ];
  if (opts.extra !== undefined) lines.push(...opts.extra.split('\n').map((l) => `  ${l}`));
  if (opts.expectations !== undefined) {
    lines.push('  expectations:');
    for (const e of opts.expectations) lines.push(`    - ${e}`);
  }
  return lines.join('\n') + '\n';
}

/** A policy expecting the pos image in a semver range. */
export function posPolicy(range: string, name = 'shop-pos'): string {
  return policyYaml(name, {
    selector: '{ matchLabels: { tier: shop } }',
    expectations: [`{ series: 'kube_deployment_container_image{namespace="shop",deployment="pos"}', semver: "${range}" }`],
  });
}

/** The files of examples/policies/. */
export async function examplePolicyFiles(): Promise<PolicyFile[]> {
  const dir = join(repoRoot, 'examples', 'policies');
  const names = (await readdir(dir)).filter((n) => n.endsWith('.yaml')).sort();
  return Promise.all(names.map(async (n) => ({ path: n, text: await readFile(join(dir, n), 'utf8') })));
}

/** A pino-shaped logger that keeps what it was told. */
export function recordingLogger(): { info: (f: Record<string, unknown>, m: string) => void; warn: (f: Record<string, unknown>, m: string) => void; lines: { level: string; fields: Record<string, unknown>; message: string }[] } {
  const lines: { level: string; fields: Record<string, unknown>; message: string }[] = [];
  return {
    lines,
    info: (fields, message) => lines.push({ level: 'info', fields, message }),
    warn: (fields, message) => lines.push({ level: 'warn', fields, message }),
  };
}
