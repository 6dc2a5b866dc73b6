// The policy error catalog (docs/errors.md, docs/policies.md). A policy set that fails to load
// raises one PolicyError (DW_POLICY_INVALID) that lists every problem of every file at once,
// each with its own code, file, YAML line and column, and an "expected …, found …" message.
import { DriftwatchError } from '../../common/errors.js';

/** Every code a policy problem or a policy source can carry. */
export const PolicyErrorCode = {
  /** A policy set has problems; `problems` lists each with its own code. */
  Invalid: 'DW_POLICY_INVALID',
  /** A file is not valid YAML. */
  YamlSyntax: 'DW_POLICY_YAML_SYNTAX',
  /** `apiVersion` is not `driftwatch.io/v1`. */
  UnsupportedApiVersion: 'DW_POLICY_UNSUPPORTED_API_VERSION',
  /** `kind` is not `Policy`. */
  UnknownKind: 'DW_POLICY_UNKNOWN_KIND',
  /** A field is missing or has the wrong type. */
  InvalidField: 'DW_POLICY_INVALID_FIELD',
  /** A key the format does not have (often a typo). */
  UnknownField: 'DW_POLICY_UNKNOWN_FIELD',
  /** The site selector is invalid (label name, operator, values). */
  BadSelector: 'DW_POLICY_BAD_SELECTOR',
  /** A series matcher is not a PromQL series selector. */
  BadSeriesMatcher: 'DW_POLICY_BAD_SERIES_MATCHER',
  /** A regular expression (a `=~`/`!~` matcher or a `pattern`) is not valid RE2. */
  BadRegex: 'DW_POLICY_BAD_REGEX',
  /** A `semver` range npm's semver cannot parse. */
  BadSemverRange: 'DW_POLICY_BAD_SEMVER_RANGE',
  /** A duration (`upgradeDeadline`, `staleAfter`) that is not one. */
  BadDuration: 'DW_POLICY_BAD_DURATION',
  /** An expectation with none, or more than one, of exact / oneOf / semver / pattern / eq / min+max. */
  ExpectationKind: 'DW_POLICY_EXPECTATION_KIND',
  /** An expected value that cannot work (an unquoted number for `exact`, `min` above `max`, an empty list). */
  BadValue: 'DW_POLICY_BAD_VALUE',
  /** Two policies with the same metadata.name in one policy set. */
  DuplicateName: 'DW_POLICY_DUPLICATE_NAME',
  /** Two expectations of one policy with the same series matcher. */
  DuplicateExpectation: 'DW_POLICY_DUPLICATE_EXPECTATION',
  /** A policy file over the size limit (1 MiB). */
  FileTooLarge: 'DW_POLICY_FILE_TOO_LARGE',
  /** A policy file that exists but cannot be read. */
  FileUnreadable: 'DW_POLICY_FILE_UNREADABLE',
  /** The policy directory or git repository cannot be read (missing, not a repository, no such ref). */
  SourceUnreadable: 'DW_POLICY_SOURCE_UNREADABLE',
  /** A call on a policy source after close(). */
  SourceClosed: 'DW_POLICY_SOURCE_CLOSED',
  /** A serialized policy history that is not one, or is damaged. */
  HistoryCorrupt: 'DW_POLICY_HISTORY_CORRUPT',
  /** A revision added to a history twice, or out of order. */
  HistoryConflict: 'DW_POLICY_HISTORY_CONFLICT',
} as const;

export type PolicyErrorCode = (typeof PolicyErrorCode)[keyof typeof PolicyErrorCode];

const CODES: ReadonlySet<string> = new Set(Object.values(PolicyErrorCode));

/** True for a code of this catalog. */
export function isPolicyErrorCode(code: string): code is PolicyErrorCode {
  return CODES.has(code);
}

/** One problem in a policy file: what, where, and what was expected and found. */
export interface PolicyProblem {
  readonly code: PolicyErrorCode;
  /** The file, relative to the policy directory (or to the repository's policy subdirectory). */
  readonly file: string;
  /** 1-based line and column in the file, where known. */
  readonly line?: number;
  readonly column?: number;
  /** The YAML path in the document: `spec.expectations.2.semver`; empty for the document itself. */
  readonly path: string;
  /** "expected …, found …". */
  readonly message: string;
}

/** `file:line:column: CODE path: message`, the one-line form of a problem for logs and errors. */
export function formatProblem(p: PolicyProblem): string {
  const where = p.line === undefined ? p.file : `${p.file}:${p.line}:${p.column ?? 1}`;
  return `${where}: ${p.code}${p.path === '' ? '' : ` ${p.path}`}: ${p.message}`;
}

/** An error of the policy component: `code` from PolicyErrorCode; `problems` for DW_POLICY_INVALID. */
export class PolicyError extends DriftwatchError {
  declare readonly code: PolicyErrorCode;
  readonly problems: readonly PolicyProblem[];
  constructor(code: PolicyErrorCode, message: string, options: { problems?: readonly PolicyProblem[]; where?: string; cause?: unknown } = {}) {
    super(code, message, {
      ...(options.where === undefined ? {} : { where: options.where }),
      ...(options.cause === undefined ? {} : { cause: options.cause }),
    });
    this.name = 'PolicyError';
    this.problems = options.problems ?? [];
  }

  /** DW_POLICY_INVALID listing every problem, one per line. */
  static invalid(problems: readonly PolicyProblem[], what = 'the policy set'): PolicyError {
    const n = problems.length;
    return new PolicyError(PolicyErrorCode.Invalid,
      `${what} has ${n} problem${n === 1 ? '' : 's'}:\n  ${problems.map(formatProblem).join('\n  ')}`, { problems });
  }
}
