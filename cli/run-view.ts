import type { RunDetail, StepAttempt, StepExecution } from '../model/run-record.js';
import { formatDuration } from './output.js';

export type RunView = RunDetail & { currentSteps: string[] };

function stepLine(step: StepExecution): string {
  const attempts = step.attempts.length > 1 ? ` after ${step.attempts.length} attempts` : '';
  const status =
    step.status === 'running'
      ? 'running'
      : step.status === 'retrying'
        ? `retrying (attempt ${step.attempts.length} failed)`
        : step.status;
  const last = step.attempts[step.attempts.length - 1];
  const error = last?.error && step.status !== 'succeeded' ? `: ${last.error.message}` : '';
  return `  ${step.stepId.padEnd(20)} ${step.src.padEnd(34)} ${status}${attempts}${step.durationMs !== undefined ? ` in ${formatDuration(step.durationMs)}` : ''}${error}`;
}

const OUTCOMES: Record<NonNullable<StepAttempt['outcome']>, string> = {
  succeeded: 'succeeded',
  failed: 'failed',
  retrying: 'failed, tried again',
  interrupted: 'interrupted (engine stopped)',
};

/** One attempt of a step: its number, outcome, start, duration and error. */
function attemptLine(attempt: StepAttempt): string {
  const outcome = attempt.outcome ? OUTCOMES[attempt.outcome] : 'running';
  const took = attempt.durationMs !== undefined ? ` in ${formatDuration(attempt.durationMs)}` : '';
  const error = attempt.error && attempt.outcome !== 'interrupted' ? `: ${attempt.error.message}` : '';
  return `      attempt ${attempt.attempt}  ${outcome}, started ${attempt.startedAt}${took}${error}`;
}

/** A run and its timeline as the CLI shows it: each step, and each attempt of a step tried more than once. */
export function formatRun(run: RunView): string {
  const lines = [
    `run ${run.id}  ${run.kind} of ${run.objectType} ${run.objectId}  ${run.status.toUpperCase()}`,
    `  requested by ${run.requestedBy} at ${run.createdAt}${run.endedAt ? `, ended at ${run.endedAt}` : ''}`,
    'steps:',
    ...run.steps.flatMap((step) => [
      stepLine(step),
      ...(step.attempts.length > 1 ? step.attempts.map(attemptLine) : []),
    ]),
  ];
  if (run.currentSteps.length) lines.push(`waiting for: ${run.currentSteps.join(', ')}`);
  if (run.error) lines.push(...formatError(run.error));
  lines.push(`operation ids: ${run.steps.length ? run.steps.map((step) => step.operationId).join(', ') : '-'}`);
  return `${lines.join('\n')}\n`;
}

export function formatError(error: { code: string; message: string; action?: string; output?: string }): string[] {
  const lines = [`error (${error.code}): ${error.message}`];
  if (error.action) lines.push(`  what to do: ${error.action}`);
  if (error.output) lines.push('  output:', ...error.output.split('\n').map((line) => `    ${line}`));
  return lines;
}

/** Lines describing what changed in a run since the previous view, for `--wait` and `run watch`. */
export function progressLines(previous: RunView | null, current: RunView): string[] {
  const lines: string[] = [];
  const before = new Map((previous?.steps ?? []).map((step) => [step.jobId, step]));
  for (const step of current.steps) {
    const old = before.get(step.jobId);
    if (old && old.status === step.status && old.attempts.length === step.attempts.length) continue;
    lines.push(stepLine(step).trimStart());
  }
  if (current.status !== 'running' && previous?.status !== current.status) {
    lines.push(`run ${current.id} ${current.status}`);
    if (current.error) lines.push(...formatError(current.error));
  }
  return lines;
}
