export { hmacKey } from './hmac-key.js';
export { guardHttpServer, writeRawError, type EdgeLogger, type GuardOptions, type RawError, type UpgradeHandler } from './raw-http.js';
export { envFlag, envList, envText, readEnv, type Env, type EnvReader, type EnvSource } from './env-config.js';
