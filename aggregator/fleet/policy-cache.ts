// What the reports compute once per index and reuse: which policies apply to a label set, which
// series (by global id) each expectation's matcher selects, and each expectation's verdict on each
// string value. A fleet shares a few label sets, series names and values, so these are small.
import { applicablePolicies, check, matchesSeries, type CheckResult, type Expectation, type Labels, type Policy, type PolicyRevision } from '../policy/index.js';
import { ABSENT, FLOAT } from './block-changes.js';
import type { FleetIndex } from './merge-index.js';
import type { ValueRef } from './site-view.js';

/** An expectation with its policy. */
export interface PolicyExpectation {
  readonly policy: Policy;
  readonly expectation: Expectation;
}

/** Remembered verdicts of one expectation on string values (see PolicyCache.verdicts). */
export interface Verdicts {
  table: Uint8Array;
}

interface SeriesMatch {
  readonly ids: number[];
  upTo: number;
}

const labelKeys = new WeakMap<Labels, string>();

/** A stable text of a label set (names sorted). */
export function labelsKey(labels: Labels): string {
  let k = labelKeys.get(labels);
  if (k === undefined) {
    k = JSON.stringify(Object.keys(labels).sort().map((n) => [n, labels[n]]));
    labelKeys.set(labels, k);
  }
  return k;
}

export class PolicyCache {
  readonly #applicable = new WeakMap<PolicyRevision, Map<string, PolicyExpectation[]>>();
  readonly #policies = new WeakMap<PolicyRevision, Map<string, Policy[]>>();
  readonly #matches = new WeakMap<Expectation, SeriesMatch>();
  readonly #checks = new WeakMap<Expectation, Map<number, CheckResult>>();
  readonly #verdicts = new WeakMap<Expectation, Verdicts>();
  readonly #byKey = new WeakMap<PolicyRevision, Map<string, PolicyExpectation>>();

  constructor(readonly index: FleetIndex) {}

  /** The policies of `revision` whose selector selects `labels`. */
  policies(revision: PolicyRevision, labels: Labels): Policy[] {
    let byLabels = this.#policies.get(revision);
    if (byLabels === undefined) this.#policies.set(revision, (byLabels = new Map()));
    const key = labelsKey(labels);
    let p = byLabels.get(key);
    if (p === undefined) {
      p = applicablePolicies(revision, labels);
      byLabels.set(key, p);
    }
    return p;
  }

  /** Every expectation of the policies of `revision` that apply to `labels`, in policy order. */
  expectations(revision: PolicyRevision, labels: Labels): PolicyExpectation[] {
    let byLabels = this.#applicable.get(revision);
    if (byLabels === undefined) this.#applicable.set(revision, (byLabels = new Map()));
    const key = labelsKey(labels);
    let e = byLabels.get(key);
    if (e === undefined) {
      e = [];
      for (const policy of this.policies(revision, labels)) for (const expectation of policy.expectations) e.push({ policy, expectation });
      byLabels.set(key, e);
    }
    return e;
  }

  /** The expectation of policy `policy` for matcher `matcherText` in `revision`, if the revision has it. */
  find(revision: PolicyRevision, policy: string, matcherText: string): PolicyExpectation | undefined {
    let m = this.#byKey.get(revision);
    if (m === undefined) {
      m = new Map();
      for (const p of revision.policies) for (const e of p.expectations) m.set(`${p.name}\u0000${e.series.text}`, { policy: p, expectation: e });
      this.#byKey.set(revision, m);
    }
    return m.get(`${policy}\u0000${matcherText}`);
  }

  /** Global ids (ascending) of the series the expectation's matcher selects, among every series the index holds. */
  matching(e: Expectation): readonly number[] {
    let m = this.#matches.get(e);
    if (m === undefined) this.#matches.set(e, (m = { ids: [], upTo: 0 }));
    const table = this.index.series;
    if (m.upTo < table.size) {
      const name = e.series.name;
      if (name !== undefined) {
        // Only series of that name can match: start from the name's list.
        for (const gid of table.withName(name)) if (gid >= m.upTo && matchesSeries(e.series, name, table.labels[gid]!)) m.ids.push(gid);
      } else {
        for (let gid = m.upTo; gid < table.size; gid++) if (matchesSeries(e.series, table.names[gid]!, table.labels[gid]!)) m.ids.push(gid);
      }
      m.upTo = table.size;
    }
    return m.ids;
  }

  /**
   * The verdicts of an expectation on string values, by value id: 1 satisfies, 2 does not, 0 not
   * checked yet (`satisfies` checks and remembers). Dense: a fleet has few distinct values.
   */
  verdicts(e: Expectation): Verdicts {
    let v = this.#verdicts.get(e);
    if (v === undefined) this.#verdicts.set(e, (v = { table: new Uint8Array(Math.max(64, this.index.values.size)) }));
    return v;
  }

  /** Whether a value (kind, value) satisfies `e`, remembered for strings in `verdicts`. */
  satisfies(e: Expectation, verdicts: Verdicts, kind: number, value: number): boolean {
    if (kind === ABSENT) return false;
    if (kind === FLOAT) return check(e, value).ok;
    let table = verdicts.table;
    if (value >= table.length) {
      table = new Uint8Array(Math.max(value + 1, table.length * 2));
      table.set(verdicts.table);
      verdicts.table = table;
    }
    let v = table[value]!;
    if (v === 0) {
      v = this.check(e, { kind, value }).ok ? 1 : 2;
      table[value] = v;
    }
    return v === 1;
  }

  /** The expectation's verdict on a value (absent never satisfies). String verdicts are cached. */
  check(e: Expectation, v: ValueRef): CheckResult {
    if (v.kind === ABSENT) return { ok: false, expectedText: check(e, '').expectedText, reason: 'the series is absent' };
    if (v.kind === FLOAT) return check(e, v.value);
    let m = this.#checks.get(e);
    if (m === undefined) this.#checks.set(e, (m = new Map()));
    let r = m.get(v.value);
    if (r === undefined) {
      r = check(e, this.index.values.get(v.value));
      m.set(v.value, r);
    }
    return r;
  }
}

const caches = new WeakMap<FleetIndex, PolicyCache>();

/** The cache of an index (one per index, kept as long as the index). */
export function policyCache(index: FleetIndex): PolicyCache {
  let c = caches.get(index);
  if (c === undefined) caches.set(index, (c = new PolicyCache(index)));
  return c;
}
