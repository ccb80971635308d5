import type { Generated, Selectable } from 'kysely';

export interface MessageTable {
  id: Generated<number>;
  conversation_id: string;
  sender_id: string;
  client_id: string;
  body_ciphertext: string;
  key_id: string;
  attachment_id: string | null;
  created_at: Generated<Date>;
}

export interface MessageReceiptTable {
  message_id: number;
  user_id: string;
  delivered_at: Date | null;
  read_at: Date | null;
}

export interface AttachmentTable {
  id: Generated<string>;
  conversation_id: string;
  uploader_id: string;
  file_name: string;
  content_type: string;
  size_bytes: number;
  sha256: string;
  storage_key: string;
  key_id: string;
  /** Null on rows from before the store was recorded (read from the configured store). */
  store: 'disk' | 's3' | null;
  created_at: Generated<Date>;
}

export type MessageRow = Selectable<MessageTable>;
