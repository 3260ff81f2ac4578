// The load generator of `make bench`: one Node process (run pinned to its own core by
// bench/run.py) that opens the sockets and drives them, against Parley or against
// PeerJS's server. Node, not Python, so that it outruns both servers: it only parses
// JSON and keeps timestamps. It reads a JSON config (argv[2]) and prints one JSON
// result line on stdout.
//
// Modes:
//   relay   P1 + P2: pairs of sockets (in a call, for Parley); A sends ICE-candidate
//           frames to B, stamped with the send time; latency at a fixed rate, then a
//           rate ramp until p99 passes the limit.
//   idle    P3: open as many authenticated sockets as asked, print "READY <n>", hold
//           them until stdin closes.
//   setups  P5: full call setups (invite, accept, offer/answer, candidates, hang up).

import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import WebSocket from "ws";

const config = JSON.parse(readFileSync(process.argv[2], "utf8"));
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const log = (...args) => console.error("[loadgen]", ...args);

/** The p-th percentile (nearest rank) of an ascending array, or null. */
function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

function summary(latencies) {
  const sorted = Float64Array.from(latencies).sort();
  const round = (v) => (v === null ? null : Math.round(v * 1000) / 1000);
  return {
    count: sorted.length,
    p50_ms: round(percentile(sorted, 50)),
    p95_ms: round(percentile(sorted, 95)),
    p99_ms: round(percentile(sorted, 99)),
    max_ms: round(sorted.length ? sorted[sorted.length - 1] : null),
  };
}

// When any socket last heard presence news: the server's fan-out of the sign-ins goes
// on after the first socket has heard everyone (it reaches the sockets in turn).
let lastPresenceAt = 0;
const PRESENCE_QUIET_MS = 1000;

/** One socket: frames are matched against waiters, or handed to a relay hook. */
class Conn {
  constructor(ws) {
    this.ws = ws;
    this.waiters = [];
    this.backlog = [];
    this.onRelay = null;
    this.closed = false;
    this.presence = 0;
  }

  static open(url, { headers = {}, ready, timeout = 60000 }) {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { headers, perMessageDeflate: false });
      const conn = new Conn(ws);
      ws.on("message", (data) => conn.onMessage(data));
      ws.on("error", reject);
      ws.on("close", (code) => {
        conn.closed = true;
        reject(new Error(`closed ${code} before ready`));
      });
      conn.next(ready, timeout).then(() => resolve(conn), (error) => {
        ws.terminate();
        reject(error);
      });
    });
  }

  onMessage(data) {
    const frame = JSON.parse(data);
    if (this.onRelay !== null && this.onRelay(frame)) return;
    for (let i = 0; i < this.waiters.length; i++) {
      const waiter = this.waiters[i];
      if (waiter.match(frame)) {
        this.waiters.splice(i, 1);
        clearTimeout(waiter.timer);
        waiter.resolve(frame);
        return;
      }
    }
    // Presence and keep-alive frames nobody waits for are dropped; the rest wait.
    if (frame.type === "presence") {
      this.presence++;
      lastPresenceAt = performance.now();
    }
    if (frame.type === "presence" || frame.type === "HEARTBEAT") return;
    this.backlog.push(frame);
    if (this.backlog.length > 200) this.backlog.shift();
  }

  next(match, timeout = 30000, what = typeof match === "string" ? match : "a frame") {
    const test = typeof match === "string" ? (f) => f.type === match : match;
    const i = this.backlog.findIndex(test);
    if (i >= 0) return Promise.resolve(this.backlog.splice(i, 1)[0]);
    return new Promise((resolve, reject) => {
      const waiter = { match: test, resolve };
      waiter.timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`no ${what} within ${timeout} ms`));
      }, timeout);
      this.waiters.push(waiter);
    });
  }

  send(frame) {
    this.ws.send(JSON.stringify(frame));
  }

  close() {
    this.ws.terminate();
  }
}

// --- the two servers' protocols -------------------------------------------------------

let nextReq = 1;

/** A candidate frame body stamped with its send time (ms, this process's clock). */
const candidate = (t) => ({
  candidate: `candidate:${t.toFixed(4)} 1 udp 2122260223 127.0.0.1 9 typ host`,
  sdpMid: "0",
  sdpMLineIndex: 0,
});
const stampOf = (c) => Number(c.candidate.slice(10, c.candidate.indexOf(" ")));

const parley = {
  open(index, side) {
    const user = config.users[index];
    const url = config.urls[side === "b" ? 1 % config.urls.length : 0];
    return Conn.open(url, { headers: { Authorization: `Bearer ${user.token}` }, ready: "hello" });
  },

  async request(conn, type, fields, answerType = "ok") {
    const req = String(nextReq++);
    conn.send({ type, req, ...fields });
    const answer = await conn.next(
      (f) => f.req === req && (f.type === answerType || f.type === "error"),
      120000,
      `the answer to ${type}`,
    );
    if (answer.type === "error") throw new Error(`${type}: ${answer.error} ${answer.message}`);
    return answer;
  },

  /** A call between a and b, answered: both have call.started. */
  async pair(a, b, indexB) {
    const { call_id: callId } = await this.request(a, "call.invite", {
      callee: config.users[indexB].username,
      media: "video",
    });
    await b.next((f) => f.type === "call.incoming" && f.call_id === callId, 120000, "call.incoming");
    await this.request(b, "call.accept", { call_id: callId });
    await Promise.all([a, b].map((c) => c.next((f) => f.type === "call.started" && f.call_id === callId, 120000, "call.started")));
    return { callId };
  },

  /** Round trip of a ping (ms): how busy the server still is. */
  async ping(conn) {
    const t0 = performance.now();
    await this.request(conn, "ping", {}, "pong");
    return performance.now() - t0;
  },

  relayFrame: (pair, t) => ({ type: "call.signal", call_id: pair.callId, candidate: candidate(t) }),
  relayed: (frame) => (frame.type === "call.signal" && frame.candidate ? frame.candidate : null),

  /** P5: one full call setup and hang-up; resolves when both saw call.ended. */
  async setup(a, b, indexB) {
    const { callId } = await this.pair(a, b, indexB);
    const signal = (from, to, body) => {
      from.send({ type: "call.signal", call_id: callId, ...body });
      return to.next((f) => f.type === "call.signal" && f.call_id === callId && (body.description ? f.description : f.candidate));
    };
    await signal(a, b, { description: { type: "offer", sdp: FAKE_SDP } });
    await signal(b, a, { description: { type: "answer", sdp: FAKE_SDP } });
    const arrivals = [];
    for (let i = 0; i < config.candidates; i++) {
      arrivals.push(b.next((f) => f.type === "call.signal" && f.call_id === callId && f.candidate));
    }
    for (let i = 0; i < config.candidates; i++) {
      a.send({ type: "call.signal", call_id: callId, candidate: candidate(performance.now()) });
    }
    await Promise.all(arrivals);
    const ended = [a, b].map((c) => c.next((f) => f.type === "call.ended" && f.call_id === callId));
    await this.request(a, "call.hangup", { call_id: callId });
    await Promise.all(ended);
  },
};

const peerjs = {
  open(index, side) {
    const id = `${side}${index}`;
    const url = `${config.urls[0]}/peerjs?key=peerjs&id=${id}&token=t${index}`;
    return Conn.open(url, { ready: "OPEN" });
  },
  async pair(a, b, indexB) {
    return { dst: `b${indexB}` };
  },
  async ping() {
    return 0; // PeerJS answers nothing; it has no backlog of announcements either
  },
  relayFrame: (pair, t) => ({
    type: "CANDIDATE",
    dst: pair.dst,
    payload: { candidate: candidate(t), type: "media", connectionId: "mc_bench" },
  }),
  relayed: (frame) => (frame.type === "CANDIDATE" ? frame.payload.candidate : null),
};

const FAKE_SDP = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n" + "a=x-bench:padding\r\n".repeat(60);

const target = config.target === "peerjs" ? peerjs : parley;

// Handshakes the server reset or refused and that were tried again (relay and setups
// modes; P3 stops at its first failure instead, as that is what it measures).
let handshakeRetries = 0;
const HANDSHAKE_TRIES = 3;

/** Open `count` sockets with at most `concurrency` handshakes in flight. */
async function openMany(count, opener, concurrency = config.concurrency ?? 50) {
  const conns = new Array(count);
  let next = 0;
  async function worker() {
    while (next < count) {
      const i = next++;
      for (let attempt = 1; ; attempt++) {
        try {
          conns[i] = await opener(i);
          break;
        } catch (error) {
          if (attempt === HANDSHAKE_TRIES) throw new Error(`socket ${i}: ${error.message} (${attempt} tries)`);
          handshakeRetries++;
          await sleep(500);
        }
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return conns;
}

/** The pairs: A sockets of users [0, n), B sockets of users [n, 2n), in calls. */
async function openPairs(n) {
  const started = performance.now();
  const as = await openMany(n, (i) => target.open(i, "a"));
  const bs = await openMany(n, (i) => target.open(n + i, "b"));
  const connectS = (performance.now() - started) / 1000;
  // The first socket hears of every other person (2n - 1) once the news is out.
  const settleS = await settle(as[0], config.target === "parley" ? 2 * n - 1 : 0);
  const pairs = await openMany(n, async (i) => ({ a: as[i], b: bs[i], ...(await target.pair(as[i], bs[i], n + i)) }));
  const readyS = (performance.now() - started) / 1000;
  log(`${n} pairs up: ${connectS.toFixed(1)} s to connect, settled ${settleS.toFixed(1)} s later, ${readyS.toFixed(1)} s in all`);
  return { pairs, connectS, settleS, readyS };
}

/**
 * Wait until the server has worked off what the sign-ins caused (for Parley, every
 * socket is told of every person who came online): `conn` has heard of `people`
 * others and no socket has heard any news for a second, then two pings in a row
 * under 20 ms. The figures are taken at that steady
 * state; the time it took is reported too.
 */
async function settle(conn, people, limitS = 300) {
  const started = performance.now();
  while (conn.presence < people || performance.now() - lastPresenceAt < PRESENCE_QUIET_MS) {
    if (performance.now() - started > limitS * 1000) throw new Error("presence news never finished");
    await sleep(50);
  }
  let quick = 0;
  while (quick < 2) {
    quick = (await target.ping(conn)) < 20 ? quick + 1 : 0;
    if (performance.now() - started > limitS * 1000) throw new Error("the server never settled");
    if (quick < 2) await sleep(100);
  }
  return (performance.now() - started) / 1000;
}

// --- relay: P1 and P2 -------------------------------------------------------------------

/**
 * Send at `rate` frames/s for `seconds`, spread over the pairs, then wait for stragglers.
 * Latencies of frames that arrive; `lost` counts those that did not within the drain.
 */
async function relayAt(pairs, rate, seconds, drainMs = 1500) {
  const latencies = [];
  // BENCH_SERIES=1: the worst latency of each 250 ms of sending, on stderr.
  const series = process.env.BENCH_SERIES ? [] : null;
  let received = 0;
  for (const pair of pairs) {
    pair.b.onRelay = (frame) => {
      const c = target.relayed(frame);
      if (c === null) return false;
      const sentAt = stampOf(c);
      latencies.push(performance.now() - sentAt);
      if (series) series.push([sentAt, performance.now() - sentAt]);
      received++;
      return true;
    };
  }
  const start = performance.now();
  let sent = 0;
  let turn = 0;
  while (true) {
    const elapsed = (performance.now() - start) / 1000;
    if (elapsed >= seconds) break;
    const due = Math.floor(rate * elapsed) - sent;
    for (let i = 0; i < due; i++) {
      const pair = pairs[turn++ % pairs.length];
      pair.a.send(target.relayFrame(pair, performance.now()));
    }
    sent += Math.max(0, due);
    await sleep(2);
  }
  const sendSeconds = (performance.now() - start) / 1000;
  const drainUntil = performance.now() + drainMs;
  while (received < sent && performance.now() < drainUntil) await sleep(10);
  for (const pair of pairs) pair.b.onRelay = null;
  if (series) {
    const worst = new Map();
    for (const [at, ms] of series) {
      const slot = Math.floor((at - start) / 250);
      worst.set(slot, Math.max(worst.get(slot) ?? 0, ms));
    }
    log(`worst per 250 ms: ${[...worst.entries()].sort((x, y) => x[0] - y[0]).map(([, ms]) => Math.round(ms)).join(" ")}`);
  }
  const lost = sent - received;
  // A frame that never came counts as slower than any that did.
  for (let i = 0; i < lost; i++) latencies.push(Infinity);
  return { rate, sent, received, lost, achieved_per_s: Math.round(received / sendSeconds), ...summary(latencies) };
}

async function relay() {
  const { pairs, connectS, settleS, readyS } = await openPairs(config.pairs);
  await relayAt(pairs, Math.min(200, config.latency_rate), 1); // warm up
  console.log("MARK latency-start"); // the orchestrator reads the servers' CPU time
  const latency = await relayAt(pairs, config.latency_rate, config.latency_seconds);
  console.log("MARK latency-end");
  log(`latency at ${config.latency_rate}/s: p50 ${latency.p50_ms} ms, p99 ${latency.p99_ms} ms`);
  const ramp = [];
  let best = null;
  for (const rate of config.ramp) {
    const step = await relayAt(pairs, rate, config.step_seconds);
    step.ok = step.p99_ms !== null && step.p99_ms <= config.p99_limit_ms && step.lost === 0;
    ramp.push(step);
    log(`rate ${rate}/s: got ${step.achieved_per_s}/s, p99 ${step.p99_ms} ms, lost ${step.lost}`);
    if (!step.ok) break;
    best = step;
  }
  return {
    pairs: config.pairs,
    connect_s: connectS,
    settle_s: settleS,
    ready_s: readyS,
    latency,
    ramp,
    best_rate: best ? best.achieved_per_s : 0,
  };
}

// --- idle: P3 ---------------------------------------------------------------------------

async function idle() {
  const started = performance.now();
  const conns = [];
  let failed = null;
  let next = 0;
  const deadline = started + config.budget_s * 1000;
  async function worker() {
    while (next < config.count && failed === null && performance.now() < deadline) {
      const i = next++;
      try {
        conns.push(await target.open(i, "a"));
      } catch (error) {
        failed = `socket ${i}: ${error.message}`;
      }
    }
  }
  await Promise.all(Array.from({ length: config.concurrency ?? 50 }, worker));
  const connectS = (performance.now() - started) / 1000;
  // Settled when the first socket has heard of everyone else (and pings are quick).
  const settleS = conns.length ? await settle(conns[0], config.people - 1) : 0;
  const open = conns.filter((c) => !c.closed).length;
  console.log(`READY ${open}`);
  // Hold until the orchestrator has read the server's memory and closes our stdin.
  await new Promise((resolve) => {
    process.stdin.on("end", resolve);
    process.stdin.on("close", resolve);
    process.stdin.resume();
  });
  const stillOpen = conns.filter((c) => !c.closed).length;
  for (const c of conns) c.close();
  return { asked: config.count, opened: conns.length, open_after_hold: stillOpen, connect_s: connectS, settle_s: settleS, failed };
}

// --- setups: P5 -------------------------------------------------------------------------

async function setups() {
  const n = config.pairs;
  const as = await openMany(n, (i) => target.open(i, "a"));
  const bs = await openMany(n, (i) => target.open(n + i, "b"));
  // As P1 does: the sign-ins' presence news (each person to every other) is worked
  // off first, or the first step measures that backlog instead of call setups.
  const settleS = await settle(as[0], 2 * n - 1);
  log(`${2 * n} sockets up, settled in ${settleS.toFixed(1)} s`);
  const steps = [];
  for (const concurrency of config.concurrency_steps) {
    const latencies = [];
    let errors = 0;
    let firstError = null;
    console.log(`MARK step-${concurrency}`); // the orchestrator reads the server's CPU time
    const start = performance.now();
    const until = start + config.step_seconds * 1000;
    async function worker(w) {
      while (performance.now() < until) {
        const t0 = performance.now();
        try {
          await parley.setup(as[w], bs[w], n + w);
          latencies.push(performance.now() - t0);
        } catch (error) {
          errors++;
          firstError ??= error.message;
          await sleep(100);
        }
      }
    }
    await Promise.all(Array.from({ length: Math.min(concurrency, n) }, (_, w) => worker(w)));
    console.log(`MARK step-${concurrency}-end`);
    const seconds = (performance.now() - start) / 1000;
    const step = { concurrency, completed: latencies.length, errors, first_error: firstError, per_s: Math.round((latencies.length / seconds) * 10) / 10, ...summary(latencies) };
    log(`setups at concurrency ${concurrency}: ${step.per_s}/s, p95 ${step.p95_ms} ms, errors ${errors}`);
    steps.push(step);
    await sleep(500);
  }
  for (const c of [...as, ...bs]) c.close();
  return { steps, settle_s: settleS };
}

process.on("unhandledRejection", (error) => {
  log(`failed: ${error?.message ?? error}`);
  process.exit(1);
});

const modes = { relay, idle, setups };
const cpuStart = process.cpuUsage();
const wallStart = performance.now();
let result;
try {
  result = await modes[config.mode]();
} catch (error) {
  // A failed run is a result too: the orchestrator reports it and goes on.
  log(`failed: ${error?.message ?? error}`);
  result = { error: String(error?.message ?? error) };
}
const cpu = process.cpuUsage(cpuStart);
// How busy the load generator itself was: near 1.0 means it, not the server, set the pace.
result.loadgen_cpu_share = Math.round(((cpu.user + cpu.system) / 1000 / (performance.now() - wallStart)) * 100) / 100;
result.handshake_retries = handshakeRetries;
console.log(JSON.stringify(result));
process.exit(0);
