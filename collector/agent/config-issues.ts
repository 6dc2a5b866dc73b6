// Config problems as `path: what was expected, found …` lines: shared by every component's
// config (common/config-issues.ts).
export * from '../../common/config-issues.js';
