export type * from './api-types.js';
export type * from './events.js';
