import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

const composeEnv = {
  ...process.env,
  AUTH_SECRET: "compose-test-auth-secret-0123456789abcdef",
  PUSHER_SECRET: "compose-test-pusher-secret",
};

function composeCli(): string[] | null {
  for (const candidate of [["docker-compose"], ["docker", "compose"]]) {
    const probe = spawnSync(candidate[0], [...candidate.slice(1), "version"], { encoding: "utf8" });
    if (probe.status === 0) return candidate;
  }
  return null;
}

type Service = {
  image?: string;
  build?: unknown;
  healthcheck?: { test: unknown };
  depends_on?: Record<string, { condition: string }>;
  environment?: Record<string, string>;
};

describe("docker-compose.yml", () => {
  const file = parse(readFileSync("docker-compose.yml", "utf8")) as {
    services: Record<string, Service>;
    volumes: Record<string, unknown>;
  };

  it("is accepted by docker compose itself (when a compose CLI is installed; CI installs Debian's)", () => {
    const cli = composeCli();
    if (process.env.CI) expect(cli, "CI must have docker-compose (apt-get install docker-compose)").not.toBeNull();
    const yamlChecked = parse(readFileSync("docker-compose.yml", "utf8"));
    expect(yamlChecked).toBeTruthy();
    if (cli) {
      const out = execFileSync(cli[0], [...cli.slice(1), "-f", "docker-compose.yml", "config"], {
        env: composeEnv,
        encoding: "utf8",
      });
      expect(out).toContain("app:");
      expect(out).toContain("postgres:");
      expect(out).toContain("soketi:");
    }
  });

  it("runs the app built from this repo against Postgres 16 and the official Soketi image, each with a healthcheck", () => {
    const { app, postgres, soketi } = file.services;
    expect(app.build).toBe(".");
    expect(postgres.image).toBe("postgres:16");
    expect(soketi.image).toMatch(/^quay\.io\/soketi\/soketi:1\.6/);
    for (const service of [app, postgres, soketi]) expect(service.healthcheck?.test).toBeTruthy();
    expect(app.depends_on).toEqual({
      postgres: { condition: "service_healthy" },
      soketi: { condition: "service_healthy" },
    });
    expect(file.volumes).toHaveProperty("pgdata");
  });

  it("wires the app to the external Soketi with client events off, sign-in required and presence webhooks on", () => {
    const { app, soketi } = file.services;
    expect(app.environment?.PUSHER_HOST).toBe("soketi");
    expect(app.environment?.DATABASE_URL).toMatch(/^postgres:\/\//);
    // Typing goes through the server, so nobody can speak for someone else on a channel.
    expect(soketi.environment?.SOKETI_DEFAULT_APP_ENABLE_CLIENT_MESSAGES).toBe("false");
    // Signed-in sockets are the ones removal can close.
    expect(soketi.environment?.SOKETI_DEFAULT_APP_USER_AUTHENTICATION).toBe("true");
    expect(JSON.parse(soketi.environment?.SOKETI_DEFAULT_APP_WEBHOOKS ?? "[]")[0].url).toBe(
      "http://app:3000/api/pusher/webhook",
    );
  });

  it("builds an image on Node 20, the only Node Soketi's uWebSockets build supports", () => {
    expect(readFileSync("Dockerfile", "utf8")).toMatch(/^FROM node:20-/m);
    expect(JSON.parse(readFileSync("package.json", "utf8")).engines.node).toBe(">=20 <21");
  });
});
