import type { Kysely, Transaction } from 'kysely';
import type { MediaRevocation } from './account/media-revocation.js';
import type { AuditWriter } from './audit/audit-writer.js';
import type { ApiConfig } from './config.js';
import type { CallService } from './call/call.service.js';
import type { Encryptor } from './crypto/encryption.js';
import type { Database } from './db/database.js';
import type { EventService } from './events/event.service.js';
import type { Outbox } from './events/outbox.js';
import type { SessionGuard } from './auth/session-guard.js';
import type { RateLimiter } from './http/rate-limit.js';
import type { Logger } from './logger.js';
import type { MediaPlacement } from './media-node/media-placement.js';
import type { MediaRoomClient } from './media-node/media-room.client.js';
import type { MessageService } from './message/message.service.js';
import type { Metrics } from './metrics/metrics.js';
import type { NotificationService } from './notification/notification.service.js';
import type { PresenceService } from './presence/presence.service.js';
import type { RecordingService } from './recording/recording.service.js';
import type { WebhookDispatcher } from './webhook/webhook-dispatcher.js';
import type { WebhookService } from './webhook/webhook.service.js';

/** What controllers work with: the database and the services, built once per App. */
export interface AppContext {
  config: ApiConfig;
  logger: Logger;
  db: Kysely<Database>;
  encryptor: Encryptor;
  events: EventService;
  presence: PresenceService;
  calls: CallService;
  /** Which media node a room lives on (the Redis registry), or MEDIA_PUBLIC_URL's one node. */
  placement: MediaPlacement;
  messages: MessageService;
  /** Call recording with consent (off unless ENABLE_CALL_RECORDING). */
  recordings: RecordingService;
  metrics: Metrics;
  /** Outbound webhooks: endpoints and delivery rows; the dispatcher sends them. */
  webhooks: WebhookService;
  webhookDispatcher: WebhookDispatcher;
  /** Whether an access token's session is open; revokes sessions (logout, password reset, disabled account). */
  sessions: SessionGuard;
  /** Login attempts per address and e-mail. */
  loginLimiter: RateLimiter;
  /** Login attempts per address, whatever the e-mail: one password tried across many accounts. */
  loginAddressLimiter: RateLimiter;
  messageLimiter: RateLimiter;
  /** Audit rows outside a transaction (inside one, `audit(trx, …)`). */
  auditLog: AuditWriter;
  /** E-mail: the background notifications, and account links sent at once. */
  notifications: NotificationService;
  /** Ends a user's media sessions on the media server (a disabled account). */
  mediaRevocation: MediaRevocation;
  /** A live room's participants on the media nodes: list, mute, remove (the server routes). */
  mediaRooms: MediaRoomClient;
  /** True once a stop (SIGTERM) began: /ready answers 503 while in-flight requests finish. */
  draining(): boolean;
  /** Runs `work` in a transaction that also stores the events it queued (one commit), then publishes them. */
  transact<T>(work: (trx: Transaction<Database>, outbox: Outbox) => Promise<T>): Promise<T>;
}
