import { QueryVariableBuilder, RowBuilder, VariableRefresh } from '@grafana/grafana-foundation-sdk/dashboard';
import { THRESHOLDS } from '@lookout/alerts';
import { metrics } from '@lookout/telemetry/contract';
import { DS, lookoutDashboard, prom, serviceLink, stat, thresholdLine, thresholds, timeseries, UP_DOWN } from '../panels.js';
import { orZero, outcome, quantile, rate, ratio } from '../promql.js';

const m = metrics;
const POSTGRES = 'job="postgres"';
const PG_DB = `${POSTGRES}, datname=~"$datname"`;
const REDIS = 'job="redis"';
const RABBITMQ = 'job="rabbitmq"';
const DB_OP = m.dbClientOperationDuration.name;
const POOL = 'job, db_client_connection_pool_name';
const POOL_LEGEND = '{{job}} {{db_client_connection_pool_name}}';
/** The order topology's dead-letter queues (shop-contracts: `<queue>.dlq`). */
const DLQ = 'messaging_destination_name=~".+\\\\.dlq"';

const poolPending = THRESHOLDS.poolPendingRequests;
const deadLetters = THRESHOLDS.deadLetters;

/** What each server-side exporter reports about reaching its server. */
const SERVERS = [
  { name: 'Postgres', expr: `min(pg_up{${POSTGRES}})`, what: 'pg_up: whether postgres-exporter could query the server at its last scrape' },
  { name: 'Redis', expr: `min(redis_up{${REDIS}})`, what: 'redis_up: whether redis-exporter could reach the server at its last scrape' },
  { name: 'RabbitMQ', expr: `min(up{${RABBITMQ}})`, what: 'up: whether Prometheus could scrape the broker\'s own metrics endpoint' },
] as const;

/** RabbitMQ's node-wide message counters (all protocols). */
const BROKER_FLOWS = [
  ['received', 'published to the broker'],
  ['confirmed', 'confirmed to publishers (the outbox relay waits for these)'],
  ['delivered', 'delivered to consumers'],
  ['acknowledged', 'acknowledged by consumers'],
] as const;

/**
 * Postgres, Redis and RabbitMQ from both sides: what the services see (pools, query latency and errors, cache hits,
 * messages published and consumed, the outbox) next to what the servers report through their exporters.
 */
export function dependenciesDashboard() {
  const builder = lookoutDashboard({
    uid: 'dependencies',
    title: 'Lookout / Dependencies',
    description:
      'Postgres, Redis and RabbitMQ as the services see them (connection pools, query latency, cache hits, messages, the outbox) and as the servers report themselves (postgres-exporter, redis-exporter, rabbitmq_prometheus).',
    tags: ['dependencies', 'postgres', 'redis', 'rabbitmq'],
    signals: ['prometheus'],
  }).withVariable(
    new QueryVariableBuilder('datname')
      .label('Database')
      .description('Postgres databases for the server-side panels (template databases left out).')
      .datasource(DS.prometheus)
      .query(`label_values(pg_database_size_bytes{${POSTGRES}, datname!~"template.*"}, datname)`)
      .refresh(VariableRefresh.OnTimeRangeChanged)
      .multi(true)
      .includeAll(true)
      .current({ selected: true, text: ['All'], value: ['$__all'] }),
  );

  builder.withRow(new RowBuilder('Reachability'));
  builder.withPanel(
    timeseries(
      {
        title: 'Dependencies reachable from each service',
        unit: 'none',
        span: 12,
        description:
          'Which service cannot reach which dependency? 1 while the service\'s background health check (every 10 s, the same as /readyz) reaches it, 0 while it does not. A 0 here pages as PostgresUnreachable, BrokerUnreachable or RedisUnreachable.',
      },
      prom(`min by (job, dependency_name) (${m.dependencyUp.name})`, '{{job}} → {{dependency_name}}'),
    )
      .min(0)
      .max(1)
      .dataLinks([serviceLink()]),
  );
  for (const server of SERVERS) {
    builder.withPanel(
      stat(
        {
          title: `${server.name} server`,
          unit: 'none',
          height: 8,
          description: `Is ${server.name} itself up, or only unreachable from the services? ${server.what}.`,
        },
        prom(server.expr, server.name),
      ).mappings(UP_DOWN),
    );
  }

  builder.withRow(new RowBuilder('Postgres: the services\' connection pools and queries'));
  builder.withPanel(
    timeseries(
      {
        title: 'Pool connections: used, idle and max',
        unit: 'short',
        description:
          'Is a service\'s pool exhausted? Connections in use and idle per pool, against the most the pool may open. Used at max with requests waiting means the pool is too small or statements are slow.',
      },
      prom(`sum by (${POOL}, db_client_connection_state) (${m.dbClientConnectionCount.name})`, `${POOL_LEGEND} {{db_client_connection_state}}`),
      prom(`sum by (${POOL}) (${m.dbClientConnectionMax.name})`, `${POOL_LEGEND} max`),
    ),
  );
  builder.withPanel(
    thresholdLine(
      timeseries(
        {
          title: 'Requests waiting for a connection',
          unit: 'short',
          description: `Are requests queueing for a Postgres connection (pool saturation)? Anything above ${poolPending} for 5 minutes fires DatabasePoolSaturated (red from the first waiting request).`,
        },
        prom(`sum by (${POOL}) (${m.dbClientConnectionPendingRequests.name})`, POOL_LEGEND),
      ),
      // A count: the first value the alert's "> N" counts is N + 1.
      poolPending + 1,
    ),
  );
  builder.withPanel(
    timeseries(
      {
        title: 'Query rate by operation',
        unit: 'ops',
        description: 'How much does each service ask of Postgres, and did that change? Database operations per second by logical operation name.',
      },
      prom(`sum by (job, db_operation_name) (${rate(`${DB_OP}_count`)})`, '{{job}} {{db_operation_name}}'),
    ),
  );
  builder.withPanel(
    timeseries(
      {
        title: 'Query duration p99 by operation',
        unit: 's',
        description:
          'Which statement got slow? 99th percentile of database operation duration per service and operation, as the client measures it (pool wait excluded, network included). Exemplars open the trace of a slow one.',
      },
      prom(quantile(0.99, DB_OP, ['job', 'db_operation_name']), '{{job}} {{db_operation_name}}', { exemplar: true }),
    ),
  );
  builder.withPanel(
    timeseries(
      {
        title: 'Query errors by SQLSTATE',
        unit: 'ops',
        description:
          'Are statements failing, and why? Failed operations per second by error_type: the SQLSTATE (40P01 deadlock, 57014 statement timeout, 53300 too many connections, …) or _OTHER for connection errors. 0 when none fail.',
      },
      prom(orZero(`sum by (job, error_type) (${rate(`${DB_OP}_count{error_type!=""}`)})`, `sum by (job) (${rate(`${DB_OP}_count`)})`), '{{job}} {{error_type}}'),
    ),
  );
  builder.withPanel(
    timeseries(
      {
        title: 'Pool utilisation',
        unit: 'percentunit',
        description: 'How close is each pool to its limit? Connections in use divided by the pool\'s maximum.',
      },
      prom(
        ratio(`sum by (${POOL}) (${m.dbClientConnectionCount.name}{db_client_connection_state="used"})`, `sum by (${POOL}) (${m.dbClientConnectionMax.name})`),
        POOL_LEGEND,
      ),
    )
      .min(0)
      .max(1),
  );

  builder.withRow(new RowBuilder('Postgres: the server'));
  builder.withPanel(
    timeseries(
      {
        title: 'Server connections by state',
        unit: 'short',
        description:
          'Is the server running out of connections, or are they stuck "idle in transaction"? Backends by state in the selected databases, against max_connections.',
      },
      prom(`sum by (state) (pg_stat_activity_count{${PG_DB}})`, '{{state}}'),
      prom(`max(pg_settings_max_connections{${POSTGRES}})`, 'max_connections'),
    ),
  );
  builder.withPanel(
    timeseries(
      {
        title: 'Transactions committed per second',
        unit: 'ops',
        description: 'Is the database doing work, and as much as usual? Commits per second per database.',
      },
      prom(`sum by (datname) (${rate(`pg_stat_database_xact_commit{${PG_DB}}`)})`, '{{datname}}'),
    ),
  );
  builder.withPanel(
    timeseries(
      {
        title: 'Rollbacks and deadlocks per second',
        unit: 'ops',
        description: 'Are transactions failing on the server? Rollbacks (failed statements, cancelled requests) and detected deadlocks per second per database.',
      },
      prom(`sum by (datname) (${rate(`pg_stat_database_xact_rollback{${PG_DB}}`)})`, '{{datname}} rollbacks'),
      prom(`sum by (datname) (${rate(`pg_stat_database_deadlocks{${PG_DB}}`)})`, '{{datname}} deadlocks'),
    ),
  );
  builder.withPanel(
    timeseries(
      {
        title: 'Buffer cache hit ratio',
        unit: 'percentunit',
        description:
          'Do reads come from memory or from disk? Blocks found in shared buffers out of all blocks read, per database; a drop means the working set no longer fits and queries wait on I/O.',
      },
      prom(
        ratio(
          `sum by (datname) (${rate(`pg_stat_database_blks_hit{${PG_DB}}`)})`,
          `sum by (datname) (${rate(`pg_stat_database_blks_hit{${PG_DB}}`)} + ${rate(`pg_stat_database_blks_read{${PG_DB}}`)})`,
        ),
        '{{datname}}',
      ),
    ).max(1),
  );
  builder.withPanel(
    timeseries(
      { title: 'Database size', unit: 'bytes', description: 'Is a database growing unexpectedly (a leaking outbox, missing clean-up) or near the disk\'s limit? Size on disk per database.' },
      prom(`sum by (datname) (pg_database_size_bytes{${PG_DB}})`, '{{datname}}'),
    ),
  );
  builder.withPanel(
    timeseries(
      { title: 'Locks by mode', unit: 'short', description: 'Are statements blocking each other? Locks held or awaited in the selected databases, by lock mode; a climb in exclusive modes precedes lock waits and deadlocks.' },
      prom(`sum by (mode) (pg_locks_count{${PG_DB}})`, '{{mode}}'),
    ),
  );

  builder.withRow(new RowBuilder('Redis'));
  builder.withPanel(
    thresholdLine(
      timeseries(
        {
          title: 'Cache hit ratio',
          unit: 'percentunit',
          description: `Does the catalog cache still absorb reads? Look-ups answered from Redis out of all look-ups per cache; under ${THRESHOLDS.cacheHitRatio * 100}% for 5 minutes fires CacheHitRatioLow (Postgres takes the load). The server line counts every client of Redis, the gateway's rate limiter included.`,
        },
        prom(ratio(`sum by (job, cache_name) (${rate(`${m.cacheRequests.name}{cache_result="hit"}`)})`, `sum by (job, cache_name) (${rate(m.cacheRequests.name)})`), '{{job}} {{cache_name}}'),
        prom(ratio(`sum(${rate(`redis_keyspace_hits_total{${REDIS}}`)})`, `sum(${rate(`redis_keyspace_hits_total{${REDIS}}`)}) + sum(${rate(`redis_keyspace_misses_total{${REDIS}}`)})`), 'server keyspace (all clients)'),
      ).max(1),
      THRESHOLDS.cacheHitRatio,
      'below',
    ),
  );
  builder.withPanel(
    timeseries(
      {
        title: 'Cache look-ups by result',
        unit: 'ops',
        description:
          'Why is the hit ratio low? Look-ups per second by result: miss (not cached or expired), error (Redis unreachable, answered from Postgres); coalesced misses waited for a load already in flight.',
      },
      prom(`sum by (job, cache_name, cache_result) (${rate(m.cacheRequests.name)})`, '{{job}} {{cache_name}} {{cache_result}}'),
      prom(`sum by (job, cache_name) (${rate(m.cacheCoalescedRequests.name)})`, '{{job}} {{cache_name}} coalesced'),
    ),
  );
  builder.withPanel(
    timeseries(
      {
        title: 'Memory used vs maxmemory',
        unit: 'bytes',
        description: 'Is Redis full and about to evict? Memory used against maxmemory (0 means no limit: Redis grows until the host runs out).',
      },
      prom(`sum(redis_memory_used_bytes{${REDIS}})`, 'used'),
      prom(`sum(redis_memory_max_bytes{${REDIS}})`, 'maxmemory'),
    ),
  );
  builder.withPanel(
    timeseries(
      { title: 'Keys evicted and expired', unit: 'ops', description: 'Are cached entries pushed out by memory pressure (evicted) rather than by their TTL (expired)? Keys per second.' },
      prom(`sum(${rate(`redis_evicted_keys_total{${REDIS}}`)})`, 'evicted'),
      prom(`sum(${rate(`redis_expired_keys_total{${REDIS}}`)})`, 'expired'),
    ),
  );
  builder.withPanel(
    timeseries(
      { title: 'Connected clients', unit: 'short', description: 'Did the services lose or leak their Redis connections? Client connections open on the server.' },
      prom(`sum(redis_connected_clients{${REDIS}})`, 'clients'),
    ),
  );
  builder.withPanel(
    timeseries(
      { title: 'Commands per second', unit: 'ops', description: 'How busy is Redis, and with what? Commands processed per second, in total and by command.' },
      prom(`sum(${rate(`redis_commands_processed_total{${REDIS}}`)})`, 'all'),
      prom(`sum by (cmd) (${rate(`redis_commands_total{${REDIS}}`)})`, '{{cmd}}'),
    ),
  );
  builder.withPanel(
    timeseries(
      {
        title: 'Average command latency by command',
        unit: 's',
        description: 'Is Redis itself slow (a blocking command, swapping), or only the network to it? Server-side time per command, by command.',
      },
      prom(ratio(`sum by (cmd) (${rate(`redis_commands_duration_seconds_total{${REDIS}}`)})`, `sum by (cmd) (${rate(`redis_commands_total{${REDIS}}`)})`), '{{cmd}}'),
    ),
  );

  builder.withRow(new RowBuilder('RabbitMQ'));
  builder.withPanel(
    thresholdLine(
      timeseries(
        {
          title: 'Queue depth: ready and unacknowledged',
          unit: 'short',
          description: `Are messages piling up, and where? Ready messages wait for a consumer, unacknowledged ones are being processed; per queue, the retry and dead-letter queues included. A main queue over ${THRESHOLDS.queueBacklog} and growing for 10 minutes fires QueueBacklogGrowing.`,
        },
        ...(['ready', 'unacked'] as const).map((state) => prom(`sum by (queue) (rabbitmq_queue_messages_${state}{${RABBITMQ}})`, `{{queue}} ${state}`)),
      ),
      THRESHOLDS.queueBacklog,
    ),
  );
  builder.withPanel(
    timeseries(
      {
        title: 'Broker message rates',
        unit: 'ops',
        description: `Does the broker move messages? Node-wide messages per second ${BROKER_FLOWS.map(([flow, what]) => `${flow}: ${what}`).join('; ')}. Published but not delivered means no consumer; delivered but not acknowledged means the consumer is stuck.`,
      },
      ...BROKER_FLOWS.map(([flow]) => prom(`sum(${rate(`rabbitmq_global_messages_${flow}_total{${RABBITMQ}}`)})`, flow)),
    ),
  );
  builder.withPanel(
    timeseries(
      { title: 'Consumers per queue', unit: 'short', description: 'Is anyone consuming? Consumers attached to each queue; 0 on the main queue means fulfillment is down or disconnected (the retry and dead-letter queues have none by design).' },
      prom(`sum by (queue) (rabbitmq_queue_consumers{${RABBITMQ}})`, '{{queue}}'),
    ),
  );
  builder.withPanel(
    timeseries(
      {
        title: 'Messages published and consumed by the services',
        unit: 'ops',
        description:
          'Do the services keep up with each other? Messages per second the orders relay published (broker-confirmed), fulfillment consumed by outcome, sent to the retry queue, and dead-lettered after the last attempt.',
      },
      prom(`sum by (job, messaging_destination_name) (${rate(`${m.messagingClientSentMessages.name}{error_type=""}`)})`, '{{job}} published to {{messaging_destination_name}}'),
      prom(outcome(`sum by (job, messaging_destination_name, error_type) (${rate(m.messagingClientConsumedMessages.name)})`), '{{job}} consumed {{error_type}}'),
      prom(`sum by (job) (${rate(m.messagingRetriedMessages.name)})`, '{{job}} retried'),
      prom(`sum by (job) (${rate(m.messagingDeadLetteredMessages.name)})`, '{{job}} dead-lettered'),
    ).dataLinks([serviceLink()]),
  );
  builder.withPanel(
    thresholdLine(
      timeseries(
        {
          title: 'Queue depth seen by fulfillment',
          unit: 'short',
          span: 6,
          description: `How many messages wait in each queue of the order topology (main, retry, dead-letter), as fulfillment asks the broker? Over ${THRESHOLDS.queueBacklog} and growing on the main queue fires QueueBacklogGrowing.`,
        },
        prom(`max by (messaging_destination_name) (${m.messagingQueueMessages.name})`, '{{messaging_destination_name}}'),
      ),
      THRESHOLDS.queueBacklog,
    ),
  );
  builder.withPanel(
    stat(
      {
        title: 'Dead-lettered messages waiting',
        unit: 'short',
        height: 8,
        description: 'How many orders failed every attempt and wait in the dead-letter queue for someone to look? Any fires DeadLetterQueueNotEmpty.',
      },
      prom(`sum(${m.messagingQueueMessages.name}{${DLQ}})`, 'dead-letter queue'),
    ).thresholds(thresholds([deadLetters + 1, 'red'])),
  );
  builder.withPanel(
    timeseries(
      {
        title: 'Consumer lag and processing time',
        unit: 's',
        span: 6,
        description:
          'Are messages late, and is it the queue or the processing? Lag: age of the latest message when fulfillment received it (publish to consume). Processing: p99 from receipt to acknowledgement, the batched database write included.',
      },
      prom(`max by (job, messaging_destination_name) (${m.messagingConsumerLag.name})`, '{{job}} {{messaging_destination_name}} lag'),
      prom(quantile(0.99, m.messagingProcessDuration.name, ['job', 'messaging_destination_name']), '{{job}} {{messaging_destination_name}} processing p99', { exemplar: true }),
    ),
  );

  builder.withRow(new RowBuilder('Outbox'));
  builder.withPanel(
    thresholdLine(
      timeseries(
        {
          title: 'Outbox lag',
          unit: 's',
          description: `How long have accepted orders waited to be published? Age of the oldest unpublished outbox event (0 when none waits). Over ${THRESHOLDS.outboxLag} s for 2 minutes pages as OutboxLagHigh: the broker is unreachable or the relay is stuck.`,
        },
        prom(`max by (job) (${m.outboxLag.name})`, '{{job}}'),
      ),
      THRESHOLDS.outboxLag,
    ),
  );
  builder.withPanel(
    timeseries(
      { title: 'Outbox events waiting', unit: 'short', description: 'How many accepted orders are not yet published? Events waiting in the outbox; it should drain to near 0 between relay runs.' },
      prom(`max by (job) (${m.outboxPendingMessages.name})`, '{{job}}'),
    ),
  );
  builder.withPanel(
    timeseries(
      {
        title: 'Relay publishes by outcome',
        unit: 'ops',
        description: 'Does the broker confirm what the relay publishes? Messages per second by error_type: ok when confirmed, otherwise why not (they stay in the outbox and are retried).',
      },
      prom(outcome(`sum by (job, messaging_destination_name, error_type) (${rate(m.messagingClientSentMessages.name)})`), '{{job}} {{messaging_destination_name}} {{error_type}}'),
    ).dataLinks([serviceLink()]),
  );

  return builder;
}
