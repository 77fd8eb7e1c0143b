#!/usr/bin/env node
// Thin launcher so `npx fieldgate` runs the compiled CLI (built by `npm ci` through the prepare script).
import('../dist/src/main.js').catch((err) => {
  console.error('fieldgate: cannot load the compiled CLI (run `npm ci` or `npm run build` first):', err.message);
  process.exit(1);
});
