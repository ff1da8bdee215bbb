import { describe, expect, it } from "vitest";
import { SOKETI_NODE, soketiNodeProblem, soketiRuntime } from "./node-support";

const linux = { platform: "linux", arch: "x64" };

describe("where the embedded Soketi runs", () => {
  it("runs inside the app on Node 20, wherever that is", () => {
    expect(soketiRuntime({ node: "20.20.2", ...linux })).toEqual({ kind: "in-process" });
    expect(soketiRuntime({ node: "20.9.0", platform: "darwin", arch: "arm64" })).toEqual({ kind: "in-process" });
  });

  it.each(["22.23.5", "24.22.3", "25.1.0"])(
    "runs in a child process on its own Node 20 under Node %s on Linux x64",
    (node) => {
      expect(soketiRuntime({ node, ...linux })).toEqual({ kind: "child" });
    },
  );

  it.each([
    ["22.11.0", "darwin", "arm64"],
    ["24.1.0", "linux", "arm64"],
    ["24.1.0", "win32", "x64"],
  ])("refuses Node %s on %s %s, naming both ways out", (node, platform, arch) => {
    const runtime = soketiRuntime({ node, platform, arch });
    expect(runtime.kind).toBe("unsupported");
    const problem = runtime.kind === "unsupported" ? runtime.problem : "";
    expect(problem).toContain(`this is Node ${node} on ${platform} ${arch}`);
    expect(problem).toContain("Node 20");
    expect(problem).toContain("PUSHER_HOST");
  });

  it("pins its Node 20 by version and integrity", () => {
    expect(SOKETI_NODE.version).toMatch(/^20\.\d+\.\d+$/);
    expect(SOKETI_NODE.integrity).toMatch(/^sha512-[A-Za-z0-9+/]{86}==$/);
  });
});

describe("the in-process Soketi's Node check", () => {
  it("accepts Node 20", () => {
    expect(soketiNodeProblem("20.20.2")).toBeNull();
  });

  it.each(["18.20.0", "22.11.0", "24.1.0"])("refuses Node %s naming both ways out", (version) => {
    const problem = soketiNodeProblem(version);
    expect(problem).toContain(`this is Node ${version}`);
    expect(problem).toContain("Node 20");
    expect(problem).toContain("PUSHER_HOST");
  });
});
