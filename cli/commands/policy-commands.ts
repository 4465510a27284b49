import { InvalidArgumentError, type Command } from 'commander';
import { withClient } from '../client-command.js';
import { commandGroup } from '../command-group.js';
import { formatTable, print } from '../output.js';

interface PolicyFireView {
  at: string;
  objectType: string;
  objectId: string;
  outcome: string;
  runId?: string;
  reason?: string;
  deleted?: { snapshotId: string }[];
  kept?: { snapshotId: string; reasons: string[] }[];
}

interface PolicyView {
  id: string;
  name: string;
  type: string;
  schedule: { cron: string; timeZone: string };
  retention: { keepCount: number | null; keepDays: number | null } | null;
  paused: boolean;
  targets: { type: string; id: string; name: string | null; schedulerId: string; nextFires: string[] }[];
  nextFire: string | null;
  lastFires: PolicyFireView[];
}

interface PolicyAnswer {
  policy: PolicyView;
  warnings: string[];
}

const path = (ref: string, action = '') => `/policies/${encodeURIComponent(ref)}${action}`;

function count(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0) throw new InvalidArgumentError('a whole number >= 0');
  return parsed;
}

function days(value: string): number {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed <= 0) throw new InvalidArgumentError('a number of days > 0');
  return parsed;
}

function rules(options: { keepCount?: number; keepDays?: number }) {
  return options.keepCount === undefined && options.keepDays === undefined
    ? {}
    : {
        retention: {
          ...(options.keepCount !== undefined ? { keepCount: options.keepCount } : {}),
          ...(options.keepDays !== undefined ? { keepDays: options.keepDays } : {}),
        },
      };
}

function schedule(options: { cron?: string; tz?: string }) {
  return options.cron ? { schedule: { cron: options.cron, ...(options.tz ? { timeZone: options.tz } : {}) } } : {};
}

const describeRules = (policy: PolicyView) =>
  policy.retention
    ? [
        policy.retention.keepCount !== null ? `newest ${policy.retention.keepCount}` : '',
        policy.retention.keepDays !== null ? `${policy.retention.keepDays} d` : '',
      ]
        .filter(Boolean)
        .join(' + ')
    : '';

function formatFire(fire: PolicyFireView): string {
  const what = fire.runId
    ? `run ${fire.runId}`
    : fire.outcome === 'pruned'
      ? `deleted ${fire.deleted?.length ?? 0}, kept ${fire.kept?.length ?? 0}`
      : (fire.reason ?? '');
  return `  ${fire.at}  ${fire.objectType}/${fire.objectId}  ${fire.outcome}  ${what}\n`;
}

function formatPolicy(answer: PolicyAnswer): string {
  const { policy } = answer;
  const lines = [
    `${policy.name} (${policy.id})`,
    `  type      ${policy.type}`,
    `  schedule  ${policy.schedule.cron}  (${policy.schedule.timeZone})`,
    ...(policy.retention ? [`  keeps     ${describeRules(policy)}`] : []),
    `  state     ${policy.paused ? 'paused' : 'active'}`,
    `  applied to${policy.targets.length ? '' : '  nothing'}`,
    ...policy.targets.map(
      (target) =>
        `    ${target.type} ${target.name ?? '?'} (${target.id})  next: ${policy.paused ? 'paused' : target.nextFires.join(', ') || '-'}`,
    ),
  ];
  let text = `${lines.join('\n')}\n`;
  if (policy.lastFires.length) {
    text += '  last fires\n';
    for (const fire of policy.lastFires.slice(0, 10)) {
      text += formatFire(fire);
      if (fire.outcome === 'pruned') {
        for (const deleted of fire.deleted ?? []) text += `      deleted ${deleted.snapshotId}\n`;
        for (const kept of fire.kept ?? []) text += `      kept    ${kept.snapshotId}: ${kept.reasons.join('; ')}\n`;
      }
    }
  }
  return text;
}

function printAnswer(json: boolean | undefined, answer: PolicyAnswer, human: () => string): void {
  print(json, answer, human);
  if (!json) for (const warning of answer.warnings) process.stderr.write(`warning: ${warning}\n`);
}

function showAfter(json: boolean | undefined, answer: PolicyAnswer, verb: string): void {
  printAnswer(
    json,
    answer,
    () =>
      `${verb} policy ${answer.policy.name}${answer.policy.nextFire ? `; next fire ${answer.policy.nextFire}` : ''}\n`,
  );
}

/** `dvx policy create|list|show|update|rm|apply|unapply|pause|resume`. */
export function registerPolicyCommands(program: Command): void {
  const policy = commandGroup(program, 'policy');

  policy
    .command('create <name>')
    .description('Create a policy (and apply it with --apply)')
    .requiredOption('--type <type>', 'SNAPSYNC (dSources), VDB_SNAPSHOT, REFRESH (VDBs) or RETENTION (both)')
    .option('--cron <expr>', 'when it fires: 5 cron fields, or 6 with seconds first (RETENTION default: "0 * * * *")')
    .option('--tz <zone>', 'IANA time zone the cron is read in (default: UTC)')
    .option('--keep-count <n>', 'RETENTION: keep the newest N snapshots', count)
    .option('--keep-days <d>', 'RETENTION: keep every snapshot younger than D days', days)
    .option('--apply <object...>', 'dSources or VDBs to apply it to')
    .action(
      withClient<
        { type: string; cron?: string; tz?: string; keepCount?: number; keepDays?: number; apply?: string[] },
        [string]
      >(async ({ client, options }, name) => {
        const answer = await client.post<PolicyAnswer>('/policies', {
          name,
          type: options.type.toUpperCase(),
          ...schedule(options),
          ...rules(options),
          ...(options.apply ? { targets: options.apply } : {}),
        });
        showAfter(options.json, answer, 'created');
      }),
    );

  policy
    .command('list')
    .description('List policies with their next fire')
    .action(
      withClient<object, []>(async ({ client, options }) => {
        const answer = await client.get<{ policies: PolicyView[] }>('/policies');
        print(options.json, answer, () =>
          formatTable(answer.policies, [
            { header: 'name', value: (p) => p.name },
            { header: 'type', value: (p) => p.type },
            { header: 'schedule', value: (p) => `${p.schedule.cron} (${p.schedule.timeZone})` },
            { header: 'keeps', value: (p) => describeRules(p) || null },
            { header: 'applied to', value: (p) => p.targets.map((t) => t.name ?? t.id).join(', ') || null },
            { header: 'state', value: (p) => (p.paused ? 'paused' : 'active') },
            { header: 'next fire', value: (p) => p.nextFire },
            {
              header: 'last fire',
              value: (p) => (p.lastFires[0] ? `${p.lastFires[0].at} ${p.lastFires[0].outcome}` : null),
            },
          ]),
        );
      }),
    );

  policy
    .command('show <policy>')
    .description(
      'Show a policy: where it applies, its next fire times, its last fires (retention: what was deleted and kept, and why)',
    )
    .action(
      withClient<object, [string]>(async ({ client, options }, ref) => {
        const answer = await client.get<PolicyAnswer>(path(ref));
        printAnswer(options.json, answer, () => formatPolicy(answer));
      }),
    );

  policy
    .command('update <policy>')
    .description("Change a policy's schedule or retention rules")
    .option('--cron <expr>', 'new cron expression')
    .option('--tz <zone>', 'new IANA time zone (with --cron)')
    .option('--keep-count <n>', 'RETENTION: keep the newest N snapshots', count)
    .option('--keep-days <d>', 'RETENTION: keep every snapshot younger than D days', days)
    .action(
      withClient<{ cron?: string; tz?: string; keepCount?: number; keepDays?: number }, [string]>(
        async ({ client, options }, ref) => {
          if (options.tz && !options.cron)
            throw new InvalidArgumentError('--tz needs --cron (give the schedule whole)');
          const answer = await client.request<PolicyAnswer>('PATCH', path(ref), {
            ...schedule(options),
            ...rules(options),
          });
          showAfter(options.json, answer, 'updated');
        },
      ),
    );

  policy
    .command('rm <policy>')
    .description('Delete a policy and its schedules')
    .action(
      withClient<object, [string]>(async ({ client, options }, ref) => {
        const answer = await client.delete<{ deleted: PolicyView }>(path(ref));
        print(options.json, answer, () => `deleted policy ${answer.deleted.name}\n`);
      }),
    );

  for (const [verb, description] of [
    ['apply', 'Apply a policy to a dSource or VDB'],
    ['unapply', 'Take a policy off a dSource or VDB'],
  ] as const) {
    policy
      .command(`${verb} <policy> <object>`)
      .description(description)
      .action(
        withClient<object, [string, string]>(async ({ client, options }, ref, object) => {
          const answer = await client.post<PolicyAnswer>(path(ref, `/${verb}`), { object });
          showAfter(options.json, answer, verb === 'apply' ? 'applied' : 'unapplied');
        }),
      );
  }

  for (const [verb, description] of [
    ['pause', 'Pause a policy: nothing fires until it is resumed'],
    ['resume', 'Resume a paused policy'],
  ] as const) {
    policy
      .command(`${verb} <policy>`)
      .description(description)
      .action(
        withClient<object, [string]>(async ({ client, options }, ref) => {
          const answer = await client.post<PolicyAnswer>(path(ref, `/${verb}`));
          showAfter(options.json, answer, verb === 'pause' ? 'paused' : 'resumed');
        }),
      );
  }
}
