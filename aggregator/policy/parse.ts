// Policy files → validated policies, or every problem of every file at once with its code, the
// file, the YAML line and column, and "expected …, found …". A file may hold several documents
// (`---`); each non-empty one is a Policy.
import { createHash } from 'node:crypto';
import { isMap, isPair, isScalar, LineCounter, parseAllDocuments, type Document } from 'yaml';
import type { z } from 'zod';
import { deepFreeze } from './freeze.js';
import { PolicyError, PolicyErrorCode, type PolicyProblem } from './errors.js';
import { parseSeriesMatcher } from './series-matcher.js';
import { API_VERSION, describeValue, KIND, policyDocumentSchema, policyErrorMap, type PolicyDocument } from './schema.js';
import type { Expectation, ExpectedValue, Policy, RevisionFile } from './types.js';

/** A policy file's text, its path relative to the policy directory. */
export interface PolicyFile {
  readonly path: string;
  readonly text: string;
}

/** Files over this many bytes are refused (DW_POLICY_FILE_TOO_LARGE). */
export const MAX_POLICY_FILE_BYTES = 1024 * 1024;
const MAX_ALIASES = 100;

/** The result of parsing a policy set: the policies when `problems` is empty. */
export interface ParsedPolicySet {
  readonly policies: readonly Policy[];
  readonly files: readonly RevisionFile[];
  readonly problems: readonly PolicyProblem[];
}

type Path = readonly (string | number)[];

function lowerFirst(s: string): string {
  return s.length > 0 ? s[0]!.toLowerCase() + s.slice(1) : s;
}

class FileContext {
  readonly lines = new LineCounter();
  readonly problems: PolicyProblem[] = [];
  constructor(readonly file: PolicyFile) {}

  add(code: PolicyProblem['code'], path: Path, message: string, pos?: number): void {
    const at = pos === undefined ? undefined : this.lines.linePos(pos);
    this.problems.push({
      code, file: this.file.path, path: path.map(String).join('.'), message,
      ...(at === undefined ? {} : { line: at.line, column: at.col }),
    });
  }
}

/** The node at `path`, or the nearest ancestor that exists; `key` finds the key of the last step instead. */
function nodeAt(doc: Document, path: Path, key = false): { range?: [number, number, number] } | undefined {
  if (key && path.length > 0) {
    const parent = path.length === 1 ? doc.contents : doc.getIn(path.slice(0, -1), true);
    if (isMap(parent)) {
      const pair = parent.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(path[path.length - 1]));
      if (pair !== undefined && isScalar(pair.key) && pair.key.range) return pair.key as { range: [number, number, number] };
    }
  }
  for (let n = path.length; n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
    const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
    if (range !== undefined) return node as { range: [number, number, number] };
  }
  return undefined;
}

/** Where a character of a scalar's value is in the file, when the scalar is written on one line without escapes. */
function charPos(ctx: FileContext, doc: Document, path: Path, offset: number): number | undefined {
  const node = doc.getIn(path, true);
  if (!isScalar(node) || node.range === undefined || node.range === null || typeof node.value !== 'string') return nodeAt(doc, path)?.range?.[0];
  const [start, end] = node.range;
  const raw = ctx.file.text.slice(start, end);
  if (node.type === 'PLAIN' && raw === node.value) return start + offset;
  if ((node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE') && raw.slice(1, -1) === node.value) return start + 1 + offset;
  return start;
}

function toExpected(e: PolicyDocument['spec']['expectations'][number]): ExpectedValue {
  if (e.exact !== undefined) return { kind: 'exact', value: e.exact };
  if (e.oneOf !== undefined) return { kind: 'oneOf', values: e.oneOf };
  if (e.semver !== undefined) {
    return { kind: 'semver', range: e.semver, ...(e.image === undefined ? {} : { image: e.image }), includePrerelease: e.includePrerelease ?? false };
  }
  if (e.pattern !== undefined) return { kind: 'pattern', regex: e.pattern };
  if (e.eq !== undefined) return { kind: 'eq', value: e.eq };
  return { kind: 'range', ...(e.min === undefined ? {} : { min: e.min }), ...(e.max === undefined ? {} : { max: e.max }) };
}


function toPolicy(d: PolicyDocument, file: string, document: number): Policy {
  const matchLabels: Record<string, string> = {};
  for (const k of Object.keys(d.spec.selector.matchLabels).sort()) matchLabels[k] = d.spec.selector.matchLabels[k]!;
  const expectations: Expectation[] = d.spec.expectations.map((e) => ({
    series: e.series,
    expected: toExpected(e),
    upgradeDeadline: e.upgradeDeadline ?? d.spec.upgradeDeadline,
    ...(e.description === undefined ? {} : { description: e.description }),
  }));
  return deepFreeze({
    name: d.metadata.name,
    ...(d.metadata.description === undefined ? {} : { description: d.metadata.description }),
    file, document,
    selector: {
      matchLabels,
      matchExpressions: d.spec.selector.matchExpressions.map((r) => ({ key: r.key, operator: r.operator, values: r.values ?? [] })),
    },
    ...(d.spec.staleAfter === undefined ? {} : { staleAfter: d.spec.staleAfter }),
    upgradeDeadline: d.spec.upgradeDeadline,
    expectations,
  });
}

function issueToProblems(ctx: FileContext, doc: Document, prefix: Path, iss: z.core.$ZodIssue): void {
  const path: Path = [...prefix, ...iss.path.map((p) => (typeof p === 'symbol' ? String(p) : p))];
  const params = (iss as { params?: { code?: PolicyProblem['code']; offset?: number } }).params;
  if (iss.code === 'unrecognized_keys') {
    for (const key of iss.keys) {
      ctx.add(PolicyErrorCode.UnknownField, [...path, key], `${iss.message}, found unknown key ${JSON.stringify(key)}`, nodeAt(doc, [...path, key], true)?.range?.[0]);
    }
    return;
  }
  const code = params?.code ?? PolicyErrorCode.InvalidField;
  const pos = params?.offset !== undefined ? charPos(ctx, doc, path, params.offset) : nodeAt(doc, path, iss.code === 'invalid_key')?.range?.[0];
  ctx.add(code, path, iss.message, pos);
}

function parseDocument(ctx: FileContext, doc: Document, index: number, out: Policy[]): void {
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (err) {
    ctx.add(PolicyErrorCode.YamlSyntax, [], `expected YAML without excessive aliases, found ${lowerFirst(err instanceof Error ? err.message : String(err))}`, nodeAt(doc, [])?.range?.[0]);
    return;
  }
  if (raw === null || raw === undefined) return; // an empty document (a trailing ---)
  const docPos = nodeAt(doc, [])?.range?.[0];
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    ctx.add(PolicyErrorCode.InvalidField, [], `expected a Policy document (a mapping with apiVersion, kind, metadata, spec), found ${describeValue(raw)}`, docPos);
    return;
  }
  const obj = raw as Record<string, unknown>;
  let known = true;
  if (obj.apiVersion !== API_VERSION) {
    ctx.add(PolicyErrorCode.UnsupportedApiVersion, ['apiVersion'], `expected apiVersion ${API_VERSION}, found ${describeValue(obj.apiVersion)}`, nodeAt(doc, ['apiVersion'])?.range?.[0]);
    known = false;
  }
  if (obj.kind !== KIND) {
    ctx.add(PolicyErrorCode.UnknownKind, ['kind'], `expected kind ${KIND}, found ${describeValue(obj.kind)}`, nodeAt(doc, ['kind'])?.range?.[0]);
    known = false;
  }
  if (!known) return; // the rest of an unknown document's shape is not ours to judge
  const parsed = policyDocumentSchema.safeParse(obj, { error: policyErrorMap });
  const before = ctx.problems.length;
  expectationKinds(ctx, doc, obj);
  duplicateExpectations(ctx, doc, obj);
  const rawFound = ctx.problems.length > before;
  if (!parsed.success) {
    for (const iss of parsed.error.issues) issueToProblems(ctx, doc, [], iss);
    return;
  }
  if (rawFound) return;
  out.push(toPolicy(parsed.data, ctx.file.path, index));
}

/** The keys that say what is expected; exactly one group per expectation (min and max go together). */
const KIND_GROUPS: readonly (readonly string[])[] = [['exact'], ['oneOf'], ['semver'], ['pattern'], ['eq'], ['min', 'max']];
const KIND_TEXT = 'exact, oneOf, semver, pattern, eq, or min and/or max';

function rawExpectations(obj: Record<string, unknown>): unknown[] {
  const spec = obj.spec as { expectations?: unknown } | undefined;
  return typeof spec === 'object' && spec !== null && Array.isArray(spec.expectations) ? spec.expectations : [];
}

/** Each expectation has exactly one kind of expected value; image and includePrerelease only beside semver. */
function expectationKinds(ctx: FileContext, doc: Document, obj: Record<string, unknown>): void {
  rawExpectations(obj).forEach((raw, i) => {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return;
    const keys = Object.keys(raw);
    const path = ['spec', 'expectations', i];
    const groups = KIND_GROUPS.filter((g) => g.some((k) => keys.includes(k)));
    if (groups.length !== 1) {
      const found = groups.length === 0 ? 'none' : groups.map((g) => g.filter((k) => keys.includes(k)).join(' and ')).join(', ');
      ctx.add(PolicyErrorCode.ExpectationKind, path, `expected exactly one of ${KIND_TEXT}, found ${found}`, nodeAt(doc, path)?.range?.[0]);
    }
    for (const k of ['image', 'includePrerelease']) {
      if (keys.includes(k) && !keys.includes('semver')) {
        ctx.add(PolicyErrorCode.ExpectationKind, [...path, k], `expected ${k} only beside semver, found it without semver`, nodeAt(doc, [...path, k], true)?.range?.[0]);
      }
    }
  });
}

/**
 * Two expectations of one policy with the same series matcher (by canonical text) are a problem
 * at the second. Checked on the raw document, so it is reported beside every other problem.
 */
function duplicateExpectations(ctx: FileContext, doc: Document, obj: Record<string, unknown>): void {
  const seen = new Map<string, number>();
  rawExpectations(obj).forEach((e: unknown, i) => {
    const text = (e as { series?: unknown } | null)?.series;
    if (typeof text !== 'string') return;
    const r = parseSeriesMatcher(text);
    if (!r.ok) return;
    const first = seen.get(r.matcher.text);
    if (first === undefined) {
      seen.set(r.matcher.text, i);
      return;
    }
    const path = ['spec', 'expectations', i, 'series'];
    ctx.add(PolicyErrorCode.DuplicateExpectation, path,
      `expected each series matcher once per policy, found ${r.matcher.text} again (first at spec.expectations.${first})`, nodeAt(doc, path)?.range?.[0]);
  });
}

/** Parses one file. Never throws: problems are returned with their positions. */
export function parsePolicyFile(file: PolicyFile): { policies: Policy[]; problems: PolicyProblem[] } {
  const ctx = new FileContext(file);
  const policies: Policy[] = [];
  const bytes = Buffer.byteLength(file.text, 'utf8');
  if (bytes > MAX_POLICY_FILE_BYTES) {
    ctx.add(PolicyErrorCode.FileTooLarge, [], `expected a policy file of at most ${MAX_POLICY_FILE_BYTES} bytes, found ${bytes}`);
    return { policies, problems: ctx.problems };
  }
  const docs = parseAllDocuments(file.text, { lineCounter: ctx.lines, prettyErrors: false, uniqueKeys: true });
  const list = Array.isArray(docs) ? docs : [];
  list.forEach((doc, index) => {
    if (doc.errors.length > 0) {
      for (const e of doc.errors) {
        const text = lowerFirst(e.message.split(' at line ')[0]!.split('\n')[0]!);
        ctx.add(PolicyErrorCode.YamlSyntax, [], `expected valid YAML, found a syntax error: ${text} (${e.code})`, e.pos[0]);
      }
      return;
    }
    parseDocument(ctx, doc, index, policies);
  });
  // In file order; problems without a position last (Array.prototype.sort is stable).
  const at = (p: PolicyProblem): number => (p.line === undefined ? Number.MAX_SAFE_INTEGER : p.line * 1e6 + (p.column ?? 0));
  return { policies, problems: ctx.problems.sort((a, b) => at(a) - at(b)) };
}

/** sha256 of a file's text (UTF-8), hex. */
export function fileHash(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** The content hash of a policy set: `sha256:` over every file's path and hash, in path order. */
export function policySetHash(files: readonly RevisionFile[]): string {
  const h = createHash('sha256');
  for (const f of [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) h.update(`${f.path}\0${f.sha256}\n`);
  return `sha256:${h.digest('hex')}`;
}

/**
 * Parses a policy set (the files of a directory or of a commit's policy subdirectory): files in
 * path order, policies in file then document order. Two policies with one name are a problem at
 * the second. Never throws.
 */
export function parsePolicySet(files: readonly PolicyFile[]): ParsedPolicySet {
  const sorted = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const policies: Policy[] = [];
  const problems: PolicyProblem[] = [];
  const byName = new Map<string, Policy>();
  for (const file of sorted) {
    const r = parsePolicyFile(file);
    problems.push(...r.problems);
    for (const p of r.policies) {
      const first = byName.get(p.name);
      if (first !== undefined) {
        problems.push({
          code: PolicyErrorCode.DuplicateName, file: p.file, path: 'metadata.name',
          message: `expected each policy name once, found ${JSON.stringify(p.name)} again (first in ${first.file}, document ${first.document + 1})`,
          ...namePosition(file, p.document),
        });
        continue;
      }
      byName.set(p.name, p);
      policies.push(p);
    }
  }
  return { policies, files: sorted.map((f) => ({ path: f.path, sha256: fileHash(f.text) })), problems };
}

function namePosition(file: PolicyFile, document: number): { line?: number; column?: number } {
  const lines = new LineCounter();
  const docs = parseAllDocuments(file.text, { lineCounter: lines });
  const doc = Array.isArray(docs) ? docs[document] : undefined;
  const node = doc === undefined ? undefined : nodeAt(doc, ['metadata', 'name']);
  if (node?.range === undefined) return {};
  const at = lines.linePos(node.range[0]);
  return { line: at.line, column: at.col };
}

/** Parses a policy set; throws PolicyError DW_POLICY_INVALID listing every problem. */
export function loadPolicySet(files: readonly PolicyFile[]): { policies: readonly Policy[]; files: readonly RevisionFile[] } {
  const r = parsePolicySet(files);
  if (r.problems.length > 0) throw PolicyError.invalid(r.problems);
  return { policies: r.policies, files: r.files };
}
