// Site ids: the stable name of an edge site, as agents configure it and the aggregator keys its
// records by it. One rule for every component.

/** Letters, digits, ".", "_" and "-", starting with a letter or digit; at most 256 characters. */
export const SITE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** The longest site id accepted. */
export const MAX_SITE_ID_LENGTH = 256;

/** True when `id` is a valid site id (SITE_ID_PATTERN, at most MAX_SITE_ID_LENGTH characters). */
export function isValidSiteId(id: string): boolean {
  return id.length <= MAX_SITE_ID_LENGTH && SITE_ID_PATTERN.test(id);
}
