// The sampler: one round at a time over the configured sources, each within its deadline.
export { createSampler, SOURCE_DURATION, SOURCE_ERROR_EVENT, SOURCE_UP } from './sampler.js';
export type { SampledRound, Sampler, SamplerOptions, SourceReport } from './sampler.js';
export type { ScheduledSource } from './collect-one.js';
export { fastForwardTimers, ManualTimers, sleepUntil, systemTimers } from './timers.js';
export type { CancelTimer, Timers } from './timers.js';
