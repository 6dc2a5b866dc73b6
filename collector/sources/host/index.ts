// The host source: this machine's OS, kernel, boot, CPU, memory, filesystems and temperatures.
// See docs/sources/host.md.
export { hostConfigSchema, type HostConfig } from './config.js';
export { createHostSource, REBOOT_EVENT } from './host-source.js';
