import type { BrowserContext } from "@playwright/test";
import { expect, PASSWORD, signInViaApi, test, uniqueUser, waitForRealtime } from "./fixtures";
import {
  type Accepted,
  accepted,
  acceptedStrings,
  announcement,
  call,
  clientMsgId,
  displayName,
  expectLiteral,
  expectNoInjectedMarkup,
  expectNoTrace,
  groupName,
  HostileView,
  injectedMarkup,
  messageBody,
  refused,
  refusedStrings,
  Watch,
} from "./hostile";
import { ChatApp } from "./pages";

// Hostile strings through every rendered text field, sent the way a client
// sends them, then looked at in Chromium by someone else: what the server
// accepts is shown as the literal text it stored, nothing is parsed as markup
// and no script runs; what it refuses is a 400 naming the field, and shows nowhere.

type Created = { id: string; username: string; displayName: string };
type Named = Accepted & { user: Created; context: BrowserContext; dm: string; seq: number };

test.describe.configure({ timeout: 240_000 });

test("display names given at sign-up are shown to others as the literal text; refused ones answer 400 and exist nowhere", async ({
  personas,
  browser,
}) => {
  const vera = await personas("Vera");
  const watch = new Watch([vera.page]);
  const view = new HostileView(vera.page);
  const refusals = refusedStrings(displayName, "dnsignup");
  const contexts: BrowserContext[] = [];
  try {
    // Signed up through the API as a browser would (the viewer's page: sign-up needs no session).
    const named = await Promise.all(
      acceptedStrings(displayName).map(async (c, i): Promise<Named> => {
        const u = uniqueUser(`Hostile${i}`);
        const user = await accepted<Created>(
          vera.page,
          "auth.register",
          { username: u.username, displayName: c.value, password: PASSWORD },
          `sign-up with ${c.label}`,
        );
        expect(user.displayName, c.label).toBe(c.stored);
        const context = await browser.newContext({ baseURL: test.info().project.use.baseURL });
        contexts.push(context);
        await signInViaApi(context, u);
        const dm = (
          await accepted<{ conversationId: string }>(context, "conversation.openDm", { userId: vera.id }, "dm")
        ).conversationId;
        const sent = await accepted<{ seq: number }>(
          context,
          "message.send",
          { conversationId: dm, clientMsgId: clientMsgId(), body: `hello from ${i}` },
          "dm message",
        );
        return { ...c, user, context, dm, seq: sent.seq };
      }),
    );
    for (const bad of refusals) {
      const u = uniqueUser("Refused");
      await refused(
        vera.page,
        "auth.register",
        { username: u.username, displayName: bad.value, password: PASSWORD },
        bad,
        "Display name",
      );
      const search = await call<unknown[]>(vera.page, "user.search", { query: u.username }, "query");
      expect(search.data, `no account was made for "${bad.label}"`).toEqual([]);
    }

    const groupId = await groupWithMessagesFrom(vera.page, named);
    await checkNamesAsShown(view, named, groupId);
    await expectNoTrace(vera.page, refusals);
    watch.expectQuiet();
  } finally {
    for (const context of contexts) await context.close();
  }
});

test("display names changed on the profile are shown to others as the literal text; refused changes answer 400 and keep the old name", async ({
  personas,
  browser,
}) => {
  const vera = await personas("Vera");
  const pat = await personas("Pat");
  const watch = new Watch([vera.page, pat.page]);
  const view = new HostileView(vera.page);
  const refusals = refusedStrings(displayName, "dnprofile");
  const contexts: BrowserContext[] = [];
  try {
    const named = await Promise.all(
      acceptedStrings(displayName).map(async (c, i): Promise<Named> => {
        const u = uniqueUser(`Renamed${i}`);
        const context = await browser.newContext({ baseURL: test.info().project.use.baseURL });
        contexts.push(context);
        const created = await accepted<Created>(
          context,
          "auth.register",
          { username: u.username, displayName: u.displayName, password: PASSWORD },
          "sign-up",
        );
        await signInViaApi(context, u);
        const user = await accepted<Created>(context, "user.updateProfile", { displayName: c.value }, c.label);
        expect(user).toMatchObject({ id: created.id, displayName: c.stored });
        const dm = (
          await accepted<{ conversationId: string }>(context, "conversation.openDm", { userId: vera.id }, "dm")
        ).conversationId;
        const sent = await accepted<{ seq: number }>(
          context,
          "message.send",
          { conversationId: dm, clientMsgId: clientMsgId(), body: `hello from ${i}` },
          "dm message",
        );
        return { ...c, user, context, dm, seq: sent.seq };
      }),
    );
    // Pat, in the browser, tries every refused name: each is a 400 naming the field, and Pat stays Pat.
    for (const bad of refusals)
      await refused(pat.page, "user.updateProfile", { displayName: bad.value }, bad, "Display name");
    const me = await call<Created>(pat.page, "user.me", undefined, "query");
    expect(me.data?.displayName).toBe(pat.displayName);
    const patDm = (
      await accepted<{ conversationId: string }>(pat.page, "conversation.openDm", { userId: vera.id }, "dm")
    ).conversationId;

    const groupId = await groupWithMessagesFrom(vera.page, named);
    await checkNamesAsShown(view, named, groupId);
    await expectLiteral(view.conversationTitle(patDm), pat.displayName, "Pat keeps the old name");
    await expectNoTrace(vera.page, refusals);
    await vera.page.reload();
    await waitForRealtime(vera.page);
    await expectNoTrace(vera.page, refusals);
    watch.expectQuiet();
  } finally {
    for (const context of contexts) await context.close();
  }
});

/** A group of everyone named, each saying something in it, made by the viewer. */
async function groupWithMessagesFrom(page: import("@playwright/test").Page, named: Named[]): Promise<string> {
  const group = await accepted<{ conversationId: string }>(
    page,
    "group.create",
    { name: "Hostile names", memberIds: named.map((n) => n.user.id) },
    "group",
  );
  for (const n of named) {
    await accepted(
      n.context,
      "message.send",
      { conversationId: group.conversationId, clientMsgId: clientMsgId(), body: `said by ${n.label}` },
      "group message",
    );
  }
  return group.conversationId;
}

/** The viewer sees every name as its literal text: conversation list, chat header, message senders, member list. */
async function checkNamesAsShown(view: HostileView, named: Named[], groupId: string) {
  const page = view.page;
  await page.goto("/");
  await waitForRealtime(page);
  for (const n of named) await expectLiteral(view.conversationTitle(n.dm), n.stored, `list: ${n.label}`);
  await expectNoInjectedMarkup(page, "conversation list");
  for (const n of named) {
    await view.open(n.dm);
    await expectLiteral(view.title, n.stored, `chat title: ${n.label}`);
    await expectLiteral(view.message(n.seq).getByTestId("message-body"), `hello from ${named.indexOf(n)}`, n.label);
    await expectNoInjectedMarkup(page, `dm with ${n.label}`);
  }
  const app = new ChatApp(page);
  await view.open(groupId);
  for (const n of named) {
    await expectLiteral(
      app.message(`said by ${n.label}`).getByTestId("message-sender"),
      n.stored,
      `sender: ${n.label}`,
    );
  }
  await view.openPanel();
  for (const n of named) await expectLiteral(view.memberName(n.user.id), n.stored, `member: ${n.label}`);
  await expectNoInjectedMarkup(page, "group with hostile names");
}

test("group names and announcements are shown to members as the literal text; refused ones answer 400 naming the field", async ({
  personas,
}) => {
  const olive = await personas("Olive");
  const vera = await personas("Vera");
  const watch = new Watch([olive.page, vera.page]);
  const view = new HostileView(vera.page);
  const nameRefusals = refusedStrings(groupName, "gname");
  const announcementRefusals = refusedStrings(announcement, "gannounce");

  const names: (Accepted & { id: string })[] = [];
  for (const c of acceptedStrings(groupName)) {
    const group = await accepted<{ conversationId: string; name: string }>(
      olive.page,
      "group.create",
      { name: c.value, memberIds: [vera.id] },
      `group named ${c.label}`,
    );
    expect(group.name, c.label).toBe(c.stored);
    names.push({ ...c, id: group.conversationId });
  }
  const announced: (Accepted & { id: string })[] = [];
  for (const [i, c] of acceptedStrings(announcement).entries()) {
    const group = await accepted<{ conversationId: string }>(
      olive.page,
      "group.create",
      { name: `Announcement ${i}`, memberIds: [vera.id] },
      "group",
    );
    const updated = await accepted<{ group: { announcement: string } }>(
      olive.page,
      "group.update",
      { conversationId: group.conversationId, announcement: c.value },
      `announcement ${c.label}`,
    );
    expect(updated.group.announcement, c.label).toBe(c.stored);
    announced.push({ ...c, id: group.conversationId });
  }
  const target = names[0].id;
  for (const bad of nameRefusals) {
    await refused(olive.page, "group.create", { name: bad.value, memberIds: [vera.id] }, bad, "Group name");
    await refused(olive.page, "group.update", { conversationId: target, name: bad.value }, bad, "Group name");
  }
  for (const bad of announcementRefusals) {
    await refused(olive.page, "group.create", { name: "Never made", announcement: bad.value }, bad, "Announcement");
    await refused(olive.page, "group.update", { conversationId: target, announcement: bad.value }, bad, "Announcement");
  }

  await vera.page.goto("/");
  await waitForRealtime(vera.page);
  for (const g of names) await expectLiteral(view.conversationTitle(g.id), g.stored, `list: ${g.label}`);
  await expectNoInjectedMarkup(vera.page, "conversation list of hostile groups");
  for (const g of names) {
    await view.open(g.id);
    await expectLiteral(view.title, g.stored, `title: ${g.label}`);
    await expectLiteral(
      vera.page.getByTestId("system-message").first(),
      `Olive created the group "${g.stored}"`,
      `system line: ${g.label}`,
    );
    await view.openPanel();
    await expectLiteral(view.panel.getByTestId("group-info-name"), g.stored, `panel: ${g.label}`);
    await expectNoInjectedMarkup(vera.page, `group ${g.label}`);
    await view.closePanel();
  }
  for (const g of announced) {
    await view.open(g.id);
    // A megaphone icon, a space, then the announcement.
    await expectLiteral(vera.page.getByTestId("chat-announcement"), ` ${g.stored}`, `banner: ${g.label}`);
    await view.openPanel();
    await expectLiteral(view.panel.getByTestId("group-info-announcement"), g.stored, `panel: ${g.label}`);
    await expectNoInjectedMarkup(vera.page, `announcement ${g.label}`);
    await view.closePanel();
  }
  await expectNoTrace(vera.page, [...nameRefusals, ...announcementRefusals]);
  watch.expectQuiet();
});

test("message bodies are shown to the reader as the literal text, links only to http(s); refused bodies answer 400 (413 when too long) and show nowhere", async ({
  personas,
}) => {
  const alice = await personas("Alice");
  const bob = await personas("Bob");
  const watch = new Watch([alice.page, bob.page]);
  const view = new HostileView(bob.page);
  const refusals = refusedStrings(messageBody, "msgbody");
  const conversationId = (
    await accepted<{ conversationId: string }>(
      alice.page,
      "group.create",
      { name: "Hostile messages", memberIds: [bob.id] },
      "group",
    )
  ).conversationId;

  // Bob has the conversation open: the accepted ones reach him live, over realtime.
  await bob.page.goto(`/c/${conversationId}`);
  await waitForRealtime(bob.page);
  for (const bad of refusals) {
    await refused(
      alice.page,
      "message.send",
      { conversationId, clientMsgId: clientMsgId(), body: bad.value },
      bad,
      "Message",
    );
  }
  const sent: (Accepted & { seq: number })[] = [];
  for (const c of acceptedStrings(messageBody)) {
    const answer = await accepted<{ seq: number; body: string }>(
      alice.page,
      "message.send",
      { conversationId, clientMsgId: clientMsgId(), body: c.value },
      `message ${c.label}`,
    );
    expect(answer.body, c.label).toBe(c.stored);
    sent.push({ ...c, seq: answer.seq });
  }

  const hrefs: string[] = [];
  const expectShown = async (v: HostileView, where: string) => {
    for (const m of sent) {
      const row = await v.reveal(m.seq);
      await expectLiteral(row.getByTestId("message-body"), m.stored, `${where}: ${m.label}`);
      hrefs.push(...(await row.locator("a").evaluateAll((links) => links.map((a) => (a as HTMLAnchorElement).href))));
      await expectNoInjectedMarkup(v.page, `${where}: ${m.label}`);
    }
    await expectNoInjectedMarkup(v.page, `${where}: conversation list`);
    await expectNoTrace(v.page, refusals);
  };
  await expectShown(view, "reader, live");
  // From history, after a reload; and on the sender's side, as own bubbles.
  await bob.page.reload();
  await waitForRealtime(bob.page);
  await expectShown(view, "reader, history");
  // The sender opens the chat from the list, as a person would.
  await alice.page.goto("/");
  await waitForRealtime(alice.page);
  await new ChatApp(alice.page).open("Hostile messages");
  await expectShown(new HostileView(alice.page), "sender");
  expect(hrefs.length, "the URLs in bodies became links").toBeGreaterThan(0);
  for (const href of hrefs) expect(href).toMatch(/^https?:\/\//);

  // Refused sends left nothing behind: the history holds exactly the accepted bodies.
  const history = await call<{ messages: { seq: number; kind: string; body: string }[] }>(
    bob.page,
    "message.history",
    { conversationId, limit: 100 },
    "query",
  );
  const stored = (history.data?.messages ?? []).filter((m) => m.kind === "text").sort((a, b) => a.seq - b.seq);
  expect(stored.map((m) => m.body)).toEqual(sent.map((m) => m.stored));

  // Typed in the composer by a person, too.
  const typed = "<img src=x onerror=alert(1)> typed by bob";
  await new ChatApp(bob.page).send(typed);
  await expectLiteral(new ChatApp(alice.page).message(typed).getByTestId("message-body"), typed, "typed");
  await expectNoInjectedMarkup(alice.page, "after a typed message");
  watch.expectQuiet();
});

test("a name signed up through the form is shown as text, and a refused one is explained naming the field", async ({
  page,
}) => {
  const watch = new Watch([page]);
  const bad = refusedStrings(displayName, "dnform").find((r) => r.label === "bidi override")!;
  const refusedUser = uniqueUser("Form");
  await page.goto("/sign-up");
  await page.getByLabel("Username").fill(refusedUser.username);
  await page.getByLabel("Display name").fill(bad.value);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign up" }).click();
  await expect(page.getByTestId("auth-error")).toHaveText(bad.message);

  const user = uniqueUser("Form");
  const name = '"><svg onload=alert(1)>';
  await page.getByLabel("Username").fill(user.username);
  await page.getByLabel("Display name").fill(name);
  await page.getByRole("button", { name: "Sign up" }).click();
  await expect(page.getByTestId("app-shell")).toBeVisible();
  await waitForRealtime(page);
  await expectLiteral(page.getByTestId("me-name"), name, "own name in the sidebar");
  await expectNoInjectedMarkup(page, "app after a hostile sign-up");
  await expectNoTrace(page, [bad]);
  watch.expectQuiet();
});

test("markup forced into a message bubble still runs no script: the CSP blocks its inline handler", async ({
  personas,
}) => {
  const alice = await personas("Alice");
  const bob = await personas("Bob");
  const watch = new Watch([bob.page]);
  const conversationId = (
    await accepted<{ conversationId: string }>(
      alice.page,
      "group.create",
      { name: "Tampered", memberIds: [bob.id] },
      "group",
    )
  ).conversationId;
  const seq = (
    await accepted<{ seq: number }>(
      alice.page,
      "message.send",
      { conversationId, clientMsgId: clientMsgId(), body: "a bubble to tamper with" },
      "message",
    )
  ).seq;
  await bob.context.addInitScript(() => {
    const seen: string[] = [];
    (window as unknown as { __violations: string[] }).__violations = seen;
    document.addEventListener("securitypolicyviolation", (e) => seen.push(e.effectiveDirective));
  });
  await bob.page.goto(`/c/${conversationId}`);
  const bubble = new HostileView(bob.page).message(seq).getByTestId("message-body");
  await expectLiteral(bubble, "a bubble to tamper with", "before");

  // What an HTML-injection bug would amount to: the markup in the DOM, parsed.
  await bubble.evaluate((el) => {
    el.innerHTML = '<img src=x onerror="window.__pwned=1">';
  });
  // The markup checks of the other tests see such an element.
  expect(await injectedMarkup(bob.page)).toMatchObject({
    'img[src="x"] anywhere': 1,
    "any onerror/onload attribute": 1,
  });
  const outcome = () =>
    bob.page.evaluate(() => {
      const w = window as unknown as { __pwned?: number; __violations: string[] };
      return { pwned: w.__pwned, violations: w.__violations };
    });
  // The image fails to load either way: then the handler has run, or the CSP has refused it.
  await expect
    .poll(async () => {
      const o = await outcome();
      return o.pwned !== undefined || o.violations.length > 0;
    })
    .toBe(true);
  const o = await outcome();
  expect(o.pwned, "the inline onerror handler ran").toBeUndefined();
  expect(o.violations).toContain("script-src-attr");
  watch.expectQuiet();
});
