import { setRetention, setRetentionInput } from "../../retention/retention";
import { listConversations, listConversationsInput } from "../../messaging/conversation-list";
import { describeConversation, muteInput } from "../../messaging/conversation";
import { muteConversation, unreadTotal } from "../../messaging/unread";
import { openDm, openDmInput } from "../../messaging/direct";
import { setNotifications, setNotificationsInput } from "../../notifications/levels";
import { searchMembers, searchMembersInput } from "../../messaging/member-search";
import { announceTyping, typingInput } from "../../presence/typing";
import { createTRPCRouter, memberProcedure, protectedProcedure } from "../trpc";

export const conversationRouter = createTRPCRouter({
  setRetention: memberProcedure
    .input(setRetentionInput)
    .mutation(({ ctx, input }) => setRetention(ctx.db, ctx.membership, input)),
  list: protectedProcedure
    .input(listConversationsInput)
    .query(({ ctx, input }) => listConversations(ctx.db, ctx.user.id, input)),
  get: memberProcedure.query(({ ctx }) => describeConversation(ctx.db, ctx.membership)),
  openDm: protectedProcedure
    .input(openDmInput)
    .mutation(({ ctx, input }) => openDm(ctx.db, ctx.user.id, input.userId, { publisher: ctx.publisher })),
  mute: memberProcedure
    .input(muteInput)
    .mutation(({ ctx, input }) =>
      muteConversation(ctx.db, { userId: ctx.user.id, ...input }, { publisher: ctx.publisher }),
    ),
  setNotifications: memberProcedure
    .input(setNotificationsInput)
    .mutation(({ ctx, input }) => setNotifications(ctx.db, ctx.user.id, input, { publisher: ctx.publisher })),
  typing: memberProcedure
    .input(typingInput)
    .mutation(({ ctx, input }) =>
      announceTyping(ctx.db, { publisher: ctx.publisher, membership: ctx.membership, typing: input.typing }),
    ),
  /** Mention autocomplete: members by username or display-name prefix. */
  searchMembers: memberProcedure
    .input(searchMembersInput)
    .query(({ ctx, input }) => searchMembers(ctx.db, ctx.membership, input)),
  /** The app badge: unread in conversations whose level is not none. */
  unreadTotal: protectedProcedure.query(({ ctx }) => unreadTotal(ctx.db, ctx.user.id)),
});
