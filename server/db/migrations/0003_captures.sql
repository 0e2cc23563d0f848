CREATE TABLE "captures" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"source" text NOT NULL,
	"upstream" text NOT NULL,
	"api" text NOT NULL,
	"method" text NOT NULL,
	"path" text NOT NULL,
	"model" text,
	"streamed" boolean DEFAULT false NOT NULL,
	"outcome" text NOT NULL,
	"end_reason" text NOT NULL,
	"http_status" integer,
	"error" text,
	"request_headers" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"request_body" text NOT NULL,
	"response_headers" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"response_body" text NOT NULL,
	"rebuilt" jsonb,
	"transcript" jsonb,
	"usage" jsonb,
	"started_at" timestamp with time zone NOT NULL,
	"first_byte_ms" real,
	"first_token_ms" real,
	"duration_ms" real,
	"key_hash" text,
	"flag" text,
	"captured_by" uuid NOT NULL,
	"observation_id" uuid,
	"search" "tsvector" NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "captures" ADD CONSTRAINT "captures_captured_by_users_id_fk" FOREIGN KEY ("captured_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "captures" ADD CONSTRAINT "captures_observation_id_observations_id_fk" FOREIGN KEY ("observation_id") REFERENCES "public"."observations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "captures_started_idx" ON "captures" USING btree ("started_at" DESC NULLS LAST,"id");--> statement-breakpoint
CREATE INDEX "captures_captured_by_idx" ON "captures" USING btree ("captured_by","started_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "captures_model_idx" ON "captures" USING btree ("model","started_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "captures_upstream_idx" ON "captures" USING btree ("upstream","started_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "captures_flagged_idx" ON "captures" USING btree ("started_at" DESC NULLS LAST) WHERE flag IS NOT NULL;--> statement-breakpoint
CREATE INDEX "captures_search_idx" ON "captures" USING gin ("search");