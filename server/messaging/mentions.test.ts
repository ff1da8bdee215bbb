import { describe, expect, it } from "vitest";
import { MAX_MENTIONS_PER_MESSAGE, parseMentions } from "./mentions";

describe("reading mentions out of a message body", () => {
  it("finds @usernames, lower-cased, once each", () => {
    expect(parseMentions("@Bob and @carol_1, then @bob again")).toEqual({ all: false, usernames: ["bob", "carol_1"] });
  });

  it("treats @all, @here and @everyone as a mention of everyone", () => {
    expect(parseMentions("@here standup").all).toBe(true);
    expect(parseMentions("ping @ALL!").all).toBe(true);
    expect(parseMentions("@everyone: release").all).toBe(true);
    expect(parseMentions("@alligator is a username").all).toBe(false);
  });

  it("does not take an e-mail address or a doubled @ for a mention", () => {
    expect(parseMentions("write to bob@example.com or @@carol")).toEqual({ all: false, usernames: [] });
  });

  it("keeps a dotted username and drops a sentence's full stop", () => {
    expect(parseMentions("thanks @bob.smith").usernames).toContain("bob.smith");
    expect(parseMentions("thanks @bob.").usernames).toContain("bob");
  });

  it("bounds how many usernames one body can mention", () => {
    const body = Array.from({ length: 80 }, (_, i) => `@user${i}`).join(" ");
    expect(parseMentions(body).usernames.length).toBe(MAX_MENTIONS_PER_MESSAGE);
  });
});
