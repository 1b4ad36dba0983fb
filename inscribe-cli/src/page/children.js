// Child relay lists (docs/inscriptions.md, "Child relay lists"): the starter page that
// `lumamesh publish` inscribes carries this function and dials the lines it finds alongside
// the library's embedded relays; the runtime verifies every entry before it dials one.
// It lives in the page, not the runtime, because the runtime is at its 8 KiB brotli budget.

/**
 * The relay.txt lines of the newest child list of inscription `list`, read through ord's
 * recursion routes with `get` (fetch): `/r/children/<list>/inscriptions[/<page>]` (pages
 * followed while `more`, at most 9), then `/content/<child>` of the last 8 children. The
 * highest `# version N` line wins (no such line: version 0), a tie goes to the later child
 * (children come in ascending inscription number). Lines are read as relay.txt is: what
 * precedes a `#`, trimmed, if not empty.
 * Resolves to [] (so the embedded relays are dialled alone) when there is no ord (a page
 * opened from a file), no child, a broken answer, no answer within `cap` ms, or when `list` is
 * not an inscription id (the unpublished page's placeholder).
 */
export async function childRelays(list, get = fetch, cap = 2000) {
  // A page checked or previewed before `publish` still has the placeholder: nothing to ask.
  if (!/^[0-9a-f]{64}i\d+$/.test(list)) return [];
  const lookup = async () => {
    const kids = [];
    for (let page = 0, more = true; more && page < 9; page++) {
      const r = await (await get(`/r/children/${list}/inscriptions/${page}`)).json();
      kids.push(...r.children);
      more = r.more;
    }
    const lists = await Promise.all(
      kids.slice(-8).map(async ({ id, number }) => {
        const text = await (await get('/content/' + id)).text();
        const version = +(/^# version (\d+)[ \t]*\r?$/m.exec(text)?.[1] ?? 0);
        const lines = text.split('\n').map((l) => l.split('#')[0].trim());
        return { version, number, lines: lines.filter((l) => l) };
      }),
    );
    lists.sort((a, b) => b.version - a.version || b.number - a.number);
    return lists[0]?.lines || [];
  };
  const late = new Promise((ok) => setTimeout(ok, cap, []));
  return Promise.race([lookup().catch(() => []), late]);
}
