import type { TRPC_ERROR_CODE_KEY } from "@trpc/server";
import { PERSONA_PASSWORD, type Persona } from "../testing/personas";
import type { World } from "../testing/world";

/**
 * Who may call what: one row per procedure of the app router, one cell per
 * persona, checked by authz-matrix.test.ts against a freshly seeded world
 * (testing/world.ts). A procedure without a row fails that suite.
 */
export const matrixPersonas = [
  "anonymous",
  "outsider",
  "member",
  "admin",
  "owner",
  "removed",
  "siteAdmin",
  "deactivated",
] as const;

export type MatrixPersona = (typeof matrixPersonas)[number];
export type Outcome = "allowed" | TRPC_ERROR_CODE_KEY;

export type MatrixRow = {
  /** A valid input for this caller against the seeded world. */
  input: (w: World, me: Persona | null) => unknown;
  expect: Record<MatrixPersona, Outcome>;
  /** Further cases of the same procedure (another conversation, another target). */
  variants?: Record<string, Omit<MatrixRow, "variants">>;
};

/** Which seeded user plays each persona. */
export function personaOf(w: World, persona: MatrixPersona): Persona | null {
  switch (persona) {
    case "anonymous":
      return null;
    case "outsider":
      return w.erin;
    case "member":
      return w.carol;
    case "admin":
      return w.bob;
    case "owner":
      return w.alice;
    case "removed":
      return w.dave;
    case "siteAdmin":
      return w.gina;
    case "deactivated":
      return w.hank;
  }
}

/** Conversations the persona never belonged to: an allowed answer must not name them. */
export function conversationsOutside(w: World, persona: MatrixPersona): string[] {
  switch (persona) {
    case "anonymous":
    case "outsider":
    case "siteAdmin":
    case "deactivated":
      return [w.groupId, w.dmId];
    case "member":
    case "removed":
      return [w.dmId];
    case "admin":
    case "owner":
      return [];
  }
}

const anyoneSignedIn: Record<MatrixPersona, Outcome> = {
  anonymous: "UNAUTHORIZED",
  outsider: "allowed",
  member: "allowed",
  admin: "allowed",
  owner: "allowed",
  removed: "allowed",
  siteAdmin: "allowed",
  deactivated: "UNAUTHORIZED",
};

// Site administration: only site admins, whatever their conversations.
const siteAdmins: Record<MatrixPersona, Outcome> = {
  anonymous: "UNAUTHORIZED",
  outsider: "FORBIDDEN",
  member: "FORBIDDEN",
  admin: "FORBIDDEN",
  owner: "FORBIDDEN",
  removed: "FORBIDDEN",
  siteAdmin: "allowed",
  deactivated: "UNAUTHORIZED",
};

const groupMembers: Record<MatrixPersona, Outcome> = {
  anonymous: "UNAUTHORIZED",
  outsider: "FORBIDDEN",
  member: "allowed",
  admin: "allowed",
  owner: "allowed",
  removed: "FORBIDDEN",
  siteAdmin: "FORBIDDEN",
  deactivated: "UNAUTHORIZED",
};

// In the DM alice ("owner") and bob ("admin") are its two members; everyone else is outside it.
const dmMembers: Record<MatrixPersona, Outcome> = {
  anonymous: "UNAUTHORIZED",
  outsider: "FORBIDDEN",
  member: "FORBIDDEN",
  admin: "allowed",
  owner: "allowed",
  removed: "FORBIDDEN",
  siteAdmin: "FORBIDDEN",
  deactivated: "UNAUTHORIZED",
};

const groupManagers: Record<MatrixPersona, Outcome> = {
  anonymous: "UNAUTHORIZED",
  outsider: "FORBIDDEN",
  member: "FORBIDDEN",
  admin: "allowed",
  owner: "allowed",
  removed: "FORBIDDEN",
  siteAdmin: "FORBIDDEN",
  deactivated: "UNAUTHORIZED",
};

const groupOwner: Record<MatrixPersona, Outcome> = {
  anonymous: "UNAUTHORIZED",
  outsider: "FORBIDDEN",
  member: "FORBIDDEN",
  admin: "FORBIDDEN",
  owner: "allowed",
  removed: "FORBIDDEN",
  siteAdmin: "FORBIDDEN",
  deactivated: "UNAUTHORIZED",
};

// A well-formed id no conversation has: every signed-in caller is told the same.
const noSuchConversation = "00000000-0000-4000-8000-000000000000";
const unknownToAll: Record<MatrixPersona, Outcome> = {
  anonymous: "UNAUTHORIZED",
  outsider: "NOT_FOUND",
  member: "NOT_FOUND",
  admin: "NOT_FOUND",
  owner: "NOT_FOUND",
  removed: "NOT_FOUND",
  siteAdmin: "NOT_FOUND",
  deactivated: "UNAUTHORIZED",
};

let unique = 0;
const fresh = (prefix: string) => `${prefix}${Date.now().toString(36)}${(unique++).toString(36)}`;

export const authzMatrix: Record<string, MatrixRow> = {
  "auth.register": {
    input: () => ({ username: fresh("newcomer"), displayName: "Newcomer", password: "correct horse battery" }),
    expect: {
      anonymous: "allowed",
      outsider: "allowed",
      member: "allowed",
      admin: "allowed",
      owner: "allowed",
      removed: "allowed",
      siteAdmin: "allowed",
      deactivated: "allowed",
    },
  },
  "auth.signOutEverywhere": { input: () => undefined, expect: anyoneSignedIn },
  "auth.changePassword": {
    input: () => ({ currentPassword: PERSONA_PASSWORD, newPassword: "a brand new passphrase" }),
    expect: anyoneSignedIn,
  },

  "user.me": { input: () => undefined, expect: anyoneSignedIn },
  "user.search": { input: () => ({ query: "a" }), expect: anyoneSignedIn },
  "user.updateProfile": { input: () => ({ displayName: "Renamed" }), expect: anyoneSignedIn },
  "user.setAvatar": { input: () => ({ image: null }), expect: anyoneSignedIn },

  "conversation.list": { input: () => ({}), expect: anyoneSignedIn },
  "push.publicKey": { input: () => undefined, expect: anyoneSignedIn },
  // A literal public address: checked, never contacted, so the suite stays on this machine.
  "push.subscribe": {
    input: () => ({
      endpoint: `https://93.184.215.14/push/${fresh("device")}`,
      keys: { p256dh: `BA${"A".repeat(85)}`, auth: "AAAAAAAAAAAAAAAAAAAAAA" },
    }),
    expect: anyoneSignedIn,
  },
  "push.unsubscribe": { input: () => ({ endpoint: "https://93.184.215.14/push/unknown" }), expect: anyoneSignedIn },
  "notification.settings": { input: () => undefined, expect: anyoneSignedIn },
  "notification.updateSettings": { input: () => ({ groupLevel: "mentions", preview: false }), expect: anyoneSignedIn },
  "conversation.get": {
    input: (w) => ({ conversationId: w.groupId }),
    expect: groupMembers,
    variants: {
      "the DM": { input: (w) => ({ conversationId: w.dmId }), expect: dmMembers },
      "no such conversation": { input: () => ({ conversationId: noSuchConversation }), expect: unknownToAll },
    },
  },
  "conversation.openDm": {
    input: (w, me) => ({ userId: me?.id === w.erin.id ? w.frank.id : w.erin.id }),
    expect: anyoneSignedIn,
  },
  "conversation.mute": {
    input: (w) => ({ conversationId: w.groupId, muted: true }),
    expect: groupMembers,
    variants: { "the DM": { input: (w) => ({ conversationId: w.dmId, muted: true }), expect: dmMembers } },
  },
  "conversation.setNotifications": {
    input: (w) => ({ conversationId: w.groupId, level: "mentions" }),
    expect: groupMembers,
    variants: {
      "the DM, snoozed": {
        input: (w) => ({
          conversationId: w.dmId,
          level: "all",
          snoozeUntil: new Date(Date.now() + 3600_000).toISOString(),
        }),
        expect: dmMembers,
      },
      "no such conversation": {
        input: () => ({ conversationId: noSuchConversation, level: "none" }),
        expect: unknownToAll,
      },
    },
  },

  "conversation.typing": {
    input: (w) => ({ conversationId: w.groupId, typing: false }),
    expect: groupMembers,
    variants: { "the DM": { input: (w) => ({ conversationId: w.dmId, typing: false }), expect: dmMembers } },
  },
  "conversation.setRetention": {
    input: (w) => ({ conversationId: w.groupId, days: 30 }),
    expect: groupOwner,
    variants: {
      "the DM": {
        input: (w) => ({ conversationId: w.dmId, days: 30 }),
        expect: { ...dmMembers, admin: "BAD_REQUEST", owner: "BAD_REQUEST" },
      },
    },
  },
  "conversation.unreadTotal": { input: () => undefined, expect: anyoneSignedIn },
  "conversation.searchMembers": {
    input: (w) => ({ conversationId: w.groupId, query: "a" }),
    expect: groupMembers,
    variants: { "the DM": { input: (w) => ({ conversationId: w.dmId, query: "b" }), expect: dmMembers } },
  },

  "message.send": {
    input: (w) => ({ conversationId: w.groupId, clientMsgId: fresh("m"), body: "Hello there" }),
    expect: groupMembers,
    variants: {
      "the DM": { input: (w) => ({ conversationId: w.dmId, clientMsgId: fresh("m"), body: "Hi" }), expect: dmMembers },
      "no such conversation": {
        input: () => ({ conversationId: noSuchConversation, clientMsgId: fresh("m"), body: "Hi" }),
        expect: unknownToAll,
      },
    },
  },
  // A removed member still reads what was said while they belonged.
  "message.history": {
    input: (w) => ({ conversationId: w.groupId }),
    expect: { ...groupMembers, removed: "allowed" },
    variants: { "the DM": { input: (w) => ({ conversationId: w.dmId }), expect: dmMembers } },
  },
  // Anyone signed in searches; results come only from their own conversations' visible windows.
  "message.search": { input: () => ({ query: "Slides" }), expect: anyoneSignedIn },
  // Only the sender (carol sent the group's last message) takes a preview off.
  "message.removePreview": {
    input: (w) => ({ conversationId: w.groupId, seq: w.groupSeq }),
    expect: {
      anonymous: "UNAUTHORIZED",
      outsider: "FORBIDDEN",
      member: "allowed",
      admin: "FORBIDDEN",
      owner: "FORBIDDEN",
      removed: "FORBIDDEN",
      siteAdmin: "FORBIDDEN",
      deactivated: "UNAUTHORIZED",
    },
  },
  "message.markRead": { input: (w) => ({ conversationId: w.groupId, seq: 1 }), expect: groupMembers },
  "message.markDelivered": {
    input: (w) => ({ items: [{ conversationId: w.groupId, seq: 1 }] }),
    expect: groupMembers,
    variants: { "the DM": { input: (w) => ({ items: [{ conversationId: w.dmId, seq: 1 }] }), expect: dmMembers } },
  },
  "message.receipts": {
    input: (w) => ({ conversationId: w.groupId, fromSeq: 1, toSeq: w.groupSeq }),
    expect: groupMembers,
    variants: { "the DM": { input: (w) => ({ conversationId: w.dmId, fromSeq: 1, toSeq: 1 }), expect: dmMembers } },
  },

  // The group's last message (w.groupSeq) is carol's ("member"); the DM's first is alice's ("owner").
  "message.edit": {
    input: (w) => ({ conversationId: w.groupId, seq: w.groupSeq, body: fresh("Slides are up, v") }),
    expect: { ...groupMembers, admin: "FORBIDDEN", owner: "FORBIDDEN" },
    variants: {
      "the DM": {
        input: (w) => ({ conversationId: w.dmId, seq: 1, body: fresh("Got an hour? v") }),
        expect: { ...dmMembers, admin: "FORBIDDEN" },
      },
    },
  },
  "message.delete": {
    input: (w) => ({ conversationId: w.groupId, seq: w.groupSeq }),
    expect: groupMembers,
    variants: {
      // Alice's kick-off: a member may not take back someone else's words; owners and admins moderate.
      "someone else's message": {
        input: (w) => ({ conversationId: w.groupId, seq: w.kickoffSeq }),
        expect: groupManagers,
      },
      // A DM has no moderators: bob cannot delete alice's message.
      "the DM": { input: (w) => ({ conversationId: w.dmId, seq: 1 }), expect: { ...dmMembers, admin: "FORBIDDEN" } },
    },
  },
  "message.react": {
    input: (w) => ({ conversationId: w.groupId, seq: w.groupSeq, emoji: "👍", on: true }),
    expect: groupMembers,
    variants: {
      "the DM": { input: (w) => ({ conversationId: w.dmId, seq: 1, emoji: "🎉", on: true }), expect: dmMembers },
    },
  },
  "message.reactions": {
    input: (w) => ({ conversationId: w.groupId, seq: w.groupSeq, emoji: "👍" }),
    expect: groupMembers,
    variants: { "the DM": { input: (w) => ({ conversationId: w.dmId, seq: 1, emoji: "👍" }), expect: dmMembers } },
  },
  "message.markUnread": {
    input: (w) => ({ conversationId: w.groupId, seq: w.groupSeq }),
    expect: groupMembers,
    variants: { "the DM": { input: (w) => ({ conversationId: w.dmId, seq: 1 }), expect: dmMembers } },
  },
  "message.changes": {
    input: (w) => ({ conversationId: w.groupId, since: 0 }),
    expect: groupMembers,
    variants: { "the DM": { input: (w) => ({ conversationId: w.dmId, since: 0 }), expect: dmMembers } },
  },
  "message.mentions": { input: () => ({}), expect: anyoneSignedIn },

  // Naming an open conversation: its last seq comes back to members only, null to anyone else (server/presence tests).
  "presence.heartbeat": {
    input: () => ({ away: false }),
    expect: anyoneSignedIn,
    variants: {
      "naming the group as open": { input: (w) => ({ away: false, open: w.groupId }), expect: anyoneSignedIn },
    },
  },
  "presence.setStatus": { input: () => ({ status: "busy" }), expect: anyoneSignedIn },
  // Allowed for anyone signed in; users who share no conversation with the caller are left out of the answer.
  "presence.get": { input: (w) => ({ userIds: [w.alice.id, w.carol.id] }), expect: anyoneSignedIn },
  "presence.mine": { input: () => undefined, expect: anyoneSignedIn },
  "presence.onlineCount": {
    input: (w) => ({ conversationId: w.groupId }),
    expect: groupMembers,
    variants: { "the DM": { input: (w) => ({ conversationId: w.dmId }), expect: dmMembers } },
  },
  "presence.settings": { input: () => undefined, expect: anyoneSignedIn },

  "group.create": { input: (w) => ({ name: "Side project", memberIds: [w.frank.id] }), expect: anyoneSignedIn },
  "group.get": { input: (w) => ({ conversationId: w.groupId }), expect: groupMembers },
  "group.members": { input: (w) => ({ conversationId: w.groupId }), expect: groupMembers },
  "group.update": {
    input: (w) => ({ conversationId: w.groupId, name: "Launch team (renamed)", announcement: "Ship it" }),
    expect: groupManagers,
    variants: {
      // Alice and bob are the DM's two members, but a DM has no group info to edit.
      "the DM": {
        input: (w) => ({ conversationId: w.dmId, name: "Renamed DM" }),
        expect: { ...dmMembers, admin: "BAD_REQUEST", owner: "BAD_REQUEST" },
      },
      "no such conversation": {
        input: () => ({ conversationId: noSuchConversation, name: "X" }),
        expect: unknownToAll,
      },
    },
  },
  "group.addMembers": { input: (w) => ({ conversationId: w.groupId, userIds: [w.erin.id] }), expect: groupManagers },
  "group.removeMember": {
    input: (w) => ({ conversationId: w.groupId, userId: w.frank.id }),
    expect: groupManagers,
    variants: {
      // Nobody removes the owner; the owner leaves instead.
      "the owner": {
        input: (w) => ({ conversationId: w.groupId, userId: w.alice.id }),
        expect: { ...groupManagers, admin: "FORBIDDEN", owner: "BAD_REQUEST" },
      },
    },
  },
  "group.leave": { input: (w) => ({ conversationId: w.groupId }), expect: groupMembers },
  "group.setRole": {
    input: (w) => ({ conversationId: w.groupId, userId: w.frank.id, role: "admin" }),
    expect: groupOwner,
    variants: {
      "handing over ownership": {
        input: (w) => ({ conversationId: w.groupId, userId: w.frank.id, role: "owner" }),
        expect: groupOwner,
      },
    },
  },

  "sync.since": { input: () => ({ version: 0 }), expect: anyoneSignedIn },

  "admin.users.list": { input: () => ({ query: "a" }), expect: siteAdmins },
  "admin.users.deactivate": { input: (w) => ({ userId: w.frank.id }), expect: siteAdmins },
  "admin.users.reactivate": { input: (w) => ({ userId: w.hank.id }), expect: siteAdmins },
  "admin.users.resetPassword": {
    input: (w) => ({ userId: w.frank.id, newPassword: "reset by an admin" }),
    expect: siteAdmins,
  },
  "admin.users.setAdmin": { input: (w) => ({ userId: w.frank.id, admin: true }), expect: siteAdmins },
  "admin.invites.create": { input: () => ({ maxUses: 5, expiresInHours: 24 }), expect: siteAdmins },
  "admin.health": { input: () => undefined, expect: siteAdmins },
  // Moderation: a site admin deletes any message, in a conversation they are not in too.
  "admin.messages.delete": {
    input: (w) => ({ conversationId: w.groupId, seq: w.kickoffSeq }),
    expect: siteAdmins,
    variants: { "in a DM": { input: (w) => ({ conversationId: w.dmId, seq: 1 }), expect: siteAdmins } },
  },
};
