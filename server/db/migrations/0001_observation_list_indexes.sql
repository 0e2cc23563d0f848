DROP INDEX "observations_observed_at_idx";--> statement-breakpoint
DROP INDEX "observations_created_at_idx";--> statement-breakpoint
DROP INDEX "observations_model_idx";--> statement-breakpoint
DROP INDEX "observations_status_idx";--> statement-breakpoint
CREATE INDEX "observations_listed_observed_idx" ON "observations" USING btree ("observed_at" DESC NULLS LAST,"id") WHERE deleted_at IS NULL;--> statement-breakpoint
CREATE INDEX "observations_public_observed_idx" ON "observations" USING btree ("observed_at" DESC NULLS LAST,"id") WHERE deleted_at IS NULL AND visibility = 'public';--> statement-breakpoint
CREATE INDEX "observations_listed_created_idx" ON "observations" USING btree ("created_at" DESC NULLS LAST,"id") WHERE deleted_at IS NULL;--> statement-breakpoint
CREATE INDEX "observations_deleted_idx" ON "observations" USING btree ("deleted_at" DESC NULLS LAST) WHERE deleted_at IS NOT NULL;--> statement-breakpoint
CREATE INDEX "observations_model_observed_idx" ON "observations" USING btree ("model","observed_at" DESC NULLS LAST,"id") WHERE deleted_at IS NULL;--> statement-breakpoint
CREATE INDEX "observations_status_observed_idx" ON "observations" USING btree ("status","observed_at" DESC NULLS LAST,"id") WHERE deleted_at IS NULL;