import { QueryVariableBuilder, RowBuilder, VariableRefresh } from '@grafana/grafana-foundation-sdk/dashboard';
import { DS, exploreLink, lookoutDashboard, nodeGraph, prom, serviceLink, serviceMap, timeseries } from '../panels.js';
import { orZero, quantile, rate, ratio } from '../promql.js';

/**
 * Series of Tempo's metrics generator (tempo/tempo.yaml: processors service-graphs and span-metrics, default
 * dimensions), remote-written to Prometheus.
 */
const GRAPH = {
  requests: 'traces_service_graph_request_total',
  failed: 'traces_service_graph_request_failed_total',
  server: 'traces_service_graph_request_server_seconds',
  client: 'traces_service_graph_request_client_seconds',
};
const SPANS = { calls: 'traces_spanmetrics_calls_total', latency: 'traces_spanmetrics_latency' };

/** Edges that touch the selected services, from either end. */
const EDGE_SIDES = ['client', 'server'] as const;
const EDGE = 'client, server';
const EDGE_LEGEND = '{{client}} → {{server}}';
/** Spans where work enters a service: requests served and messages consumed. */
const ENTRY = 'span_kind=~"SPAN_KIND_SERVER|SPAN_KIND_CONSUMER", service=~"$service"';

/** `sum by (client, server)` of a rate, for edges with the selected service at either end. */
const edges = (metric: string, extra = '') =>
  EDGE_SIDES.map((side) => `sum by (${EDGE}${extra}) (${rate(`${metric}{${side}=~"$service"}`)})`).join(' or ');

/** Tempo names services in other labels than `job`: `server` and `client` on edges, `service` on span metrics. */
const toService = (label: string) => serviceLink({ service: `\${__field.labels.${label}}` });

/**
 * Who calls whom, from traces: Tempo's service map, then the rate, errors and latency of each edge (service-graph
 * series) and of each service's entry spans (span metrics), all computed by Tempo's metrics generator.
 */
export function serviceGraphDashboard() {
  const builder = lookoutDashboard({
    uid: 'serviceGraph',
    title: 'Lookout / Service graph',
    description:
      'Who calls whom, from traces: Tempo\'s service map, then rate, errors and latency per edge (service-graph series) and per service (span metrics), both from Tempo\'s metrics generator in Prometheus.',
    tags: ['traces', 'service-graph', 'tempo'],
    signals: ['prometheus', 'tempo'],
  }).withVariable(
    new QueryVariableBuilder('service')
      .label('Service')
      .description('Services as Tempo names them (service.name); edges are shown when either end is selected.')
      .datasource(DS.prometheus)
      .query(`label_values(${SPANS.calls}, service)`)
      .refresh(VariableRefresh.OnTimeRangeChanged)
      .multi(true)
      .includeAll(true)
      .current({ selected: true, text: ['All'], value: ['$__all'] }),
  );

  builder.withRow(new RowBuilder('Service map'));
  builder.withPanel(
    nodeGraph(
      {
        title: 'Service map',
        description:
          'Which services call which, and where do errors and latency sit? Nodes are services (average response time, requests per second; the red arc is the share of failed requests), edges are calls between them, all from traces. Click a node for its traces and metrics.',
      },
      serviceMap(),
    ).links([exploreLink('Service map in Explore', 'tempo', { queryType: 'serviceMap' })]),
  );

  builder.withRow(new RowBuilder('Edges'));
  builder.withPanel(
    timeseries(
      {
        title: 'Requests per second by edge',
        unit: 'reqps',
        description: 'Did the traffic between two services change (a retry storm, a caller gone)? Requests per second on each client → server edge, from pairs of client and server spans (messaging included).',
      },
      prom(edges(GRAPH.requests), EDGE_LEGEND),
    ).dataLinks([toService('server')]),
  );
  builder.withPanel(
    timeseries(
      {
        title: 'Error ratio by edge',
        unit: 'percentunit',
        description: 'Which call fails: is the callee erroring, or only one of its callers affected? Share of requests on each edge whose span ended in error; 0 when none fail.',
      },
      prom(ratio(orZero(edges(GRAPH.failed), `(${edges(GRAPH.requests)})`), edges(GRAPH.requests)), EDGE_LEGEND),
    )
      .min(0)
      .dataLinks([toService('server')]),
  );
  builder.withPanel(
    timeseries(
      {
        title: 'Latency p99 by edge: server vs client',
        unit: 's',
        description:
          'Is the callee slow, or the way to it? 99th percentile duration per edge as the server measured it and as the client did; a client much slower than the server is the network, a pool or a queue in between.',
      },
      ...([
        ['server', GRAPH.server],
        ['client', GRAPH.client],
      ] as const).map(([side, histogram]) =>
        prom(
          EDGE_SIDES.map((end) => `(${quantile(0.99, histogram, ['client', 'server'], `${end}=~"$service"`)})`).join(' or '),
          `${EDGE_LEGEND} ${side}`,
          { exemplar: true },
        ),
      ),
    ),
  );

  builder.withRow(new RowBuilder('Services (span metrics)'));
  builder.withPanel(
    timeseries(
      {
        title: 'Requests per second by service',
        unit: 'reqps',
        description: 'How much work enters each service? Server and consumer spans per second (requests served, messages consumed), from traces.',
      },
      prom(`sum by (service) (${rate(`${SPANS.calls}{${ENTRY}}`)})`, '{{service}}'),
    ).dataLinks([toService('service')]),
  );
  builder.withPanel(
    timeseries(
      {
        title: 'Error ratio by service',
        unit: 'percentunit',
        description: 'Which service fails? Share of its server and consumer spans that ended with status error; 0 when none do.',
      },
      prom(
        ratio(
          orZero(`sum by (service) (${rate(`${SPANS.calls}{${ENTRY}, status_code="STATUS_CODE_ERROR"}`)})`, `sum by (service) (${rate(`${SPANS.calls}{${ENTRY}}`)})`),
          `sum by (service) (${rate(`${SPANS.calls}{${ENTRY}}`)})`,
        ),
        '{{service}}',
      ),
    )
      .min(0)
      .dataLinks([toService('service')]),
  );
  builder.withPanel(
    timeseries(
      {
        title: 'Latency p99 by service',
        unit: 's',
        description: 'Which service is slow? 99th percentile duration of its server and consumer spans; exemplars open a slow trace.',
      },
      prom(quantile(0.99, SPANS.latency, ['service'], ENTRY), '{{service}}', { exemplar: true }),
    ).dataLinks([toService('service')]),
  );
  builder.withPanel(
    timeseries(
      {
        title: 'Slowest operations (p99, top 10)',
        unit: 's',
        span: 24,
        description: 'Which endpoint or handler is slow? The ten server and consumer operations (span names) with the highest 99th percentile duration at each point in time.',
      },
      prom(`topk(10, ${quantile(0.99, SPANS.latency, ['service', 'span_name'], ENTRY)})`, '{{service}} {{span_name}}', { exemplar: true }),
    ),
  );

  return builder;
}
