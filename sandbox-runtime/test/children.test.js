// Issue 15, child relay lists: the starter page's lookup (inscribe-cli/src/page/children.js)
// against a fake fetch that answers as ord does, and as an adversary or a broken server would.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { childRelays } from '../../inscribe-cli/src/page/children.js';

const LIST = 'aa'.repeat(32) + 'i1';
const kid = (n) => 'bb'.repeat(32) + 'i' + n;

/** A fake ord: `lists` are the children's bodies in inscription order; 100 a page. */
function ord(lists, { numbers = lists.map((_, i) => 1000 + i) } = {}) {
  const asked = [];
  const get = async (path) => {
    asked.push(path);
    const m = /^\/r\/children\/(\w+)\/inscriptions\/(\d+)$/.exec(path);
    if (m && m[1] == LIST) {
      const page = +m[2];
      const children = lists
        .map((_, i) => ({ charms: [], fee: 0, height: 1, id: kid(i), number: numbers[i], output: '', sat: null, satpoint: '', timestamp: 0 }))
        .slice(page * 100, page * 100 + 100);
      return { json: async () => ({ children, more: lists.length > page * 100 + 100, page }) };
    }
    const c = /^\/content\/\w+i(\d+)$/.exec(path);
    if (c && lists[+c[1]] != null) return { text: async () => lists[+c[1]] };
    return { json: async () => JSON.parse('inscription not found'), text: async () => 'inscription not found' };
  };
  return { get, asked };
}

test('the highest version wins, whatever order the children came in', async () => {
  const { get } = ord(['# version 2\nNEW  # a comment\n', '# version 1\nOLD\n']);
  assert.deepEqual(await childRelays(LIST, get), ['NEW']);
});

test('a tie goes to the later child; no version line is version 0', async () => {
  assert.deepEqual(await childRelays(LIST, ord(['# version 3\nA\n', '# version 3\r\nB\r\n']).get), ['B']);
  assert.deepEqual(await childRelays(LIST, ord(['# version 1\nA\n', 'B\n']).get), ['A']);
  // A near miss is a comment, not a version.
  assert.deepEqual(await childRelays(LIST, ord(['# version 1\nA\n', '# version  9\n# version 9x\nB\n']).get), ['A']);
  // Numbers order ties, not the position in the answer.
  assert.deepEqual(await childRelays(LIST, ord(['X\n', 'Y\n'], { numbers: [7, 5] }).get), ['X']);
});

test('pages are followed while more, and only the last 8 children are read', async () => {
  const lists = Array.from({ length: 230 }, (_, i) => `# version ${i}\nL${i}\n`);
  const { get, asked } = ord(lists);
  assert.deepEqual(await childRelays(LIST, get), ['L229']);
  assert.deepEqual(
    asked.filter((p) => p.startsWith('/r/')),
    [0, 1, 2].map((p) => `/r/children/${LIST}/inscriptions/${p}`),
  );
  assert.equal(asked.filter((p) => p.startsWith('/content/')).length, 8);
});

test('no ord, no child, a broken answer or no answer in time: nothing, never a throw', async () => {
  const offline = async () => {
    throw new TypeError('Failed to fetch');
  };
  assert.deepEqual(await childRelays(LIST, offline), []);
  assert.deepEqual(await childRelays(LIST, ord([]).get), []);
  assert.deepEqual(await childRelays('cc'.repeat(32) + 'i1', ord(['A\n']).get), []);
  const garbage = async () => ({ json: async () => ({ children: 'nope' }) });
  assert.deepEqual(await childRelays(LIST, garbage), []);
  // The page before `publish` replaced its placeholder asks nothing.
  const { get, asked } = ord(['A\n']);
  assert.deepEqual(await childRelays('LUMAMESH_LIST_ID', get), []);
  assert.deepEqual(asked, []);
  const hangs = () => new Promise(() => {});
  assert.deepEqual(await childRelays(LIST, hangs, 50), []);
});
