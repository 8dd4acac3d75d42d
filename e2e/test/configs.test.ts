import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { ensureBinaries, preparePrometheus, REPO, stackSettings, type BinaryDirs } from '@lookout/native-stack';
import { parse } from 'yaml';

const exec = promisify(execFile);

/** Each backend's config, checked by the backend's own binary at the pinned version. */
describe('backend configuration files', { timeout: 60 * 60 * 1000 }, () => {
  let bins: BinaryDirs;

  before(async () => {
    bins = await ensureBinaries((line) => process.stderr.write(`# ${line}\n`));
  }, { timeout: 60 * 60 * 1000 });

  it('otel-collector/config.yaml passes otelcol validate', async () => {
    const { stderr } = await exec(path.join(bins.otelcol, 'otelcol-lookout'), ['validate', `--config=${path.join(REPO, 'otel-collector/config.yaml')}`], {
      env: { ...process.env, OTELCOL_STORAGE_DIR: tmpdir() },
    });
    assert.doesNotMatch(stderr, /deprecated/i);
  });

  it('the collector is built with exactly the components its config uses', async () => {
    const config = parse(await readFile(path.join(REPO, 'otel-collector/config.yaml'), 'utf8')) as Record<string, Record<string, unknown>>;
    const used = (section: string) => Object.keys(config[section] ?? {}).map((k) => k.split('/')[0]).sort();
    const { stdout } = await exec(path.join(bins.otelcol, 'otelcol-lookout'), ['components']);
    const built = parse(stdout) as Record<string, { name: string }[]>;
    for (const section of ['receivers', 'processors', 'exporters', 'extensions']) {
      assert.deepEqual((built[section] ?? []).map((c) => c.name).sort(), [...new Set(used(section))], section);
    }
  });

  it('holds nothing it acknowledged only in memory: no batch processor, batching in the file-backed queues, metrics sent in order', async () => {
    interface Pipeline { processors?: string[]; exporters?: string[] }
    const config = parse(await readFile(path.join(REPO, 'otel-collector/config.yaml'), 'utf8')) as {
      exporters: Record<string, { sending_queue?: { storage?: string; batch?: unknown } }>;
      service: { pipelines: Record<string, Pipeline> };
    };
    for (const name of ['traces', 'logs', 'metrics']) {
      const pipeline = config.service.pipelines[name] ?? {};
      assert.ok(!(pipeline.processors ?? []).some((p) => p.split('/')[0] === 'batch'), `${name}: a batch processor holds acknowledged data in memory`);
      for (const exporter of pipeline.exporters ?? []) {
        const queue = config.exporters[exporter]?.sending_queue;
        assert.equal(queue?.storage, 'file_storage', `${exporter}: its queue is not on disk`);
        assert.ok(queue.batch !== undefined, `${exporter}: no batching in its queue`);
      }
    }
    // Prometheus refuses a batch holding an out-of-order sample (400, not retried): one consumer keeps them in order.
    for (const exporter of config.service.pipelines.metrics?.exporters ?? []) {
      assert.equal((config.exporters[exporter]?.sending_queue as { num_consumers?: number } | undefined)?.num_consumers, 1, `${exporter}: batches may overtake each other`);
    }
  });

  it('prometheus/prometheus.yml passes promtool check config, with the native and the compose targets', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'lookout-promcheck-'));
    try {
      preparePrometheus(stackSettings({ LOOKOUT_DATA_DIR: dataDir }));
      await exec(path.join(bins.prometheus, 'promtool'), ['check', 'config', path.join(dataDir, 'prometheus/prometheus.yml')]);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
    for (const file of ['prometheus', 'alertmanager', 'otel-collector', 'loki', 'tempo', 'postgres', 'redis', 'rabbitmq']) {
      const targets = parse(await readFile(path.join(REPO, 'prometheus/targets.compose', `${file}.yml`), 'utf8')) as { targets: string[] }[];
      assert.match(targets[0]?.targets[0] ?? '', /^[a-z-]+:\d+$/, file);
    }
  });

  it('alerts/alertmanager.yml passes amtool check-config', async () => {
    const { stdout } = await exec(path.join(bins.alertmanager, 'amtool'), ['check-config', path.join(REPO, 'alerts/alertmanager.yml')]);
    assert.match(stdout, /SUCCESS/);
  });

  it('loki/loki.yaml passes loki -verify-config', async () => {
    const { stderr } = await exec(
      path.join(bins.loki, 'loki'),
      [`-config.file=${path.join(REPO, 'loki/loki.yaml')}`, '-config.expand-env=true', '-verify-config'],
      { env: { ...process.env, LOKI_DATA_DIR: tmpdir() } },
    );
    assert.match(stderr, /config is valid/);
  });
});
