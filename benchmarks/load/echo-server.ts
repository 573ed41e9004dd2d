/**
 * The bare baseline of the load harness: a grpc-js server with one unary method,
 * `/bench.Echo/Echo`, that answers with the request bytes unchanged (identity serializers, no
 * work in the handler). Driven by the same h2load command and the same bodies as MLSDM, it is
 * the transport ceiling every MLSDM row is divided by. Listens on 127.0.0.1 only; prints
 * `ready <port>` and exits on SIGTERM or when its parent's stdin closes.
 */
import * as grpc from "@grpc/grpc-js";

const identity = (buffer: Buffer): Buffer => buffer;
const definition: grpc.ServiceDefinition = {
  Echo: {
    path: "/bench.Echo/Echo",
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
};

const server = new grpc.Server();
server.addService(definition, {
  Echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
    callback(null, call.request);
  },
});
const requested = Number(process.argv[2] ?? 0);
server.bindAsync(`127.0.0.1:${requested}`, grpc.ServerCredentials.createInsecure(), (error, port) => {
  if (error) {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  process.stdout.write(`ready ${port}\n`);
});
const stop = (): void => {
  server.forceShutdown();
  process.exit(0);
};
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
process.stdin.on("end", stop);
process.stdin.resume();
