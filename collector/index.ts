// The collector component's public surface.
export * from './store/index.js';
