import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDb, type TestDb, testDrivers } from "@/db/testing";
import { sendMessage } from "../messaging/send";
import { seedCrowd, seedGroup, tableCounts, testSendDeps } from "../testing/conversations";
import { callerFor, createPersonas, type Persona } from "../testing/personas";
import { useTestPublisher } from "../testing/read-state";
import { startTestSoketi, type TestSoketi } from "../testing/realtime";

describe.each(testDrivers)("notification levels (%s)", (driver) => {
  let handle: TestDb;
  let realtime: TestSoketi;
  let alice: Persona;
  let bob: Persona;
  let carol: Persona;
  let outsider: Persona;

  beforeAll(async () => {
    handle = await createTestDb(driver);
    realtime = await startTestSoketi();
    useTestPublisher(realtime.publisher);
    [alice, bob, carol, outsider] = await createPersonas(handle.db, "alice", "bob", "carol", "outsider");
  });
  afterAll(async () => {
    await realtime.soketi.stop();
    await handle.close();
  });

  const as = (who: Persona) => callerFor(handle.db, who, realtime.publisher);
  const say = async (who: Persona, conversationId: string, n: number) => {
    for (let i = 0; i < n; i++) {
      await sendMessage(
        handle.db,
        who.id,
        { conversationId, clientMsgId: crypto.randomUUID(), body: `message ${i}` },
        testSendDeps(realtime.publisher),
      );
    }
  };
  const itemOf = async (who: Persona, conversationId: string) =>
    (await as(who).conversation.list({ limit: 100 })).items.find((c) => c.id === conversationId);

  it("lets bob pick all, mentions or none for one conversation, and shows it only to him", async () => {
    const group = await seedGroup(handle.db, alice, [bob, carol]);
    expect((await itemOf(bob, group))?.notifications).toEqual({
      level: "all",
      levelSet: null,
      snoozeUntil: null,
      muted: false,
    });

    expect(await as(bob).conversation.setNotifications({ conversationId: group, level: "mentions" })).toEqual({
      level: "mentions",
      levelSet: "mentions",
      snoozeUntil: null,
      muted: false,
    });
    expect((await as(bob).conversation.get({ conversationId: group })).me.notifications.level).toBe("mentions");
    expect((await as(alice).conversation.get({ conversationId: group })).me.notifications.level).toBe("all");

    await as(bob).conversation.setNotifications({ conversationId: group, level: "none" });
    expect(await itemOf(bob, group)).toMatchObject({ muted: true, notifications: { level: "none" } });

    await as(bob).conversation.setNotifications({ conversationId: group, level: "default" });
    expect((await itemOf(bob, group))?.notifications).toMatchObject({ level: "all", levelSet: null, muted: false });
  });

  it("keeps conversation.mute working as level none, and unmuting returns to the default", async () => {
    const group = await seedGroup(handle.db, alice, [bob]);
    await as(bob).conversation.mute({ conversationId: group, muted: true });
    expect((await itemOf(bob, group))?.notifications).toMatchObject({ level: "none", levelSet: "none", muted: true });
    await as(bob).conversation.mute({ conversationId: group, muted: false });
    expect((await itemOf(bob, group))?.notifications).toMatchObject({ level: "all", levelSet: null, muted: false });
  });

  it("snoozes until a time without changing the level, and a snooze can be ended", async () => {
    const group = await seedGroup(handle.db, alice, [bob]);
    const until = new Date(Date.now() + 3_600_000).toISOString();
    const snoozed = await as(bob).conversation.setNotifications({
      conversationId: group,
      level: "all",
      snoozeUntil: until,
    });
    expect(snoozed).toEqual({ level: "all", levelSet: "all", snoozeUntil: until, muted: false });
    // Changing the level alone keeps the snooze.
    await as(bob).conversation.setNotifications({ conversationId: group, level: "mentions" });
    expect((await itemOf(bob, group))?.notifications.snoozeUntil).toBe(until);
    await as(bob).conversation.setNotifications({ conversationId: group, level: "mentions", snoozeUntil: null });
    expect((await itemOf(bob, group))?.notifications.snoozeUntil).toBeNull();
  });

  it("leaves level none out of the badge total, while mentions-only conversations still count", async () => {
    const [dana] = await createPersonas(handle.db, "dana");
    const loud = await seedGroup(handle.db, alice, [dana]);
    const quiet = await seedGroup(handle.db, alice, [dana]);
    const focused = await seedGroup(handle.db, alice, [dana]);
    await say(alice, loud, 1);
    await say(alice, quiet, 2);
    await say(alice, focused, 4);
    await as(dana).conversation.setNotifications({ conversationId: quiet, level: "none" });
    await as(dana).conversation.setNotifications({ conversationId: focused, level: "mentions" });

    expect(await as(dana).conversation.unreadTotal()).toEqual({ unread: 5, conversations: 2 });
    // The muted one still shows its count, greyed by the client.
    expect(await itemOf(dana, quiet)).toMatchObject({ unread: 2, muted: true });
  });

  it("follows the user's defaults for DMs and groups, and a group above 100 members defaults to mentions", async () => {
    const [erin, fay] = await createPersonas(handle.db, "erin", "fay");
    const small = await seedGroup(handle.db, erin, [fay]);
    const large = await seedGroup(handle.db, erin, [fay]);
    expect(await seedCrowd(handle.db, large, 99)).toBe(101);
    const dm = (await as(erin).conversation.openDm({ userId: fay.id })).conversationId;

    expect(await as(fay).notification.settings()).toEqual({ dmLevel: "all", groupLevel: "auto", preview: true });
    expect((await itemOf(fay, small))?.notifications.level).toBe("all");
    expect((await itemOf(fay, large))?.notifications.level).toBe("mentions");
    expect((await itemOf(fay, dm))?.notifications.level).toBe("all");

    expect(await as(fay).notification.updateSettings({ dmLevel: "none", groupLevel: "all", preview: false })).toEqual({
      dmLevel: "none",
      groupLevel: "all",
      preview: false,
    });
    expect((await itemOf(fay, large))?.notifications.level).toBe("all");
    expect(await itemOf(fay, dm)).toMatchObject({ muted: true, notifications: { level: "none", levelSet: null } });
    // A conversation's own level beats the default.
    await as(fay).conversation.setNotifications({ conversationId: dm, level: "mentions" });
    expect((await itemOf(fay, dm))?.notifications.level).toBe("mentions");

    await as(fay).notification.updateSettings({ groupLevel: "auto" });
    expect(await as(fay).notification.settings()).toEqual({ dmLevel: "none", groupLevel: "auto", preview: false });
    expect((await itemOf(erin, large))?.notifications.level).toBe("mentions");
  });

  it("refuses bad levels and snoozes with a clear error, changing nothing", async () => {
    const group = await seedGroup(handle.db, alice, [bob]);
    const before = await tableCounts(handle.db);
    const cases: [unknown, RegExp][] = [
      [{ conversationId: group, level: "loud" }, /level must be all, mentions, none or default/],
      [{ conversationId: group, level: "all", snoozeUntil: "tomorrow" }, /snoozeUntil must be an ISO date-time/],
      [
        { conversationId: group, level: "all", snoozeUntil: "2001-01-01T00:00:00Z" },
        /snoozeUntil must be in the future/,
      ],
      [
        { conversationId: group, level: "all", snoozeUntil: new Date(Date.now() + 400 * 86_400_000).toISOString() },
        /within 366 days/,
      ],
      [{ conversationId: group }, /level must be/],
    ];
    for (const [input, message] of cases) {
      await expect(as(bob).conversation.setNotifications(input as never)).rejects.toMatchObject({
        code: "BAD_REQUEST",
        message: expect.stringMatching(message),
      });
    }
    await expect(as(bob).notification.updateSettings({ dmLevel: "silent" } as never)).rejects.toMatchObject({
      code: "BAD_REQUEST",
    });
    await expect(as(bob).notification.updateSettings({ preview: "no" } as never)).rejects.toMatchObject({
      code: "BAD_REQUEST",
    });
    expect((await itemOf(bob, group))?.notifications).toMatchObject({
      level: "all",
      levelSet: null,
      snoozeUntil: null,
    });
    expect(await as(bob).notification.settings()).toEqual({ dmLevel: "all", groupLevel: "auto", preview: true });
    expect(await tableCounts(handle.db)).toEqual(before);
  });

  it("does not tell an outsider anything about a conversation's levels", async () => {
    const group = await seedGroup(handle.db, alice, [bob]);
    await expect(
      as(outsider).conversation.setNotifications({ conversationId: group, level: "none" }),
    ).rejects.toMatchObject({ code: "FORBIDDEN" });
    expect((await itemOf(alice, group))?.notifications.level).toBe("all");
    expect((await itemOf(bob, group))?.notifications.level).toBe("all");
  });
});
