import { QueryVariableBuilder, RowBuilder, VariableRefresh } from '@grafana/grafana-foundation-sdk/dashboard';
import { THRESHOLDS } from '@lookout/alerts';
import { metrics } from '@lookout/telemetry/contract';
import { DS, lookoutDashboard, prom, serviceLink, thresholdLine, timeseries } from '../panels.js';
import { rate, ratio, runtimeMetric } from '../promql.js';

const HEAP_LIMIT = metrics.nodejsHeapSizeLimit.name;
const SEL = 'job=~"$service", instance=~"$instance"';
const BY = 'job, instance';
const LEGEND = '{{job}} {{instance}}';
/** A gauge per selected instance. */
const perInstance = (name: string) => `max by (${BY}) (${runtimeMetric(name)}{${SEL}})`;

/** Event-loop delay statistics besides the alerting p99. */
const LAG_STATS = [
  ['mean', 'nodejs_eventloop_lag_mean_seconds'],
  ['max', 'nodejs_eventloop_lag_max_seconds'],
] as const;

/**
 * The Node.js runtime of each service instance, from prom-client's default metrics: event-loop delay, heap against
 * V8's limit, garbage collection, CPU, memory, handles and file descriptors. Alerts EventLoopLagHigh and
 * ProcessMemoryNearLimit link here with the service selected.
 */
export function runtimeDashboard() {
  const builder = lookoutDashboard({
    uid: 'runtime',
    title: 'Lookout / Node.js runtime',
    description:
      'Event-loop delay, heap against V8\'s limit, garbage collection, CPU, memory, handles and file descriptors of every instance of the selected services (prom-client default metrics).',
    tags: ['runtime', 'nodejs'],
    signals: ['prometheus'],
  })
    .withVariable(
      new QueryVariableBuilder('service')
        .label('Service')
        .datasource(DS.prometheus)
        .query(`label_values(${HEAP_LIMIT}, job)`)
        .refresh(VariableRefresh.OnTimeRangeChanged)
        .multi(true)
        .includeAll(true)
        .current({ selected: true, text: ['All'], value: ['$__all'] }),
    )
    .withVariable(
      new QueryVariableBuilder('instance')
        .label('Instance')
        .datasource(DS.prometheus)
        .query(`label_values(${HEAP_LIMIT}{job=~"$service"}, instance)`)
        .refresh(VariableRefresh.OnTimeRangeChanged)
        .multi(true)
        .includeAll(true)
        .current({ selected: true, text: ['All'], value: ['$__all'] }),
    );

  builder.withRow(new RowBuilder('Event loop'));
  builder.withPanel(
    thresholdLine(
      timeseries(
        {
          title: 'Event-loop delay p99',
          unit: 's',
          span: 12,
          description: `Is an instance too busy to serve requests on time? 99th percentile of the event-loop delay per instance: every request on it waits at least this long. Over ${THRESHOLDS.eventLoopLagP99 * 1000} ms for 5 minutes fires EventLoopLagHigh (CPU-bound work, a synchronous loop, GC pressure).`,
        },
        prom(perInstance('nodejs_eventloop_lag_p99_seconds'), LEGEND),
      ),
      THRESHOLDS.eventLoopLagP99,
    ).dataLinks([serviceLink()]),
  );
  builder.withPanel(
    timeseries(
      {
        title: 'Event-loop delay mean and max',
        unit: 's',
        span: 12,
        description: 'Is the delay constant (mean up: steady overload) or spiky (max up, mean flat: one long synchronous task or GC pause)? Mean and maximum event-loop delay per instance.',
      },
      ...LAG_STATS.map(([stat, name]) => prom(perInstance(name), `${LEGEND} ${stat}`)),
    ),
  );

  builder.withRow(new RowBuilder('Memory'));
  builder.withPanel(
    timeseries(
      {
        title: 'Heap used vs heap limit',
        unit: 'bytes',
        description: 'Is the heap growing towards V8\'s limit (a leak, a large cache)? Heap used and allocated per instance, against the limit at which the process dies out of memory.',
      },
      prom(perInstance('nodejs_heap_size_used_bytes'), `${LEGEND} used`),
      prom(perInstance('nodejs_heap_size_total_bytes'), `${LEGEND} allocated`),
      prom(`max by (${BY}) (${HEAP_LIMIT}{${SEL}})`, `${LEGEND} limit`),
    ),
  );
  builder.withPanel(
    thresholdLine(
      timeseries(
        {
          title: 'Heap used / limit',
          unit: 'percentunit',
          description: `How close is each instance to running out of heap? Heap used divided by V8's heap limit; over ${THRESHOLDS.heapUsedRatio * 100}% for 10 minutes fires ProcessMemoryNearLimit (GC slows everything down first, then the process crashes).`,
        },
        prom(ratio(perInstance('nodejs_heap_size_used_bytes'), `max by (${BY}) (${HEAP_LIMIT}{${SEL}})`), LEGEND),
      ),
      THRESHOLDS.heapUsedRatio,
    )
      .min(0)
      .max(1),
  );
  builder.withPanel(
    timeseries(
      {
        title: 'Resident and external memory',
        unit: 'bytes',
        description: 'Is memory growing outside the JavaScript heap (buffers, native modules)? Resident set size of the process and memory of C++ objects bound to JavaScript, per instance.',
      },
      prom(perInstance('process_resident_memory_bytes'), `${LEGEND} RSS`),
      prom(perInstance('nodejs_external_memory_bytes'), `${LEGEND} external`),
    ),
  );
  builder.withPanel(
    timeseries(
      {
        title: 'Heap spaces used',
        unit: 'bytes',
        span: 12,
        description: 'Which part of the heap grows? Old space growing steadily is retained objects (a leak); new space churn is short-lived garbage. Summed over the selected instances of each service.',
      },
      prom(`sum by (job, space) (${runtimeMetric('nodejs_heap_space_size_used_bytes')}{${SEL}})`, '{{job}} {{space}}'),
    ),
  );
  builder.withPanel(
    timeseries(
      {
        title: 'Uptime',
        unit: 's',
        span: 12,
        description: 'Did an instance restart (crash, out of memory, deploy)? Time since the process started; a drop to 0 is a restart.',
      },
      prom(`max by (${BY}) (time() - ${runtimeMetric('process_start_time_seconds')}{${SEL}})`, LEGEND),
    ),
  );

  builder.withRow(new RowBuilder('CPU and garbage collection'));
  builder.withPanel(
    timeseries(
      {
        title: 'CPU usage',
        unit: 'percentunit',
        description: 'Is an instance CPU-bound? CPU time (user and system) per second of wall time, per instance: near 1 is one core saturated, which a Node process, single-threaded for JavaScript, cannot exceed by much.',
      },
      prom(`sum by (${BY}) (${rate(`${runtimeMetric('process_cpu_seconds_total')}{${SEL}}`)})`, LEGEND),
    ),
  );
  builder.withPanel(
    timeseries(
      {
        title: 'Time in garbage collection by kind',
        unit: 'percentunit',
        description: 'Is garbage collection eating the event loop? Share of wall time spent collecting, per instance and GC kind (major = mark-sweep-compact pauses, minor = scavenges).',
      },
      prom(`sum by (${BY}, kind) (${rate(`${runtimeMetric('nodejs_gc_duration_seconds')}_sum{${SEL}}`)})`, `${LEGEND} {{kind}}`),
    ),
  );
  builder.withPanel(
    timeseries(
      { title: 'Garbage collections per second by kind', unit: 'ops', description: 'Is the process allocating faster than usual? Collections per second per instance and GC kind.' },
      prom(`sum by (${BY}, kind) (${rate(`${runtimeMetric('nodejs_gc_duration_seconds')}_count{${SEL}}`)})`, `${LEGEND} {{kind}}`),
    ),
  );

  builder.withRow(new RowBuilder('Handles and file descriptors'));
  builder.withPanel(
    timeseries(
      {
        title: 'Active handles and resources',
        unit: 'short',
        description: 'Are sockets, timers or file handles leaking? libuv handles and resources keeping the event loop alive, per instance; a steady climb under steady load is a leak.',
      },
      prom(perInstance('nodejs_active_handles_total'), `${LEGEND} handles`),
      prom(perInstance('nodejs_active_resources_total'), `${LEGEND} resources`),
    ),
  );
  builder.withPanel(
    timeseries(
      { title: 'Active resources by type', unit: 'short', description: 'What leaks? Resources keeping the event loop alive by type (TCPSocketWrap, Timeout, FSReqCallback, …), summed over the selected instances of each service.' },
      prom(`sum by (job, type) (${runtimeMetric('nodejs_active_resources')}{${SEL}})`, '{{job}} {{type}}'),
    ),
  );
  builder.withPanel(
    timeseries(
      {
        title: 'Open file descriptors vs limit',
        unit: 'percentunit',
        description: 'Will the process fail with EMFILE? Open file descriptors (sockets included) divided by the process\'s limit, per instance.',
      },
      prom(ratio(perInstance('process_open_fds'), perInstance('process_max_fds')), LEGEND),
    ).min(0),
  );

  return builder;
}
