CREATE TABLE "recode_items" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"ethogram_id" uuid NOT NULL,
	"version_id" uuid NOT NULL,
	"coding_id" uuid NOT NULL,
	"observation_id" uuid NOT NULL,
	"reason" text NOT NULL,
	"from_code" text NOT NULL,
	"candidates" jsonb NOT NULL,
	"status" text DEFAULT 'open' NOT NULL,
	"decision" text,
	"chosen_code" text,
	"new_coding_id" uuid,
	"note" text DEFAULT '' NOT NULL,
	"resolved_by" uuid,
	"resolved_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "behaviours" ADD COLUMN "parent" text;--> statement-breakpoint
ALTER TABLE "behaviours" ADD COLUMN "level" text DEFAULT 'act' NOT NULL;--> statement-breakpoint
ALTER TABLE "behaviours" ADD COLUMN "refers_to" jsonb DEFAULT '[]'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "ethogram_versions" ADD COLUMN "base_version_id" uuid;--> statement-breakpoint
ALTER TABLE "ethogram_versions" ADD COLUMN "migrations" jsonb DEFAULT '[]'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "recode_items" ADD CONSTRAINT "recode_items_ethogram_id_ethograms_id_fk" FOREIGN KEY ("ethogram_id") REFERENCES "public"."ethograms"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "recode_items" ADD CONSTRAINT "recode_items_version_id_ethogram_versions_id_fk" FOREIGN KEY ("version_id") REFERENCES "public"."ethogram_versions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "recode_items" ADD CONSTRAINT "recode_items_coding_id_codings_id_fk" FOREIGN KEY ("coding_id") REFERENCES "public"."codings"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "recode_items" ADD CONSTRAINT "recode_items_observation_id_observations_id_fk" FOREIGN KEY ("observation_id") REFERENCES "public"."observations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "recode_items" ADD CONSTRAINT "recode_items_new_coding_id_codings_id_fk" FOREIGN KEY ("new_coding_id") REFERENCES "public"."codings"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "recode_items" ADD CONSTRAINT "recode_items_resolved_by_users_id_fk" FOREIGN KEY ("resolved_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "recode_items_version_coding_unique" ON "recode_items" USING btree ("version_id","coding_id");--> statement-breakpoint
CREATE INDEX "recode_items_open_idx" ON "recode_items" USING btree ("ethogram_id","created_at","id") WHERE status = 'open';--> statement-breakpoint
CREATE INDEX "recode_items_coding_idx" ON "recode_items" USING btree ("coding_id");