/**
 * The configuration layer's public face: the one schema, the loader, the error type and the
 * helpers that print or document the configuration. Other layers import from here only.
 */
export {
  configSchema,
  LOG_FORMAT_SETTINGS,
  LOG_LEVELS,
  type Config,
  type LogFormatSetting,
} from "./schema.js";
export { configMeta, type ConfigKeyMeta } from "./meta.js";
export { configEntries, describeAllowed, type ConfigEntry, type ConfigValueType } from "./entries.js";
export { loadConfig, type LoadConfigOptions, type LoadedConfig } from "./load.js";
export { resolveLogFormat, type ResolvedLogFormat } from "./log-format.js";
export { maskSecrets, MASK } from "./mask.js";
export {
  CONFIG_ERROR_REASONS,
  ConfigError,
  type ConfigErrorCode,
  type ConfigErrorDetails,
} from "./errors.js";
export { CONFIG_FILE_ENV } from "./env.js";
