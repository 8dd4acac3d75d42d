import { z } from 'zod';

// The `npm audit --json` report of npm 7 and later (auditReportVersion 2), as written by @npmcli/arborist's
// AuditReport.toJSON. Only the fields the gate reads are declared; the rest (cwe, cvss, metadata) pass through.

export const SEVERITIES = ['info', 'low', 'moderate', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** An advisory against the package that holds it: `source` is npm's number, the GHSA id is in the url. */
export const advisorySchema = z.object({
  source: z.number(),
  name: z.string(),
  title: z.string(),
  url: z.string().nullish(),
  severity: z.enum(SEVERITIES),
  range: z.string().optional(),
});
export type Advisory = z.infer<typeof advisorySchema>;

const fixSchema = z.union([z.boolean(), z.object({ name: z.string(), version: z.string(), isSemVerMajor: z.boolean() })]);
export type Fix = z.infer<typeof fixSchema>;

/** One vulnerable package. A `via` string names another vulnerable package this one depends on. */
export const vulnerabilitySchema = z.object({
  name: z.string(),
  severity: z.enum(SEVERITIES),
  isDirect: z.boolean().optional(),
  via: z.array(z.union([z.string(), advisorySchema])),
  effects: z.array(z.string()),
  range: z.string().optional(),
  nodes: z.array(z.string()),
  fixAvailable: fixSchema,
});
export type Vulnerability = z.infer<typeof vulnerabilitySchema>;

export const auditReportSchema = z.object({
  auditReportVersion: z.literal(2),
  vulnerabilities: z.record(z.string(), vulnerabilitySchema),
});
export type AuditReport = z.infer<typeof auditReportSchema>;

/** What one run of `npm audit --json` amounts to. */
export type NpmAuditOutcome =
  | { readonly kind: 'report'; readonly report: AuditReport }
  /** The advisory service could not be asked (registry without the endpoint, offline): nothing was checked. */
  | { readonly kind: 'unavailable'; readonly reason: string }
  /** npm failed for a reason of the project's own (no lockfile, broken package.json, unknown output). */
  | { readonly kind: 'failed'; readonly reason: string };

// npm's own message when the registry's bulk advisory endpoint answers with an error (lib/utils/audit-error.js).
const ENDPOINT_ERROR = 'audit endpoint returned an error';
// Error codes that say the registry or the network, not the project, is the problem.
const SERVICE_CODES = /^(E\d{3}|ENOAUDIT|ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ENETUNREACH|EHOSTUNREACH|ESOCKETTIMEDOUT)$/;

const endpointErrorSchema = z.object({
  // Printed by npm when the endpoint answers an error: the request's message, uri and status.
  message: z.string().optional(),
  uri: z.string().optional(),
  statusCode: z.number().optional(),
  error: z.object({ code: z.string().optional(), summary: z.string().optional(), detail: z.string().optional() }),
});

function npmErrorLine(stderr: string): string | undefined {
  const lines = stderr.split('\n').map((l) => l.trim());
  return lines.find((l) => l.startsWith('npm warn audit ')) ?? lines.find((l) => l.startsWith('npm error '));
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/**
 * Classifies the output of `npm audit --json` (npm exits non-zero both when it finds something and when it
 * fails, so its exit code says nothing). Fails closed: only a registry or network failure counts as
 * "unavailable"; anything else that is not a version 2 report is a failure.
 */
export function readNpmAudit(stdout: string, stderr: string): NpmAuditOutcome {
  let json: unknown;
  try {
    json = JSON.parse(stdout);
  } catch {
    const line = npmErrorLine(stderr);
    if (stderr.includes(ENDPOINT_ERROR)) return { kind: 'unavailable', reason: line ?? ENDPOINT_ERROR };
    return { kind: 'failed', reason: `npm audit printed no JSON report${line === undefined ? '' : `: ${line}`}` };
  }
  const failure = endpointErrorSchema.safeParse(json);
  if (failure.success) {
    const { message, uri, statusCode, error } = failure.data;
    const summary = oneLine(error.summary ?? '');
    if (uri !== undefined || statusCode !== undefined) {
      return { kind: 'unavailable', reason: oneLine(message ?? `HTTP ${String(statusCode)} from ${uri ?? 'the registry'}`) };
    }
    const code = error.code ?? '';
    const reason = [code, summary || oneLine(message ?? '')].filter((s) => s !== '').join(': ') || 'unknown npm error';
    return SERVICE_CODES.test(code) ? { kind: 'unavailable', reason } : { kind: 'failed', reason: `npm audit failed (${reason})` };
  }
  const report = auditReportSchema.safeParse(json);
  if (report.success) return { kind: 'report', report: report.data };
  const issues = report.error.issues.slice(0, 5).map((i) => `${i.path.map(String).join('.') || '(top)'}: ${i.message}`);
  return { kind: 'failed', reason: `npm audit printed a report the gate does not understand (${issues.join('; ')})` };
}
