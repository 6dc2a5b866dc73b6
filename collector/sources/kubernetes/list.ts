// Paged list requests (limit/continue) with the shape of each page checked.
import { SourceError, SourceErrorCode } from '../errors.js';

/** Items per page: bounds the size of one response on a large cluster. */
export const PAGE_SIZE = 500;
/** A server that keeps answering `continue` past this many pages is broken, not big. */
const MAX_PAGES = 1000;

/** What the generated client returns for a list, typed or not. */
interface ListPage {
  readonly items?: unknown;
  readonly metadata?: { readonly _continue?: unknown; readonly continue?: unknown; readonly resourceVersion?: unknown };
}

/** All items of a list and the resourceVersion the list was served at. */
export interface Listed<T> {
  readonly items: T[];
  readonly resourceVersion: string | undefined;
}

/**
 * Fetches every page of a list. `fetchPage(cont)` requests one page (`cont` undefined for the
 * first). Throws SourceError DW_SOURCE_BAD_RESPONSE when a page is not a List (no `items` array),
 * and whatever `fetchPage` throws.
 */
export async function listAll<T>(what: string, server: string, fetchPage: (cont: string | undefined) => Promise<unknown>): Promise<Listed<T>> {
  const items: T[] = [];
  let cont: string | undefined;
  let resourceVersion: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const body = (await fetchPage(cont)) as ListPage | null | undefined;
    if (typeof body !== 'object' || body === null || !Array.isArray(body.items)) {
      const found = typeof body === 'object' && body !== null ? `an object with keys ${Object.keys(body).slice(0, 5).join(', ') || '(none)'}` : JSON.stringify(body)?.slice(0, 80) ?? String(body);
      throw new SourceError(SourceErrorCode.BadResponse, `expected a List with an items array from ${what} at ${server}, found ${found}`);
    }
    for (const item of body.items as unknown[]) {
      if (typeof item === 'object' && item !== null) items.push(item as T);
    }
    const rv = body.metadata?.resourceVersion;
    if (typeof rv === 'string' && rv !== '') resourceVersion = rv;
    const next = body.metadata?._continue ?? body.metadata?.continue;
    if (typeof next !== 'string' || next === '') return { items, resourceVersion };
    cont = next;
  }
  throw new SourceError(SourceErrorCode.BadResponse, `expected ${what} at ${server} to end within ${MAX_PAGES} pages of ${PAGE_SIZE}, found more`);
}
