import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import Koa from 'koa';
import serve from 'koa-static';
import { sql, type Kysely } from 'kysely';
import { registerAccountRoutes } from './account/account.controller.js';
import { registerCareRoutes } from './account/care.controller.js';
import { MediaRevocation } from './account/media-revocation.js';
import { registerApiKeyRoutes } from './api-key/api-key.controller.js';
import { authenticateApiKey } from './api-key/api-key.service.js';
import { registerAttachmentRoutes } from './attachment/attachment.controller.js';
import { AttachmentStores } from './attachment/attachment-stores.js';
import { LocalDiskStorage } from './attachment/attachment.storage.js';
import { S3Storage } from './attachment/s3-storage.js';
import { registerAuditRoutes } from './audit/audit.controller.js';
import { AuditWriter } from './audit/audit-writer.js';
import { bearerToken, verifyAccessToken } from './auth/access-token.js';
import { registerAuthRoutes } from './auth/auth.controller.js';
import { SessionGuard } from './auth/session-guard.js';
import { registerCallRoutes } from './call/call.controller.js';
import { registerServerCallRoutes } from './call/call-server.controller.js';
import { RingTimeoutSweeper } from './call/ring-timeout-sweeper.js';
import { CallService } from './call/call.service.js';
import { parseConfig, type ApiConfig, type ApiOptions } from './config.js';
import { registerConversationRoutes } from './conversation/conversation.controller.js';
import { Encryptor } from './crypto/encryption.js';
import { openDatabase, type DatabaseHandle } from './db/connect.js';
import type { Database } from './db/database.js';
import { migrateToLatest } from './db/migrate.js';
import { seedDemo } from './db/seed.js';
import { InProcessBus, RedisBus, type EventBus } from './events/event-bus.js';
import { EventService } from './events/event.service.js';
import { EventsGateway } from './events/events.gateway.js';
import { Outbox } from './events/outbox.js';
import { registerHealthRoutes } from './health/health.controller.js';
import { registerOpsRoutes } from './health/ops.controller.js';
import { corsMiddleware } from './http/cors.js';
import { errorCodeFor, errorMiddleware } from './http/errors.js';
import { guardHttpServer, isLoopbackHost } from '@telemed/server-kit';
import { RateLimiter } from './http/rate-limit.js';
import { requestIdFrom } from './http/request-id.js';
import { securityHeaders } from './http/security-headers.js';
import { RouteRegistry } from './http/route.js';
import { TrustedProxies } from './http/trusted-proxies.js';
import { createLogger, requestContext, type Logger } from './logger.js';
import { registerMediaEventRoutes } from './media-events/media-events.controller.js';
import { MessageService } from './message/message.service.js';
import { NotificationService } from './notification/notification.service.js';
import { Metrics } from './metrics/metrics.js';
import { registerPresenceRoutes } from './presence/presence.controller.js';
import { ConnectionRegistry } from './presence/connection-registry.js';
import { connectRedis, type RedisClient } from './redis.js';
import { MediaPlacement } from './media-node/media-placement.js';
import { MediaRoomClient } from './media-node/media-room.client.js';
import { registerRoomServerRoutes } from './media-node/room-server.controller.js';
import { registerMediaNodeRoutes } from './media-node/media-node.controller.js';
import { PresenceService } from './presence/presence.service.js';
import { registerQualityRoutes } from './quality/quality.controller.js';
import { RetentionService, retentionPolicy, type RetentionRun } from './retention/retention.service.js';
import { MediaRecordingClient } from './recording/media-recording.client.js';
import { registerRecordingRoutes } from './recording/recording.controller.js';
import { RecordingService } from './recording/recording.service.js';
import { devRoomTokenRouter } from './room-token/dev-room-token.controller.js';
import type { AppContext } from './app-context.js';
import { registerWebhookRoutes } from './webhook/webhook.controller.js';
import { WebhookDispatcher } from './webhook/webhook-dispatcher.js';
import { WebhookService } from './webhook/webhook.service.js';

/** Health probes: logged at debug while they succeed. */
const PROBE_PATHS = new Set(['/live', '/ready', '/health']);

/** Static files of the development call page and tools (demo-app/public/dev/). */
const DEV_PAGES = /^\/dev\//;

/** The API process: a Koa app with start()/stop(). */
export class App {
  readonly config: ApiConfig;
  readonly logger: Logger;
  #database: DatabaseHandle | undefined;
  #bus: EventBus | undefined;
  #gateway: EventsGateway | undefined;
  #context: AppContext | undefined;
  #routes: RouteRegistry | undefined;
  #server: http.Server | undefined;
  #sweeper: RingTimeoutSweeper | undefined;
  #notifications: NotificationService | undefined;
  #retention: RetentionService | undefined;
  #auditLog: AuditWriter | undefined;
  #storage: AttachmentStores | undefined;
  #recordings: RecordingService | undefined;
  #webhookDispatcher: WebhookDispatcher | undefined;
  /** Commands (rate limits, presence registry); the bus has its own pub/sub connections. */
  #redis: RedisClient | undefined;
  #placement: MediaPlacement | undefined;
  #registry: ConnectionRegistry | undefined;
  /** HTTP requests received and not yet answered (drain() waits for them). */
  #inflight = 0;
  #draining = false;
  #onIdle: (() => void) | undefined;

  constructor(options: ApiOptions, logger?: Logger) {
    this.config = parseConfig(options);
    this.logger = logger ?? createLogger(this.config.logLevel);
  }

  /** The database (for tests and tools); only after start(). */
  get db(): Kysely<Database> {
    if (!this.#context) throw new Error('the API is not started');
    return this.#context.db;
  }

  /** Session checks and revocation (account management calls revokeUserSessions); only after start(). */
  get sessions(): SessionGuard {
    if (!this.#context) throw new Error('the API is not started');
    return this.#context.sessions;
  }

  /** Presence changes (for tests and tools); only after start(). */
  get presence(): PresenceService {
    if (!this.#context) throw new Error('the API is not started');
    return this.#context.presence;
  }

  /** This instance's metrics (for tests and tools); only after start(). */
  get metrics(): Metrics {
    if (!this.#context) throw new Error('the API is not started');
    return this.#context.metrics;
  }

  get databaseKind(): 'postgres' | 'pglite' {
    if (!this.#database) throw new Error('the API is not started');
    return this.#database.kind;
  }

  /** Every route spec (the OpenAPI document and the access tests read it). */
  get routes(): RouteRegistry {
    if (!this.#routes) throw new Error('the API is not started');
    return this.#routes;
  }

  /** One e-mail notification round now, after the one in progress (tests and tools; see NotificationService). */
  async runNotificationRound(): Promise<void> {
    if (!this.#notifications) throw new Error('the API is not started');
    await this.#notifications.runRoundNow();
  }

  /** Sends the due webhook deliveries now and waits until none is due (tests and tools). */
  async runWebhooksNow(): Promise<void> {
    if (!this.#webhookDispatcher) throw new Error('the API is not started');
    await this.#webhookDispatcher.runNow();
  }

  /** One retention sweep now, as if at `at` (tests and tools; see RetentionService). */
  async runRetentionNow(at?: Date): Promise<RetentionRun> {
    if (!this.#retention) throw new Error('the API is not started');
    return this.#retention.runNow(at);
  }

  get port(): number {
    const address = this.#server?.address();
    if (!address || typeof address !== 'object') throw new Error('the API is not listening');
    return address.port;
  }

  async start(): Promise<void> {
    const { config, logger } = this;
    const encryptor = new Encryptor(config.encryptionKey);
    const metrics = new Metrics({
      poolStats: () => this.#database?.poolStats() ?? { total: 0, idle: 0, waiting: 0 },
      probeDatabase: async () => {
        const db = this.#database?.db;
        if (!db) return false;
        const timeout = new Promise<boolean>((resolve) => setTimeout(resolve, 2000, false).unref());
        return Promise.race([
          sql`select 1`.execute(db).then(
            () => true,
            () => false,
          ),
          timeout,
        ]);
      },
    });
    const database = await openDatabase({
      url: config.databaseUrl,
      dir: config.databaseDir,
      poolSize: config.databasePoolSize,
      template: config.pgliteTemplate,
      logger: logger.child({ component: 'db' }),
      slowQueryMs: config.slowQueryMs,
      onQuery: ({ seconds, slow, error }) => metrics.observeQuery(seconds, slow, error),
      onConnectError: () => metrics.queryErrors.inc({ kind: 'unavailable' }),
    });
    this.#database = database;
    let storage: AttachmentStores;
    try {
      const applied = await migrateToLatest(database.db);
      if (applied.length > 0) logger.info({ migrations: applied, database: database.kind }, 'migrations applied');
      const seed = config.seedDemo ?? config.mode === 'development';
      if (seed && config.mode !== 'production' && (await seedDemo(database.db, encryptor))) logger.info('demo users seeded');
      storage = this.#storage = await this.#openStorage(encryptor);
      this.#bus = config.redisUrl ? await RedisBus.connect(config.redisUrl, logger.child({ component: 'redis' })) : new InProcessBus();
      if (config.redisUrl) {
        this.#redis = await connectRedis(config.redisUrl, logger.child({ component: 'redis' }), { failFastWhenDown: true });
      } else {
        // One instance: no socket survives a restart, so nobody is connected yet.
        await database.db.updateTable('presence').set({ connections: 0, status: 'offline' }).where('connections', '>', 0).execute();
      }
    } catch (error) {
      await this.#closeResources();
      throw error;
    }
    const db = database.db;
    const events = new EventService(db, encryptor, this.#bus, logger.child({ component: 'events' }));
    const redis = this.#redis;
    const limiter = (name: string, limit: number): RateLimiter =>
      new RateLimiter({ name, limit, windowSeconds: config.rateLimitWindowSeconds, redis, keyPrefix: config.redisKeyPrefix });
    const registry: ConnectionRegistry | undefined =
      redis &&
      new ConnectionRegistry({
        redis,
        keyPrefix: config.redisKeyPrefix,
        ttlSeconds: config.presenceTtlSeconds,
        logger: logger.child({ component: 'presence' }),
        onReaped: async (connections): Promise<void> => presence.adjustConnections(connections, -1),
        onRestored: async (connections): Promise<void> => presence.adjustConnections(connections, 1),
      });
    const presence = new PresenceService(db, events, registry);
    this.#registry = registry;
    const notifications = (this.#notifications = new NotificationService(db, config, logger.child({ component: 'notifications' })));
    const placement = new MediaPlacement({
      redis,
      keyPrefix: config.redisKeyPrefix,
      fallbackUrl: config.mediaPublicUrl,
      roomTtlSeconds: config.roomTokenTtlSeconds * 2,
      logger: logger.child({ component: 'placement' }),
    });
    this.#placement = placement;
    const calls = new CallService({ settings: config, placement, presence, logger: logger.child({ component: 'calls' }) });
    const webhooks = new WebhookService({ encryptor, allowPrivateTargets: config.webhookAllowPrivateTargets });
    const webhookDispatcher = (this.#webhookDispatcher = new WebhookDispatcher({
      db,
      webhooks,
      logger: logger.child({ component: 'webhooks' }),
      allowPrivateTargets: config.webhookAllowPrivateTargets,
      maxAttempts: config.webhookMaxAttempts,
      retryBaseSeconds: config.webhookRetryBaseSeconds,
      retryMaxSeconds: config.webhookRetryMaxSeconds,
      timeoutSeconds: config.webhookTimeoutSeconds,
      pollSeconds: config.webhookPollSeconds,
    }));
    const webhookSink = { enqueue: webhooks.enqueue.bind(webhooks), nudge: () => webhookDispatcher.nudge() };
    const transact: AppContext['transact'] = async (work) => {
      const outbox = new Outbox(webhookSink);
      const result = await db.transaction().execute(async (trx) => {
        const done = await work(trx, outbox);
        await outbox.store(trx, events);
        return done;
      });
      await outbox.flush(events);
      return result;
    };
    const recordings = new RecordingService({
      settings: { enabled: config.enableCallRecording, retentionDays: config.recordingRetentionDays },
      calls,
      storage,
      transact,
      db,
      logger: logger.child({ component: 'recordings' }),
      media: new MediaRecordingClient({ url: config.mediaInternalUrl, secret: config.mediaWebhookSecret }),
    });
    this.#recordings = recordings;
    // Joins, leaves and the end of a call re-run the recording consent rule.
    calls.onCallChanged((call) => recordings.callChanged(call));
    const sessions = new SessionGuard({ db, bus: this.#bus, logger: logger.child({ component: 'sessions' }), ttlMs: config.sessionCheckTtlSeconds * 1000 });
    const context: AppContext = {
      config,
      logger,
      db,
      encryptor,
      events,
      metrics,
      presence,
      placement,
      webhooks,
      webhookDispatcher,
      calls,
      messages: new MessageService(encryptor),
      recordings,
      sessions,
      loginLimiter: limiter('login', config.loginRateLimit),
      loginAddressLimiter: limiter('login-address', config.loginAddressRateLimit),
      messageLimiter: limiter('message', config.messageRateLimit),
      auditLog: (this.#auditLog = new AuditWriter(db)),
      notifications,
      mediaRevocation: new MediaRevocation({
        mediaInternalUrl: config.mediaInternalUrl,
        serviceSecret: config.mediaServiceSecret,
        logger: logger.child({ component: 'accounts' }),
      }),
      mediaRooms: new MediaRoomClient({
        roomNodes: (roomId) => placement.roomNodes(roomId),
        mediaInternalUrl: config.mediaInternalUrl,
        serviceSecret: config.mediaServiceSecret,
        logger: logger.child({ component: 'media-rooms' }),
      }),
      draining: () => this.#draining,
      transact,
    };
    this.#context = context;
    const koa = this.#build(context, storage);
    const server = http.createServer(koa.callback());
    server.on('request', (_req: http.IncomingMessage, res: http.ServerResponse) => {
      this.#inflight++;
      res.once('close', () => {
        if (--this.#inflight === 0) this.#onIdle?.();
      });
    });
    this.#gateway = new EventsGateway({
      accessTokenSecret: config.accessTokenSecret,
      sessions,
      events,
      presence: context.presence,
      metrics,
      heartbeatMs: config.eventsHeartbeatMs,
      logger: logger.child({ component: 'events' }),
    });
    const gateway = this.#gateway;
    guardHttpServer(server, {
      logger: logger.child({ component: 'http' }),
      codeFor: errorCodeFor,
      upgrades: { '/events': (req, socket, head, url) => gateway.handleUpgrade(req, socket, head, url) },
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => resolve());
    });
    this.#server = server;
    await registry?.start();
    this.#sweeper = new RingTimeoutSweeper({
      context,
      logger: logger.child({ component: 'ring-timeouts' }),
      intervalMs: Math.min(1000, Math.max(50, (config.callTimeoutSeconds * 1000) / 4)),
    });
    placement.start();
    this.#sweeper.start();
    notifications.start();
    this.#retention = new RetentionService({
      db,
      policy: retentionPolicy(config),
      intervalSeconds: config.retentionIntervalSeconds,
      batchSize: config.retentionBatchSize,
      metrics,
      logger: logger.child({ component: 'retention' }),
    });
    this.#retention.start();
    recordings.startRetention();
    webhookDispatcher.start();
    logger.info(
      {
        host: config.host,
        port: this.port,
        mode: config.mode,
        database: database.kind,
        bus: config.redisUrl ? 'redis' : 'in-process',
        attachments: config.s3Bucket ? 's3' : 'local disk',
      },
      'api listening',
    );
  }

  /** New files go to S3 when it is configured, else to local disk; local disk stays readable either way. */
  async #openStorage(encryptor: Encryptor): Promise<AttachmentStores> {
    const { config } = this;
    const disk = new LocalDiskStorage(this.#attachmentsDir(), encryptor);
    if (!config.s3Bucket) return new AttachmentStores(disk);
    const s3 = new S3Storage({ ...config, s3Bucket: config.s3Bucket }, encryptor);
    try {
      await s3.check();
    } catch (error) {
      s3.close();
      throw error;
    }
    return new AttachmentStores(s3, [disk]);
  }

  #build(context: AppContext, storage: AttachmentStores): Koa {
    const { config, logger } = this;
    const app = new Koa({ proxy: false });
    const proxies = new TrustedProxies(config.trustedProxies);
    app.use(async (ctx, next) => {
      const started = performance.now();
      // ctx.ip (rate limits, audit log) believes X-Forwarded-For only from TRUSTED_PROXIES.
      ctx.request.ip = proxies.clientIp(ctx.req.socket.remoteAddress, ctx.get('x-forwarded-for'));
      const requestId = requestIdFrom(ctx.get('x-request-id'));
      ctx.state.requestId = requestId;
      ctx.set('x-request-id', requestId);
      // Stopping: each keep-alive connection ends after its current request.
      if (this.#draining) ctx.set('connection', 'close');
      if (ctx.path.startsWith('/api/')) ctx.set('cache-control', 'no-store');
      await requestContext.run({ requestId }, next);
      const seconds = (performance.now() - started) / 1000;
      const route = (ctx as { _matchedRoute?: string })._matchedRoute ?? 'unmatched';
      context.metrics.httpRequests.inc({ method: ctx.method, route, status: String(ctx.status) });
      context.metrics.httpDuration.observe({ method: ctx.method, route }, seconds);
      // The path only: query strings can carry tokens (/events?access_token=…).
      // A proxy's or orchestrator's probe (every second) that succeeds is not worth a line at info.
      const level = PROBE_PATHS.has(ctx.path) && ctx.status < 400 ? 'debug' : 'info';
      logger[level]({ requestId, method: ctx.method, path: ctx.path, status: ctx.status, ms: Math.round(seconds * 1000) }, 'request');
    });
    app.use(securityHeaders({ mediaPublicUrl: config.mediaPublicUrl, mediaOrigins: () => context.placement.mediaOrigins }));
    app.use(corsMiddleware(config.corsOrigins));
    app.use(errorMiddleware(logger));
    const routes = new RouteRegistry(
      async (ctx) => {
        const token = verifyAccessToken(config.accessTokenSecret, bearerToken(ctx.get('authorization')));
        await context.sessions.check(token);
        return token.user;
      },
      (ctx) => authenticateApiKey(context.db, bearerToken(ctx.get('authorization'))),
      (ctx, user, route) => context.auditLog.write(ctx, user.id, 'denied', 'route', route),
    );
    registerApiKeyRoutes(routes, context);
    registerWebhookRoutes(routes, context);
    registerAuthRoutes(routes, context);
    registerCallRoutes(routes, context);
    registerServerCallRoutes(routes, context);
    registerRoomServerRoutes(routes, context);
    registerConversationRoutes(routes, context);
    registerPresenceRoutes(routes, context);
    registerQualityRoutes(routes, context);
    registerMediaEventRoutes(routes, context);
    registerAttachmentRoutes(routes, context, storage);
    registerRecordingRoutes(routes, context, context.recordings);
    registerOpsRoutes(routes, context);
    registerAccountRoutes(routes, context);
    registerCareRoutes(routes, context);
    registerAuditRoutes(routes, context);
    registerMediaNodeRoutes(routes, context);
    registerHealthRoutes(routes, context, {
      startedAt: new Date(),
      setup: { database: this.databaseKind, bus: config.redisUrl ? 'redis' : 'in-process', attachments: config.s3Bucket ? 's3' : 'local disk' },
    });
    this.#routes = routes;
    const routers = [routes.router];
    // Development room tokens: never on an installation other machines can reach.
    if (config.mode !== 'production' && isLoopbackHost(config.host)) {
      routers.push(devRoomTokenRouter({ secret: config.roomTokenSecret, ttlSeconds: config.roomTokenTtlSeconds, placement: context.placement }));
    } else if (config.mode !== 'production') {
      logger.info({ host: config.host }, 'development room tokens are off: the API listens beyond loopback');
    }
    for (const router of routers) app.use(router.routes()).use(router.allowedMethods());
    if (config.staticDir) {
      // The development call page and tools take room tokens from the dev route: not in production.
      if (config.mode === 'production') app.use(async (ctx, next) => (DEV_PAGES.test(ctx.path) ? undefined : next()));
      app.use(serve(config.staticDir, { maxage: 0 }));
    }
    return app;
  }

  #attachmentsDir(): string {
    const { attachmentsDir, databaseDir } = this.config;
    if (attachmentsDir) return attachmentsDir;
    if (databaseDir.startsWith('memory://')) return fs.mkdtempSync(path.join(os.tmpdir(), 'telemed-attachments-'));
    return path.join(path.dirname(path.resolve(databaseDir)), 'attachments');
  }

  /**
   * Runs the ring-timeout sweep now (tests use it instead of waiting for the timer), as if at `at`
   * when given: a test expires a call with a long CALL_TIMEOUT without racing a short one.
   */
  async sweepNow(at?: Date): Promise<void> {
    await this.#sweeper?.sweepNow(at);
  }

  /**
   * The first half of a graceful stop (SIGTERM): /ready answers 503 from now on, and the requests
   * in flight (and any that still arrive) get up to `timeoutMs` to finish. Resolves with how many
   * had not finished; stop() then cuts them.
   */
  async drain(timeoutMs = this.config.drainTimeoutSeconds * 1000): Promise<{ unfinished: number }> {
    this.#draining = true;
    if (this.#inflight > 0) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.#onIdle = resolve;
        timer = setTimeout(resolve, timeoutMs);
      });
      clearTimeout(timer);
      this.#onIdle = undefined;
    }
    return { unfinished: this.#inflight };
  }

  async stop(): Promise<void> {
    await this.#shutdown('clean');
  }

  /**
   * Stops as a crash would (tests): sockets dropped without presence clean-up, the heartbeat simply
   * stops and the Redis connection is cut; the other instances must notice by themselves.
   */
  async abort(): Promise<void> {
    await this.#shutdown('crash');
  }

  async #shutdown(how: 'clean' | 'crash'): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    this.#placement?.close();
    if (how === 'crash') {
      this.#registry?.abort();
      this.#gateway?.abort();
      this.#redis?.destroy();
      this.#redis = undefined;
    } else {
      await this.#gateway?.close();
      await this.#registry?.stop().catch((err: unknown) => this.logger.warn({ err }, 'presence registry stop failed'));
    }
    this.#gateway = undefined;
    this.#registry = undefined;
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    await this.#webhookDispatcher?.close();
    this.#webhookDispatcher = undefined;
    await this.#sweeper?.close();
    this.#sweeper = undefined;
    await this.#notifications?.close();
    this.#notifications = undefined;
    await this.#retention?.close();
    this.#retention = undefined;
    this.#recordings?.close();
    this.#recordings = undefined;
    await this.#auditLog?.close();
    this.#auditLog = undefined;
    this.#context = undefined;
    await this.#closeResources();
  }

  async #closeResources(): Promise<void> {
    await this.#redis?.close().catch(() => undefined);
    this.#redis = undefined;
    this.#storage?.close();
    this.#storage = undefined;
    await this.#bus?.close();
    this.#bus = undefined;
    await this.#database?.close();
    this.#database = undefined;
  }
}
