/** Words that mention everyone: one flag on the message, never a row per member. */
const EVERYONE = new Set(["all", "here", "everyone"]);

// A mention starts a word: "mail@bob" is an address, not a mention.
const MENTION = /(^|[^A-Za-z0-9_.@-])@([A-Za-z0-9_.-]{1,32})/g;

/** Distinct usernames per message we look up; the rows written stay bounded by this. */
export const MAX_MENTIONS_PER_MESSAGE = 50;

export type ParsedMentions = { all: boolean; usernames: string[] };

/** The @words of a body: lower-cased candidate usernames, and whether it mentions everyone. */
export function parseMentions(body: string): ParsedMentions {
  let all = false;
  const usernames = new Set<string>();
  for (const match of body.matchAll(MENTION)) {
    const word = match[2].toLowerCase();
    // "@bob." ends a sentence; "@bob.smith" is a username.
    const trimmed = word.replace(/[.-]+$/, "");
    if (EVERYONE.has(trimmed)) {
      all = true;
      continue;
    }
    for (const candidate of trimmed === word ? [word] : [trimmed, word]) {
      if (usernames.size < MAX_MENTIONS_PER_MESSAGE && candidate.length >= 3) usernames.add(candidate);
    }
  }
  return { all, usernames: [...usernames] };
}

/**
 * @all in a group larger than MENTION_ALL_MAX_MEMBERS is for owners and
 * admins: a member cannot wake ten thousand people. DMs and small groups: anyone.
 */
export function mayMentionAll(
  conversation: { kind: "dm" | "group"; memberCount: number },
  role: "owner" | "admin" | "member",
  maxMembers: number,
): boolean {
  return conversation.kind === "dm" || conversation.memberCount <= maxMembers || role !== "member";
}

export const mentionAllRefusal = (maxMembers: number) =>
  `Only owners and admins can mention @all in groups of more than ${maxMembers} members`;
