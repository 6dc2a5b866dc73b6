// What the reports ask of a revision: which policies apply to a site, which expectations apply to
// a series, and which expected values a revision changed (the upgrades report's starting point).
import { DEFAULT_STALE_AFTER } from './schema.js';
import { expectedKey, expectedText } from './expected-value.js';
import { matchesSelector } from './label-selector.js';
import { matchesSeries } from './series-matcher.js';
import type { Expectation, ExpectedValue, Labels, Policy, PolicyRevision } from './types.js';

/** The policies of `revision` (or a list of policies) whose selector selects a site with `siteLabels`, in revision order. */
export function applicablePolicies(revision: PolicyRevision | readonly Policy[] | undefined, siteLabels: Labels): Policy[] {
  if (revision === undefined) return [];
  const policies = 'policies' in revision ? revision.policies : revision;
  return policies.filter((p) => matchesSelector(p.selector, siteLabels));
}

/** An expectation with the policy it belongs to. */
export interface MatchedExpectation {
  readonly policy: Policy;
  readonly expectation: Expectation;
}

/**
 * Every expectation of `policies` whose series matcher selects the series `name{labels}`, in
 * policy then expectation order. Two policies may both speak for one series: a series
 * satisfies its policies only when it satisfies every one of them.
 */
export function expectationsFor(policies: readonly Policy[], name: string, labels: Labels): MatchedExpectation[] {
  const out: MatchedExpectation[] = [];
  for (const policy of policies) {
    for (const expectation of policy.expectations) {
      if (matchesSeries(expectation.series, name, labels)) out.push({ policy, expectation });
    }
  }
  return out;
}

/**
 * The staleness threshold of a site (ms): the smallest staleAfter set by the policies that apply
 * to it; `fallback` (default 1h) when none sets one, or when none applies.
 */
export function staleAfterFor(policies: readonly Policy[], fallback: number = DEFAULT_STALE_AFTER): number {
  let min: number | undefined;
  for (const p of policies) if (p.staleAfter !== undefined && (min === undefined || p.staleAfter < min)) min = p.staleAfter;
  return min ?? fallback;
}

/** One expected value that a revision added, changed or removed. */
export interface ExpectationChange {
  readonly change: 'added' | 'changed' | 'removed';
  /** The policy's name (the same in both revisions: policies are matched by name). */
  readonly policy: string;
  /** The canonical series matcher text: expectations are matched by it within a policy. */
  readonly series: string;
  readonly before?: { readonly expected: ExpectedValue; readonly expectedText: string };
  readonly after?: { readonly expected: ExpectedValue; readonly expectedText: string };
  /** The expectation in the new revision (absent for `removed`): its matcher and upgrade deadline. */
  readonly expectation?: Expectation;
  /** The policy in the new revision (absent when the policy was removed). */
  readonly nextPolicy?: Policy;
}

/**
 * The expected values `next` changed against `prev` (undefined: the first revision, where every
 * expectation is `added`). Expectations are paired by policy name and canonical series matcher;
 * oneOf lists compare as sets. Selector, deadline and staleness changes alone are not changes of
 * an expected value and are not listed. Sorted by policy, then series.
 */
export function changedExpectations(prev: PolicyRevision | undefined, next: PolicyRevision): ExpectationChange[] {
  const index = (r: PolicyRevision | undefined): Map<string, { policy: Policy; e: Expectation }> => {
    const m = new Map<string, { policy: Policy; e: Expectation }>();
    for (const policy of r?.policies ?? []) for (const e of policy.expectations) m.set(JSON.stringify([policy.name, e.series.text]), { policy, e });
    return m;
  };
  const before = index(prev);
  const after = index(next);
  const out: ExpectationChange[] = [];
  const side = (e: Expectation) => ({ expected: e.expected, expectedText: expectedText(e.expected) });
  for (const [key, a] of after) {
    const b = before.get(key);
    if (b === undefined) {
      out.push({ change: 'added', policy: a.policy.name, series: a.e.series.text, after: side(a.e), expectation: a.e, nextPolicy: a.policy });
    } else if (expectedKey(b.e.expected) !== expectedKey(a.e.expected)) {
      out.push({ change: 'changed', policy: a.policy.name, series: a.e.series.text, before: side(b.e), after: side(a.e), expectation: a.e, nextPolicy: a.policy });
    }
  }
  for (const [key, b] of before) {
    if (after.has(key)) continue;
    const nextPolicy = next.policies.find((p) => p.name === b.policy.name);
    out.push({ change: 'removed', policy: b.policy.name, series: b.e.series.text, before: side(b.e), ...(nextPolicy === undefined ? {} : { nextPolicy }) });
  }
  return out.sort((x, y) => (x.policy < y.policy ? -1 : x.policy > y.policy ? 1 : x.series < y.series ? -1 : x.series > y.series ? 1 : 0));
}
