// A stand-in for the app in soketi-child.test.ts: starts the Soketi child process,
// prints its pid, and waits to be killed.
import path from "node:path";
import { startSoketiChild } from "../realtime/soketi-child";

const root = path.resolve(import.meta.dirname, "../..");
const child = await startSoketiChild({
  node: process.execPath,
  args: ["--import", "tsx", path.join(root, "scripts", "soketi.ts")],
  cwd: root,
  env: process.env,
  port: Number(process.env.SOKETI_PORT),
});
console.log(`soketi-pid=${child.pid()}`);
setInterval(() => {}, 60_000);
