// Lengths the server enforces and the UI shows; both import them from here so
// a counter in the browser never disagrees with the API. Counted in code points.
export const MAX_BODY_CHARS = 4000;
export const MAX_DISPLAY_NAME_CHARS = 64;
export const MAX_GROUP_NAME_CHARS = 100;
export const MAX_ANNOUNCEMENT_CHARS = 2000;
export const MIN_USERNAME_CHARS = 3;
export const MAX_USERNAME_CHARS = 32;
export const MAX_USER_SEARCH_CHARS = 64;
/** Calls in one tRPC batch: the browser's batch link sends no more, the API runs no more. */
export const MAX_TRPC_BATCH = 20;
/** Groups above this many members notify on mentions only unless the user chose otherwise. */
export const MENTIONS_ONLY_ABOVE_MEMBERS = 100;
/** The furthest a conversation can be snoozed ahead. */
export const MAX_SNOOZE_DAYS = 366;
/** Push subscription fields as browsers make them, with room to spare. */
export const MAX_PUSH_ENDPOINT_CHARS = 2048;
export const MAX_PUSH_KEY_CHARS = 256;
/** Distinct emoji under one message; a reaction with a new emoji beyond it is refused. */
export const MAX_REACTION_EMOJI_PER_MESSAGE = 20;
/** A reaction is one emoji grapheme (ZWJ families are long) or a `:short_name:`. */
export const MAX_REACTION_CHARS = 32;
export const MAX_REACTORS_PAGE = 100;
export const MAX_MENTION_QUERY_CHARS = 32;
export const MAX_MENTION_SUGGESTIONS = 10;
export const MAX_CHANGES_PAGE = 200;
export const MAX_MENTIONS_PAGE = 50;
/** Devices one user may have push turned on in; subscribing another forgets the oldest. */
export const MAX_PUSH_SUBSCRIPTIONS_PER_USER = 20;
/** Characters of message text a push carries. */
export const MAX_PUSH_PREVIEW_CHARS = 140;
/** Files one message may carry. */
export const MAX_ATTACHMENTS = 10;
/** Longest stored file name (code points); longer names are cut, keeping the extension. */
export const MAX_FILE_NAME_CHARS = 200;
/** Raster images the browser may show inline; everything else is a download. */
export const INLINE_IMAGE_TYPES = ["image/png", "image/jpeg", "image/webp", "image/gif"] as const;
/** Longest message.search query (code points). */
export const MAX_SEARCH_QUERY_CHARS = 200;
/** Results per message.search page, and how deep paging goes. */
export const MAX_SEARCH_PAGE = 50;
export const MAX_SEARCH_OFFSET = 1000;
/** Invite codes are generated at 22 characters; anything much longer is not one. */
export const MAX_INVITE_CODE_CHARS = 64;
export const MAX_INVITE_USES = 1000;
export const MAX_INVITE_HOURS = 24 * 90;
/** An avatar upload (the browser shrinks a photo first), before the server resizes it to AVATAR_PIXELS square. */
export const MAX_AVATAR_UPLOAD_BYTES = 160 * 1024;
export const AVATAR_PIXELS = 128;
export const MAX_RETENTION_DAYS = 36500;
