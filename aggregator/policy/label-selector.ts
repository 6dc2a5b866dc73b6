// Site selectors with Kubernetes label-selector semantics (metav1.LabelSelector): matchLabels and
// matchExpressions are ANDed; an empty selector selects every site; NotIn and DoesNotExist hold
// for a site that lacks the label.
import type { LabelSelector, Labels, SelectorRequirement } from './types.js';

/** True when the requirement holds for `labels`. */
export function matchesRequirement(r: SelectorRequirement, labels: Labels): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, r.key);
  const value = has ? labels[r.key]! : undefined;
  switch (r.operator) {
    case 'In': return value !== undefined && r.values.includes(value);
    case 'NotIn': return value === undefined || !r.values.includes(value);
    case 'Exists': return has;
    case 'DoesNotExist': return !has;
  }
}

/** True when every matchLabels entry and every matchExpressions requirement holds for `labels`. */
export function matchesSelector(selector: LabelSelector, labels: Labels): boolean {
  for (const [key, value] of Object.entries(selector.matchLabels)) {
    if (!Object.prototype.hasOwnProperty.call(labels, key) || labels[key] !== value) return false;
  }
  return selector.matchExpressions.every((r) => matchesRequirement(r, labels));
}

/** The selector in kubectl's text form: `tier=shop,region in (eu-north,eu-west),!legacy`; `(all sites)` when empty. */
export function formatSelector(selector: LabelSelector): string {
  const parts = Object.keys(selector.matchLabels).sort().map((k) => `${k}=${selector.matchLabels[k]}`);
  for (const r of selector.matchExpressions) {
    switch (r.operator) {
      case 'In': parts.push(`${r.key} in (${r.values.join(',')})`); break;
      case 'NotIn': parts.push(`${r.key} notin (${r.values.join(',')})`); break;
      case 'Exists': parts.push(r.key); break;
      case 'DoesNotExist': parts.push(`!${r.key}`); break;
    }
  }
  return parts.length === 0 ? '(all sites)' : parts.join(',');
}
