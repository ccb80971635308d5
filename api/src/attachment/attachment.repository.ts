import type { Insertable, Selectable } from 'kysely';
import type { Db } from '../db/database.js';
import type { AttachmentTable } from '../message/message.table.js';

export type AttachmentRow = Selectable<AttachmentTable>;

export async function insertAttachment(db: Db, row: Insertable<AttachmentTable>): Promise<AttachmentRow> {
  return db.insertInto('attachments').values(row).returningAll().executeTakeFirstOrThrow();
}

export async function findAttachment(db: Db, id: string): Promise<AttachmentRow | undefined> {
  return db.selectFrom('attachments').selectAll().where('id', '=', id).executeTakeFirst();
}
