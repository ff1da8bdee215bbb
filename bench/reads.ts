// Section 4: the reads a client makes on open and on reconnect, at scale.
import { seedGroup, seedManyGroups, scatterReadPositions, seedMessages, seedUsers } from "./seed";
import type { BenchContext, SectionResult } from "./context";
import { percentiles, ratio } from "./stats";
import type { Session } from "./target";

async function timed(repeats: number, call: () => Promise<unknown>) {
  const samples: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    await call();
    samples.push(performance.now() - t0);
  }
  return percentiles(samples);
}

type Page = { items: unknown[]; nextCursor: string | null };
type Delta = { version: number; groups: unknown[] };

export async function readsSection(ctx: BenchContext): Promise<SectionResult> {
  const { target, sizes } = ctx;
  const K = sizes.readRepeats;
  const [listUser, syncUser, receiptsUser] = await seedUsers(target.db, 3, "read", target.passwordHash);
  const [other] = await seedUsers(target.db, 1, "peer", target.passwordHash);
  ctx.log(`reads: seeding ${sizes.listConversations} conversations for one user`);
  await seedManyGroups(target.db, sizes.listConversations, "many", [other.id, listUser.id], 5);
  const small = sizes.syncGroups;
  await seedManyGroups(target.db, small, "few", [other.id, syncUser.id], 5);

  ctx.log(`reads: seeding a ${sizes.receiptsGroup}-member group with ${sizes.receiptsMessages} messages`);
  const crowd = await seedUsers(target.db, sizes.receiptsGroup - 1, "crowd", target.passwordHash);
  const large = await seedGroup(target.db, "receipts", [receiptsUser.id, ...crowd.map((u) => u.id)]);
  await seedMessages(target.db, large.id, receiptsUser.id, sizes.receiptsMessages);
  await scatterReadPositions(target.db, large.id);

  const [lister, syncer, reader]: Session[] = await Promise.all(
    [listUser, syncUser, receiptsUser].map((u) => target.signIn(u)),
  );

  ctx.log("reads: conversation.list");
  const firstPage = await timed(K, () => lister.call<Page>("query", "conversation.list", {}));
  let pages = 0;
  let seen = 0;
  const walkStart = performance.now();
  for (let cursor: string | null = null; ; ) {
    const page: Page = await lister.call<Page>("query", "conversation.list", { cursor, limit: 100 });
    pages++;
    seen += page.items.length;
    cursor = page.nextCursor;
    if (!cursor) break;
  }
  const walkMs = performance.now() - walkStart;
  if (seen !== sizes.listConversations)
    throw new Error(`conversation.list walked ${seen} conversations, expected ${sizes.listConversations}`);

  ctx.log("reads: sync.since");
  // Both users alternate call by call, so load drifting on a shared machine hits both alike.
  const fullSync = async (session: Session, groups: number) => {
    const t0 = performance.now();
    const full = await session.call<Delta>("query", "sync.since", { version: 0 });
    const fullMs = performance.now() - t0;
    if (full.groups.length !== groups)
      throw new Error(`sync.since(0) returned ${full.groups.length} groups, expected ${groups}`);
    return { version: full.version, fullMs };
  };
  const smallFull = await fullSync(syncer, small);
  const bigFull = await fullSync(lister, sizes.listConversations);
  const samples = { small: [] as number[], big: [] as number[] };
  const unchangedCall = async (session: Session, version: number, into: number[]) => {
    const t0 = performance.now();
    const delta = await session.call<Delta>("query", "sync.since", { version });
    into.push(performance.now() - t0);
    if (delta.groups.length !== 0) throw new Error("sync.since reported changes where there were none");
  };
  for (let i = 0; i < K; i++) {
    await unchangedCall(syncer, smallFull.version, samples.small);
    await unchangedCall(lister, bigFull.version, samples.big);
  }
  const syncSmall = { groups: small, fullMs: smallFull.fullMs, unchanged: percentiles(samples.small) };
  const syncBig = { groups: sizes.listConversations, fullMs: bigFull.fullMs, unchanged: percentiles(samples.big) };

  ctx.log("reads: message.receipts");
  const windows = Math.max(1, Math.min(K, Math.floor(sizes.receiptsMessages / 50)));
  const coldSamples: number[] = [];
  let detailed: boolean | undefined;
  for (let w = 0; w < windows; w++) {
    const t0 = performance.now();
    const r = await reader.call<{ detailed: boolean; items: unknown[] }>("query", "message.receipts", {
      conversationId: large.id,
      fromSeq: 1 + w * 50,
      toSeq: 50 + w * 50,
    });
    coldSamples.push(performance.now() - t0);
    detailed = r.detailed;
  }
  const cold = percentiles(coldSamples);
  const cached = await timed(K, () =>
    reader.call("query", "message.receipts", { conversationId: large.id, fromSeq: 1, toSeq: 50 }),
  );

  ctx.log("reads: unread total");
  const unread = await timed(K, () => lister.call("query", "conversation.unreadTotal", {}));

  const syncRatio = ratio(syncBig.unchanged.p50, syncSmall.unchanged.p50);
  const row = (what: string, p: ReturnType<typeof percentiles>) => [what, p.n, p.p50, p.p95, p.max];
  return {
    data: {
      firstPage,
      walk: { pages, conversations: seen, ms: walkMs },
      syncSmall,
      syncBig,
      syncRatio,
      receipts: { cold, cached, detailed },
      unread,
    },
    tables: [
      {
        title: "4. Reads (ms, round trip as the client sees it)",
        workload: `one user in ${sizes.listConversations} conversations (5 messages each, random read positions); sync users in ${small} and ${sizes.listConversations} groups; receipts in a ${sizes.receiptsGroup}-member group with ${sizes.receiptsMessages} messages`,
        columns: ["call", "n", "p50", "p95", "max"],
        rows: [
          row(`conversation.list first page (${sizes.listConversations} conversations)`, firstPage),
          [`conversation.list all ${pages} pages of 100`, 1, walkMs, walkMs, walkMs],
          row(`sync.since nothing changed, ${small} groups`, syncSmall.unchanged),
          row(`sync.since nothing changed, ${syncBig.groups} groups`, syncBig.unchanged),
          [
            `sync.since(0) full, ${small} / ${syncBig.groups} groups`,
            1,
            syncSmall.fullMs,
            syncBig.fullMs,
            Math.max(syncSmall.fullMs, syncBig.fullMs),
          ],
          row(`message.receipts 50 messages, ${sizes.receiptsGroup} members, cold (${windows} windows)`, cold),
          row("message.receipts same window, cached", cached),
          row(`conversation.unreadTotal over ${sizes.listConversations} conversations`, unread),
        ],
        notes: [
          `sync.since nothing-changed p50 ratio ${syncBig.groups}/${small} groups: ${syncRatio.toFixed(2)} (near 1 = O(1))`,
          `receipts for the ${sizes.receiptsGroup}-member group: ${detailed ? "who read (within the detail size)" : "counts only (above the detail size)"}`,
        ],
      },
    ],
  };
}
