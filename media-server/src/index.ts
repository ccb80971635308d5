export { configFromEnv, parseConfig, type MediaServerConfig, type MediaServerOptions } from './config.js';
export { MediaServerError } from './errors.js';
export { MediaServer } from './MediaServer.js';
