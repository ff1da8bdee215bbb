import { logger } from "../logger";
import type { SoketiWebhook } from "./webhooks";
import { soketiNodeProblem } from "./node-support";

const log = logger.child({ domain: "soketi" });

export type EmbeddedSoketiOptions = {
  port: number;
  host?: string;
  appId: string;
  key: string;
  secret: string;
  /** Soketi webhooks (presence: channel_occupied / channel_vacated). */
  webhooks?: SoketiWebhook[];
};

export type EmbeddedSoketi = {
  port: number;
  /** The cluster-discovery settings in force (tests check they stay on loopback). */
  discovery: { address: string; destinations: string[] };
  stop: () => Promise<void>;
};

export class SoketiUnavailableError extends Error {}

type SoketiServer = {
  start: (cb: (server: SoketiServer) => void) => Promise<void>;
  stop: () => Promise<void>;
  discover?: { stop?: () => void; broadcast?: { destination?: { address: string }[] | string[] } };
  serverProcess?: unknown;
};

/**
 * Starts Soketi in this process. Its uWebSockets build exists for Node 20
 * only; elsewhere this throws SoketiUnavailableError with the ways out.
 */
export async function startEmbeddedSoketi(options: EmbeddedSoketiOptions): Promise<EmbeddedSoketi> {
  const problem = soketiNodeProblem(process.versions.node);
  if (problem) throw new SoketiUnavailableError(problem);
  let Server: new (options: Record<string, unknown>) => SoketiServer;
  try {
    ({ Server } = (await import("@soketi/soketi")) as unknown as { Server: typeof Server });
  } catch (error) {
    throw new SoketiUnavailableError(
      `Soketi could not be loaded (${(error as Error).message}). Run Chorus with Node 20, or set PUSHER_HOST and PUSHER_PORT to an external Soketi.`,
    );
  }
  const host = options.host ?? "127.0.0.1";
  const server = new Server({
    host,
    port: options.port,
    debug: false,
    // Cluster discovery broadcasts UDP to 255.255.255.255 by default: keep it on loopback.
    "cluster.address": "127.0.0.1",
    "cluster.unicast": "127.0.0.1",
    "cluster.broadcast": "127.0.0.1",
    "metrics.enabled": false,
    "metrics.host": "127.0.0.1",
    "metrics.port": options.port + 10_000 > 65_535 ? options.port - 10_000 : options.port + 10_000,
    shutdownGracePeriod: 200,
    "appManager.array.apps": [
      {
        id: options.appId,
        key: options.key,
        secret: options.secret,
        maxConnections: -1,
        enableClientMessages: true,
        enabled: true,
        maxBackendEventsPerSecond: -1,
        maxClientEventsPerSecond: -1,
        maxReadRequestsPerSecond: -1,
        webhooks: options.webhooks ?? [],
      },
    ],
  });
  await new Promise<void>((resolve, reject) => {
    server
      .start((started) => {
        if (!started.serverProcess)
          reject(new Error(`Soketi could not listen on ${host}:${options.port} (port in use?)`));
        else resolve();
      })
      .catch(reject);
  });
  const destinations = (server.discover?.broadcast?.destination ?? []).map((d) =>
    typeof d === "string" ? d : d.address,
  );
  log.info({ host, port: options.port }, "embedded soketi started");
  return {
    port: options.port,
    discovery: { address: "127.0.0.1", destinations },
    async stop() {
      await server.stop();
      // Soketi's stop leaves the discovery socket and timers running.
      server.discover?.stop?.();
      log.info({ port: options.port }, "embedded soketi stopped");
    },
  };
}
