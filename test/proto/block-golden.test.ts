import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { decodeBlock, encodeBlock } from '../../proto/index.js';
import { fixturePath } from '../helpers/paths.js';
import { goldenJson } from '../golden/golden-json.js';

// Golden blocks written by earlier encoders (test/fixtures/blocks/v<N>/). They are never
// regenerated: the decoder of today must read them exactly as they were written.
for (const version of readdirSync(fixturePath('blocks')).sort()) {
  const names = readdirSync(fixturePath('blocks', version)).filter((f) => f.endsWith('.dwb')).sort();
  test(`golden blocks ${version}: there are some`, () => assert.ok(names.length >= 4));
  for (const name of names) {
    test(`golden block ${version}/${name} decodes to its recorded contents`, () => {
      const bytes = readFileSync(fixturePath('blocks', version, name));
      const expected = JSON.parse(readFileSync(fixturePath('blocks', version, name.replace(/\.dwb$/, '.json')), 'utf8'));
      const block = decodeBlock(bytes);
      assert.deepStrictEqual(JSON.parse(JSON.stringify(goldenJson(block))), expected);
      // Today's encoder must still produce a block today's decoder reads the same way.
      const again = decodeBlock(encodeBlock(block.data, { ...block.header, replaces: block.header.replaces }, { compression: block.header.compression }));
      assert.deepStrictEqual(again.data, block.data);
    });
  }
}
