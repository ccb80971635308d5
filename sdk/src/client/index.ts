export type * from './api-types.js';
export type * from './events.js';
export { EventsCloseCode } from './events.js';
export { TelemedClient, type TelemedClientEvents, type TelemedClientOptions } from './TelemedClient.js';
export { EventsConnection, type EventsConnectionEvents, type EventsConnectionOptions } from './EventsConnection.js';
export { ApiRequestError } from './ApiRequestError.js';
