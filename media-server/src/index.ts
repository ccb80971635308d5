export { configFromEnv, parseConfig, type MediaServerConfig, type MediaServerOptions } from './config.js';
export { ConfigError } from '@telemed/server-kit';
export { MediaServerError } from './errors.js';
export { MediaServer } from './MediaServer.js';
