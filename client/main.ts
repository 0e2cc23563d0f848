/**
 * The client bundle: progressive enhancement only. Every page works without it; each enhancer looks for its
 * own `data-enhance` hook and does nothing when absent. Enhancer modules register themselves on import.
 */
import { runEnhancers } from './registry.ts';
import './enhancers/js-flag.ts';
import './enhancers/transcript-preview.ts';
import './enhancers/span-coder.ts';
import './enhancers/coding-form.ts';
import './enhancers/coding-colours.ts';
import './enhancers/chart.ts';
import './enhancers/confirm-submit.ts';
import './enhancers/ethogram-file.ts';
import './enhancers/import-upload.ts';
import './enhancers/import-progress.ts';
import './enhancers/job-progress.ts';
import './enhancers/live-room.ts';
import './enhancers/review-queue.ts';
import './enhancers/recode-keys.ts';
import './enhancers/similar-check.ts';
import './enhancers/tag-autocomplete.ts';
import './enhancers/technique-params.ts';

function run(): void {
  runEnhancers();
  // Move focus to a form's error summary so keyboard and screen-reader users hear what went wrong.
  document.getElementById('form-error')?.focus();
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', run);
else run();
