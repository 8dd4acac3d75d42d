import type { AllowlistEntry } from './audit-allowlist.js';
import { readNpmAudit, SEVERITIES, type AuditReport, type Fix, type Severity } from './audit-report.js';

// The dependency audit gate: which advisories of `npm audit --json` fail the build, given the allow-list.
// Pure (no npm, no clock, no files) so that every verdict is tested on fixtures; audit-cli.ts does the I/O.

/** Advisories at or above this severity fail the gate unless allow-listed. */
export const GATE_SEVERITY: Severity = 'high';

/** One advisory against one installed package, and how it is reached from the project's own dependencies. */
export interface Finding {
  /** The GHSA id, or `npm-<source>` for the rare advisory without one. */
  readonly id: string;
  readonly package: string;
  readonly severity: Severity;
  readonly title: string;
  readonly url: string | undefined;
  /** Where the vulnerable package is installed (npm's `nodes`). */
  readonly nodes: readonly string[];
  /** Chains of packages from one the project depends on down to the vulnerable one (from npm's `effects`). */
  readonly paths: readonly (readonly string[])[];
  readonly fix: string;
}

export interface AuditOptions {
  /** Today, YYYY-MM-DD (UTC): entries whose `expires` is before it no longer apply. */
  readonly today: string;
  /** LOOKOUT_AUDIT_REQUIRED: an unavailable advisory service fails the gate instead of passing unverified. */
  readonly required: boolean;
  /** The allow-list's file name, for messages. */
  readonly allowlistFile: string;
}

export interface AuditVerdict {
  readonly status: 'passed' | 'failed' | 'not-verified';
  readonly exitCode: 0 | 1;
  /** At or above GATE_SEVERITY and not allow-listed. */
  readonly failures: readonly Finding[];
  readonly allowed: readonly Finding[];
  /** Advisories below GATE_SEVERITY, reported by count only. */
  readonly below: number;
  readonly expired: readonly AllowlistEntry[];
  /** Entries that match no advisory of this report (a warning: remove them). */
  readonly unmatched: readonly AllowlistEntry[];
  /** What the gate prints, one message a line. */
  readonly lines: readonly string[];
}

const MAX_PATHS = 5;

function atLeast(severity: Severity, threshold: Severity): boolean {
  return SEVERITIES.indexOf(severity) >= SEVERITIES.indexOf(threshold);
}

function advisoryId(url: string | null | undefined, source: number): string {
  return /GHSA-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}/i.exec(url ?? '')?.[0] ?? `npm-${String(source)}`;
}

function describeFix(fix: Fix): string {
  if (fix === true) return 'npm audit fix';
  if (fix === false) return 'no fix available';
  return `${fix.name}@${fix.version}${fix.isSemVerMajor ? ' (semver major: npm audit fix --force or by hand)' : ''}`;
}

/**
 * The chains through which the project reaches `name`: npm lists, for each vulnerable package, the vulnerable
 * packages that depend on it (`effects`, the reverse of a `via` string). Walks them up to packages nothing
 * vulnerable depends on, shortest chains first, at most MAX_PATHS of them.
 */
function pathsTo(report: AuditReport, name: string): string[][] {
  const done: string[][] = [];
  let frontier: string[][] = [[name]];
  const seen = new Set([name]);
  while (frontier.length > 0 && done.length < MAX_PATHS) {
    const next: string[][] = [];
    for (const chain of frontier) {
      const head = chain[0] ?? name;
      const parents = (report.vulnerabilities[head]?.effects ?? []).filter((p) => !seen.has(p));
      if (parents.length === 0) {
        if (chain.length > 1) done.push(chain);
        continue;
      }
      for (const parent of parents) {
        seen.add(parent);
        next.push([parent, ...chain]);
      }
    }
    frontier = next;
  }
  return done.slice(0, MAX_PATHS);
}

/** Every advisory of the report once, from the package that holds it (its `via` objects). */
export function findings(report: AuditReport): Finding[] {
  const byKey = new Map<string, Finding>();
  for (const [name, vuln] of Object.entries(report.vulnerabilities)) {
    for (const via of vuln.via) {
      if (typeof via === 'string') continue; // a dependency's advisory: found at that dependency's own entry
      const id = advisoryId(via.url, via.source);
      const pkg = via.name || name;
      const key = `${id}\u0000${pkg}`;
      const known = byKey.get(key);
      if (known !== undefined) {
        byKey.set(key, { ...known, nodes: [...new Set([...known.nodes, ...vuln.nodes])] });
        continue;
      }
      byKey.set(key, {
        id,
        package: pkg,
        severity: via.severity,
        title: via.title,
        url: via.url ?? undefined,
        nodes: vuln.nodes,
        paths: pathsTo(report, name),
        fix: describeFix(vuln.fixAvailable),
      });
    }
  }
  return [...byKey.values()].sort(
    (a, b) => SEVERITIES.indexOf(b.severity) - SEVERITIES.indexOf(a.severity) || a.package.localeCompare(b.package) || a.id.localeCompare(b.id),
  );
}

function sameAdvisory(entry: AllowlistEntry, finding: Finding): boolean {
  return entry.id.toLowerCase() === finding.id.toLowerCase() && entry.package === finding.package;
}

function describe(finding: Finding): string[] {
  const lines = [`  ${finding.package} (${finding.severity}) ${finding.id}: ${finding.title}`];
  if (finding.url !== undefined) lines.push(`    ${finding.url}`);
  if (finding.nodes.length > 0) lines.push(`    installed at: ${finding.nodes.join(', ')}`);
  for (const chain of finding.paths) lines.push(`    through: ${chain.join(' > ')}`);
  lines.push(`    fix: ${finding.fix}`);
  return lines;
}

function entryName(entry: AllowlistEntry): string {
  return `${entry.id} (${entry.package})`;
}

/**
 * The gate's verdict on one run of `npm audit --json` (its stdout and stderr). Fails on an advisory of severity
 * high or critical that no current allow-list entry accepts, and on an expired entry (whether or not the advisory
 * service answered: the date alone makes it stale). When the service cannot be asked the result is "not
 * verified": a pass, unless `required`.
 */
export function evaluateAudit(
  npm: { readonly stdout: string; readonly stderr: string },
  allowlist: readonly AllowlistEntry[],
  options: AuditOptions,
): AuditVerdict {
  const expired = allowlist.filter((e) => e.expires < options.today);
  const current = allowlist.filter((e) => e.expires >= options.today);
  const expiredLines = expired.map(
    (e) => `npm audit: allow-list entry ${entryName(e)} in ${options.allowlistFile} expired on ${e.expires} (${e.reason}): check the advisory again, then remove or renew the entry`,
  );

  const outcome = readNpmAudit(npm.stdout, npm.stderr);
  if (outcome.kind !== 'report') {
    const unavailable = outcome.kind === 'unavailable';
    const lines = unavailable
      ? [`npm audit: the advisory service is unavailable (${outcome.reason}); NOT VERIFIED`]
      : [`npm audit: ${outcome.reason}`];
    if (unavailable && options.required) lines.push('npm audit: LOOKOUT_AUDIT_REQUIRED=1, so an unverified audit fails');
    lines.push(...expiredLines);
    const fails = !unavailable || options.required || expired.length > 0;
    return {
      status: unavailable && !fails ? 'not-verified' : 'failed',
      exitCode: fails ? 1 : 0,
      failures: [],
      allowed: [],
      below: 0,
      expired,
      unmatched: [],
      lines,
    };
  }

  const all = findings(outcome.report);
  const gated = all.filter((f) => atLeast(f.severity, GATE_SEVERITY));
  const allowed = gated.filter((f) => current.some((e) => sameAdvisory(e, f)));
  const failures = gated.filter((f) => !allowed.includes(f));
  const unmatched = allowlist.filter((e) => !all.some((f) => sameAdvisory(e, f)));
  const below = all.length - gated.length;

  const lines: string[] = [];
  if (failures.length > 0) {
    lines.push(`npm audit: ${String(failures.length)} ${failures.length === 1 ? 'advisory' : 'advisories'} of severity ${GATE_SEVERITY} or critical, neither fixed nor in ${options.allowlistFile}:`);
    for (const f of failures) lines.push(...describe(f));
  }
  lines.push(...expiredLines);
  for (const e of unmatched) {
    lines.push(`npm audit: warning: allow-list entry ${entryName(e)} matches no advisory any more: remove it from ${options.allowlistFile}`);
  }
  for (const f of allowed) lines.push(`npm audit: allowed by ${options.allowlistFile}: ${f.package} (${f.severity}) ${f.id}`);
  const fails = failures.length > 0 || expired.length > 0;
  if (!fails) {
    lines.push(
      `npm audit: no advisory of severity ${GATE_SEVERITY} or critical left (${String(allowed.length)} allow-listed, ${String(below)} below ${GATE_SEVERITY})`,
    );
  }
  return { status: fails ? 'failed' : 'passed', exitCode: fails ? 1 : 0, failures, allowed, below, expired, unmatched, lines };
}
