// Makes protobufjs decode 64-bit integers as JavaScript numbers instead of Long objects. This
// module must be evaluated before the generated code (proto/gen/*.js) is: import the generated
// code only through proto/pb.ts, which imports this module first.
import $protobuf from 'protobufjs/minimal.js';

$protobuf.util.Long = null as unknown as typeof $protobuf.util.Long;
$protobuf.configure();
