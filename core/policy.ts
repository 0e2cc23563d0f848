import { hasRole, type Actor } from '../accounts/actor.ts';
import type { Visibility } from '../observations/observation.schema.ts';
import { AppError } from './errors.ts';

/**
 * The one authorization policy: every HTTP route, page and socket handler asks `authorize` before acting.
 * Rules are data: one function per action, reading the actor and (where it matters) the resource.
 */
export interface ObservationRef { submittedBy: string; visibility: Visibility; deletedAt: Date | null }
export interface CodingRef { coderId: string }
export interface EthogramVersionRef { status: 'draft' | 'published' | 'deprecated' }
export interface UserRef { id: string }
export interface CaptureRef { capturedBy: string }
export interface ImportRef { userId: string }
/** A job as the rules see it: who started it and, where known, its kind (experiment runs are readable like experiments). */
export interface JobRef { createdBy: string; kind?: string }
export interface AssignmentRef { coderId: string }
/**
 * A live session as the rules see it: its owner, the actor's role in it (null: not a participant, or removed)
 * and whether it still takes events.
 */
export interface LiveSessionRef { createdBy: string; role: 'driver' | 'observer' | 'viewer' | null; status: 'open' | 'ended' | 'filed' }
/** An experiment as the rules see it: who created it. */
export interface ExperimentRef { createdBy: string }
/** Whether the actor has an open blind assignment on the observation (then others' codings stay hidden). */
export interface BlindRef { blindAssignmentOpen: boolean }

type Rules = {
  'ethogram.read': (a: Actor, r: EthogramVersionRef) => boolean;
  'ethogram.create': (a: Actor) => boolean;
  'ethogram.edit': (a: Actor, r: EthogramVersionRef) => boolean;
  'ethogram.publish': (a: Actor, r: EthogramVersionRef) => boolean;
  'ethogram.deprecate': (a: Actor, r: EthogramVersionRef) => boolean;
  'ethogram.suggest': (a: Actor) => boolean;
  'ethogram.recode': (a: Actor) => boolean;
  'observation.list': (a: Actor) => boolean;
  'observation.export': (a: Actor) => boolean;
  'observation.read': (a: Actor, r: ObservationRef) => boolean;
  'observation.create': (a: Actor) => boolean;
  'observation.update': (a: Actor, r: ObservationRef) => boolean;
  'observation.triage': (a: Actor, r: ObservationRef) => boolean;
  'observation.delete': (a: Actor, r: ObservationRef) => boolean;
  'observation.restore': (a: Actor, r: ObservationRef) => boolean;
  'observation.history': (a: Actor, r: ObservationRef) => boolean;
  'observation.tag': (a: Actor, r: ObservationRef) => boolean;
  'coding.create': (a: Actor, r: ObservationRef) => boolean;
  'coding.withdraw': (a: Actor, r: CodingRef) => boolean;
  'capture.create': (a: Actor) => boolean;
  'capture.list': (a: Actor) => boolean;
  'capture.listAll': (a: Actor) => boolean;
  'capture.read': (a: Actor, r: CaptureRef) => boolean;
  'capture.promote': (a: Actor, r: CaptureRef) => boolean;
  'import.create': (a: Actor) => boolean;
  'import.list': (a: Actor) => boolean;
  'import.read': (a: Actor, r: ImportRef) => boolean;
  'classifier.list': (a: Actor) => boolean;
  'classifier.manage': (a: Actor) => boolean;
  'classification.run': (a: Actor, r: ObservationRef) => boolean;
  'classification.runMany': (a: Actor) => boolean;
  'job.read': (a: Actor, r: JobRef) => boolean;
  'job.control': (a: Actor, r: JobRef) => boolean;
  'coding.review': (a: Actor, r: ObservationRef) => boolean;
  'coding.reviewQueue': (a: Actor) => boolean;
  'coding.seeOthers': (a: Actor, r: BlindRef) => boolean;
  'assignment.manage': (a: Actor) => boolean;
  'assignment.submit': (a: Actor, r: AssignmentRef) => boolean;
  'agreement.view': (a: Actor) => boolean;
  'analysis.read': (a: Actor) => boolean;
  'live.create': (a: Actor) => boolean;
  'live.list': (a: Actor) => boolean;
  'live.join': (a: Actor, r: LiveSessionRef) => boolean;
  'live.prompt': (a: Actor, r: LiveSessionRef) => boolean;
  'live.code': (a: Actor, r: LiveSessionRef) => boolean;
  'live.comment': (a: Actor, r: LiveSessionRef) => boolean;
  'live.end': (a: Actor, r: LiveSessionRef) => boolean;
  'live.manage': (a: Actor, r: LiveSessionRef) => boolean;
  'live.adjudicate': (a: Actor, r: LiveSessionRef) => boolean;
  'model.list': (a: Actor) => boolean;
  'model.register': (a: Actor) => boolean;
  'model.check': (a: Actor) => boolean;
  'experiment.list': (a: Actor) => boolean;
  'experiment.read': (a: Actor, r: ExperimentRef) => boolean;
  'experiment.create': (a: Actor) => boolean;
  'experiment.run': (a: Actor, r: ExperimentRef) => boolean;
  'experiment.link': (a: Actor, r: ExperimentRef) => boolean;
  'token.manage': (a: Actor) => boolean;
  'user.manage': (a: Actor) => boolean;
  'trash.view': (a: Actor) => boolean;
};
export type Action = keyof Rules;

const isOwner = (a: Actor, r: ObservationRef) => a.kind === 'user' && a.id === r.submittedBy;
const canSee = (a: Actor, r: ObservationRef) =>
  r.deletedAt ? hasRole(a, 'admin') : r.visibility === 'public' || a.kind === 'user';

const rules: Rules = {
  'ethogram.read': (a, r) => r.status !== 'draft' || hasRole(a, 'researcher'),
  'ethogram.create': (a) => hasRole(a, 'researcher'),
  // The role is the whole rule: that published versions never change is a domain rule (the commands answer
  // `immutable`), so a researcher learns why an edit failed rather than being told "not allowed".
  'ethogram.edit': (a) => hasRole(a, 'researcher'),
  'ethogram.publish': (a) => hasRole(a, 'researcher'),
  'ethogram.deprecate': (a) => hasRole(a, 'researcher'),
  // Suggested behaviours cluster every uncoded observation's text: taxonomy work, for researchers.
  'ethogram.suggest': (a) => hasRole(a, 'researcher'),
  // Deciding the recode queue is coding: researchers, as for any coding that counts.
  'ethogram.recode': (a) => hasRole(a, 'researcher'),
  'observation.list': () => true,
  // Open data: anyone may export the whole of what they may list (anonymous visitors: public observations only).
  'observation.export': () => true,
  'observation.read': canSee,
  'observation.create': (a) => a.kind === 'user',
  'observation.update': (a, r) => canSee(a, r) && !r.deletedAt && (isOwner(a, r) || hasRole(a, 'admin')),
  'observation.triage': (a, r) => canSee(a, r) && !r.deletedAt && hasRole(a, 'researcher'),
  'observation.delete': (a, r) => !r.deletedAt && (isOwner(a, r) || hasRole(a, 'admin')),
  'observation.restore': (a, r) => !!r.deletedAt && hasRole(a, 'admin'),
  'observation.history': canSee,
  'observation.tag': (a, r) => canSee(a, r) && !r.deletedAt && (isOwner(a, r) || hasRole(a, 'researcher')),
  'coding.create': (a, r) => canSee(a, r) && !r.deletedAt && hasRole(a, 'researcher'),
  'coding.withdraw': (a, r) => hasRole(a, 'researcher') && (a.id === r.coderId || hasRole(a, 'admin')),
  // Captures are raw model traffic (prompts people did not write for publication): the capturer sees their own,
  // researchers see the whole field log to study it, nobody else.
  'capture.create': (a) => a.kind === 'user',
  'capture.list': (a) => a.kind === 'user',
  'capture.listAll': (a) => hasRole(a, 'researcher'),
  'capture.read': (a, r) => a.kind === 'user' && (a.id === r.capturedBy || hasRole(a, 'researcher')),
  'capture.promote': (a, r) => a.kind === 'user' && (a.id === r.capturedBy || hasRole(a, 'researcher')),
  // An import (its file name, its failures) is its uploader's business; admins see every import to help.
  'import.create': (a) => a.kind === 'user',
  'import.list': (a) => a.kind === 'user',
  'import.read': (a, r) => a.kind === 'user' && (a.id === r.userId || hasRole(a, 'admin')),
  // Classifiers code against the ethogram: configuring and running them, and reviewing what they propose, is
  // researchers' work. A job's page (its progress, failures, spend) is for researchers; controlling it (cancel,
  // pause, resume) for the one who started it and admins.
  'classifier.list': (a) => hasRole(a, 'researcher'),
  'classifier.manage': (a) => hasRole(a, 'researcher'),
  'classification.run': (a, r) => canSee(a, r) && !r.deletedAt && hasRole(a, 'researcher'),
  'classification.runMany': (a) => hasRole(a, 'researcher'),
  // An experiment's run is followed by whoever may read the experiment (anyone signed in); other jobs by researchers.
  'job.read': (a, r) => (a.kind === 'user' && r.kind === 'experiment.run') || hasRole(a, 'researcher'),
  'job.control': (a, r) => hasRole(a, 'researcher') && (a.id === r.createdBy || hasRole(a, 'admin')),
  'coding.review': (a, r) => canSee(a, r) && !r.deletedAt && hasRole(a, 'researcher'),
  'coding.reviewQueue': (a) => hasRole(a, 'researcher'),
  // Blind coding: while a coder's blind assignment is open, others' codings of that observation stay hidden.
  'coding.seeOthers': (_a, r) => !r.blindAssignmentOpen,
  'assignment.manage': (a) => hasRole(a, 'researcher'),
  'assignment.submit': (a, r) => a.kind === 'user' && a.id === r.coderId,
  'agreement.view': (a) => hasRole(a, 'researcher'),
  // Analyses are aggregates over what the reader may see anyway (public observations for anonymous visitors):
  // anyone may read them; the scope, not this rule, decides which observations count.
  'analysis.read': () => true,
  // Live sessions: the role a person holds in the session decides what they may send (drivers prompt and stop
  // the model, observers code, everyone present comments); the owner (or an admin) manages people and files the
  // result. Opening one is researchers' work; anyone signed in can be invited into one.
  'live.create': (a) => hasRole(a, 'researcher'),
  'live.list': (a) => a.kind === 'user',
  'live.join': (a, r) => a.kind === 'user' && (r.role !== null || a.id === r.createdBy || hasRole(a, 'admin')),
  'live.prompt': (a, r) => a.kind === 'user' && r.role === 'driver' && r.status === 'open',
  'live.code': (a, r) => a.kind === 'user' && r.role === 'observer' && r.status === 'open',
  'live.comment': (a, r) => a.kind === 'user' && r.role !== null && r.status === 'open',
  'live.end': (a, r) => a.kind === 'user' && r.status === 'open' && (a.id === r.createdBy || r.role === 'driver'),
  'live.manage': (a, r) => a.kind === 'user' && (a.id === r.createdBy || hasRole(a, 'admin')),
  'live.adjudicate': (a, r) => a.kind === 'user' && r.status === 'ended' && (a.id === r.createdBy || hasRole(a, 'admin')),
  // Model folders live on the machines' disks: registering one (a path the server reads) is an admin's act; anyone
  // signed in may see which models there are. Experiments are research: researchers create and run them (any
  // researcher may re-run or link one, as they may code any observation); everyone signed in may read them.
  'model.list': (a) => a.kind === 'user',
  'model.register': (a) => hasRole(a, 'admin'),
  'model.check': (a) => hasRole(a, 'admin'),
  'experiment.list': (a) => a.kind === 'user',
  'experiment.read': (a) => a.kind === 'user',
  'experiment.create': (a) => hasRole(a, 'researcher'),
  'experiment.run': (a) => hasRole(a, 'researcher'),
  'experiment.link': (a) => hasRole(a, 'researcher'),
  'token.manage': (a) => a.kind === 'user',
  'user.manage': (a) => hasRole(a, 'admin'),
  'trash.view': (a) => hasRole(a, 'admin'),
};

/** True when the actor may take the action on the resource. */
export function can<A extends Action>(actor: Actor, action: A, ...resource: Parameters<Rules[A]> extends [Actor, infer R] ? [R] : []): boolean {
  return (rules[action] as (a: Actor, r?: unknown) => boolean)(actor, resource[0]);
}

/**
 * Throws unless the actor may act: `unauthenticated` for anonymous visitors (so they are asked to sign in),
 * `forbidden` for signed-in people who lack the right.
 */
export function authorize<A extends Action>(actor: Actor, action: A, ...resource: Parameters<Rules[A]> extends [Actor, infer R] ? [R] : []): void {
  if (can(actor, action, ...resource)) return;
  if (actor.kind === 'anonymous') throw new AppError('unauthenticated', 'Sign in to do that.');
  throw new AppError('forbidden', `Your role (${actor.role}) does not allow ${describe(action)}.`);
}

function describe(action: Action): string {
  const [thing, verb] = action.split('.') as [string, string];
  return `${verb} on this ${thing}`;
}
