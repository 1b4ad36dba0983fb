// Chunking and reassembly of peer messages.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { pack, chunks, reassembler, CHUNK } from '../src/chunk.js';

function roundTrip(msg) {
  const feed = reassembler();
  let out = null;
  const frames = [...chunks(pack(msg))];
  for (const f of frames) {
    assert.ok(f.length <= CHUNK + 1);
    assert.equal(out, null, 'message completed early');
    out = feed(f);
  }
  return [frames.length, out[1]];
}

test('every message type survives', () => {
  assert.deepEqual(roundTrip({ hello: 'world', n: [1, 2] })[1], { hello: 'world', n: [1, 2] });
  assert.equal(roundTrip('hi everyone')[1], 'hi everyone');
  assert.equal(roundTrip('')[1], '');
  const ab = roundTrip(new Uint8Array([1, 2, 3]).buffer)[1];
  assert.ok(ab instanceof ArrayBuffer);
  assert.deepEqual([...new Uint8Array(ab)], [1, 2, 3]);
  const u8 = roundTrip(new Uint8Array([9, 8]).subarray(1))[1];
  assert.ok(u8 instanceof Uint8Array);
  assert.deepEqual([...u8], [8]);
  assert.equal(roundTrip(null)[1], null);
});

test('chunk boundaries', () => {
  for (const n of [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 2 * CHUNK + 5]) {
    const data = Uint8Array.from({ length: n }, (_, i) => i * 7);
    const [count, back] = roundTrip(data);
    assert.equal(count, Math.max(1, Math.ceil(n / CHUNK)), `n=${n}`);
    assert.deepEqual(back, data);
  }
});

test('multi-megabyte messages reassemble exactly', () => {
  const data = crypto.getRandomValues(new Uint8Array(3 * 1024 * 1024 + 17).subarray(0, 65536));
  const big = new Uint8Array(3 * 1024 * 1024 + 17);
  for (let o = 0; o < big.length; o += data.length) big.set(data.subarray(0, Math.min(data.length, big.length - o)), o);
  const [count, back] = roundTrip(big);
  assert.equal(count, Math.ceil(big.length / CHUNK));
  assert.ok(back.length == big.length && back.every((x, i) => x == big[i]));
});

test('interleaved messages on one reassembler stay separate', () => {
  const feed = reassembler();
  const a = [...chunks(pack('x'.repeat(CHUNK * 2 + 1)))];
  const b = [...chunks(pack('y'))];
  assert.equal(a.length, 3);
  assert.equal(feed(a[0]), null);
  assert.equal(feed(a[1]), null);
  assert.ok(feed(a[2])[1] === 'x'.repeat(CHUNK * 2 + 1));
  assert.equal(feed(b[0])[1], 'y');
});
