/**
 * The numbers the alerts compare against, named once: the rules use them and the dashboards draw them as threshold
 * lines, so a panel's red line is exactly where its alert fires.
 */
export const THRESHOLDS = {
  /** HttpErrorRatioHigh: share of 5xx responses. */
  httpErrorRatio: 0.05,
  /** HttpLatencyHigh: p99 request duration, seconds. */
  httpLatencyP99: 0.5,
  /** Symptoms and the cache alert stay silent below this request rate (req/s), where one request swings a ratio. */
  minRequestRate: 0.05,
  /** CacheHitRatioLow: hits over look-ups. */
  cacheHitRatio: 0.2,
  /** DatabasePoolSaturated: requests waiting for a pool connection. */
  poolPendingRequests: 0,
  /** DeadLetterQueueNotEmpty: messages parked in a dead-letter queue. */
  deadLetters: 0,
  /** OutboxLagHigh: age of the oldest unpublished outbox event, seconds. */
  outboxLag: 60,
  /** QueueBacklogGrowing: messages ready in a main queue. */
  queueBacklog: 100,
  /** EventLoopLagHigh: p99 event-loop delay, seconds. */
  eventLoopLagP99: 0.2,
  /** ProcessMemoryNearLimit: heap used over V8's heap limit. */
  heapUsedRatio: 0.85,
  /** CollectorQueueFilling: exporter queue size over capacity. */
  collectorQueueRatio: 0.5,
} as const;
