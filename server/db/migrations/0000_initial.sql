CREATE TYPE "public"."role" AS ENUM('contributor', 'researcher', 'admin');--> statement-breakpoint
CREATE TYPE "public"."behaviour_kind" AS ENUM('event', 'state');--> statement-breakpoint
CREATE TYPE "public"."ethogram_version_status" AS ENUM('draft', 'published', 'deprecated');--> statement-breakpoint
CREATE TYPE "public"."coding_method" AS ENUM('manual', 'llm_judge', 'classifier', 'rule', 'live');--> statement-breakpoint
CREATE TYPE "public"."coding_status" AS ENUM('proposed', 'accepted', 'rejected');--> statement-breakpoint
CREATE TYPE "public"."observation_status" AS ENUM('submitted', 'triaged', 'coded', 'verified', 'rejected', 'duplicate');--> statement-breakpoint
CREATE TYPE "public"."visibility" AS ENUM('members', 'public');--> statement-breakpoint
CREATE TABLE "events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"type" text NOT NULL,
	"entity_type" text NOT NULL,
	"entity_id" text NOT NULL,
	"actor_id" uuid,
	"payload" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "idempotency_keys" (
	"actor_id" uuid NOT NULL,
	"key" text NOT NULL,
	"route" text NOT NULL,
	"request_hash" text NOT NULL,
	"status" integer NOT NULL,
	"response" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "idempotency_keys_actor_id_key_pk" PRIMARY KEY("actor_id","key")
);
--> statement-breakpoint
CREATE TABLE "revisions" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"entity_type" text NOT NULL,
	"entity_id" text NOT NULL,
	"revision" integer NOT NULL,
	"snapshot" jsonb NOT NULL,
	"actor_id" uuid,
	"reason" text NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "settings" (
	"key" text PRIMARY KEY NOT NULL,
	"value" jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "api_tokens" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"user_id" uuid NOT NULL,
	"name" text NOT NULL,
	"token_hash" text NOT NULL,
	"prefix" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_used_at" timestamp with time zone,
	"revoked_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "sessions" (
	"id_hash" text PRIMARY KEY NOT NULL,
	"user_id" uuid NOT NULL,
	"csrf_secret" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "users" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"email" text NOT NULL,
	"display_name" text NOT NULL,
	"password_hash" text NOT NULL,
	"role" "role" DEFAULT 'contributor' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"disabled_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "behaviours" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"version_id" uuid NOT NULL,
	"key" text NOT NULL,
	"code" text NOT NULL,
	"name" text NOT NULL,
	"category" text NOT NULL,
	"kind" "behaviour_kind" NOT NULL,
	"definition" text NOT NULL,
	"inclusion" jsonb NOT NULL,
	"exclusion" jsonb NOT NULL,
	"examples" jsonb NOT NULL,
	"modifier_sets" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"hotkey" text,
	"colour" text NOT NULL,
	"mappings" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"status" text DEFAULT 'active' NOT NULL,
	"replaced_by" text,
	"position" integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE TABLE "ethogram_versions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"ethogram_id" uuid NOT NULL,
	"number" integer NOT NULL,
	"status" "ethogram_version_status" DEFAULT 'draft' NOT NULL,
	"notes" text DEFAULT '' NOT NULL,
	"categories" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"modifier_sets" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"exclusive_groups" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"revision" integer DEFAULT 1 NOT NULL,
	"created_by" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"published_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "ethograms" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"slug" text NOT NULL,
	"name" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"created_by" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "codings" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"observation_id" uuid NOT NULL,
	"ethogram_version_id" uuid NOT NULL,
	"behaviour_id" uuid NOT NULL,
	"message_id" text,
	"part_index" integer,
	"char_start" integer,
	"char_end" integer,
	"quote" text,
	"modifiers" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"coder_id" uuid NOT NULL,
	"method" "coding_method" DEFAULT 'manual' NOT NULL,
	"confidence" real,
	"rationale" text DEFAULT '' NOT NULL,
	"status" "coding_status" DEFAULT 'accepted' NOT NULL,
	"revision" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"withdrawn_at" timestamp with time zone,
	"withdrawn_by" uuid
);
--> statement-breakpoint
CREATE TABLE "observations" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"title" text NOT NULL,
	"surprise" text NOT NULL,
	"status" "observation_status" DEFAULT 'submitted' NOT NULL,
	"duplicate_of" uuid,
	"visibility" "visibility" DEFAULT 'members' NOT NULL,
	"provider" text NOT NULL,
	"model" text NOT NULL,
	"model_version" text,
	"provenance" jsonb NOT NULL,
	"observed_at" timestamp with time zone NOT NULL,
	"submitted_by" uuid NOT NULL,
	"raw_payload" text NOT NULL,
	"raw_sha256" text NOT NULL,
	"transcript" jsonb NOT NULL,
	"evidence_links" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"tags" text[] DEFAULT '{}'::text[] NOT NULL,
	"search" "tsvector" NOT NULL,
	"revision" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp with time zone,
	"deleted_by" uuid
);
--> statement-breakpoint
ALTER TABLE "api_tokens" ADD CONSTRAINT "api_tokens_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sessions" ADD CONSTRAINT "sessions_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "behaviours" ADD CONSTRAINT "behaviours_version_id_ethogram_versions_id_fk" FOREIGN KEY ("version_id") REFERENCES "public"."ethogram_versions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ethogram_versions" ADD CONSTRAINT "ethogram_versions_ethogram_id_ethograms_id_fk" FOREIGN KEY ("ethogram_id") REFERENCES "public"."ethograms"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ethogram_versions" ADD CONSTRAINT "ethogram_versions_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ethograms" ADD CONSTRAINT "ethograms_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "codings" ADD CONSTRAINT "codings_observation_id_observations_id_fk" FOREIGN KEY ("observation_id") REFERENCES "public"."observations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "codings" ADD CONSTRAINT "codings_ethogram_version_id_ethogram_versions_id_fk" FOREIGN KEY ("ethogram_version_id") REFERENCES "public"."ethogram_versions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "codings" ADD CONSTRAINT "codings_behaviour_id_behaviours_id_fk" FOREIGN KEY ("behaviour_id") REFERENCES "public"."behaviours"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "codings" ADD CONSTRAINT "codings_coder_id_users_id_fk" FOREIGN KEY ("coder_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "codings" ADD CONSTRAINT "codings_withdrawn_by_users_id_fk" FOREIGN KEY ("withdrawn_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "observations" ADD CONSTRAINT "observations_duplicate_of_observations_id_fk" FOREIGN KEY ("duplicate_of") REFERENCES "public"."observations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "observations" ADD CONSTRAINT "observations_submitted_by_users_id_fk" FOREIGN KEY ("submitted_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "observations" ADD CONSTRAINT "observations_deleted_by_users_id_fk" FOREIGN KEY ("deleted_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "events_entity_idx" ON "events" USING btree ("entity_type","entity_id");--> statement-breakpoint
CREATE INDEX "revisions_entity_idx" ON "revisions" USING btree ("entity_type","entity_id","revision");--> statement-breakpoint
CREATE UNIQUE INDEX "api_tokens_hash_unique" ON "api_tokens" USING btree ("token_hash");--> statement-breakpoint
CREATE INDEX "api_tokens_user_idx" ON "api_tokens" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "sessions_user_idx" ON "sessions" USING btree ("user_id");--> statement-breakpoint
CREATE UNIQUE INDEX "users_email_unique" ON "users" USING btree (lower("email"));--> statement-breakpoint
CREATE UNIQUE INDEX "behaviours_version_code_unique" ON "behaviours" USING btree ("version_id","code");--> statement-breakpoint
CREATE INDEX "behaviours_code_idx" ON "behaviours" USING btree ("code");--> statement-breakpoint
CREATE INDEX "behaviours_key_idx" ON "behaviours" USING btree ("key");--> statement-breakpoint
CREATE UNIQUE INDEX "ethogram_versions_number_unique" ON "ethogram_versions" USING btree ("ethogram_id","number");--> statement-breakpoint
CREATE UNIQUE INDEX "ethograms_slug_unique" ON "ethograms" USING btree ("slug");--> statement-breakpoint
CREATE INDEX "codings_observation_idx" ON "codings" USING btree ("observation_id");--> statement-breakpoint
CREATE INDEX "codings_behaviour_idx" ON "codings" USING btree ("behaviour_id");--> statement-breakpoint
CREATE INDEX "observations_observed_at_idx" ON "observations" USING btree ("observed_at" DESC NULLS LAST,"id");--> statement-breakpoint
CREATE INDEX "observations_created_at_idx" ON "observations" USING btree ("created_at" DESC NULLS LAST,"id");--> statement-breakpoint
CREATE INDEX "observations_provider_model_idx" ON "observations" USING btree ("provider","model");--> statement-breakpoint
CREATE INDEX "observations_model_idx" ON "observations" USING btree ("model");--> statement-breakpoint
CREATE INDEX "observations_status_idx" ON "observations" USING btree ("status");--> statement-breakpoint
CREATE INDEX "observations_submitted_by_idx" ON "observations" USING btree ("submitted_by");--> statement-breakpoint
CREATE INDEX "observations_tags_idx" ON "observations" USING gin ("tags");--> statement-breakpoint
CREATE INDEX "observations_search_idx" ON "observations" USING gin ("search");--> statement-breakpoint
CREATE INDEX "observations_raw_sha_idx" ON "observations" USING btree ("raw_sha256");