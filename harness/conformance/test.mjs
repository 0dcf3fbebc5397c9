// Determinism and behaviour test of adapter.mjs. Run: node test.mjs
//
// 1. Drives one scenario interactively in two fresh adapter processes (A, B)
//    and compares their stdout byte for byte.
// 2. Replays the exact command lines of A into a third process (C, stdin from
//    a file) and compares again: the output is a function of the command
//    script alone.
// 3. A different --seed gives different clientIDs (the seed is what decides).
// 4. Asserts behaviours of the real Replicache client along the way.
// Exit code 0 when everything passes, 1 otherwise.

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));
const ADAPTER = join(here, 'adapter.mjs');

let passed = 0;
let failed = 0;
function check(cond, what) {
  if (cond) {
    passed++;
  } else {
    failed++;
    console.log(`FAIL: ${what}`);
  }
}

class Adapter {
  constructor(args = []) {
    this.proc = spawn(process.execPath, [ADAPTER, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.stdout = '';
    this.stderr = '';
    this.buf = '';
    this.lines = [];
    this.waiters = [];
    this.sent = [];
    this.open = new Map(); // req -> request (not yet answered)
    this.proc.stdout.setEncoding('utf8');
    this.proc.stdout.on('data', d => {
      this.stdout += d;
      this.buf += d;
      let i;
      while ((i = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, i);
        this.buf = this.buf.slice(i + 1);
        const w = this.waiters.shift();
        if (w) w(line);
        else this.lines.push(line);
      }
    });
    this.proc.stderr.setEncoding('utf8');
    this.proc.stderr.on('data', d => (this.stderr += d));
    this.exited = new Promise(r => this.proc.on('exit', code => r(code)));
  }
  async send(cmd) {
    const line = JSON.stringify(cmd);
    this.sent.push(line);
    this.proc.stdin.write(line + '\n');
    const out = this.lines.length
      ? this.lines.shift()
      : await Promise.race([
          new Promise(r => this.waiters.push(r)),
          this.exited.then(code => {
            throw new Error(`adapter exited (${code}) before replying to ${line}\n${this.stderr}`);
          }),
        ]);
    const reply = JSON.parse(out);
    for (const p of reply.pending ?? []) this.open.set(p.req, p);
    if (cmd.cmd === 'respond') this.open.delete(cmd.req);
    return reply;
  }
  openOf(kind, tab) {
    return [...this.open.values()].filter(r => r.kind === kind && (tab === undefined || r.tab === tab));
  }
  async finish() {
    this.proc.stdin.end();
    const code = await this.exited;
    return { code, stdout: this.stdout, stderr: this.stderr };
  }
}

function pullResp(cookie, lastMutationIDChanges = {}, patch = []) {
  return { cookie, lastMutationIDChanges, patch };
}
const ids = state => state.pendingMutations.map(m => `${m.clientID}:${m.id}`);

async function scenario(a, assert) {
  const ok = (r, what) => assert(r.ok === true, `${what}: ok (${r.error ?? ''})`);

  // --- two tabs of installation i0, one tab of installation i1 ---
  const o0 = await a.send({ cmd: 'open', tab: 0, idb: 'i0' });
  ok(o0, 'open tab 0');
  assert(/^[0-9a-v]{18}$/.test(o0.clientID), 'clientID is 18 base-32 chars');
  assert(o0.pending.length === 1 && o0.pending[0].kind === 'pull', 'open issues exactly one pull');
  assert(o0.pending[0].body.cookie === null && o0.pending[0].body.pullVersion === 1, 'first pull: cookie null, pullVersion 1');
  ok(await a.send({ cmd: 'respond', req: o0.pending[0].req, response: pullResp(1, {}, [{ op: 'clear' }, { op: 'put', key: 'r/0', value: 0 }]) }), 'respond first pull');

  const o1 = await a.send({ cmd: 'open', tab: 1, idb: 'i0' });
  ok(o1, 'open tab 1');
  assert(o1.clientGroupID === o0.clientGroupID, 'tabs of one idb share the clientGroupID');
  assert(o1.clientID !== o0.clientID, 'each tab gets its own clientID');
  assert(o1.profileID === o0.profileID, 'tabs of one idb share the profileID');
  ok(await a.send({ cmd: 'respond', req: o1.pending[0].req, response: pullResp(1, {}, [{ op: 'clear' }, { op: 'put', key: 'r/0', value: 0 }]) }), 'respond tab 1 pull');

  const o2 = await a.send({ cmd: 'open', tab: 2, idb: 'i1' });
  ok(o2, 'open tab 2 (other idb)');
  assert(o2.clientGroupID !== o0.clientGroupID && o2.profileID !== o0.profileID, 'another idb: another group and profile');
  ok(await a.send({ cmd: 'respond', req: o2.pending[0].req, response: pullResp(1, {}, [{ op: 'clear' }]) }), 'respond tab 2 pull');

  // --- mutations: ids count from 1 per clientID ---
  const m01 = await a.send({ cmd: 'mutate', tab: 0, name: 'set', args: { key: 'r/0', value: 10 } });
  const m02 = await a.send({ cmd: 'mutate', tab: 0, name: 'incr', args: { key: 'r/1', by: 2 } });
  const m11 = await a.send({ cmd: 'mutate', tab: 1, name: 'set', args: { key: 'r/2', value: 5 } });
  const m21 = await a.send({ cmd: 'mutate', tab: 2, name: 'set', args: { key: 'r/0', value: 99 } });
  assert(m01.mutationID === 1 && m02.mutationID === 2 && m11.mutationID === 1 && m21.mutationID === 1, 'mutation ids are per clientID, from 1');
  assert(m01.pending.length === 0, 'no push without time passing (pushDelay debounce)');

  // --- explicit push from tab 0 ---
  const p0 = await a.send({ cmd: 'push', tab: 0 });
  ok(p0, 'push tab 0');
  assert(p0.pending.length === 1 && p0.pending[0].kind === 'push', 'push issues one request');
  const pb = p0.pending[0].body;
  assert(pb.pushVersion === 1 && pb.clientGroupID === o0.clientGroupID, 'push body: pushVersion 1 + clientGroupID');
  assert(JSON.stringify(pb.mutations.map(m => [m.clientID, m.id, m.name])) === JSON.stringify([[o0.clientID, 1, 'set'], [o0.clientID, 2, 'incr']]), 'push carries tab 0 mutations 1,2 in order');
  ok(await a.send({ cmd: 'respond', req: p0.pending[0].req, response: {} }), 'respond push 200');

  // --- time passes: auto pushes, persist (1 s), refresh of the other tab ---
  const t1 = await a.send({ cmd: 'tick', ms: 10 });
  assert(t1.pending.some(r => r.kind === 'push' && r.tab === 1), 'a mutation triggers a push by itself after pushDelay (10 ms)');
  for (const r of a.openOf('push')) await a.send({ cmd: 'respond', req: r.req, response: {} });
  await a.send({ cmd: 'tick', ms: 5000 });
  for (const r of a.openOf('push')) await a.send({ cmd: 'respond', req: r.req, response: {} });
  const s1 = await a.send({ cmd: 'state', tab: 1 });
  assert(ids(s1).includes(`${o0.clientID}:1`) && ids(s1).includes(`${o1.clientID}:1`), 'after persist+refresh, tab 1 holds tab 0 pending mutations too');

  // --- pull confirming mutation 1 of tab 0 ---
  await a.send({ cmd: 'pull', tab: 0 });
  const [pl] = a.openOf('pull', 0);
  assert(pl && pl.body.cookie === 1, 'tab 0 pulls with cookie 1');
  await a.send({ cmd: 'respond', req: pl.req, response: pullResp(2, { [o0.clientID]: 1 }, [{ op: 'put', key: 'r/0', value: 10 }]) });
  const s0 = await a.send({ cmd: 'state', tab: 0 });
  assert(s0.cookie === 2, 'cookie advanced to 2');
  assert(!ids(s0).includes(`${o0.clientID}:1`), 'confirmed mutation 1 left the pending list');
  assert(ids(s0).includes(`${o0.clientID}:2`), 'unconfirmed mutation 2 still pending');
  assert(s0.view['r/0'] === 10 && s0.view['r/1'] === 2, 'view = base + replayed pending');

  // --- reload tab 1: new clientID, its persisted mutation survives and is pushed by the new instance ---
  const rl = await a.send({ cmd: 'reload', tab: 1 });
  ok(rl, 'reload tab 1');
  assert(rl.oldClientID === o1.clientID && rl.clientID !== o1.clientID, 'reload mints a new clientID');
  assert(rl.clientGroupID === o0.clientGroupID, 'reload keeps the client group');
  for (const r of a.openOf('pull', 1)) await a.send({ cmd: 'respond', req: r.req, response: pullResp(2, {}, []) });
  const s1b = await a.send({ cmd: 'state', tab: 1 });
  assert(ids(s1b).includes(`${o1.clientID}:1`), 'the old clientID mutation is pending in the reloaded tab');
  const p1 = await a.send({ cmd: 'push', tab: 1 });
  const p1b = p1.pending.find(r => r.kind === 'push')?.body;
  assert(p1b && p1b.mutations.some(m => m.clientID === o1.clientID && m.id === 1), 'a push from the reloaded tab carries the old clientID mutation');
  assert(p1b && new Set(p1b.mutations.map(m => m.clientID)).size >= 2, 'one push carries several clientIDs of the group');
  for (const r of a.openOf('push')) await a.send({ cmd: 'respond', req: r.req, response: {} });

  // --- a pull response with a cookie older than the current one is rejected, then retried ---
  await a.send({ cmd: 'pull', tab: 0 });
  const [pl2] = a.openOf('pull', 0);
  const old = await a.send({ cmd: 'respond', req: pl2.req, response: pullResp(1, {}, []) });
  assert(old.events.some(e => e.type === 'log' && /cookie 1 is < than last snapshot cookie 2/.test(e.msg)), 'older cookie: error reported');
  const s0b = await a.send({ cmd: 'state', tab: 0 });
  assert(s0b.cookie === 2, 'older cookie not applied');
  const retry = await a.send({ cmd: 'tick', ms: 100 });
  const rp = retry.pending.find(r => r.kind === 'pull' && r.tab === 0);
  assert(rp && rp.body.cookie === 2, 'the failed pull is retried by itself after a backoff');
  await a.send({ cmd: 'respond', req: rp.req, response: pullResp(3, { [o0.clientID]: 2, [o1.clientID]: 1 }, [{ op: 'put', key: 'r/1', value: 2 }, { op: 'put', key: 'r/2', value: 5 }]) });
  const s0c = await a.send({ cmd: 'state', tab: 0 });
  assert(s0c.cookie === 3 && !ids(s0c).includes(`${o0.clientID}:2`) && !ids(s0c).includes(`${o1.clientID}:1`), 'confirmations of two clients applied by one pull');

  // --- close ---
  const c2 = await a.send({ cmd: 'close', tab: 2 });
  ok(c2, 'close tab 2');
  const s2 = await a.send({ cmd: 'state', tab: 2 });
  assert(s2.closed === true, 'closed tab reports closed');
  const bad = await a.send({ cmd: 'mutate', tab: 2, name: 'set', args: { key: 'x', value: 1 } });
  assert(bad.ok === false, 'mutate on a closed tab is an error reply, not a crash');
  const m03 = await a.send({ cmd: 'mutate', tab: 0, name: 'set', args: { key: 'r/3', value: 3 } });
  assert(m03.mutationID === 3, 'tab 0 continues with id 3');
  await a.send({ cmd: 'tick', ms: 2000 });
  const idb = await a.send({ cmd: 'idb', idb: 'i0' });
  ok(idb, 'idb');
  const g = idb.databases['rep:plasma:7']?.clientGroups?.[o0.clientGroupID];
  assert(g && g.base.cookie === 3, 'persisted base cookie is 3');
  await a.send({ cmd: 'idb', idb: 'i1' });
  await a.send({ cmd: 'requests' });

  // --- refresh: another tab's persisted mutation shows up at once, no time passing ---
  const m04 = await a.send({ cmd: 'mutate', tab: 0, name: 'set', args: { key: 'r/9', value: 9 } });
  ok(await a.send({ cmd: 'persist', tab: 0 }), 'persist tab 0');
  const rf = await a.send({ cmd: 'refresh', tab: 1 });
  ok(rf, 'refresh tab 1');
  const s1r = await a.send({ cmd: 'state', tab: 1 });
  assert(ids(s1r).includes(`${o0.clientID}:${m04.mutationID}`) && s1r.view['r/9'] === 9, 'refresh reads the persisted mutation of another tab');
  assert(rf.now === m04.now, 'refresh lets no time pass');
  const bogus = await a.send({ cmd: 'nope' });
  assert(bogus.ok === false, 'unknown command is an error reply');
}

async function runScenario(args) {
  const a = new Adapter(args);
  const fails = [];
  let count = 0;
  await scenario(a, (cond, what) => {
    count++;
    if (!cond) fails.push(what);
  });
  const res = await a.finish();
  return { ...res, sent: a.sent, fails, count };
}

async function replay(lines, args) {
  const a = new Adapter(args);
  a.proc.stdin.end(lines.map(l => l + '\n').join(''));
  const code = await a.exited;
  return { code, stdout: a.stdout };
}

const A = await runScenario([]);
const B = await runScenario([]);
for (const f of A.fails) check(false, f);
for (let i = A.fails.length; i < A.count; i++) check(true, 'scenario assertion');
if (process.env.DUMP) (await import('node:fs')).writeFileSync(process.env.DUMP, A.stdout);
check(A.code === 0 && B.code === 0, 'adapters exit 0 at end of input');
check(A.stdout.length > 0 && A.stdout === B.stdout, 'two fresh processes give byte-identical output');
check(!/network_attempt_blocked|unhandled_rejection/.test(A.stdout), 'no network attempt, no unhandled rejection');
check(A.stdout.split('\n').filter(Boolean).length === A.sent.length, 'exactly one reply line per command');
const C = await replay(A.sent, []);
check(C.stdout === A.stdout, 'replaying the command script from a file gives the same bytes');
const D = await runScenario(['--seed', '2']);
const firstA = JSON.parse(A.stdout.split('\n')[0]);
const firstD = JSON.parse(D.stdout.split('\n')[0]);
check(firstA.clientID !== firstD.clientID, 'another seed gives other clientIDs');
check(D.fails.length === 0, 'scenario assertions hold with another seed');

// Golden transcripts of the probes behind NOTES.md (UPDATE_GOLDEN=1 rewrites them).
const fs = await import('node:fs');
const probeDir = join(here, 'probes');
for (const f of fs.readdirSync(probeDir).filter(n => n.endsWith('.in.jsonl')).sort()) {
  const lines = fs.readFileSync(join(probeDir, f), 'utf8').split('\n').filter(l => l.trim());
  const { code, stdout } = await replay(lines, []);
  const outPath = join(probeDir, f.replace(/\.in\.jsonl$/, '.out.jsonl'));
  if (process.env.UPDATE_GOLDEN) fs.writeFileSync(outPath, stdout);
  const expected = fs.existsSync(outPath) ? fs.readFileSync(outPath, 'utf8') : null;
  check(code === 0 && stdout === expected, `probe ${f} reproduces ${outPath.slice(here.length + 1)}`);
}

if (A.stdout !== B.stdout) {
  const la = A.stdout.split('\n');
  const lb = B.stdout.split('\n');
  const i = la.findIndex((l, k) => l !== lb[k]);
  console.log(`first difference at reply ${i}:\nA: ${la[i]}\nB: ${lb[i]}`);
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
