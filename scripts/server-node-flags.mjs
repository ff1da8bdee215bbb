// Node flags for the server process, wherever it is started: `npm start`, the
// Dockerfile, the bench and the cluster suite (deploy.test.ts checks the first two).
//
// A young generation of up to 32 MB per semi-space: a busy server allocates
// per request, and with V8's default (16 MB) scavenges took a fifth of its CPU
// under 200 concurrent senders. It grows only under that load; idle memory stays the same.
export const SERVER_NODE_FLAGS = ["--max-semi-space-size=32"];
