// The policy model after validation: plain, frozen, JSON-serialisable data (compiled regular
// expressions and semver ranges are cached beside it, never stored in it), so a revision can be
// persisted and compared as it is.
import type { PolicyProblem } from './errors.js';

/** A site's labels or a series' labels. */
export type Labels = Readonly<Record<string, string>>;

/** One requirement of a Kubernetes-style label selector. */
export interface SelectorRequirement {
  readonly key: string;
  readonly operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  /** Non-empty for In / NotIn, empty for Exists / DoesNotExist. */
  readonly values: readonly string[];
}

/** A selector on site labels, with Kubernetes semantics: every part must hold; empty selects every site. */
export interface LabelSelector {
  readonly matchLabels: Readonly<Record<string, string>>;
  readonly matchExpressions: readonly SelectorRequirement[];
}

/** A PromQL label matcher operator. */
export type MatchOp = '=' | '!=' | '=~' | '!~';

/** One label matcher of a series matcher; `label` may be `__name__` (the metric name). */
export interface LabelMatcher {
  readonly label: string;
  readonly op: MatchOp;
  readonly value: string;
}

/** A PromQL series selector: `name{label="v", other=~"re"}`. */
export interface SeriesMatcher {
  /** The canonical text (`formatSeriesMatcher`): the key expectations are compared by. */
  readonly text: string;
  /** The metric name before the braces, or undefined when only `__name__` matchers name it. */
  readonly name: string | undefined;
  readonly matchers: readonly LabelMatcher[];
}

/** What an expectation wants a series' value to be. */
export type ExpectedValue =
  | { readonly kind: 'exact'; readonly value: string }
  | { readonly kind: 'oneOf'; readonly values: readonly string[] }
  | {
    readonly kind: 'semver';
    readonly range: string;
    /** When set, an image reference must name this repository (Docker's normalisation: `nginx` = `docker.io/library/nginx`). */
    readonly image?: string;
    /** semver's includePrerelease: let prereleases (`2.5.0-rc.1`, `v1.29.3-k3s1` image tags) satisfy the range. */
    readonly includePrerelease: boolean;
  }
  | { readonly kind: 'pattern'; readonly regex: string }
  | { readonly kind: 'eq'; readonly value: number }
  | { readonly kind: 'range'; readonly min?: number; readonly max?: number };

/** One expected value for the series a matcher selects. */
export interface Expectation {
  readonly series: SeriesMatcher;
  readonly expected: ExpectedValue;
  /** How long after a revision changes this expectation a site may take to converge (ms). */
  readonly upgradeDeadline: number;
  readonly description?: string;
}

/** A validated policy. */
export interface Policy {
  readonly name: string;
  readonly description?: string;
  /** Where it came from: the file relative to the policy directory, and the document's index in it. */
  readonly file: string;
  readonly document: number;
  readonly selector: LabelSelector;
  /**
   * A site this policy selects is stale after this long without data (ms); unset when the policy
   * does not say (staleAfterFor then falls back to the default).
   */
  readonly staleAfter?: number;
  /** The policy-wide upgrade deadline (ms); each expectation carries its own (this one unless overridden). */
  readonly upgradeDeadline: number;
  readonly expectations: readonly Expectation[];
}

/** Where a revision came from. */
export type RevisionSource =
  | { readonly kind: 'directory'; readonly path: string }
  | {
    readonly kind: 'git';
    readonly repository: string;
    readonly ref: string;
    readonly subdirectory: string;
    readonly commit: string;
    /** The commit's committer date (ms). effectiveAt is this, unless the first-parent history went back in time. */
    readonly committedAt: number;
  };

/** One file of a policy set, by content hash. */
export interface RevisionFile {
  readonly path: string;
  /** sha256 of the file's bytes, hex. */
  readonly sha256: string;
}

/**
 * A policy set as it took effect. `id` is a content hash (`sha256:…`) for a directory — the
 * same files give the same id, so a revert repeats an earlier id — and the commit sha for git.
 * `seq` is unique and increases in the order revisions were added to their history.
 */
export interface PolicyRevision {
  readonly id: string;
  readonly seq: number;
  readonly source: RevisionSource;
  /** Event time from which this revision is in force (ms). */
  readonly effectiveAt: number;
  /** When the aggregator learned of it (ms): queries with known_at < loadedAt do not see it. */
  readonly loadedAt: number;
  readonly files: readonly RevisionFile[];
  readonly policies: readonly Policy[];
}

/** A policy set that failed validation: recorded, never in force. */
export interface RejectedRevision {
  /** The content hash or commit sha it would have had. */
  readonly id: string;
  readonly source: RevisionSource;
  /** When it would have taken effect (ms): the previous revision stays in force from then on. */
  readonly effectiveAt: number;
  readonly loadedAt: number;
  readonly problems: readonly PolicyProblem[];
}
