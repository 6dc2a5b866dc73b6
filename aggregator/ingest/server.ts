// The ingest gRPC server: the Ingest service on grpc-js, over TLS (or plaintext on loopback for
// demos), with the message-size cap and keepalives set.
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { Server, ServerCredentials, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { errorMessage } from '../../common/errors.js';
import { formatListen, isLoopbackHost, parseListen } from '../../common/listen.js';
import { ingestService } from '../../proto/index.js';
import { AggregatorError, AggregatorErrorCode } from '../errors.js';
import type { IngestContext } from './context.js';
import { handleHeartbeat, handleHello } from './hello.js';
import { maxReceiveMessageBytes } from './limits.js';
import { tolerantMethod } from './messages.js';
import { handleUpload } from './upload.js';

/** PEM contents of the server's certificate chain and key, and optionally a CA for client certificates. */
export interface TlsMaterial {
  readonly cert: Buffer;
  readonly key: Buffer;
  /** When set, clients must present a certificate signed by this CA (mutual TLS), besides their token. */
  readonly clientCa?: Buffer;
}

export interface IngestServerOptions {
  /** `host:port`; port 0 picks a free port. */
  readonly listen: string;
  /** TLS material, or 'insecure' for plaintext — refused unless the host is loopback. */
  readonly tls: TlsMaterial | 'insecure';
  readonly context: IngestContext;
}

export interface IngestServer {
  readonly host: string;
  readonly port: number;
  /** `host:port` to dial. */
  readonly address: string;
  /** Stops accepting calls, waits up to `graceMs` for calls in progress, then cancels them. Idempotent. */
  close(graceMs: number): Promise<void>;
}

/**
 * The gRPC server credentials for `tls` on `host`. Checks the PEM material before grpc-js sees
 * it, so a problem gets a clear code: DW_AGGREGATOR_TLS_INVALID, or
 * DW_AGGREGATOR_INSECURE_NOT_LOOPBACK for plaintext on a host that is not loopback.
 */
export function serverCredentials(tls: TlsMaterial | 'insecure', host: string): ServerCredentials {
  if (tls === 'insecure') {
    if (!isLoopbackHost(host)) {
      throw new AggregatorError(AggregatorErrorCode.InsecureNotLoopback, `expected a loopback address (127.0.0.1, ::1, localhost) for plaintext gRPC, found ${host}; configure TLS (docs/security.md)`);
    }
    return ServerCredentials.createInsecure();
  }
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(tls.cert);
  } catch (err) {
    throw new AggregatorError(AggregatorErrorCode.TlsInvalid, `expected a PEM certificate, found one that does not parse: ${errorMessage(err)}`, { cause: err });
  }
  try {
    const key = createPrivateKey(tls.key);
    if (!cert.checkPrivateKey(key)) throw new Error('the key is not the certificate\'s');
  } catch (err) {
    throw new AggregatorError(AggregatorErrorCode.TlsInvalid, `expected the PEM private key of the certificate (${cert.subject.replace(/\n/g, ', ')}), found ${errorMessage(err)}`, { cause: err });
  }
  if (tls.clientCa !== undefined) {
    try {
      new X509Certificate(tls.clientCa);
    } catch (err) {
      throw new AggregatorError(AggregatorErrorCode.TlsInvalid, `expected a PEM CA certificate for client certificates, found one that does not parse: ${errorMessage(err)}`, { cause: err });
    }
  }
  return ServerCredentials.createSsl(tls.clientCa ?? null, [{ private_key: tls.key, cert_chain: tls.cert }], tls.clientCa !== undefined);
}

/**
 * Starts the server. Rejects with DW_AGGREGATOR_TLS_INVALID, DW_AGGREGATOR_INSECURE_NOT_LOOPBACK
 * or DW_AGGREGATOR_GRPC_LISTEN_FAILED.
 */
export async function startIngestServer(options: IngestServerOptions): Promise<IngestServer> {
  const address = parseListen(options.listen);
  if (address === undefined) throw new AggregatorError(AggregatorErrorCode.GrpcListenFailed, `expected host:port to listen on, found ${JSON.stringify(options.listen)}`);
  const credentials = serverCredentials(options.tls, address.host);
  const ctx = options.context;
  const server = new Server({
    'grpc.max_receive_message_length': maxReceiveMessageBytes(ctx.limits),
    // Find connections whose peer vanished (a cut link) so their uploads end and free their slots.
    'grpc.keepalive_time_ms': 60_000,
    'grpc.keepalive_timeout_ms': 20_000,
  });
  const service = {
    hello: tolerantMethod(ingestService.hello),
    upload: tolerantMethod(ingestService.upload),
    heartbeat: tolerantMethod(ingestService.heartbeat),
  };
  const implementation: UntypedServiceImplementation = {
    hello: (call: Parameters<typeof handleHello>[1], callback: Parameters<typeof handleHello>[2]) => handleHello(ctx, call, callback),
    upload: (call: Parameters<typeof handleUpload>[1]) => handleUpload(ctx, call),
    heartbeat: (call: Parameters<typeof handleHeartbeat>[1], callback: Parameters<typeof handleHeartbeat>[2]) => handleHeartbeat(ctx, call, callback),
  };
  server.addService(service, implementation);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(formatListen(address), credentials, (err, bound) => {
      if (err !== null) reject(new AggregatorError(AggregatorErrorCode.GrpcListenFailed, `expected to listen on ${options.listen}, found ${err.message}`, { cause: err }));
      else resolve(bound);
    });
  });
  let closing: Promise<void> | undefined;
  return {
    host: address.host,
    port,
    address: formatListen({ host: address.host === '0.0.0.0' ? '127.0.0.1' : address.host === '::' ? '::1' : address.host, port }),
    close(graceMs) {
      closing ??= new Promise<void>((resolve) => {
        const timer = setTimeout(() => server.forceShutdown(), graceMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      return closing;
    },
  };
}
