import { deleteMessage, deleteMessageInput, editMessage, editMessageInput } from "../../messaging/edit";
import { historyInput, readHistory } from "../../messaging/history";
import { listMentions, listMentionsInput } from "../../messaging/mention-list";
import { messageChanges, messageChangesInput } from "../../messaging/message-changes";
import { listReactors, reactInput, reactionsInput, reactToMessage } from "../../messaging/reactions";
import {
  markDelivered,
  markDeliveredInput,
  markRead,
  markReadInput,
  markUnread,
  markUnreadInput,
} from "../../messaging/read-state";
import { receiptsFor, receiptsInput } from "../../messaging/receipts";
import { searchInput, searchMessages } from "../../messaging/search";
import { removeLinkPreview, removePreviewInput } from "../../previews/remove";
import { sendMessage, sendMessageInput } from "../../messaging/send";
import { createTRPCRouter, memberProcedure, protectedProcedure } from "../trpc";

// send and markRead check membership inside their one statement (refusing with
// NOT_FOUND/FORBIDDEN as memberProcedure does), so they skip its extra query.
// edit, delete and react check it inside their transaction, under the conversation's lock.

export const messageRouter = createTRPCRouter({
  send: protectedProcedure
    .input(sendMessageInput)
    .mutation(({ ctx, input }) => sendMessage(ctx.db, ctx.user.id, input, { publisher: ctx.publisher })),
  // Not memberProcedure: a member who left still reads history up to the moment they left.
  removePreview: protectedProcedure
    .input(removePreviewInput)
    .mutation(({ ctx, input }) => removeLinkPreview(ctx.db, ctx.user.id, input, { publisher: ctx.publisher })),
  // Across the caller's conversations (or one), each inside its visible window.
  search: protectedProcedure.input(searchInput).query(({ ctx, input }) => searchMessages(ctx.db, ctx.user.id, input)),
  history: protectedProcedure.input(historyInput).query(({ ctx, input }) => readHistory(ctx.db, ctx.user.id, input)),
  markRead: protectedProcedure
    .input(markReadInput)
    .mutation(({ ctx, input }) => markRead(ctx.db, { userId: ctx.user.id, ...input }, { publisher: ctx.publisher })),
  markUnread: protectedProcedure
    .input(markUnreadInput)
    .mutation(({ ctx, input }) => markUnread(ctx.db, { userId: ctx.user.id, ...input }, { publisher: ctx.publisher })),
  // A batch across conversations: membership of each is checked in one query by markDelivered.
  markDelivered: protectedProcedure
    .input(markDeliveredInput)
    .mutation(({ ctx, input }) =>
      markDelivered(ctx.db, { userId: ctx.user.id, items: input.items }, { publisher: ctx.publisher }),
    ),
  receipts: memberProcedure
    .input(receiptsInput)
    .query(({ ctx, input }) => receiptsFor(ctx.db, { userId: ctx.user.id, ...input }, { membership: ctx.membership })),
  edit: protectedProcedure
    .input(editMessageInput)
    .mutation(({ ctx, input }) => editMessage(ctx.db, { userId: ctx.user.id, ...input }, { publisher: ctx.publisher })),
  delete: protectedProcedure
    .input(deleteMessageInput)
    .mutation(({ ctx, input }) =>
      deleteMessage(ctx.db, { userId: ctx.user.id, ...input }, { publisher: ctx.publisher }),
    ),
  react: protectedProcedure
    .input(reactInput)
    .mutation(({ ctx, input }) =>
      reactToMessage(ctx.db, { userId: ctx.user.id, ...input }, { publisher: ctx.publisher }),
    ),
  reactions: protectedProcedure
    .input(reactionsInput)
    .query(({ ctx, input }) => listReactors(ctx.db, ctx.user.id, input)),
  /** Catch-up of edits, deletes and reactions after `since` (the conversation's change count). */
  changes: protectedProcedure
    .input(messageChangesInput)
    .query(({ ctx, input }) => messageChanges(ctx.db, ctx.user.id, input)),
  /** The caller's unread mentions across conversations, newest first. */
  mentions: protectedProcedure
    .input(listMentionsInput)
    .query(({ ctx, input }) => listMentions(ctx.db, ctx.user.id, input)),
});
