import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "@/db/client";
import { createTestDb, type TestDb, testDrivers } from "@/db/testing";
import type { Db } from "@/db/types";
import { MAX_ANNOUNCEMENT_CHARS, MAX_DISPLAY_NAME_CHARS, MAX_GROUP_NAME_CHARS } from "@/lib/limits";
import { callerFor, createPersona, type Persona } from "../testing/personas";

/** Everything a refused profile, sign-up or group change could have written. */
async function footprint(db: Db) {
  const [row] = await queryRows<Record<string, string | number>>(
    db,
    sql`select (select count(*) from users) as users,
               (select string_agg(display_name, '|' order by id) from users) as display_names,
               (select count(*) from conversations) as conversations,
               (select string_agg(coalesce(name, '') || '#' || coalesce(announcement, ''), '|' order by id)
                  from conversations) as group_texts,
               (select count(*) from members) as members,
               (select count(*) from messages) as messages,
               (select count(*) from outbox) as outbox`,
  );
  return row;
}

type Hostile = { what: string; text: string; problem: RegExp; singleLineOnly?: boolean };

// Each is refused in every field; newlines and tabs only where the field is one line.
const hostile: Hostile[] = [
  { what: "a NUL", text: "Bob\u0000", problem: /contains control characters/ },
  { what: "a bell (C0 control)", text: "ding\u0007dong", problem: /contains control characters/ },
  { what: "an escape sequence", text: "\u001b[31mred", problem: /contains control characters/ },
  { what: "a DEL", text: "a\u007Fb", problem: /contains control characters/ },
  { what: "a C1 control", text: "a\u009Bb", problem: /contains control characters/ },
  { what: "a lone high surrogate", text: "bad \uD800 text", problem: /is not valid UTF-8 text/ },
  { what: "a lone low surrogate", text: "\uDC00bad", problem: /is not valid UTF-8 text/ },
  { what: "a right-to-left override", text: "abc\u202Egnp.exe", problem: /contains text-direction control characters/ },
  { what: "a left-to-right embedding", text: "x\u202Ay", problem: /contains text-direction control characters/ },
  { what: "a direction isolate", text: "a\u2066b\u2069", problem: /contains text-direction control characters/ },
  { what: "only zero-width characters", text: "\u200B\u200C\u200D", problem: /must contain visible characters/ },
  { what: "only a word joiner and BOM", text: "\u2060\uFEFF\u2060", problem: /must contain visible characters/ },
  { what: "only a Hangul filler", text: "\u3164", problem: /must contain visible characters/ },
  { what: "a newline", text: "Bob\nSmith", problem: /contains control characters/, singleLineOnly: true },
  { what: "a tab", text: "Bob\tSmith", problem: /contains control characters/, singleLineOnly: true },
];

type Field = {
  name: string;
  label: string;
  max: number;
  multiline: boolean;
  allowEmpty: boolean;
  submit: (text: string) => Promise<unknown>;
};

describe.each(testDrivers)("one text rule for every field people type (%s)", (driver) => {
  let handle: TestDb;
  let alice: Persona;
  let bob: Persona;
  let groupId: string;

  beforeAll(async () => {
    handle = await createTestDb(driver);
    alice = await createPersona(handle.db, "alice");
    bob = await createPersona(handle.db, "bob");
    groupId = (await callerFor(handle.db, alice).group.create({ name: "Launch team", memberIds: [bob.id] })).id;
  });
  afterAll(async () => {
    await handle?.close();
  });

  const guest = () => callerFor(handle.db, null);
  const as = (p: Persona) => callerFor(handle.db, p);
  let n = 0;
  const fields: Field[] = [
    {
      name: "a sign-up display name",
      label: "Display name",
      max: MAX_DISPLAY_NAME_CHARS,
      multiline: false,
      allowEmpty: false,
      submit: (text) =>
        guest().auth.register({ username: `newcomer_${++n}`, displayName: text, password: "correct horse" }),
    },
    {
      name: "alice's new display name",
      label: "Display name",
      max: MAX_DISPLAY_NAME_CHARS,
      multiline: false,
      allowEmpty: false,
      submit: (text) => as(alice).user.updateProfile({ displayName: text }),
    },
    {
      name: "a new group's name",
      label: "Group name",
      max: MAX_GROUP_NAME_CHARS,
      multiline: false,
      allowEmpty: false,
      submit: (text) => as(alice).group.create({ name: text, memberIds: [bob.id] }),
    },
    {
      name: "a new group's announcement",
      label: "Announcement",
      max: MAX_ANNOUNCEMENT_CHARS,
      multiline: true,
      allowEmpty: true,
      submit: (text) => as(alice).group.create({ name: "Team", memberIds: [bob.id], announcement: text }),
    },
    {
      name: "a renamed group",
      label: "Group name",
      max: MAX_GROUP_NAME_CHARS,
      multiline: false,
      allowEmpty: false,
      submit: (text) => as(alice).group.update({ conversationId: groupId, name: text }),
    },
    {
      name: "a changed announcement",
      label: "Announcement",
      max: MAX_ANNOUNCEMENT_CHARS,
      multiline: true,
      allowEmpty: true,
      submit: (text) => as(alice).group.update({ conversationId: groupId, announcement: text }),
    },
  ];

  const cases = fields.flatMap((field) => {
    const rows: [string, string, Field, string, RegExp][] = hostile
      .filter((h) => !(h.singleLineOnly && field.multiline))
      .map((h) => [field.name, h.what, field, h.text, h.problem]);
    rows.push([field.name, "one character too many", field, "é".repeat(field.max + 1), /must be at most/]);
    if (!field.allowEmpty) rows.push([field.name, "only spaces", field, "   ", /cannot be empty/]);
    return rows;
  });

  it.each(cases)(
    "%s with %s is refused with BAD_REQUEST naming the field, and nothing is written",
    async (_name, _what, field, text, problem) => {
      const before = await footprint(handle.db);
      const refusal = await field.submit(text).then(
        () => null,
        (error: unknown) => error,
      );
      expect(refusal).toMatchObject({ code: "BAD_REQUEST" });
      expect((refusal as Error).message).toMatch(new RegExp(`${field.label} ${problem.source}`));
      expect(await footprint(handle.db)).toEqual(before);
    },
  );

  it("still takes names in any script, emoji counted once, and announcements over several lines", async () => {
    const zoe = await guest().auth.register({
      username: "zoe_rtl",
      displayName: "  Zoë שלום 🎉  ",
      password: "pw-long-enough",
    });
    expect(zoe.displayName).toBe("Zoë שלום 🎉");
    const longest = "🎉".repeat(MAX_GROUP_NAME_CHARS);
    const group = await as(alice).group.create({
      name: longest,
      memberIds: [bob.id],
      announcement: "Line one\n\tLine two",
    });
    expect(group).toMatchObject({ name: longest, announcement: "Line one\n\tLine two" });
    const cleared = await as(alice).group.update({ conversationId: group.id, announcement: "" });
    expect(cleared.group.announcement).toBeNull();
  });
});
