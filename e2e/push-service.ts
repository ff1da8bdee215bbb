import { startTestPushService, type TestPushService } from "../server/testing/push-endpoint";

/** The port playwright.config.ts puts on the app's WEB_PUSH_ALLOW_HOSTS. */
export const PUSH_SERVICE_PORT = Number(process.env.E2E_PORT ?? 3210) + 7;

/** A push service on 127.0.0.1 that checks the app's VAPID signature and decrypts what it receives. */
export function startPushService(serverPublicKey: () => string | null): Promise<TestPushService> {
  return startTestPushService({ port: PUSH_SERVICE_PORT, serverPublicKey });
}
