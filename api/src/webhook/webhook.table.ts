import type { Generated } from 'kysely';

export interface WebhookEndpointTable {
  id: Generated<string>;
  url: string;
  description: Generated<string>;
  event_types: string[];
  secret_key_id: string;
  secret_ciphertext: string;
  created_by: string;
  created_at: Generated<Date>;
  disabled_at: Date | null;
}

export type WebhookDeliveryStatus = 'pending' | 'delivered' | 'failed';

export interface WebhookDeliveryTable {
  id: Generated<string>;
  /** Insertion order: deliveries due together go out in the order their events happened. */
  seq: Generated<string>;
  endpoint_id: string;
  event_id: string;
  event_type: string;
  /** The JSON body exactly as signed and sent. */
  payload: string;
  status: Generated<WebhookDeliveryStatus>;
  attempts: Generated<number>;
  next_attempt_at: Generated<Date>;
  /** A claim's lease: another instance may take the row once it passed (a crashed sender). */
  locked_until: Date | null;
  last_error: string | null;
  response_status: number | null;
  created_at: Generated<Date>;
  delivered_at: Date | null;
}
