import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "@/db/client";
import { groupCommitStats } from "@/db/group-commit";
import { createTestDb, type TestDb, testDrivers } from "@/db/testing";
import { seedCrowd, seedGroup, tableCounts, testSendDeps } from "../testing/conversations";
import { callerFor, createPersonas, type Persona } from "../testing/personas";
import { startTestSoketi, type TestSoketi } from "../testing/realtime";
import { openDm } from "./direct";
import { createSendRateLimiter } from "./message-rules";
import { type SendDeps, sendMessage } from "./send";

describe.each(testDrivers)("sending a message (%s)", (driver) => {
  let handle: TestDb;
  let realtime: TestSoketi;
  let deps: SendDeps;
  let alice: Persona;
  let bob: Persona;
  let carol: Persona;
  let outsider: Persona;
  let dm: string;

  beforeAll(async () => {
    handle = await createTestDb(driver, { maxConnections: 10 });
    realtime = await startTestSoketi();
    deps = testSendDeps(realtime.publisher);
    [alice, bob, carol, outsider] = await createPersonas(handle.db, "alice", "bob", "carol", "outsider");
    dm = (await openDm(handle.db, alice.id, bob.id, { publisher: realtime.publisher })).conversationId;
  });
  afterAll(async () => {
    await realtime.soketi.stop();
    await handle.close();
  });

  const send = (who: Persona, conversationId: string, body: string, clientMsgId = crypto.randomUUID()) =>
    sendMessage(handle.db, who.id, { conversationId, clientMsgId, body }, deps);

  /** Rows the send transaction inserted or updated, per table: they all carry its transaction id. */
  async function rowsWrittenBy(conversationId: string, seq: number) {
    const [{ x }] = await queryRows<{ x: string }>(
      handle.db,
      sql`select xmin::text as x from messages where conversation_id = ${conversationId}::uuid and seq = ${seq}`,
    );
    const [row] = await queryRows<Record<string, string | number>>(
      handle.db,
      sql`select
        (select count(*) from users where xmin::text = ${x}) as users,
        (select count(*) from conversations where xmin::text = ${x}) as conversations,
        (select count(*) from members where xmin::text = ${x}) as members,
        (select count(*) from messages where xmin::text = ${x}) as messages,
        (select count(*) from mentions where xmin::text = ${x}) as mentions`,
    );
    return Object.fromEntries(Object.entries(row).map(([k, v]) => [k, Number(v)]));
  }

  it("writes the same few rows for a 2-member DM and a 10,000-member group", async () => {
    const big = await seedGroup(handle.db, alice, [bob]);
    expect(await seedCrowd(handle.db, big, 9_998)).toBe(10_000);

    const counts = async () => tableCounts(handle.db);
    const beforeSmall = await counts();
    const small = await send(alice, dm, "hello bob");
    const afterSmall = await counts();
    const beforeBig = await counts();
    const large = await send(alice, big, "hello everyone");
    const afterBig = await counts();

    const inserted = (a: Record<string, number>, b: Record<string, number>) =>
      Object.fromEntries(Object.keys(a).map((k) => [k, b[k] - a[k]]));
    expect(inserted(beforeSmall, afterSmall)).toEqual({
      users: 0,
      conversations: 0,
      members: 0,
      messages: 1,
      mentions: 0,
      outbox: 1,
    });
    expect(inserted(beforeBig, afterBig)).toEqual(inserted(beforeSmall, afterSmall));

    // Updates too: one conversation row, the sender's member row, one message; nobody else's row.
    const touchedSmall = await rowsWrittenBy(dm, small.seq);
    expect(touchedSmall).toEqual({ users: 0, conversations: 1, members: 1, messages: 1, mentions: 0 });
    expect(await rowsWrittenBy(big, large.seq)).toEqual(touchedSmall);
  });

  it("bumps the conversation and marks the sender's own message read", async () => {
    const group = await seedGroup(handle.db, alice, [bob, carol]);
    const first = await send(bob, group, "first");
    const second = await send(carol, group, "  second, with spaces around  ");
    expect([first.seq, second.seq]).toEqual([1, 2]);
    expect(second.body).toBe("second, with spaces around");

    const caller = callerFor(handle.db, carol);
    const info = await caller.conversation.get({ conversationId: group });
    expect(info.lastSeq).toBe(2);
    expect(info.me.readSeq).toBe(2);
    const list = await callerFor(handle.db, bob).conversation.list({});
    const item = list.items.find((i) => i.id === group);
    expect(item).toMatchObject({
      lastSeq: 2,
      lastMessagePreview: "second, with spaces around",
      lastMessageSender: { id: carol.id, displayName: "Carol" },
      unread: 1,
    });
  });

  it("returns the original message for a resend with the same clientMsgId and writes nothing", async () => {
    const clientMsgId = crypto.randomUUID();
    const original = await send(alice, dm, "are you there?", clientMsgId);
    const before = await tableCounts(handle.db);
    const again = await send(alice, dm, "are you there?", clientMsgId);
    expect(again).toEqual(original);
    expect(await tableCounts(handle.db)).toEqual(before);
  });

  it("returns the original to concurrent resends too, with no seq consumed", async () => {
    const group = await seedGroup(handle.db, alice, [bob]);
    const clientMsgId = crypto.randomUUID();
    const results = await Promise.all(Array.from({ length: 8 }, () => send(alice, group, "once", clientMsgId)));
    expect(new Set(results.map((r) => r.id)).size).toBe(1);
    expect(results.every((r) => r.seq === 1)).toBe(true);
    const next = await send(bob, group, "after");
    expect(next.seq).toBe(2);
  });

  it("refuses a clientMsgId already used by the same sender in another conversation", async () => {
    const clientMsgId = crypto.randomUUID();
    await send(alice, dm, "in the dm", clientMsgId);
    const group = await seedGroup(handle.db, alice, [bob]);
    await expect(send(alice, group, "elsewhere", clientMsgId)).rejects.toMatchObject({ code: "CONFLICT" });
  });

  it("keeps seq gapless and strictly increasing under 60 concurrent sends from several senders", async () => {
    const senders = [alice, bob, carol];
    const group = await seedGroup(handle.db, alice, [bob, carol]);
    const grouped = groupCommitStats(handle.db).grouped;
    const sends = Array.from({ length: 60 }, (_, i) => send(senders[i % 3], group, `message ${i}`));
    const results = await Promise.all(sends);
    expect(results.map((r) => r.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));

    const rows = await queryRows<{ seq: string; id: string }>(
      handle.db,
      sql`select seq, id::text as id from messages where conversation_id = ${group}::uuid order by seq`,
    );
    expect(rows.map((r) => Number(r.seq))).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    expect(new Set(rows.map((r) => r.id)).size).toBe(60);
    const info = await callerFor(handle.db, bob).conversation.get({ conversationId: group });
    expect(info.lastSeq).toBe(60);
    // Most of them waited behind the first two and committed in shared transactions.
    expect(groupCommitStats(handle.db).grouped - grouped).toBeGreaterThanOrEqual(50);
  });

  it("stores HTML and script bodies verbatim, as text", async () => {
    const body = `<script>alert("hi")</script><b>bold</b> & "quotes"`;
    const sent = await send(alice, dm, body);
    const page = await callerFor(handle.db, bob).message.history({ conversationId: dm, afterSeq: sent.seq - 1 });
    expect(page.messages[0].body).toBe(body);
  });

  describe("refuses bad input with a clear error and writes nothing", () => {
    const cases: [string, () => Promise<unknown>, string, RegExp][] = [];
    const add = (name: string, run: () => Promise<unknown>, code: string, message: RegExp) =>
      cases.push([name, run, code, message]);
    // Inputs are built when the test runs: the personas and the DM exist by then.
    const viaApi = (who: () => Persona | null, input: () => unknown) => () =>
      callerFor(handle.db, who()).message.send(input() as never);
    add(
      "an empty body",
      viaApi(
        () => alice,
        () => ({ conversationId: dm, clientMsgId: "c1", body: "" }),
      ),
      "BAD_REQUEST",
      /empty/,
    );
    add(
      "a whitespace-only body",
      viaApi(
        () => alice,
        () => ({ conversationId: dm, clientMsgId: "c2", body: " \n\t " }),
      ),
      "BAD_REQUEST",
      /empty/,
    );
    add(
      "a body over 4000 characters",
      viaApi(
        () => alice,
        () => ({ conversationId: dm, clientMsgId: "c3", body: "x".repeat(4001) }),
      ),
      "PAYLOAD_TOO_LARGE",
      /at most 4000/,
    );
    add(
      "a lone surrogate",
      viaApi(
        () => alice,
        () => ({ conversationId: dm, clientMsgId: "c4", body: "bad \uD800 text" }),
      ),
      "BAD_REQUEST",
      /UTF-8/,
    );
    add(
      "a NUL character",
      viaApi(
        () => alice,
        () => ({ conversationId: dm, clientMsgId: "c5", body: "nul\u0000" }),
      ),
      "BAD_REQUEST",
      /control/,
    );
    add(
      "a number as body",
      viaApi(
        () => alice,
        () => ({ conversationId: dm, clientMsgId: "c6", body: 42 }),
      ),
      "BAD_REQUEST",
      /body/,
    );
    add(
      "a missing clientMsgId",
      viaApi(
        () => alice,
        () => ({ conversationId: dm, body: "hi" }),
      ),
      "BAD_REQUEST",
      /clientMsgId/,
    );
    add(
      "an overlong clientMsgId",
      viaApi(
        () => alice,
        () => ({ conversationId: dm, clientMsgId: "x".repeat(65), body: "hi" }),
      ),
      "BAD_REQUEST",
      /clientMsgId/,
    );
    add(
      "a malformed conversation id",
      viaApi(
        () => alice,
        () => ({ conversationId: "nope", clientMsgId: "c7", body: "hi" }),
      ),
      "BAD_REQUEST",
      /UUID/,
    );
    add(
      "an unknown conversation",
      viaApi(
        () => alice,
        () => ({ conversationId: crypto.randomUUID(), clientMsgId: "c8", body: "hi" }),
      ),
      "NOT_FOUND",
      /not found/,
    );
    add(
      "an outsider's send to someone else's conversation",
      viaApi(
        () => outsider,
        () => ({ conversationId: dm, clientMsgId: "c9", body: "hi" }),
      ),
      "FORBIDDEN",
      /not a member/,
    );
    add(
      "a signed-out send",
      viaApi(
        () => null,
        () => ({ conversationId: dm, clientMsgId: "c10", body: "hi" }),
      ),
      "UNAUTHORIZED",
      /Sign in/,
    );

    it.each(cases.map(([name], i) => [name, i] as const))("%s", async (_, i) => {
      const [, run, code, message] = cases[i];
      const before = await tableCounts(handle.db);
      const error = await run().then(
        () => null,
        (e: { code: string; message: string }) => e,
      );
      expect(error).toMatchObject({ code });
      expect(error?.message).toMatch(message);
      expect(await tableCounts(handle.db)).toEqual(before);
    });

    it("a member who left can no longer send", async () => {
      const group = await seedGroup(handle.db, alice, [carol]);
      await handle.db.execute(
        sql`update members set left_at = now(), left_seq = 0 where conversation_id = ${group}::uuid and user_id = ${carol.id}::uuid`,
      );
      const before = await tableCounts(handle.db);
      await expect(send(carol, group, "still here?")).rejects.toMatchObject({ code: "FORBIDDEN" });
      expect(await tableCounts(handle.db)).toEqual(before);
    });
  });

  it("rejects a blocked word by rule, or masks it when configured", async () => {
    const before = await tableCounts(handle.db);
    const reject = { ...deps, blockedWords: { words: ["darn"], mode: "reject" as const } };
    await expect(
      sendMessage(
        handle.db,
        alice.id,
        { conversationId: dm, clientMsgId: crypto.randomUUID(), body: "oh DARN it" },
        reject,
      ),
    ).rejects.toMatchObject({ code: "BAD_REQUEST", message: expect.stringMatching(/blocked-words rule/) });
    expect(await tableCounts(handle.db)).toEqual(before);

    const mask = { ...deps, blockedWords: { words: ["darn"], mode: "mask" as const } };
    const sent = await sendMessage(
      handle.db,
      alice.id,
      { conversationId: dm, clientMsgId: crypto.randomUUID(), body: "darn, darnit and Darn" },
      mask,
    );
    expect(sent.body).toBe("***, darnit and ***");
  });

  it("answers TOO_MANY_REQUESTS past the per-user rate and writes nothing", async () => {
    const limited = { ...deps, rateLimiter: createSendRateLimiter({ points: 3, durationSeconds: 60 }) };
    for (let i = 0; i < 3; i++) {
      await sendMessage(
        handle.db,
        carol.id,
        { conversationId: await groupWithCarol(), clientMsgId: `r${i}-${Date.now()}`, body: "hi" },
        limited,
      );
    }
    const before = await tableCounts(handle.db);
    const conversationId = await groupWithCarol();
    const after = await tableCounts(handle.db);
    await expect(
      sendMessage(
        handle.db,
        carol.id,
        { conversationId, clientMsgId: crypto.randomUUID(), body: "one too many" },
        limited,
      ),
    ).rejects.toMatchObject({ code: "TOO_MANY_REQUESTS", message: expect.stringMatching(/too fast/) });
    expect(await tableCounts(handle.db)).toEqual(after);
    expect(before.messages).toBe(after.messages);
    // Bob is not limited by Carol's rate.
    await expect(
      sendMessage(handle.db, bob.id, { conversationId, clientMsgId: crypto.randomUUID(), body: "fine" }, limited),
    ).resolves.toMatchObject({ seq: 4 });
  });

  let carolsGroup: string | undefined;
  async function groupWithCarol() {
    carolsGroup ??= await seedGroup(handle.db, carol, [bob]);
    return carolsGroup;
  }
});
