#!/usr/bin/env node
// `npm run audit`: runs `npm audit --json` on the whole tree (every workspace, dev dependencies included) and
// applies the gate of audit.ts with the allow-list audit-allowlist.json at the repository's root.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { AllowlistError, parseAllowlist, type AllowlistEntry } from './audit-allowlist.js';
import { evaluateAudit } from './audit.js';

const REPO = path.resolve(__dirname, '../../..');
const ALLOWLIST = 'audit-allowlist.json';

function fail(message: string): never {
  process.stderr.write(`npm audit: ${message}\n`);
  process.exit(1);
}

const env = z.object({ LOOKOUT_AUDIT_REQUIRED: z.stringbool().default(false) }).safeParse({
  LOOKOUT_AUDIT_REQUIRED: process.env.LOOKOUT_AUDIT_REQUIRED?.trim() || undefined,
});
if (!env.success) fail(`LOOKOUT_AUDIT_REQUIRED: expected 1/0, true/false (got "${process.env.LOOKOUT_AUDIT_REQUIRED ?? ''}")`);

function readAllowlist(): AllowlistEntry[] {
  let text: string;
  try {
    text = readFileSync(path.join(REPO, ALLOWLIST), 'utf8');
  } catch (err) {
    fail(`cannot read ${ALLOWLIST} (${err instanceof Error ? err.message : String(err)}); it holds [] when nothing is accepted`);
  }
  try {
    return parseAllowlist(text, ALLOWLIST);
  } catch (err) {
    if (err instanceof AllowlistError) fail(err.message);
    throw err;
  }
}
const allowlist = readAllowlist();

// Under `npm run` the npm that runs us is npm_execpath (npx's too); otherwise whichever npm is on the PATH.
const npmCli = process.env.npm_execpath;
const [command, prefix] = npmCli !== undefined && path.basename(npmCli) === 'npm-cli.js' ? [process.execPath, [npmCli]] : ['npm', []];
// --include overrides an inherited omit (NODE_ENV=production or --omit=dev): the gate covers every dependency.
const args = [...prefix, 'audit', '--json', '--include=prod', '--include=dev', '--include=optional', '--include=peer'];
const run = spawnSync(command, args, { cwd: REPO, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
if (run.error !== undefined) fail(`cannot run npm (${run.error.message})`);

const verdict = evaluateAudit({ stdout: run.stdout, stderr: run.stderr }, allowlist, {
  today: new Date().toISOString().slice(0, 10),
  required: env.data.LOOKOUT_AUDIT_REQUIRED,
  allowlistFile: ALLOWLIST,
});
(verdict.exitCode === 0 ? process.stdout : process.stderr).write(`${verdict.lines.join('\n')}\n`);
process.exit(verdict.exitCode);
