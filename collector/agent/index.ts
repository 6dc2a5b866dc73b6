// The edge agent: config, the round loop, its metrics and HTTP listener. See docs/agent.md.
export { createAgent } from './agent.js';
export type { Agent, AgentCompanion, AgentLogger, AgentOptions, AgentRunOptions, AgentSummary } from './agent.js';
export {
  agentConfigFileSchema, crossFieldProblems, defaultTimeout, parseListen, DEFAULT_INTERVAL, DEFAULT_LISTEN, LOG_LEVELS,
  MAX_DEFAULT_TIMEOUT, MIN_INTERVAL,
} from './config-schema.js';
export type { AgentConfig, AgentConfigFile, ListenAddress, ScheduledSourceConfig } from './config-schema.js';
export { CONFIG_OVERRIDES, CONFIG_PATH_ENV, loadAgentConfig, parseAgentConfig } from './config-load.js';
export type { ConfigOverride, ConfigSection, ConfigSources } from './config-load.js';
export { AgentError, AgentErrorCode } from './errors.js';
export { AgentEventKind, agentGapEvent, agentStartEvent, agentStopEvent, type StopReason } from './events.js';
export { startAgentHttp, type AgentHealth, type AgentHttp, type AgentHttpOptions } from './http.js';
export { createAgentMetrics, type AgentMetrics } from './metrics.js';
export { nextSlot, planWake, type WakePlan } from './schedule.js';
export { createScheduledSources } from './sources.js';
