import express, { type Request, type Response, type Router } from 'express';
import { notFound, type FieldErrors } from '../../../core/errors.ts';
import { authorize } from '../../../core/policy.ts';
import { observationInputSchema, observationPatchSchema } from '../../../observations/observation.input.ts';
import type { ObservationView } from '../../../observations/observation.presenter.ts';
import { getObservation } from '../../../observations/observation.queries.ts';
import { recordObservation } from '../../../observations/record-observation.command.ts';
import { fingerprintDraft } from '../../../observations/similar/draft-fingerprint.ts';
import { findSimilarObservations, type SimilarObservation } from '../../../observations/similar/similar.queries.ts';
import { updateObservation } from '../../../observations/update-observation.command.ts';
import type { AppDeps } from '../../app-deps.ts';
import { ctxOf } from '../../http/request-context.ts';
import { parseId } from '../../http/validate.ts';
import { errorStatus } from '../../http/error-status.ts';
import { flash } from '../form.ts';
import { loadCodePicker } from './code-picker.ts';
import {
  blankFormValues,
  formChoices,
  formFieldErrors,
  formValuesFromBody,
  formValuesFromObservation,
  inputFromForm,
  previewTranscript,
  storedTranscriptText,
  type ObservationFormValues,
  type TranscriptPreview,
} from './observation-form.ts';
import { preparePageLocals } from './page-locals.ts';
import { isInputProblem, parseForm } from './parse-form.ts';
import { refOf } from './observation-ref.ts';

const VIEW = 'pages/observation-form';

/** The observation form: log a new observation (`/observations/new`) and edit one (`/observations/:id/edit`). */
export function observationFormPages(deps: AppDeps): Router {
  const router = express.Router();

  async function formData(
    values: ObservationFormValues,
    errors: FieldErrors,
    extra: { observation?: ObservationView; preview?: TranscriptPreview; similar?: SimilarObservation[] },
  ) {
    const observation = extra.observation;
    const picker = observation ? null : await loadCodePicker(deps.db);
    return {
      title: observation ? `Edit: ${observation.title}` : 'Log an observation',
      heading: observation ? 'Edit observation' : 'Log an observation',
      isNew: !observation,
      action: observation ? `/observations/${observation.id}/edit` : '/observations',
      submitLabel: observation ? 'Save changes' : 'Save observation',
      observation,
      values,
      errors,
      preview: extra.preview,
      similar: extra.similar?.map((item) => ({ ...item, href: `/observations/${item.id}`, percent: Math.round(item.similarity * 100) })),
      codeGroups: picker?.groups ?? [],
      ethogramName: picker?.version.name,
      ethogramVersionNumber: picker?.version.number,
      ...formChoices(values, errors),
    };
  }

  /** Renders the form again after a failed submission, keeping everything typed and placing each message. */
  async function rerender(req: Request, res: Response, err: unknown, values: ObservationFormValues, input: Record<string, unknown>, observation?: ObservationView) {
    if (!isInputProblem(err)) throw err;
    preparePageLocals(req, res, deps);
    const fields = formFieldErrors(err.details?.fields ?? {}, input);
    const data = await formData(values, fields, { ...(observation ? { observation } : {}) });
    res.status(errorStatus[err.id]).render(VIEW, { ...data, formError: err.message });
  }

  async function renderPreview(req: Request, res: Response, values: ObservationFormValues, observation?: ObservationView) {
    preparePageLocals(req, res, deps);
    const preview = previewTranscript(values.transcript, values.transcriptFormat);
    // "This looks like ...": observations whose transcripts resemble the draft, offered before it is saved.
    const similar = await similarToDraft(req, values, observation);
    res.render(VIEW, await formData(values, {}, { preview, similar, ...(observation ? { observation } : {}) }));
  }

  async function similarToDraft(req: Request, values: ObservationFormValues, observation?: ObservationView): Promise<SimilarObservation[]> {
    try {
      const { print } = fingerprintDraft({ transcript: values.transcript, transcriptFormat: values.transcriptFormat, ...(observation ? { excludeId: observation.id } : {}) });
      return print ? await findSimilarObservations(ctxOf(req, deps), print, observation ? { excludeId: observation.id } : {}) : [];
    } catch (error) {
      if (isInputProblem(error)) return []; // an unreadable draft: the preview already says why
      throw error;
    }
  }

  router.get('/observations/new', async (req, res) => {
    authorize(req.auth.actor, 'observation.create');
    res.render(VIEW, await formData(blankFormValues(deps.now()), {}, {}));
  });

  router.post('/observations', async (req, res) => {
    authorize(req.auth.actor, 'observation.create');
    const values = formValuesFromBody(req.body ?? {});
    if (req.body?.intent === 'preview') return renderPreview(req, res, values);
    const { input, errors } = inputFromForm(values);
    try {
      const parsed = parseForm(observationInputSchema, input, errors, 'The observation');
      const observation = await recordObservation(ctxOf(req, deps), parsed, { method: 'form', raw: values.transcript });
      flash(res, observation.warnings?.length ? `Observation saved. Note: ${observation.warnings.join('; ')}` : 'Observation saved.');
      res.redirect(303, `/observations/${observation.id}`);
    } catch (err) {
      await rerender(req, res, err, values, input);
    }
  });

  router.get('/observations/:id/edit', async (req, res) => {
    const observation = await loadEditable(req);
    res.render(VIEW, await formData(formValuesFromObservation(observation), {}, { observation }));
  });

  router.post('/observations/:id/edit', async (req, res) => {
    const observation = await loadEditable(req);
    const values = formValuesFromBody(req.body ?? {});
    if (req.body?.intent === 'preview') return renderPreview(req, res, values, observation);
    const { input, errors } = inputFromForm(values);
    delete input.codes;
    // The form offers the stored transcript as JSON; sending it back unchanged must not re-read (and re-id) it.
    if (values.transcript === storedTranscriptText(observation)) {
      delete input.transcript;
      delete input.transcriptFormat;
    }
    input.revision = Number(values.revision) || undefined;
    try {
      const patch = parseForm(observationPatchSchema, input, errors, 'The observation');
      const updated = await updateObservation(ctxOf(req, deps), observation.id, patch);
      flash(res, 'Changes saved.');
      res.redirect(303, `/observations/${updated.id}`);
    } catch (err) {
      await rerender(req, res, err, values, input, observation);
    }
  });

  async function loadEditable(req: Request): Promise<ObservationView> {
    const id = parseId(req.params.id, 'That observation');
    const observation = await getObservation(ctxOf(req, deps), id);
    if (!observation) throw notFound('That observation');
    authorize(req.auth.actor, 'observation.update', refOf(observation));
    return observation;
  }

  return router;
}
