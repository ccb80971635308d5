import type { AppEventMap, AppEventType } from '@telemed/sdk';
import type { EventService } from './event.service.js';

interface Pending {
  userIds: string[];
  type: AppEventType;
  payload: AppEventMap[AppEventType];
}

/** Events collected inside a transaction and sent only after it commits. */
export class Outbox {
  readonly #pending: Pending[] = [];
  readonly #afterCommit: Array<() => Promise<void>> = [];

  add<K extends AppEventType>(userIds: Iterable<string>, type: K, payload: AppEventMap[K]): void {
    this.#pending.push({ userIds: [...userIds], type, payload });
  }

  /** Work that must wait for the commit (presence changes, notifications). */
  afterCommit(task: () => Promise<void>): void {
    this.#afterCommit.push(task);
  }

  async flush(events: EventService): Promise<void> {
    for (const item of this.#pending.splice(0)) await events.emit(item.userIds, item.type, item.payload);
    for (const task of this.#afterCommit.splice(0)) await task();
  }
}
