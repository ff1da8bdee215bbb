import { type ChildProcess, execFile, spawn } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);

export type VirtualDisplay = {
  /** For DISPLAY. */
  name: string;
  /** Clicks the first visible window whose X class name is `classname`, `at` from its top left, as a mouse would. */
  click(classname: string, at: { x: number; y: number }, timeoutMs?: number): Promise<void>;
  close(): void;
};

/**
 * An X server in memory (Xvfb) for a headed browser, and xdotool to click its
 * windows. A notification is a window of the browser's own, out of reach of
 * page automation: only a click on it tells the service worker it was clicked.
 */
export async function startVirtualDisplay(): Promise<VirtualDisplay> {
  // -displayfd: Xvfb picks a free display and writes its number to fd 3 once it accepts clients.
  const xvfb: ChildProcess = spawn("Xvfb", ["-displayfd", "3", "-screen", "0", "1280x800x24", "-nolisten", "tcp"], {
    stdio: ["ignore", "ignore", "pipe", "pipe"],
  });
  const errors: Buffer[] = [];
  xvfb.stderr?.on("data", (c: Buffer) => errors.push(c));
  const number = await new Promise<string>((resolve, reject) => {
    xvfb.once("error", (error) => reject(new Error(`Xvfb could not start (apt-get install xvfb): ${error.message}`)));
    xvfb.once("exit", (code) => reject(new Error(`Xvfb exited with ${code}: ${Buffer.concat(errors).toString()}`)));
    xvfb.stdio[3]?.on("data", (c: Buffer) => resolve(c.toString().trim()));
  });
  const name = `:${number}`;
  const env = { ...process.env, DISPLAY: name };
  return {
    name,
    async click(classname, at, timeoutMs = 15_000) {
      // --sync waits until such a window is mapped.
      const { stdout } = await run("xdotool", ["search", "--sync", "--onlyvisible", "--classname", classname], {
        env,
        timeout: timeoutMs,
      });
      const id = stdout.trim().split("\n")[0];
      await run("xdotool", ["mousemove", "--window", id, String(at.x), String(at.y), "click", "1"], { env });
    },
    close: () => xvfb.kill(),
  };
}
