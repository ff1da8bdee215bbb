import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { users } from "@/db/schema";
import { createTestDb, type TestDb, testDrivers } from "@/db/testing";
import { createCaller } from "../api/root";
import { createPersona, PERSONA_PASSWORD, type Persona } from "../testing/personas";
import { createAuthThrottle, requestAddress, type ThrottleLimits } from "./throttle";

const limits: ThrottleLimits = {
  failuresPerUsername: 10,
  failuresPerAddress: 25,
  windowSeconds: 900,
  lockoutSeconds: 900,
  signUpsPerAddress: 3,
  signUpWindowSeconds: 3600,
};

/** Addresses from the documentation ranges, unique per test so limits never leak between tests. */
let lastOctet = 0;
const anAddress = () => `203.0.113.${++lastOctet}`;

describe.each(testDrivers)("sign-in and sign-up throttling (%s)", (driver) => {
  let handle: TestDb;
  let bob: Persona;
  let carol: Persona;

  beforeAll(async () => {
    handle = await createTestDb(driver);
    bob = await createPersona(handle.db, "bob");
    carol = await createPersona(handle.db, "carol");
  });
  afterAll(async () => {
    await handle?.close();
  });

  it("after 10 wrong passwords for bob, even the right one is refused for 15 minutes, and carol is not affected", async () => {
    const throttle = createAuthThrottle(limits, null);
    for (let i = 0; i < 10; i++) {
      expect(
        await throttle.signIn(handle.db, { username: bob.username, password: `guess-${i}`, ip: anAddress() }),
      ).toBeNull();
    }
    await expect(
      throttle.signIn(handle.db, { username: bob.username.toUpperCase(), password: PERSONA_PASSWORD, ip: anAddress() }),
    ).rejects.toMatchObject({ code: "TOO_MANY_REQUESTS", message: "Too many attempts, try again in 15 minutes" });
    expect(await throttle.signIn(handle.db, { username: carol.username, password: PERSONA_PASSWORD })).toMatchObject({
      id: carol.id,
    });
  });

  it("50 guesses for carol at once: 10 get their password checked, 40 are refused", async () => {
    const throttle = createAuthThrottle(limits, null);
    const answers = await Promise.allSettled(
      Array.from({ length: 50 }, (_, i) =>
        throttle.signIn(handle.db, { username: carol.username, password: `burst-${i}` }),
      ),
    );
    expect(answers.filter((a) => a.status === "fulfilled" && a.value === null)).toHaveLength(10);
    const refused = answers.filter((a) => a.status === "rejected");
    expect(refused).toHaveLength(40);
    expect(refused[0]).toMatchObject({ reason: { code: "TOO_MANY_REQUESTS" } });
  });

  it("a successful sign-in forgives bob's earlier typos", async () => {
    const throttle = createAuthThrottle(limits, null);
    const tryAs = (password: string) => throttle.signIn(handle.db, { username: bob.username, password });
    for (let i = 0; i < 9; i++) expect(await tryAs("typo")).toBeNull();
    expect(await tryAs(PERSONA_PASSWORD)).toMatchObject({ id: bob.id });
    for (let i = 0; i < 9; i++) expect(await tryAs("typo")).toBeNull();
    expect(await tryAs(PERSONA_PASSWORD)).toMatchObject({ id: bob.id });
  });

  it("one address guessing across many usernames is locked out, and so is its next real sign-in", async () => {
    const throttle = createAuthThrottle(limits, null);
    const attacker = anAddress();
    for (let i = 0; i < limits.failuresPerAddress; i++) {
      await throttle.signIn(handle.db, { username: `nobody_${i}`, password: "hunter22", ip: attacker });
    }
    await expect(
      throttle.signIn(handle.db, { username: carol.username, password: PERSONA_PASSWORD, ip: attacker }),
    ).rejects.toMatchObject({ code: "TOO_MANY_REQUESTS" });
    expect(
      await throttle.signIn(handle.db, { username: carol.username, password: PERSONA_PASSWORD, ip: anAddress() }),
    ).toMatchObject({ id: carol.id });
  });

  it("auth.register takes 10 sign-ups from one address, then answers TOO_MANY_REQUESTS and creates nobody", async () => {
    const address = `198.51.100.${Math.floor(Math.random() * 250) + 1}`;
    const suffix = randomBytes(3).toString("hex");
    const guest = (ip: string) => createCaller({ db: handle.db, user: null, ip } as never);
    const signUp = (name: string, ip = address) =>
      guest(ip).auth.register({ username: `${name}_${suffix}`, displayName: name, password: "correct horse" });
    for (let i = 0; i < 10; i++) await signUp(`newcomer${i}`);
    const before = await handle.db.$count(users);
    await expect(signUp("eleventh")).rejects.toMatchObject({ code: "TOO_MANY_REQUESTS", message: /Too many attempts/ });
    expect(await handle.db.$count(users)).toBe(before);
    await expect(signUp("neighbour", "192.0.2.77")).resolves.toMatchObject({ displayName: "neighbour" });
  });
});

describe("the address of a next-auth request", () => {
  it.each([
    [{ "x-forwarded-for": "203.0.113.5, 10.0.0.1" }, "203.0.113.5"],
    [{ "x-real-ip": "203.0.113.6" }, "203.0.113.6"],
    [new Headers({ "x-forwarded-for": " 203.0.113.7 " }), "203.0.113.7"],
    [{}, undefined],
    [undefined, undefined],
  ])("reads %j as %j", (headers, address) => {
    expect(requestAddress(headers)).toBe(address);
  });
});

describe("throttling shared through Redis", () => {
  const prefix = `test-${randomBytes(6).toString("hex")}:`;
  let redis: Redis;
  let handle: TestDb;
  let bob: Persona;

  beforeAll(async () => {
    redis = new Redis("redis://127.0.0.1:6379", { enableOfflineQueue: true, maxRetriesPerRequest: 1 });
    await redis.ping();
    handle = await createTestDb("pglite");
    bob = await createPersona(handle.db, "bob");
  });
  afterAll(async () => {
    const keys = await redis.keys(`chorus:${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    await handle?.close();
  });

  it("two app instances share bob's failures: 5 on one and 5 on the other lock him out on both", async () => {
    const first = createAuthThrottle(limits, redis, prefix);
    const second = createAuthThrottle(limits, redis, prefix);
    for (const instance of [first, second]) {
      for (let i = 0; i < 5; i++)
        expect(await instance.signIn(handle.db, { username: bob.username, password: "nope" })).toBeNull();
    }
    for (const instance of [first, second]) {
      await expect(
        instance.signIn(handle.db, { username: bob.username, password: PERSONA_PASSWORD }),
      ).rejects.toMatchObject({
        code: "TOO_MANY_REQUESTS",
      });
    }
    expect(await redis.exists(`chorus:${prefix}signin:user:${bob.username.toLowerCase()}`)).toBe(1);
  });

  it("when Redis is unreachable, each instance still limits in memory instead of refusing everyone", async () => {
    const down = new Redis("redis://127.0.0.1:1", {
      enableOfflineQueue: false,
      lazyConnect: true,
      maxRetriesPerRequest: 0,
    });
    down.on("error", () => undefined);
    const throttle = createAuthThrottle(limits, down, prefix);
    expect(await throttle.signIn(handle.db, { username: bob.username, password: PERSONA_PASSWORD })).toMatchObject({
      id: bob.id,
    });
    for (let i = 0; i < 10; i++) await throttle.signIn(handle.db, { username: bob.username, password: "nope" });
    await expect(
      throttle.signIn(handle.db, { username: bob.username, password: PERSONA_PASSWORD }),
    ).rejects.toMatchObject({
      code: "TOO_MANY_REQUESTS",
    });
    down.disconnect();
  });
});
