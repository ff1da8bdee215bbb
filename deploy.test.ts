import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { WEBHOOK_BATCH_MS } from "./server/realtime/soketi";

const composeEnv = {
  ...process.env,
  AUTH_SECRET: "compose-test-auth-secret-0123456789abcdef",
  PUSHER_SECRET: "compose-test-pusher-secret",
  VAPID_PUBLIC_KEY: "BNbxGYNMhEIi9zrneh7mqV4oUanjLUK3m-mYZBc62frMKrEoMk88r3Lk596T0ck9xxj5sgC-MMQ5m7iSeB-HtVo",
  VAPID_PRIVATE_KEY: "C7IoFEFW0Z7yJpP0I8HfGq3xkx6pCXt7e6v0OE1pEXw",
  VAPID_SUBJECT: "mailto:compose-test@chorus.invalid",
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
  profiles?: string[];
  ports?: string[];
  volumes?: string[];
  build?: unknown;
  healthcheck?: { test: unknown };
  depends_on?: Record<string, { condition: string }>;
  environment?: Record<string, string>;
};

describe("docker-compose.yml", () => {
  // Compose's YAML merges the second instance's settings from the first (`<<:`).
  const file = parse(readFileSync("docker-compose.yml", "utf8"), { merge: true }) as {
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
    // Webhooks gathered as the embedded Soketi gathers them: one request per moment, not per user.
    expect(soketi.environment?.SOKETI_WEBHOOKS_BATCHING).toBe("true");
    expect(soketi.environment?.SOKETI_WEBHOOKS_BATCHING_DURATION).toBe(String(WEBHOOK_BATCH_MS));
  });

  it("is accepted with the scale profile too: two app instances, two Soketi nodes, Redis and nginx", () => {
    const cli = composeCli();
    if (!cli) return expect(process.env.CI).toBeFalsy();
    const services = execFileSync(
      cli[0],
      [...cli.slice(1), "-f", "docker-compose.yml", "--profile", "scale", "config", "--services"],
      {
        env: composeEnv,
        encoding: "utf8",
      },
    );
    expect(services.split("\n").filter(Boolean).sort()).toEqual([
      "app",
      "app-2",
      "lb",
      "minio",
      "postgres",
      "redis",
      "soketi",
      "soketi-2",
    ]);
  });

  it("scales out as a pair: each app instance publishes to its own Soketi node, with its own Snowflake worker id, behind nginx", () => {
    const { app, soketi, lb, redis } = file.services;
    const app2 = file.services["app-2"];
    const soketi2 = file.services["soketi-2"];
    for (const service of [app2, soketi2, lb, redis]) expect(service.profiles).toEqual(["scale"]);
    expect(app2.build).toBe(".");
    expect(app2.environment?.PUSHER_HOST).toBe("soketi-2");
    expect(app2.environment?.SNOWFLAKE_WORKER_ID).not.toBe(app.environment?.SNOWFLAKE_WORKER_ID);
    expect(app2.environment?.DATABASE_URL).toBe(app.environment?.DATABASE_URL);
    // Browsers subscribed to one VAPID key: every instance signs pushes with it.
    for (const name of ["VAPID_PUBLIC_KEY", "VAPID_PRIVATE_KEY", "VAPID_SUBJECT"]) {
      expect(app.environment?.[name]).toMatch(/^\$\{VAPID_/);
      expect(app2.environment?.[name]).toBe(app.environment?.[name]);
    }
    expect(soketi2.image).toBe(soketi.image);
    // Both nodes use the same adapter setting, so they cluster together or not at all.
    expect(soketi2.environment?.SOKETI_ADAPTER_DRIVER).toBe(soketi.environment?.SOKETI_ADAPTER_DRIVER);
    expect(soketi2.environment?.SOKETI_WEBHOOKS_BATCHING_DURATION).toBe(
      soketi.environment?.SOKETI_WEBHOOKS_BATCHING_DURATION,
    );
    expect(JSON.parse(soketi2.environment?.SOKETI_DEFAULT_APP_WEBHOOKS ?? "[]")[0].url).toBe(
      "http://app-2:3000/api/pusher/webhook",
    );
    expect(soketi2.depends_on).toEqual({ redis: { condition: "service_healthy" } });
    expect(lb.image).toMatch(/^nginx:/);
    expect(lb.healthcheck?.test).toBeTruthy();
    const nginx = readFileSync("deploy/nginx.conf", "utf8");
    expect(nginx).toMatch(/server app:3000/);
    expect(nginx).toMatch(/server app-2:3000/);
    expect(nginx).toMatch(/server soketi-2:6001/);
    // WebSockets pass through the balancer.
    expect(nginx).toMatch(/proxy_set_header Upgrade \$http_upgrade/);
  });

  it("builds an image on Node 20, where Soketi's uWebSockets build loads in the app's own process", () => {
    const dockerfile = readFileSync("Dockerfile", "utf8");
    expect(dockerfile).toMatch(/^FROM node:20-/m);
    // npm install runs postinstall, which needs its script before the sources are copied.
    const install = dockerfile.indexOf("RUN npm install");
    for (const file of ["scripts/install-soketi-node.ts", "server/realtime/node-support.ts"]) {
      expect(dockerfile.indexOf(`COPY ${file}`)).toBeGreaterThan(-1);
      expect(dockerfile.indexOf(`COPY ${file}`)).toBeLessThan(install);
    }
  });

  it("starts the server with the same node flags from npm start and the image", async () => {
    const { SERVER_NODE_FLAGS } = await import("./scripts/server-node-flags.mjs");
    const start = JSON.parse(readFileSync("package.json", "utf8")).scripts.start;
    expect(start).toBe(`node ${SERVER_NODE_FLAGS.join(" ")} scripts/start.mjs`);
    expect(readFileSync("Dockerfile", "utf8")).toContain(
      `CMD ${JSON.stringify(["node", ...SERVER_NODE_FLAGS, "scripts/start.mjs"]).replaceAll(",", ", ")}`,
    );
  });

  it("installs and starts on Node 20, 22 and 24 (CI smoke-tests each: npm run smoke)", () => {
    expect(JSON.parse(readFileSync("package.json", "utf8")).engines.node).toBe("^20 || ^22 || ^24");
    const ci = readFileSync(".ci/run", "utf8");
    expect(ci).toMatch(/^npm run smoke$/m);
    expect(ci).toMatch(/for version in 22\.\d+\.\d+ 24\.\d+\.\d+; do/);
  });
});
