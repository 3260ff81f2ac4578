// Specification tests for static/js/signaling.js (and the clientFrame check in
// static/js/protocol.js). Run with: node --test tests/js/
//
// A fake WebSocket stands in for the browser's: it records the frames the client
// sends and lets each test play the server (open, frames, close). Timers are node:test
// mock timers, so reconnection, pings and request timeouts run without sleeping.

import assert from "node:assert/strict";
import { afterEach, describe, test } from "node:test";

import { CLOSE, ERRORS, ProtocolError, clientFrame } from "../../static/js/protocol.js";
import {
  ICE_REFRESH_AT,
  SignalingClient,
  backoffDelay,
  iceServersUrl,
  socketUrl,
} from "../../static/js/signaling.js";

const URL = "ws://parley.test/ws/";

const HELLO = Object.freeze({
  type: "hello",
  user: { id: 1, username: "ada" },
  device_id: "d1",
  protocol: 1,
  ice_servers: [],
});

/**
 * A WebSocket class whose instances are collected in `sockets`, newest last.
 * With `deadNetwork`, close() starts closing but no close event ever arrives, as when
 * the link died silently and the browser waits out its closing handshake.
 */
function fakeWebSocket({ deadNetwork = false } = {}) {
  /** @type {FakeSocket[]} */
  const sockets = [];

  class FakeSocket {
    static CONNECTING = 0;
    static OPEN = 1;
    static CLOSING = 2;
    static CLOSED = 3;

    /** @param {string} url */
    constructor(url) {
      this.url = url;
      this.readyState = 0;
      /** @type {Record<string, any>[]} frames the client sent, parsed */
      this.sent = [];
      /** @type {number[]} codes the client passed to close() */
      this.closeCalls = [];
      this.onopen = null;
      this.onmessage = null;
      this.onclose = null;
      this.onerror = null;
      sockets.push(this);
    }

    /** @param {string} data */
    send(data) {
      if (this.readyState !== 1) throw new Error(`send() in readyState ${this.readyState}`);
      assert.equal(typeof data, "string", "frames go out as JSON text");
      this.sent.push(JSON.parse(data));
    }

    /** Client-side close: like a browser, the close event follows asynchronously. */
    close(code = 1000) {
      this.closeCalls.push(code);
      if (this.readyState >= 2) return;
      this.readyState = 2;
      if (!deadNetwork) queueMicrotask(() => this.serverClose(code));
    }

    // --- the test plays the server with these -------------------------------------

    open() {
      this.readyState = 1;
      this.onopen?.({ type: "open" });
    }

    /** @param {Record<string, unknown>} frame */
    receive(frame) {
      this.onmessage?.({ type: "message", data: JSON.stringify(frame) });
    }

    /** The connection ends with `code` (1006: dropped without a close frame). */
    serverClose(code = 1006) {
      if (this.readyState === 3) return;
      this.readyState = 3;
      this.onclose?.({ type: "close", code, reason: "", wasClean: code !== 1006 });
    }
  }

  return { WebSocketImpl: FakeSocket, sockets };
}

/** Every client a test makes; closed after each test so no real timer keeps node alive. */
const clients = new Set();

afterEach(() => {
  for (const client of clients) {
    if (client.state !== "closed") client.close();
  }
  clients.clear();
});

/** A SignalingClient on a fake socket class, closed after the test. */
function makeClient(WebSocketImpl, options = {}) {
  const client = new SignalingClient(URL, { WebSocketImpl, ...options });
  clients.add(client);
  return client;
}

/** Let queued microtasks and promise callbacks run (setImmediate is not mocked). */
const flush = () => new Promise((resolve) => setImmediate(resolve));

/**
 * Collect events of the given types as [type, detail] pairs.
 * @param {EventTarget} target
 * @param {string[]} types
 */
function record(target, ...types) {
  /** @type {[string, any][]} */
  const seen = [];
  for (const type of types) {
    target.addEventListener(type, (event) => seen.push([type, /** @type {any} */ (event).detail]));
  }
  return seen;
}

/**
 * Mock setTimeout (auto-restored after the test) and pin Math.random so backoff
 * delays are predictable: 0.5 → half the cap (250 ms for the first attempt).
 * @param {import("node:test").TestContext} t
 */
function useClock(t, random = 0.5) {
  t.mock.timers.enable({ apis: ["setTimeout"] });
  t.mock.method(Math, "random", () => random);
  return t.mock.timers;
}

/** A client whose first socket is open (not yet greeted). */
function opened(options = {}, fakeOptions = {}) {
  const fake = fakeWebSocket(fakeOptions);
  const client = makeClient(fake.WebSocketImpl, options);
  client.connect();
  fake.sockets[0].open();
  return { client, sockets: fake.sockets, socket: fake.sockets[0] };
}

/** A client that has received its hello. */
function online(options = {}, fakeOptions = {}) {
  const ctx = opened(options, fakeOptions);
  ctx.socket.receive(HELLO);
  return ctx;
}

describe("connecting", () => {
  test("connect() opens one socket to the given URL and reports 'connecting'", () => {
    const { WebSocketImpl, sockets } = fakeWebSocket();
    const client = makeClient(WebSocketImpl);
    const events = record(client, "state");
    assert.equal(client.state, "idle");
    assert.equal(client.connect(), client, "connect() returns the client");
    assert.equal(sockets.length, 1);
    assert.equal(sockets[0].url, URL);
    assert.equal(client.state, "connecting");
    assert.deepEqual(events, [["state", { state: "connecting", code: undefined }]]);
  });

  test("with userSig, the auth frame is the first frame on the socket", () => {
    const { socket } = opened({ userSig: "sig-123" });
    assert.deepEqual(socket.sent, [{ type: "auth", user_sig: "sig-123" }]);
  });

  test("without userSig, nothing is sent on open (the session cookie authenticates)", () => {
    const { socket } = opened();
    assert.deepEqual(socket.sent, []);
  });

  test("before hello, send() refuses and nothing but auth goes out", () => {
    const { client, socket } = opened({ userSig: "sig" });
    assert.equal(client.state, "connecting");
    assert.equal(client.send("ping"), false);
    assert.deepEqual(socket.sent, [{ type: "auth", user_sig: "sig" }]);
  });

  test("hello sets state 'online', keeps the hello and emits 'state' then 'hello'", () => {
    const { client, socket } = opened();
    const events = record(client, "state", "hello", "frame");
    socket.receive(HELLO);
    assert.equal(client.state, "online");
    assert.deepEqual(client.hello, HELLO);
    assert.deepEqual(events, [
      ["state", { state: "online", code: undefined }],
      ["frame", HELLO],
      ["hello", HELLO],
    ]);
  });

  test("send() works once online and returns true", () => {
    const { client, socket } = online();
    assert.equal(client.send("ping"), true);
    assert.deepEqual(socket.sent, [{ type: "ping" }]);
  });
});

describe("requests", () => {
  test("request() sends the frame with a string req and resolves on the matching ok", async () => {
    const { client, socket } = online();
    const first = client.request("ping");
    const second = client.request("ping");
    assert.equal(socket.sent.length, 2);
    const [a, b] = socket.sent;
    assert.equal(a.type, "ping");
    assert.equal(typeof a.req, "string");
    assert.notEqual(a.req, b.req, "each request has its own req");

    let firstDone = false;
    first.then(() => (firstDone = true));
    // Answers may come out of order; an unknown req is ignored.
    socket.receive({ type: "ok", req: "no-such-req" });
    socket.receive({ type: "ok", req: b.req, answer: 2 });
    assert.deepEqual(await second, { type: "ok", req: b.req, answer: 2 });
    await flush();
    assert.equal(firstDone, false, "the other request is still waiting");
    socket.receive({ type: "pong", req: a.req });
    assert.deepEqual(await first, { type: "pong", req: a.req });
    assert.equal(client.pending.size, 0);
  });

  test("request() rejects with a ProtocolError carrying error, code, field on an error frame", async () => {
    const { client, socket } = online();
    const answer = client.request("auth", { user_sig: "again" });
    const { req } = socket.sent.at(-1);
    socket.receive({
      type: "error",
      req,
      error: "invalid_field",
      code: ERRORS.invalid_field,
      message: "`user_sig`: bad.",
      field: "user_sig",
    });
    await assert.rejects(answer, (error) => {
      assert.ok(error instanceof ProtocolError);
      assert.equal(error.name, "ProtocolError");
      assert.equal(error.error, "invalid_field");
      assert.equal(error.code, 4004);
      assert.equal(error.field, "user_sig");
      assert.equal(error.message, "`user_sig`: bad.");
      return true;
    });
    assert.equal(client.pending.size, 0);
  });

  test("an error frame without a field rejects with field undefined", async () => {
    const { client, socket } = online();
    const answer = client.request("ping");
    const { req } = socket.sent.at(-1);
    socket.receive({ type: "error", req, error: "rate_limited", code: 4029, message: "Slow down." });
    await assert.rejects(answer, { name: "ProtocolError", error: "rate_limited", code: 4029, field: undefined });
  });

  test("request() while not online rejects with error 'offline' and sends nothing", async (t) => {
    useClock(t);
    const { WebSocketImpl, sockets } = fakeWebSocket();
    const client = makeClient(WebSocketImpl);
    // never connected
    await assert.rejects(client.request("ping"), { name: "ProtocolError", error: "offline", code: 0 });
    // connecting: socket open, no hello yet
    client.connect();
    sockets[0].open();
    await assert.rejects(client.request("ping"), { error: "offline" });
    // offline after a dropped connection
    sockets[0].receive(HELLO);
    sockets[0].serverClose(1006);
    assert.equal(client.state, "offline");
    await assert.rejects(client.request("ping"), { error: "offline" });
    assert.deepEqual(sockets[0].sent, []);
    assert.equal(client.pending.size, 0);
  });

  test("request() rejects with error 'timeout' after requestTimeout without an answer", async (t) => {
    const clock = useClock(t);
    const { client, socket } = online({ requestTimeout: 1000 });
    const answer = client.request("ping");
    let settled = false;
    answer.catch(() => {}).finally(() => (settled = true));
    clock.tick(999);
    await flush();
    assert.equal(settled, false);
    clock.tick(1);
    await assert.rejects(answer, { name: "ProtocolError", error: "timeout" });
    assert.equal(client.pending.size, 0);
    // A late answer is ignored (no throw, nothing pending).
    socket.receive({ type: "ok", req: socket.sent[0].req });
  });
});

describe("server frames", () => {
  test("each server frame is emitted as 'frame' and under its own type", () => {
    const { client, socket } = online();
    const events = record(client, "frame", "presence");
    const presence = { type: "presence", user: { id: 2, username: "bob" }, state: "online" };
    socket.receive(presence);
    assert.deepEqual(events, [
      ["frame", presence],
      ["presence", presence],
    ]);
  });

  test("an error frame without req is emitted as an 'error' event", () => {
    const { client, socket } = online();
    const events = record(client, "error");
    const error = { type: "error", error: "bad_json", code: 4000, message: "Bad JSON." };
    socket.receive(error);
    assert.deepEqual(events, [["error", error]]);
  });
});

describe("keep-alive", () => {
  test("a ping goes out every pingInterval while pongs come back", async (t) => {
    const clock = useClock(t);
    const { client, socket } = online({ pingInterval: 1000, pongTimeout: 500 });
    clock.tick(999);
    assert.deepEqual(socket.sent, []);
    clock.tick(1);
    assert.equal(socket.sent.length, 1);
    assert.equal(socket.sent[0].type, "ping");
    socket.receive({ type: "pong", req: socket.sent[0].req });
    await flush();
    clock.tick(1000);
    assert.equal(socket.sent.length, 2, "the next ping follows the pong");
    socket.receive({ type: "pong", req: socket.sent[1].req });
    await flush();
    clock.tick(500);
    assert.deepEqual(socket.closeCalls, [], "answered pings never close the socket");
    assert.equal(client.state, "online");
  });

  test("without a pong within pongTimeout the socket is closed and the client reconnects", async (t) => {
    const clock = useClock(t);
    const { client, sockets, socket } = online({ pingInterval: 1000, pongTimeout: 500 });
    clock.tick(1000);
    assert.equal(socket.sent.length, 1);
    clock.tick(500);
    assert.deepEqual(socket.closeCalls, [4000]);
    await flush(); // the close event
    assert.equal(client.state, "offline");
    clock.tick(250); // backoff: 0.5 * 500
    assert.equal(sockets.length, 2);
  });

  test(
    "a missed pong makes the client go offline and reconnect without waiting for the close event",
    async (t) => {
      const clock = useClock(t);
      const { client, sockets, socket } = online(
        { pingInterval: 1000, pongTimeout: 500 },
        { deadNetwork: true },
      );
      clock.tick(1000);
      clock.tick(500);
      assert.deepEqual(socket.closeCalls, [4000]);
      await flush();
      assert.equal(client.state, "offline", "a dead link is reported at once");
      clock.tick(250);
      assert.equal(sockets.length, 2, "reconnected after the backoff delay");
      socket.serverClose(1006); // the old socket's close event, at last: ignored
      assert.equal(client.state, "connecting");
    },
  );

  test(
    "an error answer to a ping still proves the link alive: no close, pings go on",
    async (t) => {
      const clock = useClock(t);
      const { client, socket } = online({ pingInterval: 1000, pongTimeout: 500 });
      clock.tick(1000);
      const { req } = socket.sent[0];
      socket.receive({ type: "error", req, error: "rate_limited", code: 4029, message: "Slow down." });
      await flush();
      clock.tick(500);
      assert.deepEqual(socket.closeCalls, [], "the server answered: the link is alive");
      assert.equal(client.state, "online");
      clock.tick(500);
      assert.equal(socket.sent.length, 2, "the next ping follows");
    },
  );
});

describe("reconnection", () => {
  test("an abnormal close rejects pending requests and reconnects after a backoff delay", async (t) => {
    const clock = useClock(t);
    const { client, sockets, socket } = online({ userSig: "sig" });
    const events = record(client, "state");
    const answer = client.request("ping");
    socket.serverClose(1006);
    await assert.rejects(answer, { name: "ProtocolError", error: "disconnected", code: 1006 });
    assert.equal(client.pending.size, 0);
    assert.equal(client.state, "offline");
    assert.deepEqual(events, [["state", { state: "offline", code: 1006 }]]);

    clock.tick(249); // Math.random() = 0.5 → floor(0.5 * 500) = 250 ms
    assert.equal(sockets.length, 1, "no reconnection before the delay");
    clock.tick(1);
    assert.equal(sockets.length, 2, "a new socket after the delay");
    assert.equal(sockets[1].url, URL);
    assert.equal(client.socket, sockets[1]);
    assert.equal(client.state, "connecting");

    sockets[1].open();
    assert.deepEqual(sockets[1].sent, [{ type: "auth", user_sig: "sig" }], "auth again, first");
    sockets[1].receive(HELLO);
    assert.equal(client.state, "online");
  });

  test("the backoff grows while attempts fail and resets after a hello", async (t) => {
    const clock = useClock(t);
    const { client, sockets } = online({ backoffBase: 100, backoffMax: 1000 });
    sockets[0].serverClose(1006);
    clock.tick(50); // attempt 0: 0.5 * 100
    assert.equal(sockets.length, 2);
    sockets[1].serverClose(1006); // never opened
    clock.tick(99);
    assert.equal(sockets.length, 2);
    clock.tick(1); // attempt 1: 0.5 * 200
    assert.equal(sockets.length, 3);
    sockets[2].serverClose(1006);
    clock.tick(200); // attempt 2: 0.5 * 400
    assert.equal(sockets.length, 4);
    sockets[3].open();
    sockets[3].receive(HELLO);
    assert.equal(client.attempt, 0);
    sockets[3].serverClose(1011);
    clock.tick(50); // back to attempt 0
    assert.equal(sockets.length, 5);
  });

  test("close code 4401 fires 'unauthorized', closes the client and never reconnects", async (t) => {
    const clock = useClock(t);
    const { client, sockets, socket } = opened({ userSig: "bad" });
    const events = record(client, "state", "unauthorized");
    socket.serverClose(CLOSE.unauthorized);
    assert.equal(CLOSE.unauthorized, 4401);
    assert.equal(client.state, "closed");
    assert.deepEqual(events, [
      ["state", { state: "closed", code: 4401 }],
      ["unauthorized", { code: 4401 }],
    ]);
    clock.tick(60_000);
    assert.equal(sockets.length, 1);
    assert.throws(() => client.connect(), /closed/);
  });

  test("4401 after hello also rejects pending requests and stops", async (t) => {
    const clock = useClock(t);
    const { client, sockets, socket } = online();
    const answer = client.request("ping");
    socket.serverClose(4401);
    await assert.rejects(answer, { error: "disconnected", code: 4401 });
    clock.tick(60_000);
    assert.equal(sockets.length, 1);
    assert.equal(client.state, "closed");
  });

  test("close() closes the socket with 1000, rejects pending requests and never reconnects", async (t) => {
    const clock = useClock(t);
    const { client, sockets, socket } = online({ pingInterval: 1000 });
    const events = record(client, "state");
    const answer = client.request("ping");
    client.close();
    await assert.rejects(answer, { name: "ProtocolError", error: "closed" });
    assert.deepEqual(socket.closeCalls, [1000]);
    await flush(); // the close event arrives
    assert.equal(client.state, "closed");
    assert.deepEqual(events, [["state", { state: "closed", code: undefined }]]);
    clock.tick(60_000);
    assert.equal(sockets.length, 1);
    assert.equal(socket.sent.filter((f) => f.type === "ping").length, 1, "no keep-alive pings");
    assert.throws(() => client.connect(), /closed/);
  });

  test("close() while waiting to reconnect cancels the reconnection", async (t) => {
    const clock = useClock(t);
    const { client, sockets, socket } = online();
    socket.serverClose(1006);
    assert.equal(client.state, "offline");
    client.close();
    clock.tick(60_000);
    assert.equal(sockets.length, 1);
    assert.equal(client.state, "closed");
  });

  test("a close event from a replaced socket is ignored", async (t) => {
    const clock = useClock(t);
    const { client, sockets, socket } = online();
    const onclose = socket.onclose;
    socket.serverClose(1006);
    clock.tick(250);
    sockets[1].open();
    sockets[1].receive(HELLO);
    onclose?.({ code: 1006 }); // a late duplicate from the old socket
    assert.equal(client.state, "online");
    clock.tick(60_000);
    assert.equal(sockets.length, 2);
  });
});

describe("backoffDelay", () => {
  test("stays within [0, min(max, base * 2^attempt)) and is an integer", () => {
    for (const [base, max] of [
      [500, 30000],
      [100, 1000],
      [1, 10],
    ]) {
      for (let attempt = 0; attempt < 40; attempt++) {
        const cap = Math.min(max, base * 2 ** attempt);
        for (let i = 0; i < 25; i++) {
          const delay = backoffDelay(attempt, base, max);
          assert.ok(Number.isInteger(delay), `${delay} is an integer`);
          assert.ok(delay >= 0 && delay < cap, `${delay} in [0, ${cap})`);
        }
      }
    }
  });

  test("honours an injected random", () => {
    assert.equal(backoffDelay(0, 500, 30000, () => 0), 0);
    assert.equal(backoffDelay(0, 500, 30000, () => 0.5), 250);
    assert.equal(backoffDelay(3, 500, 30000, () => 0.5), 2000);
    assert.equal(backoffDelay(10, 500, 30000, () => 0.5), 15000, "capped at max");
    assert.equal(backoffDelay(2000, 500, 30000, () => 0.5), 15000, "huge attempts stay capped");
    assert.equal(backoffDelay(0, 500, 30000, () => 0.999999), 499, "never reaches the cap");
    assert.equal(backoffDelay(20, 500, 30000, () => 0.999999), 29999);
  });

  test("defaults to base 500 and max 30 000", () => {
    assert.equal(backoffDelay(0, undefined, undefined, () => 0.5), 250);
    assert.equal(backoffDelay(99, undefined, undefined, () => 0.5), 15000);
  });
});

describe("ICE servers", () => {
  const TURN = (n) => [{ urls: ["turn:turn.test:3478"], username: `${n}:ada`, credential: `c${n}` }];

  /**
   * A fetch that records its calls and answers from `answers` in turn (a status
   * number, an Error to throw, or a body for a 200).
   */
  function fakeFetch(...answers) {
    const calls = [];
    const fetchImpl = async (url, init) => {
      calls.push({ url, init });
      const answer = answers.shift();
      if (answer instanceof Error) throw answer;
      if (typeof answer === "number") return { ok: false, status: answer, json: async () => ({}) };
      return { ok: true, status: 200, json: async () => answer };
    };
    return { fetchImpl, calls };
  }

  /** Mock setTimeout and Date together: the refresh compares against the clock. */
  function clock(t) {
    t.mock.timers.enable({ apis: ["setTimeout", "Date"], now: 1_000_000 });
    return t.mock.timers;
  }

  test("the hello's ice_servers are the client's until a refresh", () => {
    const { client, socket } = opened();
    socket.receive({ ...HELLO, ice_servers: TURN(1) });
    assert.deepEqual(client.iceServers, TURN(1));
  });

  test("credentials with a TTL are refreshed at 80% of it, and again by the new TTL", async (t) => {
    const timers = clock(t);
    const { fetchImpl, calls } = fakeFetch(
      { ice_servers: TURN(2), ice_servers_ttl: 50 },
      { ice_servers: TURN(3), ice_servers_ttl: 50 },
    );
    const { client, socket } = opened({ fetchImpl });
    const events = record(client, "ice_servers");
    socket.receive({ ...HELLO, ice_servers: TURN(1), ice_servers_ttl: 100 });
    timers.tick(100 * 1000 * ICE_REFRESH_AT - 1);
    await flush();
    assert.equal(calls.length, 0, "not before 80% of the TTL");
    timers.tick(1);
    await flush();
    assert.equal(calls.length, 1);
    assert.equal(calls[0].url, "http://parley.test/api/ice-servers");
    assert.equal(calls[0].init.credentials, "same-origin");
    assert.equal(calls[0].init.headers.Authorization, undefined, "the session cookie authenticates");
    assert.deepEqual(client.iceServers, TURN(2));
    assert.deepEqual(events, [["ice_servers", { iceServers: TURN(2), ttl: 50 }]]);
    timers.tick(50 * 1000 * ICE_REFRESH_AT);
    await flush();
    assert.equal(calls.length, 2);
    assert.deepEqual(client.iceServers, TURN(3));
  });

  test("with userSig the refresh sends it as a bearer token", async (t) => {
    const timers = clock(t);
    const { fetchImpl, calls } = fakeFetch({ ice_servers: TURN(2), ice_servers_ttl: 10 });
    const { socket } = opened({ fetchImpl, userSig: "sig-9" });
    socket.receive({ ...HELLO, ice_servers_ttl: 10 });
    timers.tick(10 * 1000);
    await flush();
    assert.equal(calls[0].init.headers.Authorization, "Bearer sig-9");
  });

  test("a failed refresh is retried while the old credentials last, then given up", async (t) => {
    const timers = clock(t);
    const { fetchImpl, calls } = fakeFetch(503, new Error("network down"), 500, 500);
    const { client, socket } = opened({ fetchImpl });
    socket.receive({ ...HELLO, ice_servers: TURN(1), ice_servers_ttl: 100 });
    timers.tick(80 * 1000); // first try (503)
    await flush();
    timers.tick(10 * 1000); // second try (throws), at 90 s
    await flush();
    assert.equal(calls.length, 2);
    assert.deepEqual(client.iceServers, TURN(1), "a failure keeps the credentials we had");
    timers.tick(60 * 1000); // 100 s is past: no retry would still be in time
    await flush();
    assert.equal(calls.length, 2);
  });

  test("without a TTL (nothing expires) nothing is fetched", async (t) => {
    const timers = clock(t);
    const { fetchImpl, calls } = fakeFetch();
    const { socket } = opened({ fetchImpl });
    socket.receive(HELLO);
    timers.tick(10 * 24 * 3600 * 1000);
    await flush();
    assert.equal(calls.length, 0);
  });

  test("close() cancels the refresh", async (t) => {
    const timers = clock(t);
    const { fetchImpl, calls } = fakeFetch({ ice_servers: TURN(2), ice_servers_ttl: 10 });
    const { client, socket } = opened({ fetchImpl });
    socket.receive({ ...HELLO, ice_servers_ttl: 10 });
    client.close();
    timers.tick(20 * 1000);
    await flush();
    assert.equal(calls.length, 0);
  });

  test("iceServersUrl maps ws: to http: and wss: to https:, on the socket's host", () => {
    assert.equal(iceServersUrl("ws://127.0.0.1:8000/ws/"), "http://127.0.0.1:8000/api/ice-servers");
    assert.equal(iceServersUrl("wss://call.example.com/ws/?x=1"), "https://call.example.com/api/ice-servers");
  });
});

describe("socketUrl", () => {
  test("maps http: to ws: and https: to wss:, keeping host and port", () => {
    assert.equal(socketUrl({ protocol: "http:", host: "localhost:8000" }), "ws://localhost:8000/ws/");
    assert.equal(socketUrl({ protocol: "https:", host: "parley.example" }), "wss://parley.example/ws/");
  });
});

describe("clientFrame", () => {
  test("builds a frame with its type and fields", () => {
    assert.deepEqual(clientFrame("ping"), { type: "ping" });
    assert.deepEqual(clientFrame("auth", { user_sig: "s", req: "1" }), { type: "auth", user_sig: "s", req: "1" });
  });

  test("throws on an unknown type", () => {
    assert.throws(() => clientFrame("nope"), { name: "TypeError", message: /unknown .*nope/ });
    assert.throws(() => clientFrame("hello"), { name: "TypeError", message: /unknown .*hello/ });
  });

  test("throws on a missing required field", () => {
    assert.throws(() => clientFrame("auth"), { name: "TypeError", message: /user_sig/ });
    assert.throws(() => clientFrame("auth", { user_sig: undefined }), TypeError);
  });

  test("the client checks frames too: send() of a bad frame throws", () => {
    const { client } = online();
    assert.throws(() => client.send("nope"), TypeError);
    assert.throws(() => client.send("auth", {}), TypeError);
  });
});
