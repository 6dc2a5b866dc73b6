// Container image references as Kubernetes pod specs write them — `registry.example.com:5000/shop/
// pos:2.4.1@sha256:…` — split into repository, tag and digest (the grammar of the Docker
// distribution `reference` package, without its full validation: the tag is what matters here).

/** An image reference's parts. */
export interface ImageRef {
  /** As written, without tag and digest: `registry.example.com/shop/pos`, `nginx`. */
  readonly repository: string;
  readonly tag: string | undefined;
  readonly digest: string | undefined;
}

const TAG = /^[\w][\w.-]{0,127}$/;
const REPOSITORY = /^[a-z0-9]+(?:[._-]+[a-z0-9]+|__[a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-]+[a-z0-9]+|__[a-z0-9]+)*)*$/;

/**
 * Parses an image reference; undefined when `text` is not one. The tag is the part after the
 * last `:` that follows the last `/` (a `:` before it belongs to a registry port); a digest
 * (`@sha256:…`) is split off first.
 */
export function parseImageRef(text: string): ImageRef | undefined {
  if (text.length === 0 || text.length > 1024 || /\s/.test(text)) return undefined;
  let rest = text;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!/^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[0-9a-fA-F]{32,}$/.test(digest)) return undefined;
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) return undefined;
  }
  if (rest.length === 0) return undefined;
  // The first component is a registry when it has a `.` or a `:` (a port) or is localhost.
  const slash = rest.indexOf('/');
  const first = slash < 0 ? '' : rest.slice(0, slash);
  const hasRegistry = slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost');
  const path = hasRegistry ? rest.slice(slash + 1) : rest;
  if (hasRegistry && !/^[a-zA-Z0-9.-]+(?::\d+)?$/.test(first)) return undefined;
  if (!REPOSITORY.test(path)) return undefined;
  return { repository: rest, tag, digest };
}

/**
 * A repository in Docker's normalised form: `nginx` → `docker.io/library/nginx`,
 * `bitnami/redis` → `docker.io/bitnami/redis`; one with a registry stays as written.
 */
export function normalizeRepository(repository: string): string {
  const slash = repository.indexOf('/');
  const first = slash < 0 ? '' : repository.slice(0, slash);
  const hasRegistry = slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost');
  if (hasRegistry) {
    const path = repository.slice(slash + 1);
    return first === 'docker.io' && !path.includes('/') ? `docker.io/library/${path}` : repository;
  }
  return slash < 0 ? `docker.io/library/${repository}` : `docker.io/${repository}`;
}
