/*
 * plasma.pml -- a Promela port of the plasma sync protocol model (model/src/*.rs) under the
 * HARDENED protocol (rotate_on_reset, mid_counter = idb, duplicate_tab = rotate,
 * orphan_recovery, reset_scope = slice, auth_change_reset, pull_base_check; no mutant),
 * one user, no auth actions.
 *
 * Goal: SPIN's "states, stored" equals plasma-check's "unique_states" for the same
 * configuration.  The Promela state vector is an injective, canonical encoding of the Rust
 * `World` (model/src/world.rs): one process, one `do` loop whose every option is a
 * `d_step { guard -> body }`, so one SPIN state per `World` value, and no process-local
 * variables (every temporary is a `hidden` global, outside the state vector).
 *
 * Configuration (pass -DNAME=value to `spin -a`; see run.sh): the fields of the Rust Config.
 *   INSTALLS TABS ROWS MAXROWS COUNTERROWS MAXMUT DROPS DUPS MAXFLIGHT MAXRESETS
 * (users = 1, private_rows = 0, max_auth_changes = 0 are fixed.)
 *
 * What is NOT stored, because it is constant in every reachable state of such a
 * configuration (so dropping it keeps the encoding injective):
 *   - Install.signed_in (always Some(0)), World.auth_changes (0), Server.auth_ctx (empty);
 *   - Tab.mem_mid (always None under mid_counter = idb);
 *   - the `user` field of Created, Processed, PushReq, PullReq, PullResp (always Some(0));
 *   - Processed.applied (always true: with one user and no private row auth.write allows all);
 *   - the `group` of Created / PushReq / PullReq / PullResp: the group of installation i is i
 *     and a tab never changes installation, so it is the installation of the message's tab
 *     (resp. of the creating tab); likewise Created.install = t_inst[Created.tab].
 * What is stored in a compressed but bijective form:
 *   - an outbox entry (client, mid) -> Entry{op, serial} is stored as its serial: Mutate
 *     inserts it under key (created[serial].client, created[serial].mid) and the op is
 *     Set{row, serial + 1} (or Incr{row}), row = created[serial].row; so an outbox is a bit set
 *     of serials, and a PushReq's `mutations` (a slice in mid order) a bit set too;
 *   - Option<x> is 0 for None and x + 1 (or x itself where x >= 1 always: row values) for Some;
 *   - `clients` / `next_mid` maps are arrays with 0 = absent (next_mid values are >= 1);
 *   - the network multiset is an array of slots (message, copies), sorted by the message's
 *     byte encoding (a fixed total order), distinct messages in distinct slots, free slots
 *     zero at the end;
 *   - History.discarded / wiped (sorted sets of serials) are bit sets.
 */

/* ------------------------------------------------------------------ configuration */

#ifndef INSTALLS
#define INSTALLS 1
#endif
#ifndef TABS
#define TABS 2
#endif
#ifndef ROWS
#define ROWS 1            /* last-write-wins rows (config.rows) */
#endif
#ifndef MAXROWS
#define MAXROWS 0         /* resolveConflict = max rows (config.max_rows) */
#endif
#ifndef COUNTERROWS
#define COUNTERROWS 0     /* CRDT counter rows (config.counter_rows) */
#endif
#ifndef MAXMUT
#define MAXMUT 2          /* config.max_mutations */
#endif
#ifndef DROPS
#define DROPS 0
#endif
#ifndef DUPS
#define DUPS 0            /* config.duplicates */
#endif
#ifndef MAXFLIGHT
#define MAXFLIGHT 2       /* config.max_in_flight */
#endif
#ifndef MAXRESETS
#define MAXRESETS 1       /* config.max_resets */
#endif
/* Property checks: 1 = at the end of every d_step (on every successor), 2 = once per stored
 * state, as an extra always-enabled option that changes nothing (a self-loop: it adds one
 * "transition" and one "matched" per state, never a state), 0 = none. */
#ifndef CHECK
#define CHECK 2
#endif

#define NROWS (ROWS + MAXROWS + COUNTERROWS)
/* clientIDs ever minted: one per tab created (initial tabs included) and one per reset */
#define NCLIENTS (TABS + MAXRESETS)
#define NSLOTS MAXFLIGHT

/* Tab i < INSTALLS starts in installation i with clientID i (World::init). Promela fills an
 * array from a list; for INSTALLS = 1 the list is {0}, extended with zeros. */
#ifndef TAB_INIT
#if INSTALLS > 1
#error "INSTALLS > 1 needs -DTAB_INIT={0,1,...,INSTALLS-1}"
#endif
#define TAB_INIT 0
#endif

#if MAXMUT < 1 || MAXMUT > 8
#error "MAXMUT must be 1..8 (serial bit sets are bytes)"
#endif
#if TABS < 1 || TABS > 6
#error "TABS must be 1..6"
#endif
#if NCLIENTS > 12
#error "TABS + MAXRESETS must be at most 12"
#endif
#if MAXFLIGHT < 1 || MAXFLIGHT > 6
#error "MAXFLIGHT must be 1..6"
#endif
#if NROWS < 1 || NROWS > 4
#error "ROWS + MAXROWS + COUNTERROWS must be 1..4"
#endif
#if INSTALLS < 1 || INSTALLS > TABS || INSTALLS > 3
#error "INSTALLS must be 1..min(3, TABS)"
#endif

#define BIT(x) (1 << (x))
#define HAS(set, x) ((((set) >> (x)) & 1) == 1)

#define OPEN 0
#define CLOSED 1
#define RESTORED 2

#define USER0 1           /* Some(UserId 0): the only user, always signed in */

/* message kinds (0 = free slot) */
#define PUSHREQ 1
#define PUSHRESP 2
#define PULLREQ 3
#define PULLRESP 4
/* message layout: f[0] kind, f[1] tab, then
 *   PushReq  f[2] client, f[3] mutations (serial bit set)
 *   PushResp f[2] client, f[3] last_mutation_id
 *   PullReq  f[2] client, f[3] cookie (Option), f[4] cookie_user (Option)
 *   PullResp f[2] base_cookie (Option), f[3] base_user (Option), f[4] cookie,
 *            f[5] patch kind (1 Reset, 2 Tail), f[F_ROWS + r] row r in the patch (0 = not in
 *            it, else its value), f[F_LMIDS + c] lastMutationIDs (0 = client absent, else
 *            lmid + 1) */
#define F_ROWS 6
#define F_LMIDS (F_ROWS + NROWS)
#define MSGLEN (F_LMIDS + NCLIENTS)
#define RESET_PATCH 1
#define TAIL_PATCH 2

/* ------------------------------------------------------------------ the World */

/* Server (server.rs) */
byte s_version;
byte s_val[NROWS];                  /* ServerRow.value: 0 = None (values are >= 1) */
byte s_rv[NROWS];                   /* ServerRow.row_version */
byte s_lmid[INSTALLS * NCLIENTS];   /* clients[(group, client)]: 0 = absent, else lmid + 1 */

/* Installs (install.rs); installation i is clientGroupID i */
byte i_base[INSTALLS * NROWS];      /* base rows: 0 = None */
byte i_cookie[INSTALLS];            /* Option<Version>: 0 = None, else version + 1 */
byte i_buser[INSTALLS];             /* base_user: 0 = None, USER0 = Some(0) */
byte i_outbox[INSTALLS];            /* outbox as a bit set of serials */
byte i_nextmid[INSTALLS * NCLIENTS];/* next_mid[client]: 0 = absent */

/* Tabs (tab.rs), in creation order */
byte ntabs = INSTALLS;
byte t_inst[TABS] = TAB_INIT;
byte t_cli[TABS] = TAB_INIT;
byte t_status[TABS];                /* OPEN, CLOSED, RESTORED */
byte t_view[TABS * NROWS];          /* 0 = None; all 0 when closed (the Rust's empty Vec) */

/* Network (network.rs): sorted multiset */
typedef Msg { byte f[MSGLEN]; byte cnt };
Msg net[NSLOTS];
byte nflight;                       /* copies in flight (= Network::len(), kept for guards) */

/* History (history.rs): ghost state */
byte ncreated;
byte c_tab[MAXMUT];                 /* Created.tab (install = t_inst[tab], group = install) */
byte c_cli[MAXMUT];                 /* Created.client */
byte c_mid[MAXMUT];                 /* Created.mid */
byte c_row[MAXMUT];                 /* Created.op's row (Set value = serial + 1, or Incr) */
byte nproc;
byte p_ser[MAXMUT];                 /* processed serials, in order */
byte discarded;                     /* bit set of serials */
byte wiped;                         /* bit set of serials */
byte broken;                        /* History::WATERMARK_REGRESSED | COOKIE_REGRESSED */

byte next_client = INSTALLS;
byte resets;
byte drops;
byte dups;

/* ------------------------------------------------------------------ temporaries (hidden) */

hidden byte rb[NROWS];              /* replay buffer */
hidden byte nm[MSGLEN];             /* message being sent */
hidden byte dm[MSGLEN];             /* message being delivered */
hidden byte vI, vC, vr, vm, vs, vt;
hidden byte ru, nu;
hidden byte sj, sk, scmp, sfound;
hidden byte tj, tk;
hidden byte aI, aC, ac, amid, asr, ax, ap, aproc, arot, amask, aheld;
hidden int  asl, apend, aheldm;
hidden byte dt, dC, dG, dI, dlast, dmi, ds, dfound, dstop, dbefore, dr, dreset, dc;
hidden byte pr;
hidden byte k1, k2, kx, ky, kok, kc, kv;

/* ------------------------------------------------------------------ guards as expressions */

#define TOPEN(u) ((u) < ntabs && t_status[u] == OPEN)

/* clients with pending entries in installation I (Install::clients_with_pending) */
#define PT(I,s) (HAS(i_outbox[I], s) -> BIT(c_cli[s]) : 0)
#define PEND_1(I) (PT(I,0))
#define PEND_2(I) (PEND_1(I) | PT(I,1))
#define PEND_3(I) (PEND_2(I) | PT(I,2))
#define PEND_4(I) (PEND_3(I) | PT(I,3))
#define PEND_5(I) (PEND_4(I) | PT(I,4))
#define PEND_6(I) (PEND_5(I) | PT(I,5))
#define PEND_7(I) (PEND_6(I) | PT(I,6))
#define PEND_8(I) (PEND_7(I) | PT(I,7))
#if MAXMUT == 1
#define PEND(I) PEND_1(I)
#elif MAXMUT == 2
#define PEND(I) PEND_2(I)
#elif MAXMUT == 3
#define PEND(I) PEND_3(I)
#elif MAXMUT == 4
#define PEND(I) PEND_4(I)
#elif MAXMUT == 5
#define PEND(I) PEND_5(I)
#elif MAXMUT == 6
#define PEND(I) PEND_6(I)
#elif MAXMUT == 7
#define PEND(I) PEND_7(I)
#elif MAXMUT == 8
#define PEND(I) PEND_8(I)
#endif
/* clients held by open tabs of installation I */
#define HT(I,u) ((TOPEN(u) && t_inst[u] == (I)) -> BIT(t_cli[u]) : 0)
#define HELD_1(I) (HT(I,0))
#define HELD_2(I) (HELD_1(I) | HT(I,1))
#define HELD_3(I) (HELD_2(I) | HT(I,2))
#define HELD_4(I) (HELD_3(I) | HT(I,3))
#define HELD_5(I) (HELD_4(I) | HT(I,4))
#define HELD_6(I) (HELD_5(I) | HT(I,5))
#if TABS == 1
#define HELD(I) HELD_1(I)
#elif TABS == 2
#define HELD(I) HELD_2(I)
#elif TABS == 3
#define HELD(I) HELD_3(I)
#elif TABS == 4
#define HELD(I) HELD_4(I)
#elif TABS == 5
#define HELD(I) HELD_5(I)
#elif TABS == 6
#define HELD(I) HELD_6(I)
#endif
/* World::push_slices(t) as a bit set of clients (orphan_recovery = true) */
#define SLICES(t) (PEND(t_inst[t]) & (BIT(t_cli[t]) | ~HELD(t_inst[t])))
#define POP_1(x) (((x) >> 0) & 1)
#define POP_2(x) (POP_1(x) + (((x) >> 1) & 1))
#define POP_3(x) (POP_2(x) + (((x) >> 2) & 1))
#define POP_4(x) (POP_3(x) + (((x) >> 3) & 1))
#define POP_5(x) (POP_4(x) + (((x) >> 4) & 1))
#define POP_6(x) (POP_5(x) + (((x) >> 5) & 1))
#define POP_7(x) (POP_6(x) + (((x) >> 6) & 1))
#define POP_8(x) (POP_7(x) + (((x) >> 7) & 1))
#define POP_9(x) (POP_8(x) + (((x) >> 8) & 1))
#define POP_10(x) (POP_9(x) + (((x) >> 9) & 1))
#define POP_11(x) (POP_10(x) + (((x) >> 10) & 1))
#define POP_12(x) (POP_11(x) + (((x) >> 11) & 1))
#if NCLIENTS == 1
#define POPN(x) POP_1(x)
#elif NCLIENTS == 2
#define POPN(x) POP_2(x)
#elif NCLIENTS == 3
#define POPN(x) POP_3(x)
#elif NCLIENTS == 4
#define POPN(x) POP_4(x)
#elif NCLIENTS == 5
#define POPN(x) POP_5(x)
#elif NCLIENTS == 6
#define POPN(x) POP_6(x)
#elif NCLIENTS == 7
#define POPN(x) POP_7(x)
#elif NCLIENTS == 8
#define POPN(x) POP_8(x)
#elif NCLIENTS == 9
#define POPN(x) POP_9(x)
#elif NCLIENTS == 10
#define POPN(x) POP_10(x)
#elif NCLIENTS == 11
#define POPN(x) POP_11(x)
#elif NCLIENTS == 12
#define POPN(x) POP_12(x)
#endif
#define NSLICES(t) POPN(SLICES(t))
#define ROOM (MAXFLIGHT - nflight)

/* ------------------------------------------------------------------ helpers */

/* Install::replay(client) of installation I into rb: base, then the client's pending
 * entries in mid order, each merged with auth::merge (install.rs apply_op). */
inline replay(I, C) {
  vI = I; vC = C;
  vr = 0;
  do
  :: vr < NROWS -> rb[vr] = i_base[vI * NROWS + vr]; vr++
  :: else -> break
  od;
  vm = 1;
  do
  :: vm <= MAXMUT ->
     vs = 0;
     do
     :: vs < ncreated ->
        if
        :: HAS(i_outbox[vI], vs) && c_cli[vs] == vC && c_mid[vs] == vm ->
           vr = c_row[vs];
           if
           :: vr < ROWS -> rb[vr] = vs + 1                                   /* Lww: Set */
           :: vr >= ROWS && vr < ROWS + MAXROWS ->                           /* Max: Set */
              if :: rb[vr] < vs + 1 -> rb[vr] = vs + 1 :: else -> skip fi
           :: vr >= ROWS + MAXROWS ->                                        /* Incr */
              if :: rb[vr] < 255 -> rb[vr] = rb[vr] + 1 :: else -> skip fi
           fi
        :: else -> skip
        fi;
        vs++
     :: else -> break
     od;
     vm++
  :: else -> break
  od
}

/* tab u's view = replay (World::rebase for one tab, Reload, new_tab) */
inline set_view(u) {
  vt = u;
  replay(t_inst[vt], t_cli[vt]);
  vr = 0;
  do
  :: vr < NROWS -> t_view[vt * NROWS + vr] = rb[vr]; vr++
  :: else -> break
  od
}

/* World::rebase(install): every open tab of the installation replays its view */
inline rebase(I) {
  ru = 0;
  do
  :: ru < ntabs ->
     if
     :: t_status[ru] == OPEN && t_inst[ru] == I -> set_view(ru)
     :: else -> skip
     fi;
     ru++
  :: else -> break
  od
}

/* World::new_tab(install, client) */
inline new_tab(I, C) {
  nu = ntabs;
  t_inst[nu] = I;
  t_cli[nu] = C;
  t_status[nu] = OPEN;
  set_view(nu);
  ntabs++
}

inline clear_nm() {
  sk = 0;
  do
  :: sk < MSGLEN -> nm[sk] = 0; sk++
  :: else -> break
  od
}

/* Network::send(nm): one more copy of nm, keeping the slots sorted and distinct */
inline send_nm() {
  sj = 0; sfound = 0;
  do
  :: sj < NSLOTS && net[sj].cnt > 0 ->
     sk = 0; scmp = 0;
     do
     :: sk < MSGLEN && scmp == 0 ->
        if
        :: nm[sk] < net[sj].f[sk] -> scmp = 1      /* slot sorts after nm */
        :: nm[sk] > net[sj].f[sk] -> scmp = 2      /* slot sorts before nm */
        :: else -> skip
        fi;
        sk++
     :: else -> break
     od;
     if
     :: scmp == 0 -> net[sj].cnt++; sfound = 1; break
     :: scmp == 1 -> break
     :: scmp == 2 -> sj++
     fi
  :: else -> break
  od;
  if
  :: !sfound ->
     assert(net[NSLOTS - 1].cnt == 0);            /* distinct messages <= copies <= MAXFLIGHT */
     tj = NSLOTS - 1;
     do
     :: tj > sj ->
        tk = 0;
        do
        :: tk < MSGLEN -> net[tj].f[tk] = net[tj - 1].f[tk]; tk++
        :: else -> break
        od;
        net[tj].cnt = net[tj - 1].cnt;
        tj--
     :: else -> break
     od;
     tk = 0;
     do
     :: tk < MSGLEN -> net[sj].f[tk] = nm[tk]; tk++
     :: else -> break
     od;
     net[sj].cnt = 1
  :: else -> skip
  fi;
  nflight++
}

/* Network::take(slot k): one copy less; an emptied slot is removed, the rest shift down */
inline take(k) {
  net[k].cnt--;
  nflight--;
  if
  :: net[k].cnt == 0 ->
     tj = k;
     do
     :: tj < NSLOTS - 1 ->
        tk = 0;
        do
        :: tk < MSGLEN -> net[tj].f[tk] = net[tj + 1].f[tk]; tk++
        :: else -> break
        od;
        net[tj].cnt = net[tj + 1].cnt;
        tj++
     :: else -> break
     od;
     tk = 0;
     do
     :: tk < MSGLEN -> net[NSLOTS - 1].f[tk] = 0; tk++
     :: else -> break
     od;
     net[NSLOTS - 1].cnt = 0
  :: else -> skip
  fi
}

/* History::was_processed(s) -> aproc */
inline was_processed(s) {
  aproc = 0; ap = 0;
  do
  :: ap < nproc -> if :: p_ser[ap] == s -> aproc = 1 :: else -> skip fi; ap++
  :: else -> break
  od
}

/* ------------------------------------------------------------------ actions */

/* World::mutate (mid_counter = idb), op = Set{row r, value = serial + 1} or Incr{row r} */
inline mutate(t, r) {
  aI = t_inst[t]; aC = t_cli[t];
  amid = i_nextmid[aI * NCLIENTS + aC] + 1;
  i_nextmid[aI * NCLIENTS + aC] = amid;
  asr = ncreated;
  c_tab[asr] = t; c_cli[asr] = aC; c_mid[asr] = amid; c_row[asr] = r;
  ncreated++;
  /* BTreeMap::insert replaces an entry with the same (client, mid) key */
  ax = 0;
  do
  :: ax < asr ->
     if
     :: HAS(i_outbox[aI], ax) && c_cli[ax] == aC && c_mid[ax] == amid ->
        i_outbox[aI] = i_outbox[aI] & ~BIT(ax)
     :: else -> skip
     fi;
     ax++
  :: else -> break
  od;
  i_outbox[aI] = i_outbox[aI] | BIT(asr);
  rebase(aI)
}

/* World::push: one PushReq per slice of World::push_slices, each with its slice */
inline push(t) {
  aI = t_inst[t]; aC = t_cli[t];
  apend = 0; ax = 0;
  do
  :: ax < ncreated -> if :: HAS(i_outbox[aI], ax) -> apend = apend | BIT(c_cli[ax]) :: else -> skip fi; ax++
  :: else -> break
  od;
  aheldm = 0; ax = 0;
  do
  :: ax < ntabs -> if :: t_status[ax] == OPEN && t_inst[ax] == aI -> aheldm = aheldm | BIT(t_cli[ax]) :: else -> skip fi; ax++
  :: else -> break
  od;
  asl = apend & (BIT(aC) | ~aheldm);
  ac = 0;
  do
  :: ac < NCLIENTS ->
     if
     :: HAS(asl, ac) ->
        amask = 0; ax = 0;
        do
        :: ax < ncreated -> if :: HAS(i_outbox[aI], ax) && c_cli[ax] == ac -> amask = amask | BIT(ax) :: else -> skip fi; ax++
        :: else -> break
        od;
        clear_nm();
        nm[0] = PUSHREQ; nm[1] = t; nm[2] = ac; nm[3] = amask;
        send_nm()
     :: else -> skip
     fi;
     ac++
  :: else -> break
  od
}

/* World::step Pull */
inline pull(t) {
  aI = t_inst[t];
  clear_nm();
  nm[0] = PULLREQ; nm[1] = t; nm[2] = t_cli[t]; nm[3] = i_cookie[aI]; nm[4] = i_buser[aI];
  send_nm()
}

/* World::step CloseTab */
inline close_tab(t) {
  t_status[t] = CLOSED;
  vr = 0;
  do
  :: vr < NROWS -> t_view[t * NROWS + vr] = 0; vr++
  :: else -> break
  od
}

/* World::restore (duplicate_tab = rotate): a fresh clientID if an open tab holds the old one */
inline restore_tab(t) {
  aI = t_inst[t]; aC = t_cli[t];
  aheld = 0; ax = 0;
  do
  :: ax < ntabs -> if :: t_status[ax] == OPEN && t_inst[ax] == aI && t_cli[ax] == aC -> aheld = 1 :: else -> skip fi; ax++
  :: else -> break
  od;
  if
  :: aheld -> aC = next_client; next_client++
  :: else -> skip
  fi;
  t_status[t] = RESTORED;
  new_tab(aI, aC)
}

/* World::reset (rotate_on_reset, reset_scope = slice) */
inline reset_tab(t) {
  aI = t_inst[t]; aC = t_cli[t];
  arot = next_client; next_client++;
  /* confirmed writes of this installation become "wiped" */
  asr = 0;
  do
  :: asr < ncreated ->
     was_processed(asr);
     if
     :: t_inst[c_tab[asr]] == aI && aproc && !HAS(i_outbox[aI], asr) && !HAS(wiped, asr) ->
        wiped = wiped | BIT(asr)
     :: else -> skip
     fi;
     asr++
  :: else -> break
  od;
  vr = 0;
  do
  :: vr < NROWS -> i_base[aI * NROWS + vr] = 0; vr++
  :: else -> break
  od;
  i_cookie[aI] = 0;
  i_buser[aI] = 0;
  /* remove_slice(client); discarded = those created by this tab or by a tab now not open */
  asr = 0;
  do
  :: asr < ncreated ->
     if
     :: HAS(i_outbox[aI], asr) && c_cli[asr] == aC ->
        i_outbox[aI] = i_outbox[aI] & ~BIT(asr);
        if
        :: c_tab[asr] == t || t_status[c_tab[asr]] != OPEN -> discarded = discarded | BIT(asr)
        :: else -> skip
        fi
     :: else -> skip
     fi;
     asr++
  :: else -> break
  od;
  i_nextmid[aI * NCLIENTS + aC] = 0;
  resets++;
  t_cli[t] = arot;
  rebase(aI)
}

/* Server::process (auth.write allows every row: one user, no private rows) */
inline process(s) {
  s_version++;
  pr = c_row[s];
  if
  :: pr < ROWS -> s_val[pr] = s + 1
  :: pr >= ROWS && pr < ROWS + MAXROWS -> if :: s_val[pr] < s + 1 -> s_val[pr] = s + 1 :: else -> skip fi
  :: pr >= ROWS + MAXROWS -> if :: s_val[pr] < 255 -> s_val[pr] = s_val[pr] + 1 :: else -> skip fi
  fi;
  s_rv[pr] = s_version;
  /* `processed` holds at most MAXMUT entries unless a mutation is processed twice: this
   * assertion failing is an at-most-once violation found within one step */
  assert(nproc < MAXMUT);
  p_ser[nproc] = s;
  nproc++
}

/* Server::push for the PushReq in dm, then send its PushResp */
inline server_push() {
  dt = dm[1]; dC = dm[2]; dG = t_inst[dt];
  dlast = (s_lmid[dG * NCLIENTS + dC] > 0 -> s_lmid[dG * NCLIENTS + dC] - 1 : 0);
  dmi = 1; dstop = 0;
  do
  :: dmi <= MAXMUT && !dstop ->
     dfound = 255; ds = 0;
     do
     :: ds < MAXMUT -> if :: HAS(dm[3], ds) && c_mid[ds] == dmi -> dfound = ds :: else -> skip fi; ds++
     :: else -> break
     od;
     if
     :: dfound != 255 && dmi <= dlast -> skip                  /* a retry */
     :: dfound != 255 && dmi > dlast + 1 -> dstop = 1          /* a gap */
     :: dfound != 255 && dmi == dlast + 1 -> process(dfound); dlast = dmi
     :: else -> skip
     fi;
     dmi++
  :: else -> break
  od;
  dbefore = s_lmid[dG * NCLIENTS + dC];
  s_lmid[dG * NCLIENTS + dC] = dlast + 1;
  if
  :: dbefore > 0 && dbefore - 1 > dlast -> broken = broken | 1
  :: else -> skip
  fi;
  clear_nm();
  nm[0] = PUSHRESP; nm[1] = dt; nm[2] = dC; nm[3] = dlast;
  send_nm()
}

/* Server::pull for the PullReq in dm, then send its PullResp */
inline server_pull() {
  dt = dm[1]; dG = t_inst[dt];
  dreset = (dm[3] == 0 || dm[4] != USER0);       /* no cookie, or cookie of another user */
  clear_nm();
  nm[0] = PULLRESP; nm[1] = dt; nm[2] = dm[3]; nm[3] = dm[4]; nm[4] = s_version;
  nm[5] = (dreset -> RESET_PATCH : TAIL_PATCH);
  dr = 0;
  do
  :: dr < NROWS ->
     if
     :: s_val[dr] != 0 && (dreset || s_rv[dr] > dm[3] - 1) -> nm[F_ROWS + dr] = s_val[dr]
     :: else -> skip
     fi;
     dr++
  :: else -> break
  od;
  dc = 0;
  do
  :: dc < NCLIENTS -> nm[F_LMIDS + dc] = s_lmid[dG * NCLIENTS + dc]; dc++
  :: else -> break
  od;
  send_nm()
}

/* World::receive_pull (pull_base_check) for the PullResp in dm */
inline receive_pull() {
  dt = dm[1];
  if
  :: t_status[dt] == OPEN ->
     dI = t_inst[dt];
     if
     :: dm[2] == i_cookie[dI] && dm[3] == i_buser[dI] ->
        if
        :: i_cookie[dI] != 0 && dm[4] < i_cookie[dI] - 1 -> broken = broken | 2
        :: else -> skip
        fi;
        dr = 0;
        do
        :: dr < NROWS ->
           if :: dm[5] == RESET_PATCH -> i_base[dI * NROWS + dr] = 0 :: else -> skip fi;
           if :: dm[F_ROWS + dr] != 0 -> i_base[dI * NROWS + dr] = dm[F_ROWS + dr] :: else -> skip fi;
           dr++
        :: else -> break
        od;
        i_cookie[dI] = dm[4] + 1;
        i_buser[dI] = USER0;
        /* drop_confirmed (orphan_recovery: every client's lmid confirms) */
        ds = 0;
        do
        :: ds < ncreated ->
           dc = c_cli[ds];
           if
           :: HAS(i_outbox[dI], ds) && dm[F_LMIDS + dc] != 0 && c_mid[ds] <= dm[F_LMIDS + dc] - 1 ->
              i_outbox[dI] = i_outbox[dI] & ~BIT(ds)
           :: else -> skip
           fi;
           ds++
        :: else -> break
        od;
        rebase(dI)
     :: else -> skip                                 /* does not fit the IDB cookie */
     fi
  :: else -> skip                                    /* the page that asked is gone */
  fi
}

/* World::step Deliver(msg in slot k) */
inline deliver(k) {
  tk = 0;
  do
  :: tk < MSGLEN -> dm[tk] = net[k].f[tk]; tk++
  :: else -> break
  od;
  take(k);
  if
  :: dm[0] == PUSHREQ -> server_push()
  :: dm[0] == PULLREQ -> server_pull()
  :: dm[0] == PUSHRESP -> skip                      /* a correct client ignores it */
  :: dm[0] == PULLRESP -> receive_pull()
  fi
}

/* ------------------------------------------------------------------ safety properties
 * properties/src/safety.rs, the `always` ones that apply without private rows. */

/* identity (group, client, mid) of serials a and b are equal -> kx */
#define SAME_ID(a, b) (t_inst[c_tab[a]] == t_inst[c_tab[b]] && c_cli[a] == c_cli[b] && c_mid[a] == c_mid[b])

inline check_props() {
  /* monotone */
  assert(broken == 0);
  /* at-most-once: processed serials and their identities are distinct */
  k1 = 0;
  do
  :: k1 < nproc ->
     k2 = k1 + 1;
     do
     :: k2 < nproc ->
        assert(p_ser[k1] != p_ser[k2] && !SAME_ID(p_ser[k1], p_ser[k2]));
        k2++
     :: else -> break
     od;
     k1++
  :: else -> break
  od;
  /* unique-identity: created identities are distinct */
  k1 = 0;
  do
  :: k1 < ncreated ->
     k2 = k1 + 1;
     do
     :: k2 < ncreated -> assert(!SAME_ID(k1, k2)); k2++
     :: else -> break
     od;
     k1++
  :: else -> break
  od;
  /* per-client-order: the n-th processed mutation of a (group, client) has mid n */
  k1 = 0;
  do
  :: k1 < nproc ->
     kc = 1; k2 = 0;
     do
     :: k2 < k1 ->
        if
        :: t_inst[c_tab[p_ser[k2]]] == t_inst[c_tab[p_ser[k1]]] && c_cli[p_ser[k2]] == c_cli[p_ser[k1]] -> kc++
        :: else -> skip
        fi;
        k2++
     :: else -> break
     od;
     assert(c_mid[p_ser[k1]] == kc);
     k1++
  :: else -> break
  od;
  /* per created mutation */
  k1 = 0;
  do
  :: k1 < ncreated ->
     was_processed(k1);
     kx = t_inst[c_tab[k1]];
     kv = s_lmid[kx * NCLIENTS + c_cli[k1]];
     /* no-silent-drop: watermark < mid, or processed, or discarded */
     assert((kv == 0 || kv - 1 < c_mid[k1]) || aproc || HAS(discarded, k1));
     /* outbox-honesty: processed, discarded, or still in some outbox */
     kok = aproc || HAS(discarded, k1);
     ky = 0;
     do
     :: ky < INSTALLS -> if :: HAS(i_outbox[ky], k1) -> kok = 1 :: else -> skip fi; ky++
     :: else -> break
     od;
     assert(kok);
     /* read-your-writes: gone from its outbox, not discarded nor wiped, applied at version
      * v (its position among applied + 1) => its installation's cookie, if any, is >= v */
     if
     :: !HAS(discarded, k1) && !HAS(wiped, k1) && !HAS(i_outbox[kx], k1) && i_cookie[kx] != 0 ->
        k2 = 0;
        do
        :: k2 < nproc ->
           if
           :: p_ser[k2] == k1 -> assert(i_cookie[kx] - 1 >= k2 + 1)
           :: else -> skip
           fi;
           k2++
        :: else -> break
        od
     :: else -> skip
     fi;
     k1++
  :: else -> break
  od;
  /* rebase: every open tab's view is its installation's replay for its client */
  k1 = 0;
  do
  :: k1 < ntabs ->
     if
     :: t_status[k1] == OPEN ->
        replay(t_inst[k1], t_cli[k1]);
        k2 = 0;
        do
        :: k2 < NROWS -> assert(t_view[k1 * NROWS + k2] == rb[k2]); k2++
        :: else -> break
        od
     :: else -> skip
     fi;
     k1++
  :: else -> break
  od;
  /* group-isolation: a PullResp's lastMutationIDs name only clients of its group */
  k1 = 0;
  do
  :: k1 < NSLOTS ->
     if
     :: net[k1].cnt > 0 && net[k1].f[0] == PULLRESP ->
        kx = t_inst[net[k1].f[1]];
        k2 = 0;
        do
        :: k2 < NCLIENTS ->
           assert(net[k1].f[F_LMIDS + k2] == 0 || s_lmid[kx * NCLIENTS + k2] != 0);
           k2++
        :: else -> break
        od
     :: else -> skip
     fi;
     k1++
  :: else -> break
  od
}

/* every d_step ends with END_STEP: a statement after the body's last loop, so that the
 * loop's `break` stays inside the d_step */
#if CHECK == 1
#define END_STEP ; check_props(); skip
#else
#define END_STEP ; skip
#endif

/* ------------------------------------------------------------------ the action set
 * World::enabled, one d_step per (action, parameter); each guard is enabled()'s condition. */

#define CAN_MUTATE (ncreated < MAXMUT)
#define CAN_CREATE_TAB (ntabs < TABS)

#define MUT_OPT(t, r) :: d_step { TOPEN(t) && CAN_MUTATE -> mutate(t, r) END_STEP }
#define MUT_OPTS_1(t) MUT_OPT(t, 0)
#define MUT_OPTS_2(t) MUT_OPTS_1(t) MUT_OPT(t, 1)
#define MUT_OPTS_3(t) MUT_OPTS_2(t) MUT_OPT(t, 2)
#define MUT_OPTS_4(t) MUT_OPTS_3(t) MUT_OPT(t, 3)
#if NROWS == 1
#define MUT_OPTS(t) MUT_OPTS_1(t)
#elif NROWS == 2
#define MUT_OPTS(t) MUT_OPTS_2(t)
#elif NROWS == 3
#define MUT_OPTS(t) MUT_OPTS_3(t)
#elif NROWS == 4
#define MUT_OPTS(t) MUT_OPTS_4(t)
#endif

#ifdef NORELOAD
#define RELOAD_OPT(t)
#else
#define RELOAD_OPT(t) :: d_step { TOPEN(t) -> set_view(t) END_STEP }
#endif

#define TAB_OPTS(t) \
  /* RestoreTab: World::restore */ \
  :: d_step { (t) < ntabs && t_status[t] == CLOSED && CAN_CREATE_TAB -> restore_tab(t) END_STEP } \
  /* Mutate, one per row: World::mutate */ \
  MUT_OPTS(t) \
  /* Push: World::push (enabled: some slice, and room for all of them) */ \
  :: d_step { TOPEN(t) && SLICES(t) != 0 && NSLICES(t) <= ROOM -> push(t) END_STEP } \
  /* Pull: World::step Action::Pull */ \
  :: d_step { TOPEN(t) && ROOM > 0 -> pull(t) END_STEP } \
  /* Reload: World::step Action::Reload (always a self-loop here: the view is the replay). */ \
  /* plasma-check does not offer no-op reloads; -DNORELOAD (run.sh's default) drops them  */ \
  /* here too, so that both searches take the same transitions. */ \
  RELOAD_OPT(t) \
  /* DuplicateTab: World::step Action::DuplicateTab, duplicate_tab = rotate: a fresh clientID */ \
  :: d_step { TOPEN(t) && CAN_CREATE_TAB -> arot = next_client; next_client++; new_tab(t_inst[t], arot) END_STEP } \
  /* CloseTab: World::step Action::CloseTab */ \
  :: d_step { TOPEN(t) -> close_tab(t) END_STEP } \
  /* ResetLocalState: World::reset */ \
  :: d_step { TOPEN(t) && resets < MAXRESETS -> reset_tab(t) END_STEP }
#define TAB_OPTS_1 TAB_OPTS(0)
#define TAB_OPTS_2 TAB_OPTS_1 TAB_OPTS(1)
#define TAB_OPTS_3 TAB_OPTS_2 TAB_OPTS(2)
#define TAB_OPTS_4 TAB_OPTS_3 TAB_OPTS(3)
#define TAB_OPTS_5 TAB_OPTS_4 TAB_OPTS(4)
#define TAB_OPTS_6 TAB_OPTS_5 TAB_OPTS(5)
#if TABS == 1
#define ALL_TAB_OPTS TAB_OPTS_1
#elif TABS == 2
#define ALL_TAB_OPTS TAB_OPTS_2
#elif TABS == 3
#define ALL_TAB_OPTS TAB_OPTS_3
#elif TABS == 4
#define ALL_TAB_OPTS TAB_OPTS_4
#elif TABS == 5
#define ALL_TAB_OPTS TAB_OPTS_5
#elif TABS == 6
#define ALL_TAB_OPTS TAB_OPTS_6
#endif

/* OpenTab(install): a fresh clientID */
#define OPEN_OPT(i) :: d_step { CAN_CREATE_TAB -> arot = next_client; next_client++; new_tab(i, arot) END_STEP }
#define OPEN_OPTS_1 OPEN_OPT(0)
#define OPEN_OPTS_2 OPEN_OPTS_1 OPEN_OPT(1)
#define OPEN_OPTS_3 OPEN_OPTS_2 OPEN_OPT(2)
#if INSTALLS == 1
#define ALL_OPEN_OPTS OPEN_OPTS_1
#elif INSTALLS == 2
#define ALL_OPEN_OPTS OPEN_OPTS_2
#elif INSTALLS == 3
#define ALL_OPEN_OPTS OPEN_OPTS_3
#endif

/* per distinct message in flight (slot k): World::step Deliver (Network::take, then
 * World::deliver), Drop (budget), Duplicate (budget, and room for the copy) */
#define SLOT_OPTS(k) \
  :: d_step { net[k].cnt > 0 -> deliver(k) END_STEP } \
  :: d_step { net[k].cnt > 0 && drops < DROPS -> drops++; take(k) END_STEP } \
  :: d_step { net[k].cnt > 0 && dups < DUPS && ROOM > 0 -> dups++; net[k].cnt++; nflight++ END_STEP }
#define SLOT_OPTS_1 SLOT_OPTS(0)
#define SLOT_OPTS_2 SLOT_OPTS_1 SLOT_OPTS(1)
#define SLOT_OPTS_3 SLOT_OPTS_2 SLOT_OPTS(2)
#define SLOT_OPTS_4 SLOT_OPTS_3 SLOT_OPTS(3)
#define SLOT_OPTS_5 SLOT_OPTS_4 SLOT_OPTS(4)
#define SLOT_OPTS_6 SLOT_OPTS_5 SLOT_OPTS(5)
#if NSLOTS == 1
#define ALL_SLOT_OPTS SLOT_OPTS_1
#elif NSLOTS == 2
#define ALL_SLOT_OPTS SLOT_OPTS_2
#elif NSLOTS == 3
#define ALL_SLOT_OPTS SLOT_OPTS_3
#elif NSLOTS == 4
#define ALL_SLOT_OPTS SLOT_OPTS_4
#elif NSLOTS == 5
#define ALL_SLOT_OPTS SLOT_OPTS_5
#elif NSLOTS == 6
#define ALL_SLOT_OPTS SLOT_OPTS_6
#endif

#if CHECK == 2
#define CHECK_OPT :: d_step { true -> check_props(); skip }
#else
#define CHECK_OPT
#endif

active proctype world()
{
end_loop:                /* a World with no enabled action is a valid end state */
  do
  CHECK_OPT              /* first: a state is checked before any successor is explored */
  ALL_TAB_OPTS
  ALL_OPEN_OPTS
  ALL_SLOT_OPTS
  od
}
