CREATE TYPE "public"."job_status" AS ENUM('queued', 'running', 'paused', 'cancelled', 'completed', 'failed');--> statement-breakpoint
CREATE TYPE "public"."classification_item_status" AS ENUM('pending', 'done', 'failed');--> statement-breakpoint
CREATE TYPE "public"."classifier_kind" AS ENUM('llm_judge', 'offline', 'rules');--> statement-breakpoint
CREATE TABLE "jobs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"kind" text NOT NULL,
	"status" "job_status" DEFAULT 'queued' NOT NULL,
	"payload" jsonb NOT NULL,
	"progress" jsonb DEFAULT '{"done":0,"total":0}'::jsonb NOT NULL,
	"summary" jsonb,
	"error" jsonb,
	"cancel_requested" timestamp with time zone,
	"run_after" timestamp with time zone,
	"claimed_by" text,
	"heartbeat_at" timestamp with time zone,
	"attempts" integer DEFAULT 0 NOT NULL,
	"created_by" uuid NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "classification_items" (
	"job_id" uuid NOT NULL,
	"observation_id" uuid NOT NULL,
	"position" integer NOT NULL,
	"status" "classification_item_status" DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"outcome" jsonb,
	"error" jsonb,
	"finished_at" timestamp with time zone,
	CONSTRAINT "classification_items_job_id_observation_id_pk" PRIMARY KEY("job_id","observation_id")
);
--> statement-breakpoint
CREATE TABLE "classifier_trainings" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"classifier_id" uuid NOT NULL,
	"job_id" uuid,
	"example_count" integer NOT NULL,
	"behaviour_count" integer NOT NULL,
	"model" text NOT NULL,
	"metrics" jsonb NOT NULL,
	"trained_by" uuid NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "classifiers" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"kind" "classifier_kind" NOT NULL,
	"name" text NOT NULL,
	"ethogram_version_id" uuid NOT NULL,
	"settings" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"current_training_id" uuid,
	"revision" integer DEFAULT 1 NOT NULL,
	"created_by" uuid NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"archived_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "coding_assignments" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"observation_id" uuid NOT NULL,
	"coder_id" uuid NOT NULL,
	"blind" boolean DEFAULT true NOT NULL,
	"assigned_by" uuid NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"submitted_at" timestamp with time zone,
	"withdrawn_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "codings" ADD COLUMN "classifier_id" uuid;--> statement-breakpoint
ALTER TABLE "codings" ADD COLUMN "job_id" uuid;--> statement-breakpoint
ALTER TABLE "codings" ADD COLUMN "provenance" jsonb;--> statement-breakpoint
ALTER TABLE "codings" ADD COLUMN "reviewed_by" uuid;--> statement-breakpoint
ALTER TABLE "codings" ADD COLUMN "reviewed_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "observations" ADD COLUMN "minhash" integer[];--> statement-breakpoint
ALTER TABLE "observations" ADD COLUMN "minhash_bands" integer[];--> statement-breakpoint
ALTER TABLE "jobs" ADD CONSTRAINT "jobs_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "classification_items" ADD CONSTRAINT "classification_items_job_id_jobs_id_fk" FOREIGN KEY ("job_id") REFERENCES "public"."jobs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "classification_items" ADD CONSTRAINT "classification_items_observation_id_observations_id_fk" FOREIGN KEY ("observation_id") REFERENCES "public"."observations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "classifier_trainings" ADD CONSTRAINT "classifier_trainings_classifier_id_classifiers_id_fk" FOREIGN KEY ("classifier_id") REFERENCES "public"."classifiers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "classifier_trainings" ADD CONSTRAINT "classifier_trainings_job_id_jobs_id_fk" FOREIGN KEY ("job_id") REFERENCES "public"."jobs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "classifier_trainings" ADD CONSTRAINT "classifier_trainings_trained_by_users_id_fk" FOREIGN KEY ("trained_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "classifiers" ADD CONSTRAINT "classifiers_ethogram_version_id_ethogram_versions_id_fk" FOREIGN KEY ("ethogram_version_id") REFERENCES "public"."ethogram_versions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "classifiers" ADD CONSTRAINT "classifiers_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "coding_assignments" ADD CONSTRAINT "coding_assignments_observation_id_observations_id_fk" FOREIGN KEY ("observation_id") REFERENCES "public"."observations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "coding_assignments" ADD CONSTRAINT "coding_assignments_coder_id_users_id_fk" FOREIGN KEY ("coder_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "coding_assignments" ADD CONSTRAINT "coding_assignments_assigned_by_users_id_fk" FOREIGN KEY ("assigned_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "jobs_kind_created_idx" ON "jobs" USING btree ("kind","created_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "jobs_claimable_idx" ON "jobs" USING btree ("created_at") WHERE status IN ('queued', 'running', 'paused');--> statement-breakpoint
CREATE INDEX "classification_items_pending_idx" ON "classification_items" USING btree ("job_id","position") WHERE status = 'pending';--> statement-breakpoint
CREATE INDEX "classifier_trainings_classifier_idx" ON "classifier_trainings" USING btree ("classifier_id","created_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "classifiers_version_idx" ON "classifiers" USING btree ("ethogram_version_id");--> statement-breakpoint
CREATE UNIQUE INDEX "coding_assignments_live_unique" ON "coding_assignments" USING btree ("observation_id","coder_id") WHERE withdrawn_at IS NULL;--> statement-breakpoint
CREATE INDEX "coding_assignments_coder_idx" ON "coding_assignments" USING btree ("coder_id","created_at" DESC NULLS LAST) WHERE withdrawn_at IS NULL;--> statement-breakpoint
ALTER TABLE "codings" ADD CONSTRAINT "codings_classifier_id_classifiers_id_fk" FOREIGN KEY ("classifier_id") REFERENCES "public"."classifiers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "codings" ADD CONSTRAINT "codings_job_id_jobs_id_fk" FOREIGN KEY ("job_id") REFERENCES "public"."jobs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "codings" ADD CONSTRAINT "codings_reviewed_by_users_id_fk" FOREIGN KEY ("reviewed_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "codings_proposed_idx" ON "codings" USING btree ("created_at","id") WHERE status = 'proposed' AND withdrawn_at IS NULL;--> statement-breakpoint
CREATE INDEX "codings_classifier_idx" ON "codings" USING btree ("classifier_id") WHERE classifier_id IS NOT NULL;--> statement-breakpoint
CREATE INDEX "observations_minhash_bands_idx" ON "observations" USING gin ("minhash_bands");