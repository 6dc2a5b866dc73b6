// The agent's command and its module graph load neither net-snmp nor @kubernetes/client-node
// (about 6 MiB and 65 MiB of RSS): those are imported on the first collection of a configured
// snmp or kubernetes source. Checked on the compiled files by following every static import.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { it } from 'node:test';
import { repoRoot } from '../../helpers/paths.js';

/** Packages and project files reachable through static imports from `entry` (a compiled .js file). */
function staticGraph(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const todo = [entry];
  // `import … from '…'` and `export … from '…'`, not `import('…')`.
  const statement = /^\s*(?:import|export)\s[^;]*?\sfrom\s+['"]([^'"]+)['"]|^\s*import\s+['"]([^'"]+)['"]/gm;
  while (todo.length > 0) {
    const file = todo.pop()!;
    if (files.has(file)) continue;
    files.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(statement)) {
      const spec = m[1] ?? m[2]!;
      if (spec.startsWith('.')) todo.push(resolve(dirname(file), spec));
      else packages.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
    }
  }
  return { files, packages };
}

it('the agent command does not load net-snmp or @kubernetes/client-node until a source needs them', () => {
  const { files, packages } = staticGraph(join(repoRoot, 'dist', 'cmd', 'agent.js'));
  assert.ok(files.has(join(repoRoot, 'dist', 'collector', 'sources', 'snmp', 'index.js')), 'the snmp source is part of the graph');
  assert.ok(packages.has('level') && packages.has('pino'), `the graph is followed: ${[...packages].join(', ')}`);
  assert.ok(!packages.has('net-snmp'), 'net-snmp is imported statically');
  assert.ok(!packages.has('@kubernetes/client-node'), '@kubernetes/client-node is imported statically');
  // The modules that load them are reached only through import().
  assert.ok(!files.has(join(repoRoot, 'dist', 'collector', 'sources', 'snmp', 'session.js')));
  assert.ok(!files.has(join(repoRoot, 'dist', 'collector', 'sources', 'kubernetes', 'session.js')));
});
