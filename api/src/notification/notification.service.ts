import nodemailer, { type Transporter } from 'nodemailer';
import type { Kysely } from 'kysely';
import type { ApiConfig } from '../config.js';
import type { Database } from '../db/database.js';
import type { Logger } from '../logger.js';
import { findStaleUnread } from '../message/message.repository.js';
import { claimNotification, findEmail, findUnnotifiedMissedCalls, isStillUnread, releaseNotification } from './notification.repository.js';

type Kind = 'missed_call' | 'unread';

// Only that something is waiting: no names, no message text, nothing about health.
const MAILS: Record<Kind, { subject: string; text: (appUrl: string) => string }> = {
  missed_call: { subject: 'Telemed: you missed a call', text: (url) => `You missed a call on Telemed.\n\nSign in to see it: ${url}\n` },
  unread: { subject: 'Telemed: a message is waiting for you', text: (url) => `You have an unread message on Telemed.\n\nSign in to read it: ${url}\n` },
};

const ACCOUNT_MAILS: Record<'invite' | 'reset', { subject: string; text: (url: string, expiresAt: Date) => string }> = {
  invite: {
    subject: 'Telemed: your account is ready',
    text: (url, expiresAt) =>
      `An account on Telemed was created for you.\n\nChoose your password here (the link works once, until ${expiresAt.toUTCString()}):\n${url}\n`,
  },
  reset: {
    subject: 'Telemed: set a new password',
    text: (url, expiresAt) =>
      `An administrator reset your Telemed password.\n\nChoose a new one here (the link works once, until ${expiresAt.toUTCString()}):\n${url}\n\nIf you did not expect this, tell your clinic.\n`,
  },
};

/**
 * E-mails for missed calls and messages left unread longer than UNREAD_NOTIFY_DELAY, when SMTP is
 * configured. A background loop (never a request) finds what is due, claims it in the database (so
 * several API instances send it once), sends it, and gives the claim back when sending fails so
 * the next round retries.
 */
export class NotificationService {
  readonly #db: Kysely<Database>;
  readonly #config: ApiConfig;
  readonly #logger: Logger;
  readonly #transport: Transporter | undefined;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;

  constructor(db: Kysely<Database>, config: ApiConfig, logger: Logger) {
    this.#db = db;
    this.#config = config;
    this.#logger = logger;
    this.#transport = config.smtpHost
      ? nodemailer.createTransport({
          host: config.smtpHost,
          port: config.smtpPort,
          secure: config.smtpSecure,
          ...(config.smtpUser ? { auth: { user: config.smtpUser, pass: config.smtpPassword ?? '' } } : {}),
          connectionTimeout: 10_000,
          socketTimeout: 20_000,
        })
      : undefined;
  }

  get enabled(): boolean {
    return this.#transport !== undefined;
  }

  start(): void {
    if (!this.#transport || this.#timer) return;
    this.#timer = setInterval(() => {
      this.#running ??= this.runOnce()
        .catch((err: unknown) => this.#logger.warn({ err }, 'notification round failed'))
        .finally(() => (this.#running = undefined));
    }, this.#config.notifyIntervalSeconds * 1000);
    this.#timer.unref();
  }

  /**
   * One round now, once the round in progress (if any) has finished: what it sends has been
   * delivered when this resolves. Tests use it instead of sleeping through timed rounds.
   */
  async runRoundNow(): Promise<void> {
    await this.#running;
    await this.runOnce();
  }

  /** One round: every due notification, each sent at most once. */
  async runOnce(): Promise<void> {
    if (!this.#transport) return;
    for (const due of await findUnnotifiedMissedCalls(this.#db, 50)) await this.#deliver(due.user_id, due.email, 'missed_call', due.call_id);
    const olderThan = new Date(Date.now() - this.#config.unreadNotifyDelaySeconds * 1000);
    for (const due of await findStaleUnread(this.#db, olderThan, 50)) {
      const email = await findEmail(this.#db, due.user_id);
      // Re-checked after claiming: the user may have read it since this round's query ran.
      if (email)
        await this.#deliver(due.user_id, email, 'unread', due.conversation_id, () => isStillUnread(this.#db, due.user_id, due.conversation_id, due.message_id));
    }
  }

  /**
   * Mails a one-time link to set a password (a new account, or a reset an admin started), now:
   * 'sent', 'not-configured' (no SMTP: the admin hands the link over) or 'failed'. The link itself
   * is never logged.
   */
  async sendAccountLink(to: string, link: { purpose: 'invite' | 'reset'; url: string; expiresAt: Date }): Promise<'sent' | 'not-configured' | 'failed'> {
    if (!this.#transport) return 'not-configured';
    const mail = ACCOUNT_MAILS[link.purpose];
    try {
      await this.#transport.sendMail({ from: this.#config.smtpFrom, to, subject: mail.subject, text: mail.text(link.url, link.expiresAt) });
      this.#logger.info({ kind: `account-${link.purpose}` }, 'account link sent');
      return 'sent';
    } catch (err) {
      this.#logger.warn({ err: err instanceof Error ? err.message : String(err), kind: `account-${link.purpose}` }, 'account link mail failed');
      return 'failed';
    }
  }

  async #deliver(userId: string, to: string, kind: Kind, refId: string, stillDue?: () => Promise<boolean>): Promise<void> {
    if (!(await claimNotification(this.#db, userId, kind, refId))) return;
    if (stillDue && !(await stillDue())) {
      await releaseNotification(this.#db, userId, kind, refId);
      return;
    }
    try {
      await this.#transport!.sendMail({ from: this.#config.smtpFrom, to, subject: MAILS[kind].subject, text: MAILS[kind].text(this.#config.appBaseUrl) });
      this.#logger.info({ userId, kind }, 'notification sent');
    } catch (err) {
      await releaseNotification(this.#db, userId, kind, refId);
      this.#logger.warn({ err: err instanceof Error ? err.message : String(err), userId, kind }, 'notification failed; will retry');
    }
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running;
    this.#transport?.close();
  }
}
