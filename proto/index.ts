// The wire and block formats and their codec, shared by the edge and the center.
export * from './block/index.js';
export * from './ingest/service.js';
