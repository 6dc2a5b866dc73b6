// The simulated site's three sources, in the agent's Source interface: its k3s cluster (through
// the kubernetes source's builders, see site-model.ts), the host (node_exporter names, as the
// host source reports them) and the router (the SNMP source's names). Each rebuilds its series
// only when the site's state changed, and hands out the same samples otherwise, as a steady
// cluster would report them.
import type { Sample } from '../proto/index.js';
import type { CollectContext, Source, SourceResult } from '../collector/sources/source.js';
import type { SiteModel } from './site-model.js';

function cached(model: SiteModel, build: () => Sample[]): () => Sample[] {
  let version = -1;
  let samples: Sample[] = [];
  return () => {
    if (version !== model.version) {
      samples = build();
      version = model.version;
    }
    return samples;
  };
}

const NO_EVENTS: SourceResult['events'] = [];

/** The k3s cluster: nodes, Deployments, pods per workload, Warning events. */
export function clusterSource(model: SiteModel): Source {
  const samples = cached(model, () => model.clusterSamples());
  return {
    name: 'k3s', kind: 'kubernetes',
    collect(ctx: CollectContext): Promise<SourceResult> {
      model.advanceTo(ctx.roundTime);
      const events = model.takeEvents(ctx.roundTime);
      return Promise.resolve({ samples: samples(), events: events.length === 0 ? NO_EVENTS : events });
    },
  };
}

const ROOT = { mountpoint: '/' };

/** The host under the cluster: its root file system, memory and OS. */
export function hostSource(model: SiteModel): Source {
  const samples = cached(model, (): Sample[] => {
    const h = model.host;
    return [
      { name: 'node_filesystem_avail_bytes', labels: ROOT, type: 'float', value: h.diskFree },
      { name: 'node_filesystem_free_bytes', labels: ROOT, type: 'float', value: h.diskFree },
      { name: 'node_filesystem_size_bytes', labels: ROOT, type: 'float', value: h.diskSize },
      { name: 'node_memory_MemAvailable_bytes', labels: {}, type: 'float', value: h.memoryFree },
      { name: 'node_memory_MemTotal_bytes', labels: {}, type: 'float', value: h.memory },
      { name: 'node_os_pretty_name', labels: {}, type: 'string', value: h.os },
    ];
  });
  return {
    name: 'node', kind: 'host',
    collect(ctx: CollectContext): Promise<SourceResult> {
      model.advanceTo(ctx.roundTime);
      return Promise.resolve({ samples: samples(), events: NO_EVENTS });
    },
  };
}

/** The router beside the cluster, as the SNMP source reads it: system, chassis software revision, WAN link. */
export function routerSource(model: SiteModel): Source {
  const target = `${model.plan.id}-gw`;
  const samples = cached(model, (): Sample[] => {
    const r = model.router!;
    return [
      { name: 'snmp_sys_descr', labels: { target }, type: 'string', value: `Cisco IOS XE Software, ${r.model} Software, Version ${r.firmware}` },
      { name: 'snmp_entity_software_revision', labels: { target, index: '1', entity_name: 'Chassis', entity_descr: `Cisco ${r.model} Chassis` }, type: 'string', value: r.firmware },
      { name: 'snmp_if_oper_status', labels: { target, index: '1', if_name: 'wan0', if_descr: 'GigabitEthernet0/0/0' }, type: 'string', value: r.wanUp ? 'up' : 'down' },
    ];
  });
  return {
    name: 'router', kind: 'snmp',
    collect(ctx: CollectContext): Promise<SourceResult> {
      model.advanceTo(ctx.roundTime);
      return Promise.resolve({ samples: samples(), events: NO_EVENTS });
    },
  };
}

/** The site's sources in config order: cluster, host, router (when the site has one). */
export function siteSources(model: SiteModel): Source[] {
  return [clusterSource(model), hostSource(model), ...(model.router === undefined ? [] : [routerSource(model)])];
}
