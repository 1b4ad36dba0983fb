// Layer-1 frames against the examples in docs/protocol.md.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import * as P from '../src/proto.js';
import { hex } from '../src/bytes.js';

const h = (s) => Uint8Array.from(Buffer.from(s.replace(/\s/g, ''), 'hex'));
const room = h('aa'.repeat(32));

test('client frames encode as documented', () => {
  assert.equal(hex(P.hello()), '0101');
  assert.equal(hex(P.join(room)), '02' + 'aa'.repeat(32));
  assert.equal(hex(P.leave(room)), '03' + 'aa'.repeat(32));
  assert.equal(hex(P.signal(room, 2, h('6869'))), '04' + 'aa'.repeat(32) + '00000002' + '6869');
  assert.equal(hex(P.ping(7)), '050000000000000007');
  assert.equal(hex(P.getNodes()), '06');
});

test('relay frames decode as documented', () => {
  const w = P.decode(h('81 01 00000001 4000 00fa 08 0032 001e eeee'));
  assert.deepEqual(
    { ...w, entry: hex(w.entry) },
    { t: P.WELCOME, version: 1, peer: 1, maxFrame: 16384, maxRoom: 250, maxRooms: 8, rate: 50, idle: 30, entry: 'eeee' },
  );
  assert.deepEqual(P.decode(h('82' + 'aa'.repeat(32) + '00000001 00000003')).peers, [1, 3]);
  assert.deepEqual(P.decode(h('82' + 'aa'.repeat(32))).peers, []);
  const j = P.decode(h('83' + 'aa'.repeat(32) + '00000002'));
  assert.equal(j.t, P.JOINED);
  assert.equal(j.peer, 2);
  assert.equal(P.decode(h('84' + 'aa'.repeat(32) + '00000002')).t, P.LEFT);
  const s = P.decode(h('85' + 'aa'.repeat(32) + '00000001 6869'));
  assert.equal(s.from, 1);
  assert.equal(hex(s.blob), '6869');
  assert.equal(P.decode(h('86 0000000000000007')).nonce, 7);
  assert.deepEqual(P.decode(h('87 0002 eeee 0001 dd')).entries.map((e) => hex(e)), ['eeee', 'dd']);
  assert.deepEqual(P.decode(h('88 07 02')), { t: P.ERROR, code: 7, request: 2 });
  assert.deepEqual(P.decode(h('89 01')), { t: P.CLOSING, code: 1 });
});

test('malformed relay frames throw instead of misreading', () => {
  for (const bad of ['', '81 01', '82' + 'aa'.repeat(32) + '0000', '83' + 'aa'.repeat(10), '87 0005 ee', '88 07', '7f']) {
    assert.throws(() => P.decode(h(bad)), bad);
  }
});
