// Deterministic JSON-lines adapter that drives the real Replicache client
// (npm `replicache` 15.x, its ReplicacheImpl) as a system under test.
//
// One JSON command per stdin line, exactly one JSON reply per command on
// stdout (keys sorted, one line). Nothing else is ever written to stdout:
// console.* and Replicache's logs go to stderr. See NOTES.md for the command
// protocol and for what was learned about the real client.
//
// Usage: node adapter.mjs [--seed N] [--now EPOCH_MS]
//   env ADAPTER_LOG=debug|info|error  also print Replicache's logs of that
//   level and above to stderr (default: none; info- and error-level logs are
//   always reported as events in the replies).

import { AsyncLocalStorage } from 'node:async_hooks';
import { createInterface } from 'node:readline';
import { webcrypto } from 'node:crypto';
import FakeTimers from '@sinonjs/fake-timers';

// ---------------------------------------------------------------------------
// Arguments
// ---------------------------------------------------------------------------

function argValue(name, dflt) {
  const i = process.argv.indexOf(name);
  if (i < 0) return dflt;
  const v = process.argv[i + 1];
  if (v === undefined) throw new Error(`missing value after ${name}`);
  return v;
}
const SEED = Number(argValue('--seed', '1')) >>> 0;
const EPOCH = Number(argValue('--now', String(Date.UTC(2024, 0, 1))));
const HOST_LOG = process.env.ADAPTER_LOG || '';

// ---------------------------------------------------------------------------
// Keep stdout clean: everything but replies goes to stderr.
// ---------------------------------------------------------------------------

const realStdoutWrite = process.stdout.write.bind(process.stdout);
function toStderr(...args) {
  process.stderr.write(args.map(a => (typeof a === 'string' ? a : safeJSON(a))).join(' ') + '\n');
}
function safeJSON(v) {
  try {
    if (v instanceof Error) return `${v.name}: ${v.message}`;
    return JSON.stringify(v);
  } catch {
    return String(v);
  }
}
for (const m of ['log', 'info', 'debug', 'warn', 'error', 'trace']) console[m] = toStderr;

// ---------------------------------------------------------------------------
// Determinism: seeded randomness, fake clock, no network, in-process
// BroadcastChannel. All of it installed BEFORE Replicache is imported
// (Replicache captures BroadcastChannel at module load).
// ---------------------------------------------------------------------------

// sfc32 seeded through splitmix32: small, fast, good enough, reproducible.
function makePrng(seed) {
  let s = seed >>> 0;
  const split = () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = split(), b = split(), c = split(), d = split();
  return () => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) >>> 0;
    return t / 4294967296;
  };
}
const random = makePrng(SEED);
Math.random = random;
const cryptoObj = globalThis.crypto ?? webcrypto;
cryptoObj.getRandomValues = function getRandomValues(arr) {
  const bytes = new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength);
  for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(random() * 256);
  return arr;
};
cryptoObj.randomUUID = function randomUUID() {
  const b = new Uint8Array(16);
  cryptoObj.getRandomValues(b);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.from(b, x => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
};

// Real macrotask used to drain the microtask queue (never faked).
const realSetImmediate = setImmediate;
const macrotask = () => new Promise(r => realSetImmediate(r));

const clock = FakeTimers.install({
  now: EPOCH,
  toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date', 'performance'],
  shouldAdvanceTime: false,
  loopLimit: 100000,
});

// The network is the harness. Anything that tries a real request is a bug.
const networkAttempts = [];
globalThis.fetch = async (...args) => {
  networkAttempts.push(String(args[0]?.url ?? args[0]));
  throw new Error('plasma-conformance adapter: network access is forbidden');
};

// The sleep inside ReplicacheImpl.refresh() (replicache 15.3: `await sleep(300)`).
const REFRESH_SLEEP_MS = 300;

const als = new AsyncLocalStorage(); // {tab, idb} of the instance whose code runs

// BroadcastChannel scoped to one installation (browser profile), delivered
// asynchronously (as in a browser) but only when the adapter settles.
const bcChannels = new Set();
const bcQueue = [];
class FakeBroadcastChannel {
  constructor(name) {
    const ctx = als.getStore();
    this.name = String(name);
    this.idb = ctx?.idb ?? null;
    this.tab = ctx?.tab ?? null;
    this.onmessage = null;
    this.onmessageerror = null;
    this._listeners = [];
    this._closed = false;
    bcChannels.add(this);
  }
  postMessage(data) {
    if (this._closed) throw new Error('BroadcastChannel is closed');
    for (const ch of bcChannels) {
      if (ch !== this && !ch._closed && ch.name === this.name && ch.idb === this.idb) {
        bcQueue.push({ ch, data: structuredClone(data) });
      }
    }
  }
  addEventListener(type, fn) {
    if (type === 'message') this._listeners.push(fn);
  }
  removeEventListener(type, fn) {
    this._listeners = this._listeners.filter(f => f !== fn);
  }
  dispatchEvent() {
    return false;
  }
  close() {
    this._closed = true;
    bcChannels.delete(this);
  }
  _deliver(data) {
    if (this._closed) return;
    const ev = { data, type: 'message' };
    this.onmessage?.(ev);
    for (const fn of this._listeners) fn(ev);
  }
}
globalThis.BroadcastChannel = FakeBroadcastChannel;

const { ReplicacheImpl } = await import('replicache/impl');
const { version: replicacheVersion } = await import('replicache');

// ---------------------------------------------------------------------------
// Storage: one in-memory key/value space per installation (`idb`), shared by
// every Replicache instance opened on it, with a FIFO readers/writer lock per
// database (IndexedDB transactions serialise the same way). Given to
// Replicache through its public `kvStore` StoreProvider option.
// ---------------------------------------------------------------------------

class RWLock {
  #queue = [];
  #readers = 0;
  #writer = false;
  read() {
    return new Promise(resolve => {
      this.#queue.push({ write: false, resolve });
      this.#pump();
    });
  }
  write() {
    return new Promise(resolve => {
      this.#queue.push({ write: true, resolve });
      this.#pump();
    });
  }
  #pump() {
    while (this.#queue.length) {
      const h = this.#queue[0];
      if (h.write) {
        if (this.#writer || this.#readers) return;
        this.#writer = true;
        this.#queue.shift();
        let done = false;
        h.resolve(() => {
          if (done) return;
          done = true;
          this.#writer = false;
          this.#pump();
        });
      } else {
        if (this.#writer) return;
        this.#readers++;
        this.#queue.shift();
        let done = false;
        h.resolve(() => {
          if (done) return;
          done = true;
          this.#readers--;
          this.#pump();
        });
      }
    }
  }
}

class KVRead {
  constructor(map, release) {
    this._map = map;
    this._release = release;
    this.closed = false;
  }
  has(key) {
    return Promise.resolve(this._map.has(key));
  }
  get(key) {
    return Promise.resolve(this._map.get(key));
  }
  release() {
    this.closed = true;
    this._release();
  }
}
class KVWrite extends KVRead {
  constructor(map, release) {
    super(map, release);
    this._pending = new Map(); // key -> value | DEL
  }
  has(key) {
    if (this._pending.has(key)) return Promise.resolve(this._pending.get(key) !== DEL);
    return super.has(key);
  }
  get(key) {
    if (this._pending.has(key)) {
      const v = this._pending.get(key);
      return Promise.resolve(v === DEL ? undefined : v);
    }
    return super.get(key);
  }
  put(key, value) {
    this._pending.set(key, value);
    return Promise.resolve();
  }
  del(key) {
    this._pending.set(key, DEL);
    return Promise.resolve();
  }
  commit() {
    for (const [k, v] of this._pending) {
      if (v === DEL) this._map.delete(k);
      else this._map.set(k, v);
    }
    this._pending.clear();
    return Promise.resolve();
  }
}
const DEL = Symbol('del');

class KVStore {
  constructor(db) {
    this._db = db;
    this.closed = false;
  }
  async read() {
    const release = await this._db.lock.read();
    return new KVRead(this._db.map, release);
  }
  async write() {
    const release = await this._db.lock.write();
    return new KVWrite(this._db.map, release);
  }
  close() {
    this.closed = true;
    return Promise.resolve();
  }
}

const installs = new Map(); // idb -> Map(dbName -> {lock, map})
function installation(idb) {
  let dbs = installs.get(idb);
  if (!dbs) installs.set(idb, (dbs = new Map()));
  return dbs;
}
function storeProvider(idb) {
  const dbs = installation(idb);
  return {
    create(name) {
      let db = dbs.get(name);
      if (!db) dbs.set(name, (db = { lock: new RWLock(), map: new Map() }));
      return new KVStore(db);
    },
    drop(name) {
      dbs.delete(name);
      return Promise.resolve();
    },
  };
}

// ---------------------------------------------------------------------------
// Mutators registered by every tab (the client group is keyed by their names).
// ---------------------------------------------------------------------------

const ALL_MUTATORS = {
  // last-write-wins register
  async set(tx, { key, value }) {
    await tx.set(key, value);
  },
  // counter: value += by (default 1); a missing or non-number value counts as 0
  async incr(tx, { key, by = 1 }) {
    const v = await tx.get(key);
    await tx.set(key, (typeof v === 'number' ? v : 0) + by);
  },
  async del(tx, { key }) {
    await tx.del(key);
  },
  // the client side of a table whose resolveConflict keeps the larger value
  async max(tx, { key, value }) {
    const v = await tx.get(key);
    await tx.set(key, typeof v === 'number' && v > value ? v : value);
  },
};
// Mutators a tab registers unless `options.mutators` says otherwise.
const DEFAULT_MUTATORS = ['set', 'incr', 'del'];

// ---------------------------------------------------------------------------
// Adapter state
// ---------------------------------------------------------------------------

const tabs = new Map(); // tab -> {rep, idb, opts, closed, clientGroupID, profileID}
const requests = new Map(); // req -> {req, kind, tab, body, requestID, resolve, reject, done}
let nextReq = 0;
let outPending = []; // requests issued since the last reply
let outEvents = []; // events since the last reply

function event(e) {
  outEvents.push(e);
}

process.on('unhandledRejection', err => {
  event({ type: 'unhandled_rejection', msg: errMsg(err) });
});

function errMsg(e) {
  if (e instanceof Error) return `${e.name}: ${e.message}`;
  return safeJSON(e);
}

function fmtLogArgs(args) {
  return args
    .map(a => {
      if (typeof a === 'string') return a;
      if (a instanceof Error) {
        const cause = a.causedBy ?? a.cause;
        return errMsg(a) + (cause ? ` (caused by ${errMsg(cause)})` : '');
      }
      return safeJSON(a);
    })
    .join(' ')
    .trim();
}

const LEVELS = { debug: 0, info: 1, error: 2 };
function makeLogSink(tab) {
  return {
    log(level, context, ...args) {
      if (level !== 'debug') event({ type: 'log', tab, level, msg: fmtLogArgs(args) });
      if (HOST_LOG && LEVELS[level] >= LEVELS[HOST_LOG]) {
        process.stderr.write(`[t=${clock.now - EPOCH} tab ${tab} ${level}] ${safeJSON(context)} ${fmtLogArgs(args)}\n`);
      }
    },
  };
}

function makeNetFn(tab, kind) {
  // The real wire format is the first argument; the second is the
  // X-Replicache-RequestID header value.
  return (body, requestID) =>
    new Promise((resolve, reject) => {
      const t = tabs.get(tab);
      const req = nextReq++;
      const r = {
        req,
        kind,
        tab,
        body: JSON.parse(JSON.stringify(body)),
        requestID,
        // mutation recovery pushes/pulls on behalf of ANOTHER client group
        recovery: t?.clientGroupID !== undefined && body.clientGroupID !== t.clientGroupID,
        resolve,
        reject,
        done: false,
      };
      requests.set(req, r);
      outPending.push(publicReq(r));
    });
}
function publicReq(r) {
  return { req: r.req, kind: r.kind, tab: r.tab, body: r.body, requestID: r.requestID, recovery: r.recovery };
}

// ---------------------------------------------------------------------------
// Scheduling: settle (no time passes) and tick (time passes, timer by timer)
// ---------------------------------------------------------------------------

function firstTimer() {
  let best;
  for (const t of clock.timers?.values() ?? []) {
    if (best === undefined || t.callAt < best.callAt || (t.callAt === best.callAt && t.id < best.id)) best = t;
  }
  return best;
}

function fireNextTimer() {
  try {
    clock.next();
  } catch (e) {
    event({ type: 'timer_error', msg: errMsg(e) });
  }
}

// Run everything that can run without time passing: microtasks, broadcast
// deliveries, timers already due. Bounded.
async function settle() {
  for (let round = 0; round < 100000; round++) {
    await macrotask();
    await macrotask();
    if (bcQueue.length) {
      const { ch, data } = bcQueue.shift();
      als.run({ tab: ch.tab, idb: ch.idb }, () => ch._deliver(data));
      continue;
    }
    const t = firstTimer();
    if (t && t.callAt <= clock.now) {
      fireNextTimer();
      continue;
    }
    return;
  }
  throw new Error('settle: no quiescence after 100000 rounds');
}

async function tick(ms) {
  if (!(ms >= 0)) throw new Error('tick: ms must be >= 0');
  const target = clock.now + ms;
  await settle();
  for (;;) {
    const t = firstTimer();
    if (!t || t.callAt > target) break;
    fireNextTimer(); // advance to that timer and fire it alone
    await settle();
  }
  if (clock.now < target) clock.tick(target - clock.now); // no timer in between
  await settle();
}

// ---------------------------------------------------------------------------
// Commands
// ---------------------------------------------------------------------------

function needTab(tab, { live = true } = {}) {
  const t = tabs.get(tab);
  if (!t) throw new Error(`unknown tab ${tab}`);
  if (live && t.closed) throw new Error(`tab ${tab} is closed`);
  return t;
}

async function openTab(tab, idb, opts) {
  const {
    name = 'plasma',
    schemaVersion = '',
    mutators = DEFAULT_MUTATORS,
    pushDelay = 10,
    pullInterval = null,
    clientMaxAgeMs,
  } = opts;
  const muts = {};
  for (const m of mutators) {
    if (!ALL_MUTATORS[m]) throw new Error(`unknown mutator ${m}`);
    muts[m] = ALL_MUTATORS[m];
  }
  const t = { tab, idb, opts, closed: false, clientGroupID: undefined, profileID: undefined, rep: undefined };
  tabs.set(tab, t);
  const options = {
    name,
    schemaVersion,
    mutators: muts,
    pusher: makeNetFn(tab, 'push'),
    puller: makeNetFn(tab, 'pull'),
    pushDelay,
    pullInterval,
    kvStore: storeProvider(idb),
    logLevel: HOST_LOG === 'debug' ? 'debug' : 'info',
    logSinks: [makeLogSink(tab)],
  };
  if (clientMaxAgeMs !== undefined) options.clientMaxAgeMs = clientMaxAgeMs;
  const rep = als.run({ tab, idb }, () => new ReplicacheImpl(options));
  t.rep = rep;
  rep.onClientStateNotFound = () => event({ type: 'client_state_not_found', tab });
  rep.onUpdateNeeded = reason => event({ type: 'update_needed', tab, reason });
  rep.onOnlineChange = online => event({ type: 'online', tab, online });
  // Resolve the ids before anything else is visible to the harness.
  [t.clientGroupID, t.profileID] = await settled(Promise.all([rep.clientGroupID, rep.profileID]), 'open');
  // Requests issued during open were recorded before clientGroupID was known.
  for (const p of outPending) {
    const r = requests.get(p.req);
    if (r.tab === tab) {
      r.recovery = r.body.clientGroupID !== t.clientGroupID;
      p.recovery = r.recovery;
    }
  }
  return { clientID: rep.clientID, clientGroupID: t.clientGroupID, profileID: t.profileID };
}

// Settle, then return what `promise` gave. Everything the client does without
// time passing completes within a settle; a promise still pending after it is
// reported as an error instead of hanging the adapter.
async function settled(promise, what) {
  let state = 'pending', value, error;
  promise.then(
    v => ((state = 'ok'), (value = v)),
    e => ((state = 'err'), (error = e)),
  );
  await settle();
  if (state === 'pending') throw new Error(`${what} did not complete without time passing`);
  if (state === 'err') throw error;
  return value;
}

async function closeTab(t) {
  t.closed = true;
  await settled(t.rep.close(), 'close');
}

function kick(t, kind) {
  const p = kind === 'push' ? t.rep.push({ now: true }) : t.rep.pull({ now: true });
  p.catch(e => event({ type: `${kind}_error`, tab: t.tab, msg: errMsg(e) }));
}

async function tabState(t) {
  const rep = t.rep;
  const base = {
    tab: t.tab,
    idb: t.idb,
    closed: t.closed,
    clientID: rep.clientID,
    clientGroupID: t.clientGroupID,
    online: rep.online,
    clientGroupDisabled: rep.isClientGroupDisabled,
  };
  if (t.closed) return base;
  const [cookie, pending, view] = await settled(
    Promise.all([
      rep.cookie,
      rep.experimentalPendingMutations(),
      rep.query(async tx => {
        const out = {};
        for await (const [k, v] of tx.scan().entries()) out[k] = v;
        return out;
      }),
    ]),
    'state',
  );
  return {
    ...base,
    cookie: cookie ?? null,
    lastCreatedMutationID: rep.lastMutationID,
    pendingMutations: pending.map(m => ({ clientID: m.clientID, id: m.id, name: m.name, args: m.args })),
    view,
  };
}

// Read what one installation holds in its storage (the "IndexedDB"), without
// going through any Replicache instance: the client groups (with the base
// snapshot of each group's head and the pending mutations on top of it), the
// clients and the profile.
function idbState(idb) {
  const dbs = installs.get(idb);
  if (!dbs) throw new Error(`unknown idb ${idb}`);
  const out = { databases: {} };
  for (const [name, db] of [...dbs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const m = db.map;
    if (name.startsWith('replicache-dbs')) {
      out.profileID = m.get('profileId') ?? null;
      out.databases_registry = Object.keys(m.get('dbs') ?? {}).sort();
      continue;
    }
    const chunk = h => m.get(`c/${h}/d`);
    const headOf = n => m.get(`h/${n}`);
    const entries = h => {
      const node = chunk(h);
      if (!node) return [];
      const [level, es] = node;
      if (level === 0) return es.map(e => [e[0], e[1]]);
      return es.flatMap(e => entries(e[1]));
    };
    const commitInfo = h => {
      const pendingRev = [];
      let c = chunk(h);
      while (c && c.meta.type === 4) {
        const mm = c.meta;
        pendingRev.push({ clientID: mm.clientID, id: mm.mutationID, name: mm.mutatorName, args: mm.mutatorArgsJSON });
        c = chunk(mm.basisHash);
      }
      if (!c) return { error: 'broken chain' };
      const snap = c.meta;
      return {
        base: {
          cookie: snap.cookieJSON ?? null,
          lastMutationIDs: snap.lastMutationIDs ?? {},
          view: Object.fromEntries(entries(c.valueHash)),
        },
        pending: pendingRev.reverse(),
        view: Object.fromEntries(entries(chunk(h).valueHash)),
      };
    };
    const groups = {};
    const cgHead = headOf('client-groups');
    for (const [cg, g] of Object.entries(cgHead ? chunk(cgHead) : {})) {
      groups[cg] = {
        disabled: g.disabled,
        mutatorNames: [...g.mutatorNames].sort(),
        mutationIDs: g.mutationIDs,
        lastServerAckdMutationIDs: g.lastServerAckdMutationIDs,
        ...commitInfo(g.headHash),
      };
    }
    const clients = {};
    const clHead = headOf('clients');
    for (const [cid, c] of Object.entries(clHead ? chunk(clHead) : {})) {
      clients[cid] = { clientGroupID: c.clientGroupID ?? null, heartbeatTimestampMs: c.heartbeatTimestampMs - EPOCH };
    }
    out.databases[name] = { clientGroups: groups, clients };
  }
  return out;
}

async function handle(cmd) {
  switch (cmd.cmd) {
    case 'open': {
      const { tab, idb } = cmd;
      if (tab === undefined || idb === undefined) throw new Error('open needs tab and idb');
      const old = tabs.get(tab);
      if (old && !old.closed) throw new Error(`tab ${tab} is already open`);
      return openTab(tab, idb, cmd.options ?? {});
    }
    case 'reload': {
      const t = needTab(cmd.tab);
      const oldClientID = t.rep.clientID;
      await closeTab(t);
      const r = await openTab(t.tab, t.idb, t.opts);
      return { ...r, oldClientID };
    }
    case 'close': {
      const t = needTab(cmd.tab);
      await closeTab(t);
      return { clientID: t.rep.clientID };
    }
    case 'mutate': {
      const t = needTab(cmd.tab);
      const fn = t.rep.mutate[cmd.name];
      if (!fn) throw new Error(`unknown mutator ${cmd.name} for tab ${cmd.tab}`);
      await settled(fn(cmd.args ?? {}), 'mutate');
      return { clientID: t.rep.clientID, mutationID: t.rep.lastMutationID };
    }
    case 'push':
    case 'pull': {
      const t = needTab(cmd.tab);
      kick(t, cmd.cmd);
      await settle();
      return {};
    }
    case 'respond': {
      const r = requests.get(cmd.req);
      if (!r) throw new Error(`unknown request ${cmd.req}`);
      if (r.done) throw new Error(`request ${cmd.req} was already answered`);
      r.done = true;
      if (cmd.fail !== undefined) {
        r.reject(new Error(String(cmd.fail || 'network error')));
      } else {
        const status = cmd.status ?? 200;
        const httpRequestInfo = { httpStatusCode: status, errorMessage: status === 200 ? '' : String(cmd.errorMessage ?? `HTTP ${status}`) };
        const body = cmd.response;
        let result;
        if (r.kind === 'push') {
          // Same as Replicache's own HTTP pusher: the body is kept only when
          // it is an error object Replicache understands.
          result = { httpRequestInfo };
          if (status === 200 && body && typeof body === 'object' && typeof body.error === 'string') result.response = body;
        } else {
          // Same as Replicache's own HTTP puller: the body only with 200.
          result = { httpRequestInfo };
          if (status === 200) result.response = body;
        }
        r.resolve(result);
      }
      await settle();
      const t = tabs.get(r.tab);
      return { tabClosed: !!t?.closed };
    }
    case 'state': {
      const t = needTab(cmd.tab, { live: false });
      return tabState(t);
    }
    case 'idb':
      await settle();
      return idbState(cmd.idb);
    case 'settle':
      await settle();
      return {};
    case 'tick':
      await tick(Number(cmd.ms));
      return {};
    case 'persist': {
      // What Replicache's scheduler runs ~1 s after a change (memdag -> IDB),
      // run now, without time passing.
      const t = needTab(cmd.tab);
      await settled(t.rep[cmd.cmd](), cmd.cmd);
      return {};
    }
    case 'refresh': {
      // What a tab runs ~1 s after another tab's "persisted" broadcast
      // (IDB -> memdag), run now, without time passing: refresh() sleeps
      // 300 ms between its two transactions; that one sleep (a timer created
      // by this refresh with a 300 ms delay) is fired at once, and no other
      // timer runs.
      const t = needTab(cmd.tab);
      const before = new Set(clock.timers?.keys() ?? []);
      let state = 'pending', error;
      t.rep.refresh().then(
        () => (state = 'ok'),
        e => ((state = 'err'), (error = e)),
      );
      for (let i = 0; i < 10 && state === 'pending'; i++) {
        await settle();
        const own = [...(clock.timers?.values() ?? [])].filter(x => !before.has(x.id) && x.delay === REFRESH_SLEEP_MS);
        if (state !== 'pending' || own.length === 0) break;
        for (const x of own) {
          clock.clearTimeout(x.id);
          x.func.apply(null, x.args ?? []);
        }
      }
      await settle();
      if (state === 'pending') throw new Error('refresh did not complete without time passing');
      if (state === 'err') throw error;
      return {};
    }
    case 'requests':
      return { open: [...requests.values()].filter(r => !r.done).map(publicReq) };
    case 'version':
      return { replicache: replicacheVersion, seed: SEED, epoch: EPOCH };
    default:
      throw new Error(`unknown command ${safeJSON(cmd.cmd)}`);
  }
}

// ---------------------------------------------------------------------------
// Stable JSON and the main loop
// ---------------------------------------------------------------------------

function stable(v) {
  if (Array.isArray(v)) return v.map(x => (x === undefined ? null : stable(x)));
  if (v && typeof v === 'object') {
    const o = {};
    for (const k of Object.keys(v).sort()) if (v[k] !== undefined) o[k] = stable(v[k]);
    return o;
  }
  return v;
}

function reply(obj) {
  realStdoutWrite(JSON.stringify(stable(obj)) + '\n');
}

async function runLine(line) {
  if (!line.trim()) return;
  let cmd;
  try {
    cmd = JSON.parse(line);
  } catch (e) {
    reply({ ok: false, error: `bad JSON: ${e.message}` });
    return;
  }
  let res, error;
  try {
    res = await handle(cmd);
  } catch (e) {
    error = errMsg(e);
  }
  if (networkAttempts.length) {
    for (const u of networkAttempts.splice(0)) event({ type: 'network_attempt_blocked', url: u });
  }
  const base = {
    cmd: cmd.cmd,
    id: cmd.id,
    now: clock.now - EPOCH,
    pending: outPending,
    events: outEvents,
  };
  outPending = [];
  outEvents = [];
  for (const k of Object.keys(res ?? {})) if (k in base || k === 'ok' || k === 'error') throw new Error(`reply key clash: ${k}`);
  reply(error === undefined ? { ok: true, ...base, ...res } : { ok: false, ...base, error });
}

const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
let chain = Promise.resolve();
rl.on('line', line => {
  chain = chain.then(() => runLine(line));
});
rl.on('close', () => {
  chain.then(() => process.exit(0));
});
