import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDb, type TestDb, testDrivers } from "@/db/testing";
import { seedGroup, testSendDeps } from "../testing/conversations";
import { callerFor, createPersonas, type Persona } from "../testing/personas";
import { recordingPublisher } from "../testing/publisher";
import { openDm } from "./direct";
import { type SearchHit, type SearchInput, type SearchTuning, searchMessages, snippetOf } from "./search";
import { sendMessage } from "./send";

describe.each(testDrivers)("searching messages (%s)", (driver) => {
  let handle: TestDb;
  const publisher = recordingPublisher();
  const deps = testSendDeps(publisher);
  let alice: Persona;
  let bob: Persona;
  let carol: Persona;
  let dave: Persona;
  let outsider: Persona;
  let team: string;
  let dm: string;
  let elsewhere: string;
  const seqs = new Map<string, number>();

  const send = async (who: Persona, conversationId: string, body: string) => {
    const sent = await sendMessage(handle.db, who.id, { conversationId, clientMsgId: crypto.randomUUID(), body }, deps);
    seqs.set(body, sent.seq);
    return sent;
  };
  const search = (who: Persona, input: SearchInput, tuning?: SearchTuning) =>
    searchMessages(handle.db, who.id, input, tuning);
  const bodies = (hits: SearchHit[]) => hits.map((h) => h.snippet.map((p) => p.text).join(""));

  beforeAll(async () => {
    handle = await createTestDb(driver);
    [alice, bob, carol, dave, outsider] = await createPersonas(handle.db, "alice", "bob", "carol", "dave", "outsider");
    team = await seedGroup(handle.db, alice, [bob, dave], "Team");
    elsewhere = await seedGroup(handle.db, outsider, [], "Outsiders");
    dm = (await openDm(handle.db, alice.id, bob.id, { publisher })).conversationId;

    await send(alice, team, "before carol: the deployment went fine");
    await send(bob, team, "We deploy the app on Fridays");
    await callerFor(handle.db, alice, publisher).group.addMembers({ conversationId: team, userIds: [carol.id] });
    await send(alice, team, "deploy staging first, then production");
    await send(bob, team, "我家在上海东边");
    await callerFor(handle.db, alice, publisher).group.removeMember({ conversationId: team, userId: dave.id });
    await send(alice, team, "after dave left: deploy again");
    await send(bob, dm, "the app deploy is done");
    await send(outsider, elsewhere, "outsiders deploy too");
    const gone = await send(alice, team, "deleted deploy note");
    await handle.db.execute(
      sql`update messages set deleted_at = now() where conversation_id = ${team}::uuid and seq = ${gone.seq}`,
    );
  });
  afterAll(() => handle.close());

  it("finds a word across the caller's conversations with the hit highlighted", async () => {
    const { results } = await search(bob, { query: "Fridays" });
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({
      conversationId: team,
      conversationName: "Team",
      senderName: "Bob",
      seq: seqs.get("We deploy the app on Fridays"),
    });
    expect(results[0].snippet).toEqual([
      { text: "We deploy the app on ", hit: false },
      { text: "Fridays", hit: true },
    ]);
  });

  it("ranks better matches first, newest first on ties, and never shows deleted messages", async () => {
    const { results } = await search(alice, { query: "deploy" });
    const texts = bodies(results);
    expect(texts).not.toContain("deleted deploy note");
    expect(texts).not.toContain("outsiders deploy too");
    // Whole-word matches (newest first), then the substring-only one ("deployment").
    expect(texts).toEqual([
      "the app deploy is done",
      "after dave left: deploy again",
      "deploy staging first, then production",
      "We deploy the app on Fridays",
      "before carol: the deployment went fine",
    ]);
  });

  it("speaks websearch syntax: phrases, -exclusion and OR", async () => {
    expect(bodies((await search(alice, { query: '"deploy the app"' })).results)).toEqual([
      "We deploy the app on Fridays",
    ]);
    expect(bodies((await search(alice, { query: "deploy -staging -again" })).results)).toEqual([
      "the app deploy is done",
      "We deploy the app on Fridays",
    ]);
    expect(bodies((await search(alice, { query: "Fridays OR production" })).results).sort()).toEqual([
      "We deploy the app on Fridays",
      "deploy staging first, then production",
    ]);
  });

  it("matches substrings full-text search misses: a prefix, and CJK inside a sentence", async () => {
    const prefix = await search(alice, { query: "deployme" });
    expect(bodies(prefix.results)).toEqual(["before carol: the deployment went fine"]);
    expect(prefix.results[0].snippet).toContainEqual({ text: "deployme", hit: true });
    const cjk = await search(alice, { query: "上海" });
    expect(cjk.results[0].snippet).toEqual([
      { text: "我家在", hit: false },
      { text: "上海", hit: true },
      { text: "东边", hit: false },
    ]);
  });

  it("shows a member who joined later only what came after, and one who left only what came before", async () => {
    expect(bodies((await search(carol, { query: "deploy" })).results)).toEqual([
      "after dave left: deploy again",
      "deploy staging first, then production",
    ]);
    expect(bodies((await search(dave, { query: "deploy" })).results)).toEqual([
      "deploy staging first, then production",
      "We deploy the app on Fridays",
      "before carol: the deployment went fine",
    ]);
  });

  it("tells an outsider nothing about conversations they are not in", async () => {
    expect(bodies((await search(outsider, { query: "deploy" })).results)).toEqual(["outsiders deploy too"]);
    expect((await search(outsider, { query: "deploy", conversationId: team })).results).toEqual([]);
    expect((await search(outsider, { query: "上海" })).results).toEqual([]);
  });

  it("filters by conversation, sender and time", async () => {
    expect(bodies((await search(alice, { query: "deploy", conversationId: dm })).results)).toEqual([
      "the app deploy is done",
    ]);
    expect(bodies((await search(alice, { query: "deploy", fromUserId: bob.id })).results)).toEqual([
      "the app deploy is done",
      "We deploy the app on Fridays",
    ]);
    const future = new Date(Date.now() + 60_000).toISOString();
    expect((await search(alice, { query: "deploy", after: future })).results).toEqual([]);
    expect((await search(alice, { query: "deploy", before: future })).results).toHaveLength(5);
  });

  it("pages through results without repeating one", async () => {
    const first = await search(alice, { query: "deploy", limit: 2 });
    expect(first.results).toHaveLength(2);
    expect(first.nextCursor).toBe("2");
    const second = await search(alice, { query: "deploy", limit: 2, cursor: first.nextCursor ?? undefined });
    const third = await search(alice, { query: "deploy", limit: 2, cursor: second.nextCursor ?? undefined });
    expect(third.nextCursor).toBeNull();
    const ids = [...first.results, ...second.results, ...third.results].map((r) => r.messageId);
    expect(new Set(ids).size).toBe(5);
  });

  it("treats hostile and wildcard text as plain words", async () => {
    await send(alice, team, "100% sure");
    await send(alice, team, "1000 sure");
    expect(bodies((await search(alice, { query: "100%" })).results)).toEqual(["100% sure"]);
    // Shorter than three characters is a whole word, never a pattern that matches every message.
    expect((await search(alice, { query: "%" })).results).toEqual([]);
    expect((await search(alice, { query: "_" })).results).toEqual([]);
    expect((await search(alice, { query: "'); drop table messages; --" })).results).toEqual([]);
    expect((await search(alice, { query: '"unclosed phrase' })).results).toEqual([]);
  });

  it("matches CJK text of any length inside a sentence, and short Latin text only as a word", async () => {
    await send(bob, team, "東京タワーに行った");
    await send(bob, team, "go live at noon");
    await send(bob, team, "gopher tunnels");
    expect(bodies((await search(alice, { query: "海" })).results)).toEqual(["我家在上海东边"]);
    expect(bodies((await search(alice, { query: "上海东" })).results)).toEqual(["我家在上海东边"]);
    expect(bodies((await search(alice, { query: "タワー" })).results)).toEqual(["東京タワーに行った"]);
    expect((await search(alice, { query: "海上" })).results).toEqual([]);
    expect(bodies((await search(alice, { query: "go" })).results)).toEqual(["go live at noon"]);
  });

  it("ranks the newest matches and lists older ones after them, newest first", async () => {
    await send(alice, team, "redeployed it");
    const newestFirst = [
      "redeployed it",
      "the app deploy is done",
      "after dave left: deploy again",
      "deploy staging first, then production",
      "We deploy the app on Fridays",
      "before carol: the deployment went fine",
    ];
    // Every match ranked: whole words first, then the two substring-only matches, newest first each.
    expect(bodies((await search(alice, { query: "deploy" })).results)).toEqual([
      ...newestFirst.slice(1, 5),
      newestFirst[0],
      newestFirst[5],
    ]);
    // Only the newest two ranked: the whole word first, then the rest by date.
    expect(bodies((await search(alice, { query: "deploy" }, { rankedMatches: 2 })).results)).toEqual([
      newestFirst[1],
      newestFirst[0],
      ...newestFirst.slice(2),
    ]);
  });

  it("answers the same whichever way it reads the history", async () => {
    // One ranked match, so that a page of two needs three: the short looks can answer on a small history.
    const ways: SearchTuning[] = [
      // The server's newest messages, a few, then every match.
      { ownHistory: 0, quickWindow: 4, probeMatches: 0, ownWindow: 0 },
      // The indexes, probing with a limit the history stays under.
      { ownHistory: 0, quickWindow: 0, probeMatches: 1000, ownWindow: 0 },
      // A probe that finds too many, then the caller's own newest messages: a few from each
      // conversation, deepening (within a dozen rows, then every match), or all of them at once.
      { ownHistory: 0, quickWindow: 0, probeMatches: 1, ownWindow: 6, ownReads: 12 },
      { ownHistory: 0, quickWindow: 0, probeMatches: 1, ownWindow: 1 },
      { ownHistory: 0, quickWindow: 0, probeMatches: 1, ownWindow: 10_000 },
    ];
    const queries = ["deploy", "deploy the app", '"deploy the app"', "上海", "deployme", "Fridays OR production", "go"];
    for (const who of [alice, carol, dave]) {
      for (const query of queries) {
        for (const page of [{ limit: 2 }, { limit: 2, cursor: "2" }, { limit: 50 }]) {
          const expected = await search(who, { query, ...page }, { rankedMatches: 1 });
          for (const tuning of ways) {
            const got = await search(who, { query, ...page }, { ...tuning, rankedMatches: 1 });
            expect(got, `${who.username} ${query} ${JSON.stringify(tuning)}`).toEqual(expected);
          }
        }
      }
    }
  });

  it("refuses empty, too long and malformed input with BAD_REQUEST", async () => {
    const caller = callerFor(handle.db, alice, publisher);
    for (const input of [
      { query: "" },
      { query: "   " },
      { query: "x".repeat(201) },
      { query: "-" },
      { query: "deploy", cursor: "abc" },
      { query: "deploy", cursor: "5000" },
      { query: "deploy", conversationId: "nope" },
      { query: "deploy", before: "yesterday" },
      { query: "deploy", limit: 0 },
      { query: 42 },
    ]) {
      await expect(caller.message.search(input as SearchInput)).rejects.toMatchObject({ code: "BAD_REQUEST" });
    }
    await expect(callerFor(handle.db, null, publisher).message.search({ query: "deploy" })).rejects.toMatchObject({
      code: "UNAUTHORIZED",
    });
  });

  // Last: it adds conversations the tests above do not expect.
  it("answers a common word from the caller's own newest messages when other people's conversations are busier", async () => {
    const quiet = await seedGroup(handle.db, alice, [bob], "Quiet");
    const chatter = await seedGroup(handle.db, bob, [alice], "Chatter");
    const busy = await seedGroup(handle.db, outsider, [], "Busy");
    for (let i = 1; i <= 3; i++) await send(bob, quiet, `standup notes ${i}`);
    // Newer than her matches: a dozen of hers without the word, then the server's newest, none of hers.
    for (let i = 1; i <= 12; i++) await send(bob, chatter, `lunch at ${i}?`);
    for (let i = 1; i <= 8; i++) await send(outsider, busy, `standup chatter ${i}`);
    const page = { query: "standup", limit: 2 };
    const expected = await search(alice, page, { rankedMatches: 1 });
    expect(bodies(expected.results)).toEqual(["standup notes 3", "standup notes 2"]);
    const look = async (ownWindow: number, ownReads?: number) => {
      const ways: string[] = [];
      const got = await search(alice, page, {
        ownHistory: 0,
        quickWindow: 4,
        probeMatches: 0,
        ownWindow,
        ownReads,
        rankedMatches: 1,
        answered: (way) => ways.push(way),
      });
      expect(got).toEqual(expected);
      return ways;
    };
    // Three from each of her conversations hold her newest three matches; what is unread in Chatter
    // is newer than those, so Chatter is read further back, until nothing unread anywhere is newer.
    expect(await look(12)).toEqual(["own window"]);
    // One from each at first, deepening from there.
    expect(await look(1)).toEqual(["own window"]);
    // Within five rows in all it cannot prove it: every match is read instead.
    expect(await look(1, 5)).toEqual(["every match"]);
  });
});

describe("search snippets", () => {
  it("cuts a long body around its first hit", () => {
    const body = `${"lorem ".repeat(60)}needle ${"ipsum ".repeat(60)}`;
    const parts = snippetOf(body, ["needle"]);
    expect(parts[0]).toEqual({ text: "…", hit: false });
    expect(parts.at(-1)).toEqual({ text: "…", hit: false });
    expect(parts.filter((p) => p.hit)).toEqual([{ text: "needle", hit: true }]);
    expect(parts.map((p) => p.text).join("").length).toBeLessThanOrEqual(162);
  });
});
