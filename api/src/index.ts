export { App } from './app.js';
export { ConfigError, configFromEnv, parseConfig, type ApiConfig, type ApiOptions } from './config.js';
export { ApiError, type ApiErrorCode } from './http/errors.js';
