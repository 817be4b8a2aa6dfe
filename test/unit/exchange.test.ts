import { MessageChannel, MessagePort } from 'node:worker_threads';
import { Exchange, PeerMesh } from '../../src/runtime/exchange';
import { MAX_WATERMARK } from '../../src/runtime/watermarks';

const N = 3;

type Event = { from: number; body: string } | { wm: number; idle: boolean };

/** One worker's side of an exchange: what it received, in order. */
interface Peer {
  mesh: PeerMesh;
  ex: Exchange<string>;
  events: Event[];
}

/** Every port created by a test, closed after it so jest can exit. */
let openPorts: MessagePort[] = [];

/** Ports as the job runner wires them: for i < j one channel, port1 to i, port2 to j. */
function wire(n: number): (MessagePort | null)[][] {
  const ports: (MessagePort | null)[][] = Array.from({ length: n }, () => new Array(n).fill(null));
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const { port1, port2 } = new MessageChannel();
      ports[i][j] = port1;
      ports[j][i] = port2;
      openPorts.push(port1, port2);
    }
  }
  return ports;
}

function peer(index: number, ports: (MessagePort | null)[], name = 'x', maxInFlight = 0): Peer {
  const mesh = new PeerMesh(index, ports);
  const events: Event[] = [];
  const ex = mesh.exchange<string>(
    name,
    {
      onData: (from, body) => events.push({ from, body }),
      onWatermark: (wm, idle) => events.push({ wm, idle }),
    },
    maxInFlight,
  );
  return { mesh, ex, events };
}

function peers(maxInFlight = 0): Peer[] {
  const ports = wire(N);
  return ports.map((p, i) => peer(i, p, 'x', maxInFlight));
}

const turn = (): Promise<void> => new Promise<void>((r) => setImmediate(r));

/** Lets the event loop run until `pred` holds; fails after a bounded number of turns (no wall-time limit). */
async function until(pred: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 100_000; i++) {
    if (pred()) return;
    await turn();
  }
  throw new Error(`never happened: ${what}`);
}

const data = (p: Peer): { from: number; body: string }[] =>
  p.events.filter((e): e is { from: number; body: string } => 'body' in e);
const watermarks = (p: Peer): { wm: number; idle: boolean }[] =>
  p.events.filter((e): e is { wm: number; idle: boolean } => 'wm' in e);

afterEach(() => {
  for (const port of openPorts) port.close();
  openPorts = [];
});

describe('PeerMesh / Exchange', () => {
  it('wires one port per pair of workers, none to itself', () => {
    const ports = wire(N);
    for (let i = 0; i < N; i++) {
      expect(ports[i][i]).toBeNull();
      for (let j = 0; j < N; j++) if (i !== j) expect(ports[i][j]).not.toBeNull();
    }
    const mesh = new PeerMesh(1, ports[1]);
    expect(mesh.size).toBe(N);
    expect(mesh.self).toBe(1);
  });

  it('delivers data and watermarks in order, to others and to itself', async () => {
    const ps = peers();
    // Senders 1 and 2 finish first, so every watermark of sender 0 moves the combined one.
    for (const s of [1, 2]) {
      ps[s].ex.broadcastWatermark(MAX_WATERMARK, false);
      for (let to = 0; to < N; to++) ps[s].ex.send(to, 'sync');
    }
    await until(() => ps.every((p) => data(p).length === 2), 'sync from senders 1 and 2');
    for (const p of ps) p.events.length = 0;

    const expected: Event[] = [];
    for (let k = 1; k <= 50; k++) {
      for (let to = 0; to < N; to++) ps[0].ex.send(to, `d${k}`);
      ps[0].ex.broadcastWatermark(k * 100, false);
      expected.push({ from: 0, body: `d${k}` }, { wm: k * 100, idle: false });
    }
    await until(() => ps.every((p) => p.ex.watermark() === 5_000), 'the last watermark everywhere');
    for (const p of ps) expect(p.events).toEqual(expected);
  });

  it('skips repeated watermarks', () => {
    const ps = peers();
    const post = jest.spyOn(ps[0].mesh, 'post');
    ps[0].ex.broadcastWatermark(100, false);
    ps[0].ex.broadcastWatermark(100, false);
    ps[0].ex.broadcastWatermark(100, true);
    ps[0].ex.broadcastWatermark(200, true);
    ps[0].ex.broadcastWatermark(200, true);
    const sent = post.mock.calls.map(([to, msg]) => [to, msg]);
    const wm = (w: number, idle: boolean): object => ({ x: 'x', k: 'wm', from: 0, wm: w, idle });
    expect(sent).toEqual([
      [0, wm(100, false)],
      [1, wm(100, false)],
      [2, wm(100, false)],
      [0, wm(100, true)],
      [1, wm(100, true)],
      [2, wm(100, true)],
      [0, wm(200, true)],
      [1, wm(200, true)],
      [2, wm(200, true)],
    ]);
  });

  it("the receiver's combined watermark is the minimum over senders", async () => {
    const ps = peers();
    ps[0].ex.broadcastWatermark(300, false);
    ps[1].ex.broadcastWatermark(100, false);
    ps[2].ex.broadcastWatermark(200, false);
    await until(() => ps.every((p) => p.ex.watermark() === 100), 'combined 100');
    ps[1].ex.broadcastWatermark(400, false);
    await until(() => ps.every((p) => p.ex.watermark() === 200), 'combined 200');
    ps[2].ex.broadcastWatermark(500, false);
    await until(() => ps.every((p) => p.ex.watermark() === 300), 'combined 300');
    for (const p of ps) {
      expect(watermarks(p)).toEqual([
        { wm: 100, idle: false },
        { wm: 200, idle: false },
        { wm: 300, idle: false },
      ]);
    }
  });

  it('excludes idle senders; all idle holds and reports idle; a sender coming back counts again', async () => {
    const ps = peers();
    ps[0].ex.broadcastWatermark(100, false);
    ps[1].ex.broadcastWatermark(50, true);
    ps[2].ex.broadcastWatermark(200, false);
    await until(() => ps.every((p) => p.ex.watermark() === 100), 'combined 100 without idle sender 1');
    ps[0].ex.broadcastWatermark(100, true);
    await until(() => ps.every((p) => p.ex.watermark() === 200), 'combined 200 with only sender 2 active');
    ps[2].ex.broadcastWatermark(200, true);
    await until(() => ps.every((p) => watermarks(p).length === 3), 'all idle');
    ps[1].ex.broadcastWatermark(300, false);
    await until(() => ps.every((p) => watermarks(p).length === 4), 'sender 1 back');
    for (const p of ps) {
      expect(watermarks(p)).toEqual([
        { wm: 100, idle: false },
        { wm: 200, idle: false },
        { wm: 200, idle: true },
        { wm: 300, idle: false },
      ]);
    }
  });

  it('a finished sender no longer holds the others back', async () => {
    const ps = peers();
    ps[0].ex.broadcastWatermark(MAX_WATERMARK, false);
    ps[1].ex.broadcastWatermark(700, false);
    ps[2].ex.broadcastWatermark(900, false);
    await until(() => ps.every((p) => p.ex.watermark() === 700), 'combined 700');
    ps[1].ex.broadcastWatermark(MAX_WATERMARK, false);
    ps[2].ex.broadcastWatermark(MAX_WATERMARK, false);
    await until(() => ps.every((p) => p.ex.watermark() === MAX_WATERMARK), 'combined MAX');
  });

  it('backpressure: whenWritable blocks after maxInFlight unacked batches and resolves once acks arrive', async () => {
    const ports = wire(N);
    // Worker 1 does not listen yet: its port holds our batches, so no ack can come.
    const p0 = peer(0, ports[0], 'bp', 2);
    const p2 = peer(2, ports[2], 'bp', 2);

    expect(p0.ex.whenWritable(1)).toBeUndefined();
    p0.ex.send(1, 'a');
    expect(p0.ex.whenWritable(1)).toBeUndefined();
    p0.ex.send(1, 'b');
    const blocked = p0.ex.whenWritable(1);
    expect(blocked).toBeInstanceOf(Promise);
    let resolved = false;
    void blocked?.then(() => (resolved = true));

    // Other receivers are not affected, and their acks do not release the wait for worker 1.
    p0.ex.send(2, 'c');
    p0.ex.send(2, 'd');
    expect(p0.ex.whenWritable(2)).toBeInstanceOf(Promise);
    await until(() => p0.ex.whenWritable(2) === undefined, 'acks from worker 2');
    expect(data(p2).map((e) => e.body)).toEqual(['c', 'd']);
    for (let i = 0; i < 100; i++) await turn();
    expect(resolved).toBe(false);

    // Worker 1 starts listening: it takes the batches in order, acks them, and the sender may go on.
    const p1 = peer(1, ports[1], 'bp', 2);
    await blocked;
    expect(resolved).toBe(true);
    expect(data(p1).length).toBeGreaterThanOrEqual(1);
    await until(() => p0.ex.whenWritable(1) === undefined, 'all acks from worker 1');
    expect(data(p1)).toEqual([
      { from: 0, body: 'a' },
      { from: 0, body: 'b' },
    ]);
  });

  it('backpressure applies to batches to itself, acked through the local queue', async () => {
    const ps = peers(1);
    ps[0].ex.send(0, 'self');
    const wait = ps[0].ex.whenWritable(0);
    expect(wait).toBeInstanceOf(Promise);
    expect(data(ps[0])).toEqual([]);
    await wait;
    expect(data(ps[0])).toEqual([{ from: 0, body: 'self' }]);
    expect(ps[0].ex.whenWritable(0)).toBeUndefined();
  });

  it('without maxInFlight it never blocks', () => {
    const ps = peers(0);
    for (let i = 0; i < 10; i++) ps[0].ex.send(1, `b${i}`);
    expect(ps[0].ex.whenWritable(1)).toBeUndefined();
  });

  it('multiplexes exchanges by name over the same ports', async () => {
    const ports = wire(N);
    const meshes = ports.map((p, i) => new PeerMesh(i, p));
    const got: string[][] = meshes.map(() => []);
    const exA = meshes.map((m, i) =>
      m.exchange<string>('a', { onData: (_f, b) => got[i].push(`a:${b}`), onWatermark: () => undefined }),
    );
    const exB = meshes.map((m, i) =>
      m.exchange<string>('b', { onData: (_f, b) => got[i].push(`b:${b}`), onWatermark: () => undefined }),
    );
    exA[0].send(2, '1');
    exB[0].send(2, '2');
    exA[0].send(2, '3');
    exB[1].send(1, 'self');
    await until(() => got[2].length === 3 && got[1].length === 1, 'all batches');
    expect(got[2]).toEqual(['a:1', 'b:2', 'a:3']);
    expect(got[1]).toEqual(['b:self']);
    expect(got[0]).toEqual([]);
  });

  it('a closed mesh delivers nothing more to itself: neither what was queued nor what is posted later', async () => {
    const p = peer(0, [null]);
    p.ex.send(0, 'before');
    await until(() => data(p).length === 1, 'the batch sent before closing');
    p.ex.send(0, 'queued');
    p.mesh.close();
    p.ex.send(0, 'after');
    p.ex.broadcastWatermark(MAX_WATERMARK, false);
    for (let i = 0; i < 10; i++) await turn();
    expect(p.events).toEqual([{ from: 0, body: 'before' }]);
  });
});

describe('aligned checkpoint barriers', () => {
  type BEvent = { from: number; body: string } | { barrier: number };
  interface BPeer {
    ex: Exchange<string>;
    events: BEvent[];
  }

  function barrierPeers(maxInFlight = 0): BPeer[] {
    return wire(N).map((ports, i) => {
      const mesh = new PeerMesh(i, ports);
      const events: BEvent[] = [];
      const ex = mesh.exchange<string>(
        'x',
        {
          onData: (from, body) => events.push({ from, body }),
          onWatermark: () => {},
          onBarrier: (id) => events.push({ barrier: id }),
        },
        maxInFlight,
      );
      return { ex, events };
    });
  }

  it('fires once per checkpoint, after all pre-barrier data of every sender and before any post-barrier data', async () => {
    const ps = barrierPeers();
    // Worker 0 is fast: its barrier and post-barrier data arrive long before worker 2's barrier.
    ps[0].ex.send(1, 'a-pre');
    ps[0].ex.broadcastBarrier(1);
    ps[0].ex.send(1, 'a-post');
    ps[1].ex.send(1, 'b-pre');
    ps[1].ex.broadcastBarrier(1);
    ps[1].ex.send(1, 'b-post');
    await until(() => ps[1].events.length >= 2, 'pre-barrier data');
    for (let i = 0; i < 50; i++) await turn();
    // Aligning: post-barrier data of workers 0 and 1 is held back.
    expect(ps[1].events).toEqual([
      { from: 0, body: 'a-pre' },
      { from: 1, body: 'b-pre' },
    ]);
    ps[2].ex.send(1, 'c-pre');
    ps[2].ex.broadcastBarrier(1);
    await until(() => ps[1].events.some((e) => 'barrier' in e), 'alignment');
    await until(() => ps[1].events.length === 6, 'held data');
    expect(ps[1].events.slice(0, 4)).toEqual([
      { from: 0, body: 'a-pre' },
      { from: 1, body: 'b-pre' },
      { from: 2, body: 'c-pre' },
      { barrier: 1 },
    ]);
    expect(ps[1].events.slice(4)).toEqual(
      expect.arrayContaining([
        { from: 0, body: 'a-post' },
        { from: 1, body: 'b-post' },
      ]),
    );
    // Every worker aligned checkpoint 1 exactly once.
    for (const p of ps)
      await until(() => p.events.filter((e) => 'barrier' in e).length === 1, 'barrier everywhere');
  });

  it('holds a sender that is already at the next barrier until the current one aligns', async () => {
    const ps = barrierPeers();
    ps[0].ex.broadcastBarrier(1);
    ps[0].ex.send(2, 'a1');
    ps[0].ex.broadcastBarrier(2);
    ps[0].ex.send(2, 'a2');
    ps[1].ex.broadcastBarrier(1);
    ps[2].ex.broadcastBarrier(1);
    await until(() => ps[2].events.length >= 2, 'first alignment');
    for (let i = 0; i < 50; i++) await turn();
    expect(ps[2].events).toEqual([{ barrier: 1 }, { from: 0, body: 'a1' }]);
    ps[1].ex.broadcastBarrier(2);
    ps[2].ex.broadcastBarrier(2);
    await until(() => ps[2].events.length === 4, 'second alignment');
    expect(ps[2].events).toEqual([
      { barrier: 1 },
      { from: 0, body: 'a1' },
      { barrier: 2 },
      { from: 0, body: 'a2' },
    ]);
  });

  it('a sender held at a barrier runs out of credits instead of flooding the receiver', async () => {
    const ps = barrierPeers(2);
    ps[0].ex.broadcastBarrier(1);
    ps[0].ex.send(1, 'x1');
    ps[0].ex.send(1, 'x2');
    for (let i = 0; i < 50; i++) await turn();
    expect(ps[0].ex.whenWritable(1)).toBeInstanceOf(Promise);
    ps[1].ex.broadcastBarrier(1);
    ps[2].ex.broadcastBarrier(1);
    await until(() => ps[0].ex.whenWritable(1) === undefined, 'credits back after alignment');
    expect(ps[1].events.filter((e) => 'body' in e)).toEqual([
      { from: 0, body: 'x1' },
      { from: 0, body: 'x2' },
    ]);
  });
});
