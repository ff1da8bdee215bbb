import { type SQL, sql } from "drizzle-orm";
import { z } from "zod";
import { queryRows } from "@/db/client";
import { type NotifyLevel, notifyLevels } from "@/db/schema";
import type { Db, DbOrTx } from "@/db/types";
import { MAX_SNOOZE_DAYS, MENTIONS_ONLY_ABOVE_MEMBERS } from "@/lib/limits";
import { AppError } from "../errors";
import { commitAndAnnounce, enqueueEvent } from "../realtime/announce";
import { userChannel } from "../realtime/channels";
import type { Publisher } from "../realtime/publisher";

/**
 * The level a member's conversation notifies at, as SQL over the aliases the
 * caller joined: `m` (members), `c` (conversations), `u` (the member's users
 * row). The member's own choice wins, then the user's default for DMs or
 * groups; groups above 100 members default to mentions.
 */
export function effectiveLevelSql(m = sql.raw("m"), c = sql.raw("c"), u = sql.raw("u")): SQL {
  return sql`coalesce(${m}.notify_level, case when ${c}.kind = 'dm' then ${u}.notify_dm_level
    else coalesce(${u}.notify_group_level,
      case when ${c}.member_count > ${MENTIONS_ONLY_ABOVE_MEMBERS} then 'mentions' else 'all' end) end)`;
}

/** What a member's conversation notifies at, for the list, the header and other devices. */
export type NotificationState = {
  /** The level in force: the member's own, else their default. */
  level: NotifyLevel;
  /** The member's own choice; null follows the default. */
  levelSet: NotifyLevel | null;
  /** ISO time; no pushes or alerts until then. */
  snoozeUntil: string | null;
  /** level === "none": the badge is grey and out of the title count. */
  muted: boolean;
};

export function notificationState(level: NotifyLevel, levelSet: NotifyLevel | null, snoozeUntil: Date | string | null) {
  const until = snoozeUntil ? new Date(snoozeUntil) : null;
  return {
    level,
    levelSet,
    // A snooze that ran out is no snooze: readers never see a past time.
    snoozeUntil: until && until.getTime() > Date.now() ? until.toISOString() : null,
    muted: level === "none",
  } satisfies NotificationState;
}

const levelSchema = z.enum(notifyLevels, "level must be all, mentions or none");

export const setNotificationsInput = z.object({
  conversationId: z.uuid("conversationId must be a UUID"),
  /** "default" clears the member's choice so the user's default applies. */
  level: z.enum([...notifyLevels, "default"], "level must be all, mentions, none or default"),
  /** Absent keeps the snooze as it is; null ends it. */
  snoozeUntil: z.iso
    .datetime({ offset: true, message: "snoozeUntil must be an ISO date-time" })
    .nullish()
    .refine((v) => v == null || new Date(v).getTime() > Date.now(), "snoozeUntil must be in the future")
    .refine(
      (v) => v == null || new Date(v).getTime() <= Date.now() + MAX_SNOOZE_DAYS * 86_400_000,
      `snoozeUntil must be within ${MAX_SNOOZE_DAYS} days`,
    ),
});

export type SetNotificationsInput = z.infer<typeof setNotificationsInput>;

type StateRow = { level: NotifyLevel; level_set: NotifyLevel | null; snooze_until: string | Date | null };

/**
 * Sets one member's notification level and snooze. Private like muting used
 * to be: no member version moves (other members never learn of it); the
 * user's other devices hear `notifications.changed` on their own channel.
 */
export async function setNotifications(
  db: Db,
  userId: string,
  input: SetNotificationsInput,
  deps: { publisher: Publisher },
): Promise<NotificationState> {
  const level = input.level === "default" ? null : input.level;
  const snooze = input.snoozeUntil === undefined ? sql`m.snooze_until` : sql`${input.snoozeUntil ?? null}::timestamptz`;
  return commitAndAnnounce(db, deps.publisher, async (tx) => {
    const [row] = await queryRows<StateRow>(
      tx,
      sql`update members m set notify_level = ${level}, snooze_until = ${snooze}
          from conversations c, users u
          where m.conversation_id = ${input.conversationId}::uuid and m.user_id = ${userId}::uuid
            and m.left_at is null and c.id = m.conversation_id and u.id = m.user_id
          returning ${effectiveLevelSql()} as level, m.notify_level as level_set, m.snooze_until`,
    );
    if (!row) throw new AppError("FORBIDDEN", "You are not a member of this conversation");
    const state = notificationState(row.level, row.level_set, row.snooze_until);
    await enqueueEvent(tx, userChannel(userId), "notifications.changed", {
      conversationId: input.conversationId,
      ...state,
    });
    return state;
  });
}

/** One member's notification state; the caller has checked membership. */
export async function notificationStateOf(
  db: DbOrTx,
  userId: string,
  conversationId: string,
): Promise<NotificationState> {
  const [row] = await queryRows<StateRow>(
    db,
    sql`select ${effectiveLevelSql()} as level, m.notify_level as level_set, m.snooze_until
        from members m join conversations c on c.id = m.conversation_id join users u on u.id = m.user_id
        where m.conversation_id = ${conversationId}::uuid and m.user_id = ${userId}::uuid`,
  );
  if (!row) throw new AppError("FORBIDDEN", "You are not a member of this conversation");
  return notificationState(row.level, row.level_set, row.snooze_until);
}

/** The user's notification defaults and preview choice. */
export type NotificationSettings = {
  dmLevel: NotifyLevel;
  /** "auto": all for groups up to 100 members, mentions above. */
  groupLevel: NotifyLevel | "auto";
  /** Show message text in notifications. */
  preview: boolean;
};

export const updateNotificationSettingsInput = z
  .object({
    dmLevel: levelSchema.optional(),
    groupLevel: z.enum([...notifyLevels, "auto"], "groupLevel must be all, mentions, none or auto").optional(),
    preview: z.boolean("preview must be true or false").optional(),
  })
  .strict();

export async function notificationSettings(db: DbOrTx, userId: string): Promise<NotificationSettings> {
  const [row] = await queryRows<{ dm: NotifyLevel; group: NotifyLevel | null; preview: boolean }>(
    db,
    sql`select notify_dm_level as dm, notify_group_level as group, notify_preview as preview
        from users where id = ${userId}::uuid`,
  );
  if (!row) throw new AppError("UNAUTHORIZED", "Sign in first");
  return { dmLevel: row.dm, groupLevel: row.group ?? "auto", preview: row.preview };
}

/** Changes the user's defaults; every device refetches its list (levels in force may have moved). */
export async function updateNotificationSettings(
  db: Db,
  userId: string,
  input: z.infer<typeof updateNotificationSettingsInput>,
  deps: { publisher: Publisher },
): Promise<NotificationSettings> {
  return commitAndAnnounce(db, deps.publisher, async (tx) => {
    const group = input.groupLevel === "auto" ? null : input.groupLevel;
    await tx.execute(
      sql`update users set
            notify_dm_level = coalesce(${input.dmLevel ?? null}, notify_dm_level),
            notify_group_level = ${input.groupLevel === undefined ? sql`notify_group_level` : sql`${group}`},
            notify_preview = coalesce(${input.preview ?? null}::boolean, notify_preview)
          where id = ${userId}::uuid`,
    );
    const settings = await notificationSettings(tx, userId);
    await enqueueEvent(tx, userChannel(userId), "notification-settings.changed", settings);
    return settings;
  });
}
