import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ChainableCommander, Redis } from 'ioredis';
import { DvxError } from '../../errors/index.js';

/** A value the scripts take as an argument. */
export type ScriptArg = string | number;

/**
 * One Lua script of this folder (`<name>.lua`, next to this module both in the sources and in dist/, where
 * scripts/copy-assets.mjs copies it), read once and defined once per connection as the custom command
 * `dvx<Name>` (ioredis sends EVALSHA and falls back to EVAL). Each file opens with what its KEYS and ARGV mean.
 * Every call passes its own number of keys, so scripts whose lock lists vary take their keys the same way.
 */
export class RedisScript {
  readonly command: string;
  private source: string | undefined;

  constructor(readonly name: string) {
    this.command = `dvx${name.replace(/(^|-)([a-z])/g, (_, __: string, letter: string) => letter.toUpperCase())}`;
  }

  /** The script's text; a missing file is an installation error, not the caller's. */
  lua(): string {
    if (this.source !== undefined) return this.source;
    const path = fileURLToPath(new URL(`./${this.name}.lua`, import.meta.url));
    try {
      this.source = readFileSync(path, 'utf8');
    } catch (error) {
      throw new DvxError({
        code: 'INTERNAL',
        message: `The Redis script model/lua/${this.name}.lua is missing from this installation of dvx (${path}).`,
        action: 'Rebuild dvx (npm run build copies the scripts into dist/).',
        cause: error,
      });
    }
    return this.source;
  }

  /** Defines the command on a connection unless it has it already. */
  define(redis: Redis): void {
    if (!(this.command in redis)) redis.defineCommand(this.command, { lua: this.lua() });
  }

  /** Runs the script: its reply as Redis gave it, for the caller to check. */
  async run(redis: Redis, keys: readonly string[], args: readonly ScriptArg[]): Promise<unknown> {
    this.define(redis);
    const reply: unknown = await Reflect.apply(this.commandOf(redis), redis, [keys.length, ...keys, ...args]);
    return reply;
  }

  /** Queues the script on a pipeline or transaction of a connection it is defined on. */
  queue(pipeline: ChainableCommander, keys: readonly string[], args: readonly ScriptArg[]): void {
    this.method(pipeline)(keys.length, ...keys, ...args);
  }

  private method(target: Redis | ChainableCommander): (...args: ScriptArg[]) => unknown {
    const method = this.commandOf(target);
    return (...args: ScriptArg[]): unknown => Reflect.apply(method, target, args);
  }

  /** The command's method on a connection or pipeline (the hot path calls it without a wrapper). */
  private commandOf(target: Redis | ChainableCommander): (...args: ScriptArg[]) => unknown {
    const method: unknown = Reflect.get(target, this.command);
    if (typeof method !== 'function')
      throw new DvxError({
        code: 'INTERNAL',
        message: `The Redis command ${this.command} is not defined on this connection.`,
      });
    return method as (...args: ScriptArg[]) => unknown;
  }
}

/** A reply that must be a list of strings (a Lua table of strings). */
export function stringsReply(script: RedisScript, reply: unknown): string[] {
  if (Array.isArray(reply) && reply.every((item) => typeof item === 'string')) return reply;
  throw unexpectedReply(script, reply);
}

/** A reply that must be an integer. */
export function integerReply(script: RedisScript, reply: unknown): number {
  if (typeof reply === 'number') return reply;
  throw unexpectedReply(script, reply);
}

export function unexpectedReply(script: RedisScript, reply: unknown): DvxError {
  return new DvxError({
    code: 'INTERNAL',
    message: `model/lua/${script.name}.lua replied ${JSON.stringify(reply)}, which this version of dvx does not expect.`,
  });
}
