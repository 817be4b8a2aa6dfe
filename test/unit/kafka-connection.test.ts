/**
 * KafkaConnection's framing against a local TCP server that answers in
 * awkward pieces: responses split anywhere (inside the size prefix too),
 * several in one chunk, requests pipelined; and a dropped connection fails
 * every request with a retriable error.
 */
import * as net from 'node:net';
import { KafkaConnection, RequestWriter, ResponseReader } from '../../src/connectors/kafka/kafka-connection';
import { FloeError } from '../../src/runtime/errors';

interface Server {
  port: number;
  close(): Promise<void>;
}

/**
 * Echo server: answers each request (api key 18) with its body reversed, as
 * `size | correlation id | body`, writing the responses of everything received
 * so far cut into pieces of `piece` bytes.
 */
function startServer(piece: number, onRequest?: (socket: net.Socket) => boolean): Promise<Server> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    let pending = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      const out: Buffer[] = [];
      while (pending.length >= 4 && pending.length >= 4 + pending.readInt32BE(0)) {
        const frame = pending.subarray(4, 4 + pending.readInt32BE(0));
        pending = pending.subarray(4 + frame.length);
        if (onRequest !== undefined && !onRequest(socket)) return;
        const r = new ResponseReader(frame);
        r.int16(); // api key
        r.int16(); // version
        const correlationId = r.int32();
        r.string(); // client id
        const body = Buffer.from(frame.subarray(r.pos)).reverse();
        const head = Buffer.alloc(8);
        head.writeInt32BE(4 + body.length, 0);
        head.writeInt32BE(correlationId, 4);
        out.push(head, body);
      }
      const all = Buffer.concat(out);
      for (let at = 0; at < all.length; at += piece) socket.write(all.subarray(at, at + piece));
    });
    socket.on('close', () => sockets.delete(socket));
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve({
        port: (server.address() as net.AddressInfo).port,
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}

const connect = (port: number): KafkaConnection =>
  new KafkaConnection({ host: '127.0.0.1', port, clientId: 'test', connectTimeoutMs: 2000 });

describe('KafkaConnection', () => {
  it.each([1, 3, 5, 4096])(
    'matches pipelined responses cut into %i-byte pieces to their requests',
    async (piece) => {
      const server = await startServer(piece);
      const c = connect(server.port);
      try {
        const bodies = Array.from({ length: 20 }, (_, i) =>
          new RequestWriter().string(`request ${i} ${'x'.repeat(i * 37)}`).bytes(),
        );
        const answers = await Promise.all(bodies.map((b) => c.request(18, 0, Buffer.from(b), 5000)));
        answers.forEach((a, i) => expect(a.equals(Buffer.from(bodies[i]).reverse())).toBe(true));
      } finally {
        c.close();
        await server.close();
      }
    },
  );

  it('fails pending and later requests with a retriable error when the broker drops the connection', async () => {
    const server = await startServer(4096, (socket) => {
      socket.destroy();
      return false;
    });
    const c = connect(server.port);
    try {
      const err = await c.request(18, 0, Buffer.from('x'), 5000).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(FloeError);
      expect((err as FloeError).retriable).toBe(true);
      expect((err as FloeError).code).toBe('SOURCE_IO');
      expect(c.closed).toBe(true);
      await expect(c.request(18, 0, Buffer.from('y'), 5000)).rejects.toBeInstanceOf(FloeError);
    } finally {
      await server.close();
    }
  });

  it('fails with a retriable error when nothing listens', async () => {
    const server = await startServer(1);
    const port = server.port;
    await server.close();
    const err = await connect(port)
      .request(18, 0, Buffer.from('x'), 5000)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FloeError);
    expect((err as FloeError).retriable).toBe(true);
  });
});
