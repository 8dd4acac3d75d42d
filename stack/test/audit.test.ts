import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AllowlistError, parseAllowlist, type AllowlistEntry } from '../src/audit-allowlist.js';
import { evaluateAudit, type AuditOptions } from '../src/audit.js';
import { readNpmAudit } from '../src/audit-report.js';

// Fixtures in the shape npm 11 writes with `npm audit --json` (auditReportVersion 2, @npmcli/arborist's
// AuditReport.toJSON): advisory objects in `via` of the package they are about, package names in `via` of the
// packages that depend on it, `effects` the reverse.

const GLOB = {
  source: 1109843,
  name: 'glob',
  dependency: 'glob',
  title: 'glob CLI: Command injection via -c/--cmd executes matches with shell:true',
  url: 'https://github.com/advisories/GHSA-5j98-mcp5-4vw2',
  severity: 'high',
  cwe: ['CWE-78'],
  cvss: { score: 7.5, vectorString: 'CVSS:3.1/AV:N/AC:H/PR:L/UI:N/S:U/C:H/I:H/A:H' },
  range: '>=10.2.0 <10.5.0',
};

const ESBUILD = {
  source: 1102341,
  name: 'esbuild',
  dependency: 'esbuild',
  title: 'esbuild enables any website to send any requests to the development server and read the response',
  url: 'https://github.com/advisories/GHSA-67mh-4wv8-2f99',
  severity: 'moderate',
  cwe: ['CWE-346'],
  cvss: { score: 5.3, vectorString: 'CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:H/I:N/A:N' },
  range: '<=0.24.2',
};

function report(vulnerabilities: Record<string, unknown>): string {
  const counts = { info: 0, low: 0, moderate: 0, high: 0, critical: 0, total: Object.keys(vulnerabilities).length };
  for (const v of Object.values(vulnerabilities) as { severity: keyof typeof counts }[]) counts[v.severity]++;
  return JSON.stringify(
    {
      auditReportVersion: 2,
      vulnerabilities,
      metadata: {
        vulnerabilities: counts,
        dependencies: { prod: 312, dev: 402, optional: 41, peer: 0, peerOptional: 0, total: 713 },
      },
    },
    null,
    2,
  );
}

/** glob's advisory reached through rimraf (a dev dependency), which only has the package name in `via`. */
const TRANSITIVE_HIGH = report({
  glob: {
    name: 'glob',
    severity: 'high',
    isDirect: false,
    via: [GLOB],
    effects: ['rimraf'],
    range: '10.2.0 - 10.4.5',
    nodes: ['node_modules/rimraf/node_modules/glob'],
    fixAvailable: { name: 'rimraf', version: '6.1.2', isSemVerMajor: true },
  },
  rimraf: {
    name: 'rimraf',
    severity: 'high',
    isDirect: true,
    via: ['glob'],
    effects: [],
    range: '5.0.2 - 5.0.10',
    nodes: ['node_modules/rimraf'],
    fixAvailable: { name: 'rimraf', version: '6.1.2', isSemVerMajor: true },
  },
});

const DIRECT_HIGH = report({
  glob: {
    name: 'glob',
    severity: 'high',
    isDirect: true,
    via: [GLOB],
    effects: [],
    range: '10.2.0 - 10.4.5',
    nodes: ['node_modules/glob'],
    fixAvailable: true,
  },
});

const MODERATE = report({
  esbuild: {
    name: 'esbuild',
    severity: 'moderate',
    isDirect: false,
    via: [ESBUILD],
    effects: [],
    range: '<=0.24.2',
    nodes: ['node_modules/esbuild'],
    fixAvailable: true,
  },
});

const CLEAN = report({});

/** What npm 11.19 printed on stdout here, where the registry mirror answers 405 to the bulk advisory endpoint. */
const ENDPOINT_405 = JSON.stringify({
  message: '405 Method Not Allowed - POST https://registry.npmjs.org/-/npm/v1/security/advisories/bulk',
  method: 'POST',
  uri: 'https://registry.npmjs.org/-/npm/v1/security/advisories/bulk',
  headers: { allow: ['GET,HEAD'], date: ['Mon, 23 Nov 2026 08:42:54 GMT'], 'content-length': ['0'], 'x-fetch-attempts': ['1'] },
  statusCode: 405,
  body: '',
  error: { summary: '', detail: '' },
});
const ENDPOINT_405_STDERR = [
  'npm warn audit 405 Method Not Allowed - POST https://registry.npmjs.org/-/npm/v1/security/advisories/bulk',
  'npm error audit endpoint returned an error',
  'npm error A complete log of this run can be found in: /root/.npm/_logs/2026-11-23T08_42_53_798Z-debug-0.log',
].join('\n');

const OPTIONS: AuditOptions = { today: '2026-11-23', required: false, allowlistFile: 'audit-allowlist.json' };

function entry(overrides: Partial<AllowlistEntry> = {}): AllowlistEntry {
  return {
    id: 'GHSA-5j98-mcp5-4vw2',
    package: 'glob',
    reason: 'only the glob CLI (-c/--cmd) is affected; nothing here runs it. Waiting for rimraf 6 in eslint-plugin-x',
    expires: '2026-12-31',
    ...overrides,
  };
}

function run(stdout: string, allowlist: AllowlistEntry[] = [], options: Partial<AuditOptions> = {}, stderr = '') {
  return evaluateAudit({ stdout, stderr }, allowlist, { ...OPTIONS, ...options });
}

describe('the dependency audit gate', () => {
  it('fails on a high advisory, printing package, severity, id, title, url, where it is installed and the fix', () => {
    const verdict = run(DIRECT_HIGH);
    assert.equal(verdict.exitCode, 1);
    assert.equal(verdict.status, 'failed');
    assert.deepEqual(verdict.failures.map((f) => [f.package, f.severity, f.id]), [['glob', 'high', 'GHSA-5j98-mcp5-4vw2']]);
    const text = verdict.lines.join('\n');
    assert.match(text, /glob \(high\) GHSA-5j98-mcp5-4vw2: glob CLI: Command injection/);
    assert.match(text, /https:\/\/github\.com\/advisories\/GHSA-5j98-mcp5-4vw2/);
    assert.match(text, /installed at: node_modules\/glob/);
    assert.match(text, /fix: npm audit fix/);
  });

  it('fails on a critical advisory too', () => {
    const critical = DIRECT_HIGH.replaceAll('"severity": "high"', '"severity": "critical"');
    assert.equal(run(critical).exitCode, 1);
    assert.equal(run(critical).failures[0]?.severity, 'critical');
  });

  it('passes a moderate advisory, counting it', () => {
    const verdict = run(MODERATE);
    assert.equal(verdict.exitCode, 0);
    assert.equal(verdict.status, 'passed');
    assert.equal(verdict.below, 1);
    assert.deepEqual(verdict.failures, []);
    assert.match(verdict.lines.join('\n'), /0 allow-listed, 1 below high/);
  });

  it('passes a clean report', () => {
    assert.equal(run(CLEAN).exitCode, 0);
  });

  it('passes an allow-listed high advisory and says so', () => {
    const verdict = run(DIRECT_HIGH, [entry()]);
    assert.equal(verdict.exitCode, 0);
    assert.deepEqual(verdict.allowed.map((f) => f.id), ['GHSA-5j98-mcp5-4vw2']);
    assert.deepEqual(verdict.unmatched, []);
    assert.match(verdict.lines.join('\n'), /allowed by audit-allowlist\.json: glob \(high\) GHSA-5j98-mcp5-4vw2/);
  });

  it('allows the advisory only in the package the entry names', () => {
    const verdict = run(DIRECT_HIGH, [entry({ package: 'rimraf' })]);
    assert.equal(verdict.exitCode, 1);
    assert.deepEqual(verdict.unmatched.map((e) => e.package), ['rimraf']);
  });

  it('applies an entry through its last day and fails once it has expired, naming it', () => {
    assert.equal(run(DIRECT_HIGH, [entry({ expires: '2026-11-23' })]).exitCode, 0);
    const verdict = run(DIRECT_HIGH, [entry({ expires: '2026-11-22' })]);
    assert.equal(verdict.exitCode, 1);
    assert.deepEqual(verdict.expired.map((e) => e.id), ['GHSA-5j98-mcp5-4vw2']);
    assert.deepEqual(verdict.failures.map((f) => f.id), ['GHSA-5j98-mcp5-4vw2'], 'an expired entry allows nothing');
    assert.match(verdict.lines.join('\n'), /allow-list entry GHSA-5j98-mcp5-4vw2 \(glob\) in audit-allowlist\.json expired on 2026-11-22/);
  });

  it('fails on an expired entry even when the advisory it names is gone', () => {
    const verdict = run(CLEAN, [entry({ expires: '2026-01-01' })]);
    assert.equal(verdict.exitCode, 1);
    assert.equal(verdict.expired.length, 1);
  });

  it('warns about an entry that matches no advisory, without failing', () => {
    const verdict = run(MODERATE, [entry()]);
    assert.equal(verdict.exitCode, 0);
    assert.deepEqual(verdict.unmatched.map((e) => e.id), ['GHSA-5j98-mcp5-4vw2']);
    assert.match(verdict.lines.join('\n'), /warning: allow-list entry GHSA-5j98-mcp5-4vw2 \(glob\) matches no advisory any more/);
  });

  it('reports a transitive advisory once, with its id and the chain from the dependency the project declares', () => {
    const verdict = run(TRANSITIVE_HIGH);
    assert.equal(verdict.exitCode, 1);
    assert.equal(verdict.failures.length, 1, 'rimraf only carries glob\'s advisory: one finding, not two');
    const [finding] = verdict.failures;
    assert.ok(finding);
    assert.equal(finding.id, 'GHSA-5j98-mcp5-4vw2');
    assert.deepEqual(finding.paths, [['rimraf', 'glob']]);
    const text = verdict.lines.join('\n');
    assert.match(text, /installed at: node_modules\/rimraf\/node_modules\/glob/);
    assert.match(text, /through: rimraf > glob/);
    assert.match(text, /fix: rimraf@6\.1\.2 \(semver major/);
    assert.equal(run(TRANSITIVE_HIGH, [entry()]).exitCode, 0, 'the entry names the advisory and the vulnerable package');
  });

  it('follows longer chains and stops at cycles', () => {
    const chain = JSON.parse(TRANSITIVE_HIGH) as { vulnerabilities: Record<string, { effects: string[]; via: unknown[] }> };
    const vulns = chain.vulnerabilities;
    const rimraf = vulns.rimraf;
    assert.ok(rimraf);
    rimraf.effects = ['del-cli'];
    vulns['del-cli'] = { ...rimraf, name: 'del-cli', via: ['rimraf'], effects: ['rimraf'], nodes: ['node_modules/del-cli'] } as typeof rimraf;
    const verdict = run(JSON.stringify(chain));
    assert.deepEqual(verdict.failures[0]?.paths, [['del-cli', 'rimraf', 'glob']]);
  });

  it('passes unverified, in one line, when the registry has no audit endpoint (npm 11 output)', () => {
    const verdict = run(ENDPOINT_405, [], {}, ENDPOINT_405_STDERR);
    assert.equal(verdict.status, 'not-verified');
    assert.equal(verdict.exitCode, 0);
    assert.deepEqual(verdict.lines, [
      'npm audit: the advisory service is unavailable (405 Method Not Allowed - POST https://registry.npmjs.org/-/npm/v1/security/advisories/bulk); NOT VERIFIED',
    ]);
  });

  it('fails the unverified audit when LOOKOUT_AUDIT_REQUIRED is set', () => {
    const verdict = run(ENDPOINT_405, [], { required: true }, ENDPOINT_405_STDERR);
    assert.equal(verdict.status, 'failed');
    assert.equal(verdict.exitCode, 1);
    assert.match(verdict.lines[0] ?? '', /NOT VERIFIED$/);
  });

  it('still fails on an expired entry when the service is unavailable', () => {
    assert.equal(run(ENDPOINT_405, [entry({ expires: '2026-11-01' })], {}, ENDPOINT_405_STDERR).exitCode, 1);
  });
});

describe('reading npm audit output', () => {
  it('takes an ENOAUDIT or HTTP error code and a network failure as the service being unavailable', () => {
    for (const code of ['ENOAUDIT', 'E405', 'E503', 'ENOTFOUND']) {
      const outcome = readNpmAudit(JSON.stringify({ error: { code, summary: 'no audit for you', detail: '' } }), '');
      assert.deepEqual(outcome, { kind: 'unavailable', reason: `${code}: no audit for you` });
    }
  });

  it('takes npm\'s endpoint error without JSON as unavailable, naming the reason from stderr', () => {
    assert.deepEqual(readNpmAudit('', ENDPOINT_405_STDERR), {
      kind: 'unavailable',
      reason: 'npm warn audit 405 Method Not Allowed - POST https://registry.npmjs.org/-/npm/v1/security/advisories/bulk',
    });
  });

  it('fails closed on errors of the project\'s own and on output it does not understand', () => {
    const noLock = readNpmAudit(JSON.stringify({ error: { code: 'ENOLOCK', summary: 'This command requires an existing lockfile.', detail: '' } }), '');
    assert.deepEqual(noLock, { kind: 'failed', reason: 'npm audit failed (ENOLOCK: This command requires an existing lockfile.)' });
    assert.equal(readNpmAudit('', 'npm error something else').kind, 'failed');
    const v1 = readNpmAudit(JSON.stringify({ actions: [], advisories: {}, metadata: {} }), '');
    assert.equal(v1.kind, 'failed');
    assert.equal(run(JSON.stringify({ auditReportVersion: 1 })).exitCode, 1);
  });
});

describe('the allow-list file', () => {
  it('parses entries, and [] as nothing accepted', () => {
    assert.deepEqual(parseAllowlist('[]', 'audit-allowlist.json'), []);
    assert.deepEqual(parseAllowlist(JSON.stringify([entry()]), 'audit-allowlist.json'), [entry()]);
  });

  it('names the file and each bad entry, with every problem at once', () => {
    const text = JSON.stringify([
      entry(),
      { id: 'CVE-2025-1234', package: 'glob', reason: 'x', expires: '2026-12-31' },
      { id: 'GHSA-aaaa-bbbb-cccc', package: 'tar', reason: '', expires: '2026-02-30' },
      { id: 'GHSA-aaaa-bbbb-dddd', package: 'tar', reason: 'y', expires: '2026-12-31', note: 'extra' },
      entry(),
    ]);
    assert.throws(
      () => parseAllowlist(text, 'audit-allowlist.json'),
      (err: unknown) => {
        assert.ok(err instanceof AllowlistError);
        assert.match(err.message, /^audit-allowlist\.json is not a valid allow-list/);
        assert.deepEqual(err.issues, [
          'entry 2 (CVE-2025-1234 in glob): id: expected a GitHub advisory id such as GHSA-xxxx-xxxx-xxxx',
          'entry 3 (GHSA-aaaa-bbbb-cccc in tar): reason: expected why the advisory does not apply or what we wait for',
          'entry 3 (GHSA-aaaa-bbbb-cccc in tar): expires: expected a real calendar date',
          'entry 4 (GHSA-aaaa-bbbb-dddd in tar): Unrecognized key: "note"',
          'entry 5 (GHSA-5j98-mcp5-4vw2 in glob): duplicates entry 1',
        ]);
        return true;
      },
    );
  });

  it('names the file when it is not JSON or not a list', () => {
    assert.throws(() => parseAllowlist('{"id": ', 'audit-allowlist.json'), /audit-allowlist\.json is not a valid allow-list:\n {2}not valid JSON/);
    assert.throws(() => parseAllowlist('{}', 'audit-allowlist.json'), /expected a JSON array of entries/);
  });
});
