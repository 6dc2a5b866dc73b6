#!/usr/bin/env node
// The driftwatch command. The TypeScript sources are compiled to dist/ by `npm install`
// (the prepare script) or `npm run build`.
import('../dist/cmd/driftwatch.js').catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/cmd/driftwatch.js')) {
    console.error('driftwatch: DW_CLI_NOT_BUILT: expected compiled code in dist/, found none; run `npm install` or `npm run build`');
    process.exit(2);
  }
  throw err;
});
