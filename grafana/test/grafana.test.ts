import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { DASHBOARDS_DIR, renderDashboards } from '../src/generate.js';

const GRAFANA = path.resolve(__dirname, '../..');

interface Datasource {
  uid: string;
  type: string;
  jsonData?: Record<string, unknown>;
}

const provisioned = (parse(readFileSync(path.join(GRAFANA, 'provisioning/datasources/datasources.yaml'), 'utf8')) as {
  datasources: Datasource[];
}).datasources;

/** Every `datasourceUid` / `{ uid }` reference anywhere in a JSON-like value. */
function referencedUids(value: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const v of value) referencedUids(v, out);
  else if (typeof value === 'object' && value !== null) {
    for (const [key, v] of Object.entries(value)) {
      if (key === 'datasourceUid' && typeof v === 'string') out.add(v);
      else if (key === 'datasource' && typeof v === 'object' && v !== null && typeof (v as { uid?: unknown }).uid === 'string') {
        const uid = (v as { uid: string }).uid;
        if (!uid.startsWith('$') && !uid.startsWith('-- ')) out.add(uid);
      } else referencedUids(v, out);
    }
  }
  return out;
}

describe('Grafana dashboards and provisioning', () => {
  it('the committed dashboard JSON is what the code generates (run `npm run gen` after changing a dashboard)', () => {
    const rendered = renderDashboards();
    const committed = readdirSync(DASHBOARDS_DIR).filter((f) => f.endsWith('.json')).sort();
    assert.deepEqual(committed, [...rendered.keys()].sort(), 'a dashboard file is missing or left over');
    for (const [file, json] of rendered) {
      assert.equal(readFileSync(path.join(DASHBOARDS_DIR, file), 'utf8'), json, `${file} is stale`);
    }
  });

  it('provisions each datasource once, with a fixed UID', () => {
    const uids = provisioned.map((d) => d.uid);
    assert.deepEqual(uids, [...new Set(uids)]);
    assert.deepEqual([...uids].sort(), ['alertmanager', 'loki', 'prometheus', 'tempo']);
  });

  it('every datasource UID a dashboard or a correlation refers to is provisioned', () => {
    const known = new Set(provisioned.map((d) => d.uid));
    for (const [file, json] of renderDashboards()) {
      for (const uid of referencedUids(JSON.parse(json))) assert.ok(known.has(uid), `${file} refers to unknown datasource ${uid}`);
    }
    for (const ds of provisioned) {
      for (const uid of referencedUids(ds.jsonData ?? {})) assert.ok(known.has(uid), `${ds.uid} correlates to unknown datasource ${uid}`);
    }
  });

  it('wires every correlation: exemplars -> Tempo, traces -> logs and metrics, service map, logs -> traces', () => {
    const by = (uid: string) => provisioned.find((d) => d.uid === uid)?.jsonData ?? {};
    const prom = by('prometheus') as { exemplarTraceIdDestinations?: { name: string; datasourceUid: string }[] };
    assert.deepEqual(prom.exemplarTraceIdDestinations?.map((d) => [d.name, d.datasourceUid]), [['trace_id', 'tempo']]);
    const tempo = by('tempo') as Partial<Record<string, { datasourceUid?: string; filterByTraceID?: boolean; enabled?: boolean }>>;
    assert.deepEqual([tempo.tracesToLogsV2?.datasourceUid, tempo.tracesToLogsV2?.filterByTraceID], ['loki', true]);
    assert.equal(tempo.tracesToMetrics?.datasourceUid, 'prometheus');
    assert.equal(tempo.serviceMap?.datasourceUid, 'prometheus');
    assert.equal(tempo.nodeGraph?.enabled, true);
    const loki = by('loki') as { derivedFields?: { name: string; matcherType: string; datasourceUid: string }[] };
    // trace_id is structured metadata on OTLP log records, so the field matches a label, not a regex over the line.
    assert.deepEqual(loki.derivedFields?.map((f) => [f.name, f.matcherType, f.datasourceUid]), [['trace_id', 'label', 'tempo']]);
  });

  it('the dashboards provider loads the directory compose mounts', () => {
    const providers = (parse(readFileSync(path.join(GRAFANA, 'provisioning/dashboards/dashboards.yaml'), 'utf8')) as {
      providers: { options: { path: string } }[];
    }).providers;
    assert.equal(providers[0]?.options.path, '/var/lib/grafana/dashboards');
    assert.ok(existsSync(DASHBOARDS_DIR));
  });
});
