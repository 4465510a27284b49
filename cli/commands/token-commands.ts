import type { Command } from 'commander';
import { commandGroup } from '../command-group.js';
import { ValidationError } from '../../errors/index.js';
import { isRole, ROLES, type TokenRecord } from '../../model/token-store.js';
import { withClient } from '../client-command.js';
import { formatTable, print } from '../output.js';

/** `dvx token create|list|rm`: API tokens (admin only). */
export function registerTokenCommands(program: Command): void {
  const token = commandGroup(program, 'token');

  token
    .command('create')
    .description('Create a token; its secret is printed once and cannot be shown again')
    .requiredOption('--role <role>', `what the token may do: ${ROLES.join(', ')}`)
    .option('--name <name>', 'a name, recorded in runs and in the audit log (default: the role)')
    .action(
      withClient<{ role: string; name?: string }, []>(async ({ client, options }) => {
        if (!isRole(options.role)) {
          throw new ValidationError(
            `Unknown role "${options.role}": use ${ROLES.join(', ')}.`,
            [{ pointer: '/role', message: `must be one of ${ROLES.join(', ')}` }],
            { action: `Use --role ${ROLES.join('|')}.` },
          );
        }
        const answer = await client.post<{ token: TokenRecord; secret: string }>('/tokens', {
          role: options.role,
          ...(options.name ? { name: options.name } : {}),
        });
        print(options.json, answer, () => `${answer.secret}\n`);
        if (!options.json)
          process.stderr.write(
            `created ${answer.token.role} token ${answer.token.id} (${answer.token.name}); keep the secret above, it is not shown again\n`,
          );
      }),
    );

  token
    .command('list')
    .description('List tokens (never their secrets)')
    .action(
      withClient<object, []>(async ({ client, options }) => {
        const answer = await client.get<{ tokens: TokenRecord[] }>('/tokens');
        print(options.json, answer, () =>
          formatTable(answer.tokens, [
            { header: 'id', value: (t) => t.id },
            { header: 'name', value: (t) => t.name },
            { header: 'role', value: (t) => t.role },
            { header: 'created', value: (t) => t.createdAt },
          ]),
        );
      }),
    );

  token
    .command('rm <id>')
    .description('Revoke a token: it stops working at once')
    .action(
      withClient<object, [string]>(async ({ client, options }, id) => {
        const answer = await client.delete<{ token: TokenRecord }>(`/tokens/${encodeURIComponent(id)}`);
        print(
          options.json,
          answer,
          () => `revoked ${answer.token.role} token ${answer.token.id} (${answer.token.name})\n`,
        );
      }),
    );
}
