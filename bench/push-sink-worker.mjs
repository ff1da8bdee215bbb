// The push section's push service, on a thread of its own: decrypting 2,000
// pushes on the bench's main thread delayed the bystanders' own send->ack
// timings, which are meant to show whether the SERVER stalls. Plain JS: a
// worker does not get tsx's loader.
import { createECDH } from "node:crypto";
import http from "node:http";
import { parentPort, workerData } from "node:worker_threads";
import ece from "http_ece";

const devices = new Map();
const now = () => performance.timeOrigin + performance.now();

parentPort.on("message", (message) => {
  if (message.type === "device") {
    const ecdh = createECDH("prime256v1");
    ecdh.setPrivateKey(Buffer.from(message.privateKey, "base64url"));
    devices.set(message.id, { ecdh, auth: message.auth });
  } else if (message.type === "sync") {
    parentPort.postMessage({ type: "synced", token: message.token });
  } else if (message.type === "close") {
    server.close(() => parentPort.postMessage({ type: "closed" }));
  }
});

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    const device = devices.get(req.url?.split("/").pop() ?? "");
    try {
      if (!device) throw new Error("unknown device");
      JSON.parse(
        ece
          .decrypt(Buffer.concat(chunks), { version: "aes128gcm", privateKey: device.ecdh, authSecret: device.auth })
          .toString(),
      );
      res.writeHead(201).end();
      parentPort.postMessage({ type: "arrival", at: now() });
    } catch {
      res.writeHead(400).end();
      parentPort.postMessage({ type: "undecryptable" });
    }
  });
});
server.listen(workerData.port, "127.0.0.1", () => parentPort.postMessage({ type: "listening" }));
