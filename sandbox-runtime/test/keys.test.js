// Room ids and sealed signal blobs.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { roomKeys, seal, open } from '../src/keys.js';
import { hex, te, td } from '../src/bytes.js';

test('room ids are deterministic and depend on app, name and secret', async () => {
  const a = await roomKeys('app', 'lobby', 's3cret');
  const b = await roomKeys('app', 'lobby', 's3cret');
  assert.equal(hex(a.id), hex(b.id));
  assert.equal(a.id.length, 32);
  for (const other of [['app', 'lobby', ''], ['app', 'Lobby', 's3cret'], ['app2', 'lobby', 's3cret']]) {
    assert.notEqual(hex((await roomKeys(...other)).id), hex(a.id), other.join('/'));
  }
  // The id is not a plain hash of the name: it reveals nothing a dictionary could match cheaply.
  const plain = new Uint8Array(await crypto.subtle.digest('SHA-256', te.encode('lobby')));
  assert.notEqual(hex(a.id), hex(plain));
});

test('sealed blobs open only for the right room, sender and recipient', async () => {
  const room = await roomKeys('app', 'lobby', 'x');
  const msg = te.encode('{"sdp":"v=0"}');
  // Addresses: relay tag (8 bytes) then session id; A and B on one relay, C on another.
  const [A, B, C] = ['0a0a0a0a0a0a0a0a00000001', '0a0a0a0a0a0a0a0a00000002', '0c0c0c0c0c0c0c0c00000002'];
  const blob = await seal(room, A, B, msg);
  assert.notEqual(hex(blob).indexOf(hex(msg)), 0);
  assert.equal(td.decode(await open(room, A, B, blob)), '{"sdp":"v=0"}');
  await assert.rejects(open(room, B, B, blob), 'redirected: other sender');
  await assert.rejects(open(room, A, C, blob), 'redirected: same session id on another relay');
  await assert.rejects(open(room, '0c0c0c0c0c0c0c0c00000001', B, blob), 'claimed by the same id on another relay');
  await assert.rejects(open(room, B, A, blob), 'sender and recipient swapped');
  const other = await roomKeys('app', 'lobby', 'y');
  await assert.rejects(open(other, A, B, blob), 'other secret');
  const tampered = blob.slice();
  tampered[20] ^= 1;
  await assert.rejects(open(room, A, B, tampered), 'tampered');
  await assert.rejects(open(room, A, B, blob.subarray(0, 27)), 'truncated');
  const again = await seal(room, A, B, msg);
  assert.notEqual(hex(again), hex(blob), 'fresh IV every time');
});

test('room key vectors (docs/security.md)', async () => {
  const { readFileSync } = await import('node:fs');
  const { vectors } = JSON.parse(readFileSync(new URL('../../fixtures/runtime/room-keys.json', import.meta.url), 'utf8'));
  for (const v of vectors) {
    const room = await roomKeys(v.app, v.name, v.secret);
    assert.equal(hex(room.id), v.room_id);
    if (v.sealed) {
      const blob = Uint8Array.from(Buffer.from(v.sealed, 'hex'));
      assert.equal(td.decode(await open(room, v.from, v.to, blob)), v.plaintext);
    }
  }
});
