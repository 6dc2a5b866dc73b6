// The ingest service: the gRPC server side of driftwatch.ingest.v1 (docs/format/ingest.md).
export { Admission, type AdmissionTicket } from './admission.js';
export { authenticate } from './auth.js';
export type { ActiveUpload, IngestContext } from './context.js';
export {
  addCredential, credentialsFromHashes, formatCredentials, hashToken, keyId, loadCredentials, newToken, parseCredentials, revokeCredential,
  CREDENTIALS_VERSION, TOKEN_PREFIX, type CredentialEntry, type Credentials,
} from './credentials.js';
export { asFailure, fail, INGEST_STATUS, IngestErrorCode, IngestFailure } from './errors.js';
export { DEFAULT_INGEST_LIMITS, maxReceiveMessageBytes, MESSAGE_OVERHEAD_BYTES, type IngestLimits } from './limits.js';
export { startIngestServer, type IngestServer, type IngestServerOptions, type TlsMaterial } from './server.js';
