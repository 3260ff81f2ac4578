// PeerJS's own signalling server (npm `peer`, pinned in package.json), as its README
// starts it, on 127.0.0.1:<port>. The connection cap is raised so that the idle-socket
// benchmark (P3) can go past its default of 5 000; nothing else is tuned.
import { PeerServer } from "peer";

const port = Number(process.argv[2]);
PeerServer(
  { host: "127.0.0.1", port, path: "/", key: "peerjs", concurrent_limit: 1_000_000 },
  () => console.log("READY"),
);
