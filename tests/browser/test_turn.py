"""Calls relayed through a real coturn with Parley's time-limited REST credentials.

Both browsers use `iceTransportPolicy: "relay"`, so media can only flow through the
TURN server; with credentials signed by the wrong secret, coturn refuses them.
"""

import time

from tests.browser.test_calls import ring, wait_for_media

TTL = 600

# Gather candidates in the page with the client's ICE servers and relay only: the
# relay candidates found and the error codes of the failed TURN requests.
GATHER_RELAY = """async () => {
  const pc = new RTCPeerConnection({
    iceServers: window.parley.client.iceServers, iceTransportPolicy: "relay",
  });
  const found = { relay: 0, errors: [] };
  pc.onicecandidate = (e) => { if (e.candidate?.type === "relay") found.relay++; };
  pc.onicecandidateerror = (e) => found.errors.push(e.errorCode);
  pc.addTransceiver("audio");
  await pc.setLocalDescription();
  await new Promise((done) => {
    pc.onicegatheringstatechange = () => pc.iceGatheringState === "complete" && done();
    setTimeout(done, 10000);
  });
  pc.close();
  return found;
}"""


def relay_only(*pages) -> None:
    for page in pages:
        page.evaluate("window.parley.calls.options.iceTransportPolicy = 'relay'")


def test_a_call_through_coturn_flows_over_a_relay_pair(
    sign_in, daphne_servers, coturn, people
):
    (server,) = daphne_servers(
        1, TURN_URLS=coturn.url, TURN_SECRET=coturn.secret, TURN_TTL=str(TTL)
    )
    alice, bob = sign_in("alice", server=server), sign_in("bob", server=server)
    hello = alice.evaluate("window.parley.client.hello")
    assert hello["ice_servers_ttl"] == TTL
    (turn,) = hello["ice_servers"]
    expiry = int(turn["username"].split(":")[0])
    assert abs(expiry - (time.time() + TTL)) < 30
    assert alice.evaluate(GATHER_RELAY)["relay"] > 0

    relay_only(alice, bob)
    ring(alice, bob)
    bob.click("#call-accept")
    for page in (alice, bob):
        stats = wait_for_media(page)
        pair = stats["candidatePair"]
        assert "relay" in (pair["local"], pair["remote"]), pair


def test_credentials_signed_with_another_secret_are_refused(
    sign_in, daphne_servers, coturn, people
):
    (server,) = daphne_servers(
        1, TURN_URLS=coturn.url, TURN_SECRET="not-" + coturn.secret
    )
    alice, bob = sign_in("alice", server=server), sign_in("bob", server=server)
    gathered = alice.evaluate(GATHER_RELAY)
    assert gathered["relay"] == 0
    assert 401 in gathered["errors"], gathered  # coturn: Unauthorized

    relay_only(alice, bob)
    ring(alice, bob)
    bob.click("#call-accept")
    time.sleep(5)  # what a working relay needs is well under one second here
    for page in (alice, bob):
        stats = page.evaluate("window.parley.calls.stats()")
        assert stats["video"]["framesDecoded"] == 0, stats
        assert stats["candidatePair"] is None, stats
