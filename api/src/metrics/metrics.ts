import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Prometheus metrics of one App (its own registry, so two Apps in one process don't collide). */
export class Metrics {
  readonly registry = new Registry();
  readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  readonly httpDuration: Histogram<'method' | 'route'>;
  readonly websockets: Gauge;
  readonly mediaEvents: Counter<'type' | 'result'>;

  constructor(poolStats: () => { total: number; idle: number; waiting: number }) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.httpRequests = new Counter({ name: 'telemed_api_http_requests_total', help: 'HTTP requests by route and status', labelNames: ['method', 'route', 'status'], registers });
    this.httpDuration = new Histogram({
      name: 'telemed_api_http_request_duration_seconds',
      help: 'HTTP request latency by route',
      labelNames: ['method', 'route'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.websockets = new Gauge({ name: 'telemed_api_websockets_active', help: 'Open /events WebSocket connections', registers });
    this.mediaEvents = new Counter({ name: 'telemed_api_media_events_total', help: 'Media server events by type and result', labelNames: ['type', 'result'], registers });
    new Gauge({
      name: 'telemed_api_db_pool_connections',
      help: 'Database pool connections by state',
      labelNames: ['state'],
      registers,
      collect() {
        const stats = poolStats();
        this.set({ state: 'total' }, stats.total);
        this.set({ state: 'idle' }, stats.idle);
        this.set({ state: 'waiting' }, stats.waiting);
      },
    });
  }
}
