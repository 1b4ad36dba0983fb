// Injected into every document before its own scripts (Page.addScriptToEvaluateOnNewDocument).
// Records what the page tried and reached into globalThis.__lumamesh.events; the harness
// reads it back with Runtime.evaluate in each frame. Wrappers are Proxies so that
// instanceof, prototypes and static constants stay as the page expects.
(() => {
  if (globalThis.__lumamesh) return;
  const events = [];
  const now = () => Math.round(performance.now());
  const push = (e) => { e.t = now(); events.push(e); };
  Object.defineProperty(globalThis, '__lumamesh', {
    value: { events }, enumerable: false, configurable: false, writable: false,
  });
  const where = () => {
    // The first stack line outside this script: file:line:column of the caller.
    const lines = (new Error().stack || '').split('\n').slice(3);
    const m = lines.map((l) => l.match(/\(?([^\s()]+):(\d+):(\d+)\)?$/)).find(Boolean);
    return m ? { source: m[1], line: +m[2], column: +m[3] } : {};
  };

  document.addEventListener('securitypolicyviolation', (e) => push({
    kind: 'csp', directive: e.violatedDirective, effectiveDirective: e.effectiveDirective,
    blockedURI: e.blockedURI, line: e.lineNumber, column: e.columnNumber,
    source: e.sourceFile, disposition: e.disposition,
  }), true);
  addEventListener('error', (e) => push({
    kind: 'error', message: String(e.message), source: e.filename, line: e.lineno, column: e.colno,
  }), true);
  addEventListener('unhandledrejection', (e) => push({
    kind: 'rejection', message: String(e.reason && e.reason.stack || e.reason),
  }), true);
  const consoleError = console.error;
  console.error = function (...args) {
    push({ kind: 'console', message: args.map(String).join(' ') });
    return consoleError.apply(this, args);
  };

  const wrapCtor = (name, onNew) => {
    const Orig = globalThis[name];
    if (typeof Orig !== 'function') return;
    const Wrapped = new Proxy(Orig, {
      construct(target, args, newTarget) {
        const at = where();
        let obj;
        try {
          obj = Reflect.construct(target, args, newTarget === Wrapped ? target : newTarget);
        } catch (err) {
          push({ kind: name, url: String(args[0]), ...at, thrown: String(err) });
          throw err;
        }
        onNew(obj, args, at);
        return obj;
      },
    });
    Object.defineProperty(globalThis, name, { value: Wrapped, writable: true, configurable: true });
    return Wrapped;
  };

  wrapCtor('WebSocket', (ws, args, at) => push({ kind: 'WebSocket', url: String(args[0]), ...at }));
  wrapCtor('EventSource', (es, args, at) => push({ kind: 'EventSource', url: String(args[0]), ...at }));

  const open = globalThis.open;
  if (typeof open === 'function') {
    globalThis.open = function (...args) {
      push({ kind: 'open', url: String(args[0] || ''), ...where() });
      return open.apply(this, args);
    };
  }

  let pcCount = 0;
  let dcCount = 0;
  const watchChannel = (pc, ch, how) => {
    const dc = dcCount++;
    push({ kind: 'datachannel', pc, dc, label: ch.label, state: ch.readyState, how });
    for (const type of ['open', 'close', 'error']) {
      ch.addEventListener(type, () => push({ kind: 'datachannel', pc, dc, label: ch.label, state: type === 'error' ? 'error' : ch.readyState }));
    }
  };
  const pcIds = new WeakMap();
  const Pc = wrapCtor('RTCPeerConnection', (pc, args, at) => {
    const id = pcCount++;
    pcIds.set(pc, id);
    const servers = ((args[0] && args[0].iceServers) || []).flatMap((s) => [].concat(s.urls || s.url || []));
    push({ kind: 'peerconnection', pc: id, state: 'new', iceServers: servers.map(String), ...at });
    pc.addEventListener('connectionstatechange', () => push({ kind: 'peerconnection', pc: id, state: pc.connectionState }));
    pc.addEventListener('iceconnectionstatechange', () => push({ kind: 'ice', pc: id, state: pc.iceConnectionState }));
    pc.addEventListener('datachannel', (e) => watchChannel(id, e.channel, 'remote'));
    pc.addEventListener('icecandidate', (e) => {
      const m = e.candidate && / (\d+) typ /.exec(e.candidate.candidate);
      if (m) push({ kind: 'local', pc: id, port: +m[1] });
    });
  });
  if (Pc) {
    if ('webkitRTCPeerConnection' in globalThis) globalThis.webkitRTCPeerConnection = Pc;
    const proto = Pc.prototype;
    // Remote candidates, from remote descriptions and addIceCandidate: `ip port`.
    const remote = (pc, text) => {
      for (const m of String(text || '').matchAll(/candidate:\S+ \d+ (\S+) \d+ (\S+) (\d+) typ/g)) {
        push({ kind: 'candidate', pc: pcIds.has(pc) ? pcIds.get(pc) : -1, protocol: m[1], address: m[2], port: +m[3] });
      }
    };
    const setRemote = proto.setRemoteDescription;
    proto.setRemoteDescription = function setRemoteDescription(d, ...rest) {
      remote(this, d && d.sdp);
      return setRemote.call(this, d, ...rest);
    };
    const addCandidate = proto.addIceCandidate;
    proto.addIceCandidate = function addIceCandidate(c, ...rest) {
      remote(this, c && (c.candidate || c));
      return addCandidate.call(this, c, ...rest);
    };
    const create = proto.createDataChannel;
    proto.createDataChannel = function createDataChannel(...args) {
      const ch = create.apply(this, args);
      watchChannel(pcIds.has(this) ? pcIds.get(this) : -1, ch, 'local');
      return ch;
    };
  }
})();
