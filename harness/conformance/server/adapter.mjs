// JSON-lines adapter around a real push endpoint: Zero's server library (npm
// `@rocicorp/zero`, its PushProcessor and postgres.js adapter) on a real
// Postgres. Only the application's part is written here: the schema, the
// mutators `set`, `max` and `incr` that enforce plasma's `auth.write` by
// throwing, and the endpoint's refusal of a signed-out request.
//
// One JSON command per stdin line, exactly one JSON reply per command on
// stdout (one line). Nothing else is written to stdout: console.* and Zero's
// logs go to stderr. See NOTES.md ("The server adapter") for the commands.
//
// Usage: node adapter.mjs --socket DIR --port PORT --user NAME --database NAME

import { createInterface } from 'node:readline';

const realStdoutWrite = process.stdout.write.bind(process.stdout);
function toStderr(...args) {
  process.stderr.write(args.map(a => (typeof a === 'string' ? a : String(a?.message ?? a))).join(' ') + '\n');
}
for (const m of ['log', 'info', 'debug', 'warn', 'error', 'trace']) console[m] = toStderr;

const { default: postgres } = await import('postgres');
const { PushProcessor, ApplicationError, ZQLDatabase } = await import('@rocicorp/zero/server');
const { zeroPostgresJS } = await import('@rocicorp/zero/server/adapters/postgresjs');
const { createSchema, table, string, number } = await import('@rocicorp/zero');

function argValue(name, dflt) {
  const i = process.argv.indexOf(name);
  if (i < 0) return dflt;
  const v = process.argv[i + 1];
  if (v === undefined) throw new Error(`missing value after ${name}`);
  return v;
}
const CONNECT = {
  host: argValue('--socket', '127.0.0.1'),
  port: Number(argValue('--port', '5432')),
  user: argValue('--user', 'postgres'),
  database: argValue('--database', 'postgres'),
};
const LOG_LEVEL = process.env.ADAPTER_LOG || 'error';

// The bookkeeping schema zero-cache would create for app `zero`, shard 0, with
// the same columns and keys (zero-cache's shard setup), and the query string
// zero-cache sends with every push.
const SHARD = 'zero_0';
const QUERY = { schema: SHARD, appID: 'zero' };
const TABLES = { lww: 'lww', max: 'maxes', counter: 'counters' };

const schema = createSchema({
  tables: Object.values(TABLES).map(name =>
    table(name).columns({ id: string(), value: number() }).primaryKey('id'),
  ),
});

let sql = null;
let processor = null;
let rows = []; // per model row: {table: 'lww'|'max'|'counter', owner: user or null}
let style = 'atomic';
let requests = 0;

// SQLSTATEs of a transaction the database aborted because of a concurrent one
// (serialization_failure, deadlock_detected): running it again may succeed.
const TRANSIENT = new Set(['40001', '40P01']);

// The application's fix for SERIALIZABLE: a connection whose transactions run
// again, mutator included, when the database aborted them for a conflict.
// Without it, Zero's processor takes the abort for the mutator's own error.
function retrying(connection) {
  return {
    async transaction(fn) {
      for (let attempt = 1; ; attempt++) {
        try {
          return await connection.transaction(fn);
        } catch (e) {
          if (attempt >= 50 || !TRANSIENT.has(e?.code)) throw e;
        }
      }
    },
  };
}

async function connect(isolation, pool, retry) {
  if (sql) await sql.end({ timeout: 5 });
  sql = postgres({
    ...CONNECT,
    max: pool,
    onnotice: () => {},
    connection: { application_name: 'plasma-zero-adapter', default_transaction_isolation: isolation },
  });
  const db = zeroPostgresJS(schema, sql);
  processor = new PushProcessor(retry ? new ZQLDatabase(retrying(db.connection), schema) : db, undefined, LOG_LEVEL);
}

function rowTable(row) {
  const r = rows[row];
  if (!r) throw new ApplicationError(`no row ${row}`);
  return TABLES[r.table];
}

// The application's server mutators, for one request's signed-in user. Each
// checks `auth.write` (a signed-in user writes shared rows and their own) and
// throws when it is denied: Zero then records the mutation as processed with
// an error, which is plasma's "processed with no effect".
function mutatorsFor(user) {
  const allowed = row => {
    if (user === null || user === undefined) throw new ApplicationError(`auth.write: signed out`);
    const owner = rows[row]?.owner ?? null;
    if (owner !== null && owner !== user) {
      throw new ApplicationError(`auth.write: row ${row} belongs to user ${owner}, not ${user}`);
    }
  };
  const write = async (tx, row, value, merge) => {
    allowed(row);
    const t = rowTable(row);
    const db = tx.dbTransaction;
    if (style === 'read-write') {
      // What a mutator shared with the client does: read the row, compute, write it back.
      const found = await db.query(`SELECT value FROM ${t} WHERE id = $1`, [`r${row}`]);
      const current = found.length ? Number(found[0].value) : null;
      const next = merge === 'incr' ? (current ?? 0) + 1 : merge === 'max' && current !== null ? Math.max(current, value) : value;
      await db.query(
        `INSERT INTO ${t} (id, value) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET value = EXCLUDED.value`,
        [`r${row}`, next],
      );
      return;
    }
    // One statement: the database merges under the row lock.
    const update = {
      set: 'EXCLUDED.value',
      max: `GREATEST(${t}.value, EXCLUDED.value)`,
      incr: `${t}.value + 1`,
    }[merge];
    await db.query(
      `INSERT INTO ${t} (id, value) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET value = ${update}`,
      [`r${row}`, merge === 'incr' ? 1 : value],
    );
  };
  return {
    set: (tx, args) => write(tx, args.row, args.value, 'set'),
    max: (tx, args) => write(tx, args.row, args.value, 'max'),
    incr: (tx, args) => write(tx, args.row, 0, 'incr'),
  };
}

async function reset(cmd) {
  rows = cmd.rows;
  style = cmd.style ?? 'atomic';
  await connect(cmd.isolation ?? 'read committed', cmd.pool ?? 4, cmd.retry ?? false);
  await sql.unsafe(`
    DROP SCHEMA IF EXISTS ${SHARD} CASCADE;
    CREATE SCHEMA ${SHARD};
    CREATE TABLE ${SHARD}."clients" (
      "clientGroupID"  TEXT NOT NULL,
      "clientID"       TEXT NOT NULL,
      "lastMutationID" BIGINT NOT NULL,
      "userID"         TEXT,
      PRIMARY KEY("clientGroupID", "clientID")
    );
    CREATE TABLE ${SHARD}."mutations" (
      "clientGroupID"  TEXT NOT NULL,
      "clientID"       TEXT NOT NULL,
      "mutationID"     BIGINT NOT NULL,
      "result"         JSON NOT NULL,
      PRIMARY KEY("clientGroupID", "clientID", "mutationID")
    );
    ${Object.values(TABLES)
      .map(t => `DROP TABLE IF EXISTS ${t}; CREATE TABLE ${t} (id TEXT PRIMARY KEY, value BIGINT NOT NULL);`)
      .join('\n')}
  `);
  const [{ server_version: version, transaction_isolation: iso }] =
    await sql`SELECT current_setting('server_version') AS server_version, current_setting('transaction_isolation') AS transaction_isolation`;
  return { ok: true, postgres: version, isolation: iso, style };
}

// The endpoint: every push goes to the PushProcessor with the mutators of the
// request's user (null when signed out), as an application's handler does.
async function push(p) {
  requests += 1;
  const body = {
    clientGroupID: p.group,
    pushVersion: 1,
    timestamp: 0,
    requestID: `q${requests}`,
    mutations: p.mutations.map(m => ({
      type: 'custom',
      id: m.id,
      clientID: m.client,
      name: m.op,
      args: [{ row: m.row, value: m.value ?? 0 }],
      timestamp: 0,
    })),
  };
  const invoke = now();
  const res = await processor.process(mutatorsFor(p.user), QUERY, body);
  const complete = now();
  const reply = summarize(res);
  // `record`: the request and response as they went over the wire, with their times.
  if (p.record) reply.raw = { request: body, response: res, invoke, complete };
  return reply;
}

// Wall-clock milliseconds, with sub-millisecond precision.
function now() {
  return performance.timeOrigin + performance.now();
}

// The response, reduced to what the model predicts: per mutation `applied`,
// `alreadyProcessed` or `error` (with Zero's message), or the whole push failed
// with a reason and the mutations left unprocessed.
function summarize(res) {
  if (res.kind === 'MutateResponse' || (res.mutations && !res.kind)) {
    return {
      results: res.mutations.map(m => ({
        client: m.id.clientID,
        id: m.id.id,
        result: m.result.error === undefined ? 'applied' : m.result.error === 'app' ? 'error' : m.result.error,
        ...(m.result.error === 'app' ? { message: m.result.message ?? '' } : {}),
      })),
    };
  }
  return {
    failed: res.reason ?? res.kind ?? 'unknown',
    message: res.message ?? '',
    unprocessed: (res.mutationIDs ?? []).map(m => ({ client: m.clientID, id: m.id })),
  };
}

async function state() {
  const clients = await sql.unsafe(
    `SELECT "clientGroupID" AS g, "clientID" AS c, "lastMutationID" AS m FROM ${SHARD}.clients ORDER BY 1, 2`,
  );
  const results = await sql.unsafe(
    `SELECT "clientGroupID" AS g, "clientID" AS c, "mutationID" AS m, result FROM ${SHARD}.mutations ORDER BY 1, 2, 3`,
  );
  const values = {};
  for (const t of Object.values(TABLES)) {
    for (const r of await sql.unsafe(`SELECT id, value FROM ${t}`)) values[`${t}:${r.id}`] = Number(r.value);
  }
  return {
    clients: clients.map(r => [r.g, r.c, Number(r.m)]),
    rows: rows.map((r, i) => values[`${TABLES[r.table]}:r${i}`] ?? null),
    errors: results.map(r => [r.g, r.c, Number(r.m)]),
  };
}

async function handle(cmd) {
  switch (cmd.cmd) {
    case 'reset':
      return reset(cmd);
    case 'clear':
      await sql.unsafe(
        `TRUNCATE ${SHARD}.clients, ${SHARD}.mutations, ${Object.values(TABLES).join(', ')}`,
      );
      return { ok: true };
    case 'push':
      return push(cmd);
    case 'batch': {
      // Every push of the batch at once, each on its own connection of the pool:
      // simultaneous requests to one endpoint.
      const responses = await Promise.all(cmd.pushes.map(p => push(p)));
      return { responses };
    }
    case 'state': {
      const invoke = now();
      const st = await state();
      return cmd.record ? { ...st, invoke, complete: now() } : st;
    }
    case 'quit':
      if (sql) await sql.end({ timeout: 5 });
      return { ok: true };
    default:
      throw new Error(`unknown command ${JSON.stringify(cmd.cmd)}`);
  }
}

const input = createInterface({ input: process.stdin, crlfDelay: Infinity });
let chain = Promise.resolve();
input.on('line', line => {
  if (!line.trim()) return;
  chain = chain.then(async () => {
    let reply;
    try {
      reply = await handle(JSON.parse(line));
    } catch (e) {
      reply = { error: String(e?.message ?? e) };
    }
    realStdoutWrite(JSON.stringify(reply) + '\n');
    if (reply?.ok && line.includes('"quit"')) process.exit(0);
  });
});
input.on('close', () => {
  chain.then(async () => {
    if (sql) await sql.end({ timeout: 5 });
    process.exit(0);
  });
});
