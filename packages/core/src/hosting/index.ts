// @fcgi/core/hosting: what an app needs on a shared host before it serves — the start of a bundle
// (check mode, fcgi.env, the values fixed at bundle time, a load failure answered 500) and the
// fcgi.env rules.
export { startBundledApp, type StartOptions } from './start.js';
export {
  applyEnv,
  appDirectory,
  ENV_FILE_NAME,
  envFileRefusal,
  loadAppEnvFile,
  loadEnvFile,
  type EnvFileRefusal,
  type EnvLoad,
} from './env-file.js';
export { inCheckMode, LOADED_LINE } from './check-mode.js';
