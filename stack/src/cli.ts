#!/usr/bin/env node
// `npm run gen`: writes the files generated from the stack model. `--check` fails on any that is stale.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { generatedFiles, REPO } from './generate.js';
import { validateModel } from './model.js';

validateModel();
const check = process.argv.includes('--check');
let stale = 0;
for (const [file, content] of Object.entries(generatedFiles())) {
  const full = path.join(REPO, file);
  let current = '';
  try {
    current = readFileSync(full, 'utf8');
  } catch {
    // missing counts as stale
  }
  if (current === content) continue;
  if (check) {
    stale++;
    process.stderr.write(`stale: ${file} (run npm run gen)\n`);
  } else {
    writeFileSync(full, content);
    process.stdout.write(`wrote ${file}\n`);
  }
}
process.exit(stale > 0 ? 1 : 0);
