// Desired-state policies: the YAML format, its validation, the directory and git sources, the
// revision history (effective and learned times), and the matching the reports use.
// The format and semantics are documented in docs/policies.md.
export { PolicyError, PolicyErrorCode, formatProblem, isPolicyErrorCode, type PolicyProblem } from './errors.js';
export type {
  Expectation, ExpectedValue, LabelMatcher, LabelSelector, Labels, MatchOp, Policy, PolicyRevision, RejectedRevision,
  RevisionFile, RevisionSource, SelectorRequirement, SeriesMatcher,
} from './types.js';
export { API_VERSION, DEFAULT_STALE_AFTER, DEFAULT_UPGRADE_DEADLINE, KIND } from './schema.js';
export { loadPolicySet, parsePolicyFile, parsePolicySet, policySetHash, MAX_POLICY_FILE_BYTES, type ParsedPolicySet, type PolicyFile } from './parse.js';
export { formatSeriesMatcher, matchesSeries, parseSeriesMatcher, type ParseSeriesResult, type SeriesMatcherProblem } from './series-matcher.js';
export { formatSelector, matchesRequirement, matchesSelector } from './label-selector.js';
export { check, expectedKey, expectedText, versionOf, type CheckResult } from './expected-value.js';
export { normalizeRepository, parseImageRef, type ImageRef } from './image-ref.js';
export { fullMatch, regexProblem, MAX_REGEX_LENGTH } from './regex.js';
export { PolicyHistory, HISTORY_FORMAT, HISTORY_VERSION, type KnownAtOptions } from './history.js';
export { applicablePolicies, changedExpectations, expectationsFor, staleAfterFor, type ExpectationChange, type MatchedExpectation } from './match.js';
export {
  DEFAULT_DEBOUNCE, DEFAULT_POLL_INTERVAL,
  type PolicyLogger, type PolicySource, type PolicySourceOptions, type ReloadOutcome, type ReloadResult, type ReloadStats, type ReloadTrigger,
} from './source.js';
export { createDirectoryPolicySource, type DirectoryPolicySourceOptions } from './directory-source.js';
export { createGitPolicySource, type GitPolicySourceOptions } from './git-source.js';
export { createPolicyMetrics, type PolicyMetrics } from './metrics.js';
export { loadPolicyHistoryFile, POLICY_HISTORY_FILE, savePolicyHistoryFile, type LoadedHistory } from './history-file.js';
