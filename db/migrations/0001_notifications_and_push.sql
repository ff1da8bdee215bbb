CREATE TABLE "push_subscriptions" (
	"endpoint" text PRIMARY KEY NOT NULL,
	"user_id" uuid NOT NULL,
	"p256dh" text NOT NULL,
	"auth" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "members" ADD COLUMN "notify_level" text;--> statement-breakpoint
ALTER TABLE "members" ADD COLUMN "snooze_until" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "outbox" ADD COLUMN "push_planned_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "notify_dm_level" text DEFAULT 'all' NOT NULL;--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "notify_group_level" text;--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "notify_preview" boolean DEFAULT true NOT NULL;--> statement-breakpoint
ALTER TABLE "push_subscriptions" ADD CONSTRAINT "push_subscriptions_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "push_subscriptions_user_idx" ON "push_subscriptions" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "outbox_push_pending_idx" ON "outbox" USING btree ("id") WHERE "outbox"."event" = 'message.new' and "outbox"."push_planned_at" is null;--> statement-breakpoint
-- Muted conversations keep notifying nobody; messages sent before the upgrade are not pushed.
UPDATE "members" SET "notify_level" = 'none' WHERE "muted";--> statement-breakpoint
UPDATE "outbox" SET "push_planned_at" = now() WHERE "event" = 'message.new';--> statement-breakpoint
ALTER TABLE "members" DROP COLUMN "muted";--> statement-breakpoint
ALTER TABLE "members" ADD CONSTRAINT "members_notify_level_ck" CHECK ("members"."notify_level" in ('all', 'mentions', 'none'));--> statement-breakpoint
ALTER TABLE "users" ADD CONSTRAINT "users_notify_dm_level_ck" CHECK ("users"."notify_dm_level" in ('all', 'mentions', 'none'));--> statement-breakpoint
ALTER TABLE "users" ADD CONSTRAINT "users_notify_group_level_ck" CHECK ("users"."notify_group_level" in ('all', 'mentions', 'none'));