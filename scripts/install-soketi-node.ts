// postinstall: on Linux x64 with a Node other than 20, puts the pinned Node 20 the
// embedded Soketi runs on in place (server/realtime/node-support.ts), so `npm start`
// needs no download. Elsewhere it does nothing; `npm start` explains what to do.
import path from "node:path";
import { installSoketiNode, SOKETI_NODE, soketiRuntime } from "../server/realtime/node-support";

const root = path.resolve(import.meta.dirname, "..");
const runtime = soketiRuntime({ node: process.versions.node, platform: process.platform, arch: process.arch });
if (runtime.kind === "child") {
  try {
    const binary = installSoketiNode(root);
    console.log(`Chorus: the embedded Soketi will run on Node ${SOKETI_NODE.version} (${path.relative(root, binary)})`);
  } catch (error) {
    // Not fatal here: `npm start` tries again and stops with this message if it still fails.
    console.warn(
      `Chorus: could not install Node ${SOKETI_NODE.version} for the embedded Soketi: ${(error as Error).message}`,
    );
  }
}
