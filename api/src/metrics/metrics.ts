import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Why an `/events` socket closed (the `reason` label). */
export type EventsCloseReason = 'client_closed' | 'connection_lost' | 'heartbeat_timeout' | 'token_expired' | 'session_ended' | 'server_error' | 'shutdown';

export interface MetricsOptions {
  /** Pool gauges, read at scrape time. */
  poolStats: () => { total: number; idle: number; waiting: number };
  /** Resolves true when the database answers (asked at scrape time for `telemed_api_db_up`). */
  probeDatabase: () => Promise<boolean>;
}

/** Prometheus metrics of one App (its own registry, so two Apps in one process don't collide). */
export class Metrics {
  readonly registry = new Registry();
  readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  readonly httpDuration: Histogram<'method' | 'route'>;
  readonly websockets: Gauge;
  readonly eventsOpened: Counter;
  readonly eventsClosed: Counter<'reason'>;
  readonly heartbeatTimeouts: Counter;
  readonly eventsGapsFilled: Counter;
  readonly mediaEvents: Counter<'type' | 'result'>;
  readonly queryDuration: Histogram;
  readonly slowQueries: Counter;
  readonly queryErrors: Counter<'kind'>;
  readonly retentionDeleted: Counter<'table'>;
  readonly retentionRuns: Counter<'result'>;
  readonly retentionDuration: Histogram;
  readonly retentionLastRun: Gauge;

  constructor(options: MetricsOptions) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.httpRequests = new Counter({
      name: 'telemed_api_http_requests_total',
      help: 'HTTP requests by route and status',
      labelNames: ['method', 'route', 'status'],
      registers,
    });
    this.httpDuration = new Histogram({
      name: 'telemed_api_http_request_duration_seconds',
      help: 'HTTP request latency by route',
      labelNames: ['method', 'route'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.websockets = new Gauge({ name: 'telemed_api_websockets_active', help: 'Open /events WebSocket connections', registers });
    this.eventsOpened = new Counter({ name: 'telemed_api_events_sockets_opened_total', help: '/events WebSocket connections accepted', registers });
    this.eventsClosed = new Counter({
      name: 'telemed_api_events_sockets_closed_total',
      help: '/events WebSocket connections closed, by reason',
      labelNames: ['reason'],
      registers,
    });
    this.heartbeatTimeouts = new Counter({
      name: 'telemed_api_events_heartbeat_timeouts_total',
      help: '/events sockets dropped because the client stopped answering the heartbeat',
      registers,
    });
    this.eventsGapsFilled = new Counter({
      name: 'telemed_api_events_gaps_filled_total',
      help: 'Live events that reached a socket before an earlier event of the same user (published later by another instance, or lost by the bus): the earlier ones were read from the database first',
      registers,
    });
    // Every reason from the start, so the first drop of a kind shows in rate() and increase().
    for (const reason of [
      'client_closed',
      'connection_lost',
      'heartbeat_timeout',
      'token_expired',
      'session_ended',
      'server_error',
      'shutdown',
    ] satisfies EventsCloseReason[])
      this.eventsClosed.inc({ reason }, 0);
    this.mediaEvents = new Counter({
      name: 'telemed_api_media_events_total',
      help: 'Media server events by type and result',
      labelNames: ['type', 'result'],
      registers,
    });
    this.queryDuration = new Histogram({
      name: 'telemed_api_db_query_duration_seconds',
      help: 'Database query time (every query; alerts look at the buckets past the slow-query threshold)',
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.slowQueries = new Counter({
      name: 'telemed_api_db_slow_queries_total',
      help: 'Queries slower than SLOW_QUERY_MS (each is also logged with its SQL text)',
      registers,
    });
    this.queryErrors = new Counter({
      name: 'telemed_api_db_query_errors_total',
      help: 'Failed queries: kind "unavailable" when the database could not serve it (connection, resources, server error), "query" otherwise (constraint, syntax)',
      labelNames: ['kind'],
      registers,
    });
    for (const kind of ['unavailable', 'query']) this.queryErrors.inc({ kind }, 0);
    this.retentionDeleted = new Counter({
      name: 'telemed_api_retention_deleted_rows_total',
      help: 'Rows deleted by the retention sweep, by table (the audit log is never among them)',
      labelNames: ['table'],
      registers,
    });
    this.retentionRuns = new Counter({
      name: 'telemed_api_retention_runs_total',
      help: 'Retention sweeps on this instance: "ok", "failed", or "skipped" (another instance held the lock)',
      labelNames: ['result'],
      registers,
    });
    for (const result of ['ok', 'failed', 'skipped']) this.retentionRuns.inc({ result }, 0);
    this.retentionDuration = new Histogram({
      name: 'telemed_api_retention_run_duration_seconds',
      help: 'Duration of retention sweeps that ran',
      buckets: [0.1, 1, 10, 60, 300, 1800],
      registers,
    });
    this.retentionLastRun = new Gauge({
      name: 'telemed_api_retention_last_success_timestamp_seconds',
      help: 'When this instance last finished a retention sweep (Unix time; 0 before the first)',
      registers,
    });
    new Gauge({
      name: 'telemed_api_db_pool_connections',
      help: 'Database pool connections by state ("waiting": queries queued for a free connection)',
      labelNames: ['state'],
      registers,
      collect() {
        const stats = options.poolStats();
        this.set({ state: 'total' }, stats.total);
        this.set({ state: 'idle' }, stats.idle);
        this.set({ state: 'waiting' }, stats.waiting);
      },
    });
    new Gauge({
      name: 'telemed_api_db_up',
      help: '1 when the database answered a probe query at scrape time, 0 otherwise',
      registers,
      async collect() {
        this.set((await options.probeDatabase()) ? 1 : 0);
      },
    });
  }

  /** One finished query (Kysely's log hook). */
  observeQuery(seconds: number, slow: boolean, error?: unknown): void {
    this.queryDuration.observe(seconds);
    if (slow) this.slowQueries.inc();
    if (error !== undefined) this.queryErrors.inc({ kind: isUnavailable(error) ? 'unavailable' : 'query' });
  }
}

/**
 * True when the database could not serve the query at all, as opposed to refusing this query:
 * no SQLSTATE (a socket error, a pool timeout) or a class that means the server is in trouble
 * (08 connection, 53 resources, 57 operator intervention, 58 system, XX internal).
 */
export function isUnavailable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !/^[0-9A-Z]{5}$/.test(code)) return true;
  return ['08', '53', '57', '58', 'XX'].includes(code.slice(0, 2));
}
