// The gRPC service definition of driftwatch.ingest.v1.Ingest for @grpc/grpc-js, built on the
// generated protobufjs code (no runtime .proto loading). Both the shipper's client and the
// aggregator's server use this one definition, so the wire paths and codecs cannot drift apart.
import type { MethodDefinition, ServiceDefinition } from '@grpc/grpc-js';
import type { driftwatch as ingestNs } from '../gen/ingest.js';
import { ingestPb } from '../pb.js';

const pb = ingestPb.ingest.v1;

export type HelloRequest = ReturnType<typeof pb.HelloRequest.decode>;
export type HelloResponse = ReturnType<typeof pb.HelloResponse.decode>;
export type UploadRequest = ReturnType<typeof pb.UploadRequest.decode>;
export type UploadResponse = ReturnType<typeof pb.UploadResponse.decode>;
export type HeartbeatRequest = ReturnType<typeof pb.HeartbeatRequest.decode>;
export type HeartbeatResponse = ReturnType<typeof pb.HeartbeatResponse.decode>;

/** The property shapes used to build messages (every field optional, as protobuf allows). */
export type HelloRequestInit = ingestNs.ingest.v1.HelloRequest.$Properties;
export type HelloResponseInit = ingestNs.ingest.v1.HelloResponse.$Properties;
export type UploadRequestInit = ingestNs.ingest.v1.UploadRequest.$Properties;
export type UploadResponseInit = ingestNs.ingest.v1.UploadResponse.$Properties;
export type HeartbeatRequestInit = ingestNs.ingest.v1.HeartbeatRequest.$Properties;
export type HeartbeatResponseInit = ingestNs.ingest.v1.HeartbeatResponse.$Properties;


interface Codec<T, I> {
  encode(message: I): { finish(): Uint8Array };
  decode(bytes: Uint8Array): T;
}

function method<ReqInit, ResInit>(
  name: string, req: Codec<ReqInit, ReqInit>, res: Codec<ResInit, ResInit>, requestStream: boolean, responseStream: boolean,
): MethodDefinition<ReqInit, ResInit> {
  return {
    path: `/driftwatch.ingest.v1.Ingest/${name}`,
    requestStream,
    responseStream,
    originalName: name.charAt(0).toLowerCase() + name.slice(1),
    requestSerialize: (m: ReqInit) => Buffer.from(req.encode(m).finish()),
    requestDeserialize: (b: Buffer): ReqInit => req.decode(b),
    responseSerialize: (m: ResInit) => Buffer.from(res.encode(m).finish()),
    responseDeserialize: (b: Buffer): ResInit => res.decode(b),
  };
}

/**
 * The Ingest service: `hello` (unary), `upload` (bidirectional stream), `heartbeat` (unary).
 * Handlers and clients see the `*Init` shapes (every field optional, as protobuf allows);
 * decoded messages carry proto3 defaults, so a missing scalar reads as 0 / '' / empty.
 */
export const ingestService = {
  hello: method<HelloRequestInit, HelloResponseInit>('Hello', pb.HelloRequest, pb.HelloResponse, false, false),
  upload: method<UploadRequestInit, UploadResponseInit>('Upload', pb.UploadRequest, pb.UploadResponse, true, true),
  heartbeat: method<HeartbeatRequestInit, HeartbeatResponseInit>(
    'Heartbeat', pb.HeartbeatRequest, pb.HeartbeatResponse, false, false),
} satisfies ServiceDefinition;

/** The trailer a server sets on RESOURCE_EXHAUSTED / UNAVAILABLE to ask for a pause (ms). */
export const RETRY_PUSHBACK_TRAILER = 'grpc-retry-pushback-ms';
/** The trailer a FAILED_PRECONDITION upload carries: the offset to resume at. */
export const RESUME_OFFSET_TRAILER = 'dw-resume-offset';
/** The metadata key carrying the site credential: `Bearer <token>`. */
export const AUTHORIZATION_METADATA = 'authorization';
