export { hmacKey } from './hmac-key.js';
export { stopOnSignals, type DrainableService, type SignalHooks } from './process-signals.js';
export { guardHttpServer, writeRawError, type EdgeLogger, type GuardOptions, type RawError, type UpgradeHandler } from './raw-http.js';
export {
  ConfigError,
  configOrExit,
  envFlag,
  envList,
  envText,
  parseConfigWith,
  readEnv,
  type ConfigSchema,
  type Env,
  type EnvReader,
  type EnvSource,
} from './env-config.js';
export {
  bodyHash,
  matchesBody,
  readBodyToken,
  signBodyToken,
  type BodyTokenClaims,
  type BodyTokenParties,
  type ReadBodyTokenOptions,
  type SignBodyTokenOptions,
} from './body-token.js';
export { bearerMatches, isLoopbackAddress, isLoopbackHost, sameSecret } from './local-access.js';
