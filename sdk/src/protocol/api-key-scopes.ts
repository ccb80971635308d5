/**
 * What an API key may do: mint room tokens for app rooms, create/end/list calls, list rooms, test
 * webhooks. One list for the API (which enforces it), the SDK's `ApiKey` and the admin dashboard.
 */
export const API_KEY_SCOPES = ['room-tokens', 'calls', 'rooms', 'webhooks'] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];
