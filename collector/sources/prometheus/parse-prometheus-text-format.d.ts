// parse-prometheus-text-format (CommonJS, no bundled types): the shapes it returns. Values stay
// the strings of the exposition; `labels` is absent for a sample without labels.
declare module 'parse-prometheus-text-format' {
  export interface ParsedMetric {
    value?: string;
    labels?: Record<string, string>;
    timestamp_ms?: string;
    /** Only for TYPE histogram / summary families, which driftwatch does not let it see. */
    buckets?: Record<string, string>;
    quantiles?: Record<string, string>;
    count?: string;
    sum?: string;
  }
  export interface ParsedFamily {
    name: string;
    help: string;
    type: string;
    metrics: ParsedMetric[];
  }
  /** Throws an InvalidLineError on some malformed lines; accepts many others (see parse.ts). */
  export default function parsePrometheusTextFormat(text: string): ParsedFamily[];
}
