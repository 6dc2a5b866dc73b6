// The aggregator's real HTTP listener on loopback serving the fleet routes over the fixed in-test
// FleetReports (test/aggregator/http/fixed-reports.ts — not the real index), on a fixed clock:
// what the `driftwatch report` tests talk to.
import { Registry } from 'prom-client';
import { startAggregatorHttp, type AggregatorHttp, type HealthStatus } from '../../aggregator/index.js';
import { AT, FixedFleetReports } from '../aggregator/http/fixed-reports.js';

/** The fixed "now" of the server and of the CLI's relative times: 2025-11-20T15:00:00Z. */
export const NOW = AT + 3 * 3_600_000;

export interface ReportServer {
  readonly http: AggregatorHttp;
  readonly reports: FixedFleetReports;
  ready: HealthStatus;
  close(): Promise<void>;
}

export async function startReportServer(): Promise<ReportServer> {
  const reports = new FixedFleetReports();
  const s: ReportServer = {
    http: undefined as unknown as AggregatorHttp,
    reports,
    ready: { ok: true, reason: 'caught up' },
    close: () => s.http.close(),
  };
  (s as { http: AggregatorHttp }).http = await startAggregatorHttp({
    listen: '127.0.0.1:0', registry: new Registry(), health: () => ({ ok: true, reason: 'test' }), ready: () => s.ready,
    fleet: { reports, now: () => NOW, ready: () => s.ready },
  });
  return s;
}
