// Who is calling: the site of the bearer token in the `authorization` metadata. The token is
// never logged or echoed; a message may name the first digits of its hash.
import type { Metadata } from '@grpc/grpc-js';
import { AUTHORIZATION_METADATA } from '../../proto/index.js';
import { hashToken, keyId, type Credentials } from './credentials.js';
import { fail, IngestErrorCode, type IngestFailure } from './errors.js';

/** The credential's site, or the UNAUTHENTICATED failure to answer with. */
export function authenticate(metadata: Metadata, credentials: Credentials): { site: string } | IngestFailure {
  const values = metadata.get(AUTHORIZATION_METADATA);
  if (values.length === 0) {
    return fail(IngestErrorCode.Unauthenticated, 'expected metadata "authorization: Bearer <token>", found no authorization metadata');
  }
  if (values.length > 1) return fail(IngestErrorCode.Unauthenticated, `expected one authorization value, found ${values.length}`);
  const value = values[0];
  const m = typeof value === 'string' ? /^Bearer[ ]+(\S+)$/i.exec(value.trim()) : null;
  if (m === null) return fail(IngestErrorCode.Unauthenticated, 'expected metadata "authorization: Bearer <token>", found another form');
  const site = credentials.siteOf(m[1]!);
  if (site === undefined) {
    return fail(IngestErrorCode.Unauthenticated, `expected a token the aggregator knows, found an unknown one (key id ${keyId(hashToken(m[1]!))})`);
  }
  return { site };
}

/** The PERMISSION_DENIED failure for a request that names another site than its credential. */
export function siteMismatch(credentialSite: string, found: string, what = 'site_id'): IngestFailure {
  return fail(IngestErrorCode.SiteMismatch, `expected ${what} ${JSON.stringify(credentialSite)} (the credential's site), found ${JSON.stringify(found)}`);
}
