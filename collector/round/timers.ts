// Moved to common/timers.ts (the shipper waits on the same timers); kept as a re-export.
export * from '../../common/timers.js';
