export { ConfigError, envBool, envInt, envPort, envUrl, parseEnv, type ConfigIssue } from './config.js';
