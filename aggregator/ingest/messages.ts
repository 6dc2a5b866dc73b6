// Request messages that do not parse reach the handlers as a MalformedMessage instead of making
// grpc-js answer INTERNAL: the handler then answers INVALID_ARGUMENT with DW_INGEST_MALFORMED_MESSAGE.
import type { MethodDefinition } from '@grpc/grpc-js';

/** A request whose bytes did not parse. */
export class MalformedMessage {
  constructor(readonly reason: string, readonly bytes: number) {}
}

/** `method` with a request deserializer that never throws. The wire format is unchanged. */
export function tolerantMethod<Req, Res>(method: MethodDefinition<Req, Res>): MethodDefinition<Req | MalformedMessage, Res> {
  return {
    ...method,
    requestDeserialize: (bytes: Buffer): Req | MalformedMessage => {
      try {
        return method.requestDeserialize(bytes);
      } catch (err) {
        return new MalformedMessage(err instanceof Error ? err.message : String(err), bytes.length);
      }
    },
    requestSerialize: method.requestSerialize as (value: Req | MalformedMessage) => Buffer,
  };
}
