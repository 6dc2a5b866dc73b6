// The collector component's public surface.
export * from './store/index.js';
export * from './round/index.js';
export * from './agent/index.js';
export { createSource, sourceConfigSchema, SOURCE_KINDS, type SourceConfig } from './sources/registry.js';
export type { CollectContext, Source, SourceDeps, SourceLogger, SourceResult } from './sources/source.js';
export { SourceError, SourceErrorCode } from './sources/errors.js';
