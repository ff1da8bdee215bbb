import { describe, expect, it } from "vitest";
import { soketiNodeProblem } from "./node-support";

describe("the embedded Soketi's Node version check", () => {
  it("accepts Node 20", () => {
    expect(soketiNodeProblem("20.20.2")).toBeNull();
  });

  it.each(["18.20.0", "22.11.0", "24.1.0"])("refuses Node %s naming both ways out", (version) => {
    const problem = soketiNodeProblem(version);
    expect(problem).toContain(`this is Node ${version}`);
    expect(problem).toContain("Node.js 20");
    expect(problem).toContain("PUSHER_HOST");
  });
});
