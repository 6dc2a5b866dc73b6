// The kubernetes source's public surface. See docs/sources/kubernetes.md.
export { kubernetesConfigSchema, type KubernetesConfig } from './config.js';
export { createKubernetesSource } from './source.js';
